"""The report in long form for spreadsheets: one row per (measure, breakdown, group, value).
Figures for the whole scope have breakdown and group `all`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from app import csvsafe
from app.reports.equality import MEASURES

Row = tuple[str, str, str, Any]
SECTIONS = (
    "waits",
    "restrictive_interventions",
    "seclusion",
    "segregation",
    "out_of_area",
    "delayed_discharge",
    "long_stays",
    "alerts",
)
# Figures inside a section broken down by something: (key, measure, breakdown).
BROKEN_DOWN = {
    ("delayed_discharge", "by_reason"): ("delayed_discharge.delay_days", "reason"),
    ("delayed_discharge", "by_attributable"): ("delayed_discharge.delay_days", "attributable_to"),
    ("out_of_area", "active_at_end_by_distance"): ("out_of_area.active_at_end", "distance_band"),
}


def rows(report: dict[str, Any]) -> Iterator[Row]:
    scope = report["scope"]
    yield ("scope", "all", "all", scope["type"] + (f":{scope['code']}" if scope["code"] else ""))
    for key in ("week_start", "week_ending", "generated_at"):
        yield (key, "all", "all", report[key])
    for key in (
        "occupied_bed_days",
        "available_bed_days",
        "occupancy_rate",
        "nights_over_85",
        "admissions",
        "discharges",
        "all_active_at_end",
    ):
        yield (key, "all", "all", report[key])
    for night in report["occupancy_nights"]:
        for key, measure in (
            ("occupied", "occupied_beds"),
            ("open", "open_beds"),
            ("rate", "occupancy_rate"),
        ):
            yield (measure, "midnight", night["midnight"], night[key])
    for section in SECTIONS:
        for key, value in report[section].items():
            if (section, key) in BROKEN_DOWN:
                measure, breakdown = BROKEN_DOWN[section, key]
                for group, n in value.items():
                    yield (measure, breakdown, group, n)
            elif section == "alerts" and key == "by_rule":
                for rule, counts in value.items():
                    for name, n in counts.items():
                        yield (f"alerts.{name}", "rule", rule, n)
            else:
                yield (f"{section}.{key}", "all", "all", value)
    late = report.get("late_records")  # snapshots stored before issue 22 have none
    if late is not None:
        for key in ("recorded", "late", "over_a_day", "median_minutes_late"):
            yield (f"late_records.{key}", "all", "all", late[key])
        for breakdown, groups in (("kind", late["by_kind"]), ("ward", late["by_ward"])):
            for group, figures in groups.items():
                for key, value in figures.items():
                    yield (f"late_records.{key}", breakdown, group, value)
    hidden = "*"  # a suppressed count, its rate and its ratio (equality.suppress), as NHS
    for breakdown, table in report["equality"].items():
        reference = table["reference"]
        for group, figures in table["groups"].items():
            yield ("occupied_bed_days", breakdown, group, figures["occupied_bed_days"])
            suppressed = set(figures.get("suppressed", ()))
            for measure, _what in MEASURES:
                if measure in suppressed:
                    for name in (measure, f"{measure}.per_1000_obd"):
                        yield (name, breakdown, group, hidden)
                    yield (f"{measure}.ratio_to_{reference}", breakdown, group, hidden)
                    continue
                yield (measure, breakdown, group, figures[measure])
                yield (f"{measure}.per_1000_obd", breakdown, group, figures["rates"][measure])
                yield (
                    f"{measure}.ratio_to_{reference}",
                    breakdown,
                    group,
                    figures["ratios"][measure],
                )
    for key, trend in report["trends"].items():
        for week, value in zip(trend["weeks"], trend["values"], strict=True):
            yield (f"trend.{key}", "week_ending", week, value)
        for name in ("mean", "upper", "lower"):
            yield (f"trend.{key}.{name}", "all", "all", trend["spc"][name])


def to_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, lineterminator="\n")
    writer.writerow(("measure", "breakdown", "group", "value"))
    for measure, breakdown, group, value in rows(report):
        writer.writerow((measure, breakdown, group, "" if value is None else value))
    return buffer.getvalue()
