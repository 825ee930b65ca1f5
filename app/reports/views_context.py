"""What the page and the PDF show of a report: the same figures, labels and charts."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.discharge.codes import ATTRIBUTABLE_TO, DELAY_REASONS
from app.reports import charts
from app.reports.equality import MEASURES, label
from app.reports.schemas import WeeklyReport
from app.reports.trends import MEASURES as HEADLINES
from app.rules.catalogue import BY_CODE
from app.web import format_datetime

NONE = "\u2013"  # an en dash: no figure
BREAKDOWN_TITLES = {
    "ethnic_group": "Ethnic group",
    "sex": "Sex",
    "age_band": "Age band",
    "learning_disability_or_autism": "Learning disability or autism",
}


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def percent(rate: float | None) -> str:
    return NONE if rate is None else f"{100 * rate:.1f} %"


def number(value: float | None, decimals: int = 0) -> str:
    if value is None:
        return NONE
    return f"{value:,.{decimals}f}"


def minutes(value: float | None) -> str:
    if value is None:
        return NONE
    hours, mins = divmod(int(value), 60)
    return f"{hours} h {mins} min" if hours else f"{mins} min"


def context(report: WeeklyReport) -> dict[str, Any]:
    scope = report.scope
    where = scope.name if scope.type == "trust" else f"{scope.name} ({scope.code})"
    trends = report.trends
    return {
        "report": report,
        "where": where,
        "week_label": f"{_day(report.week_start)} to {_day(report.week_ending)}",
        "generated": format_datetime(report.generated_at),
        "headlines": [
            {
                "key": m.key,
                "trend": trends[m.key],
                "svg": charts.svg(trends[m.key], ident=f"spc-{m.key}"),
            }
            for m in HEADLINES
            if m.key in trends
        ],
        "measures": MEASURES,
        "breakdown_titles": BREAKDOWN_TITLES,
        "group_label": label,
        "delay_reasons": DELAY_REASONS,
        "attributable": ATTRIBUTABLE_TO,
        "rule_title": lambda code: BY_CODE[code].title if code in BY_CODE else code,
        "percent": percent,
        "number": number,
        "minutes": minutes,
        "day": _day,
    }
