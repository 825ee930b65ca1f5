"""A weekly report with nothing in it, to change a field or two of in tests of what is made
from a report (CSV, page) without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from app.reports.equality import MEASURES
from app.reports.schemas import WeeklyReport

NO_MEASURES = {measure: None for measure, _what in MEASURES}


def _table(reference: str, ratio: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "groups": {
            reference: {
                "occupied_bed_days": 0,
                **dict.fromkeys(NO_MEASURES, 0),
                "rates": NO_MEASURES,
                "ratios": NO_MEASURES,
                "per_1000_obd": None,
                ratio: None,
            }
        },
    }


def blank_report(**changes: Any) -> WeeklyReport:
    """Week ending Sunday 29 March 2026 for ward ASH, every figure zero; `changes` replace
    top-level fields (as JSON-shaped values)."""
    data: dict[str, Any] = {
        "version": 1,
        "scope": {"type": "ward", "code": "ASH", "name": "Ash"},
        "week_start": date(2026, 3, 23),
        "week_ending": date(2026, 3, 29),
        "generated_at": datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        "occupied_bed_days": 0,
        "available_bed_days": 0,
        "occupancy_rate": None,
        "nights_over_85": 0,
        "admissions": 0,
        "discharges": 0,
        "all_active_at_end": 0,
        "waits": {"requests": 0, "over_12h": 0, "waiting_at_end": 0, "median_minutes": None},
        "restrictive_interventions": {"count": 0, "people": 0, "per_1000_obd": None, "prone": 0},
        "seclusion": {"episodes": 0, "started": 0, "people": 0, "hours": 0.0,
                      "median_hours": None, "open_at_end": 0},
        "segregation": {"episodes": 0, "started": 0, "people": 0, "days": 0.0,
                        "median_days": None, "open_at_end": 0},
        "out_of_area": {"inappropriate_started": 0, "inappropriate_bed_days": 0,
                        "active_at_end": 0, "ended": 0, "all_active_at_end": 0,
                        "active_at_end_by_distance": {}},
        "delayed_discharge": {"delay_days": 0, "people_at_end": 0, "by_reason": {},
                              "by_attributable": {}},
        "long_stays": {"over_60_days": 0, "over_90_days": 0, "in_hospital_over_60_days": 0,
                       "in_hospital_over_90_days": 0},
        "alerts": {"raised": 0, "cleared": 0, "acknowledged": 0, "resolved": 0,
                   "open_at_end": 0, "awaiting_review_at_end": 0},
        "equality": {
            "ethnic_group": _table("white", "ratio_to_white"),
            "sex": _table("female", "ratio_to_reference"),
            "age_band": _table("18-24", "ratio_to_reference"),
            "learning_disability_or_autism": _table("neither", "ratio_to_reference"),
        },
        "trends": {},
    }  # fmt: skip
    data["by_ethnic_group"] = data["equality"]["ethnic_group"]["groups"]
    data.update(changes)
    return WeeklyReport.model_validate(data)
