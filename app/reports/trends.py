"""The headline figures' 26-week trends: an XmR chart each, and a one-line reading of the
week as a board would say it ("Occupancy 93 %: above the 85 % limit on 6 of 7 nights; no
special cause")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.reports import spc
from app.reports.schemas import Limits, Number, Trend, WeekFigures


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    unit: str  # how a value reads: "%", "" (a count) or a phrase after the number
    get: Callable[[WeekFigures], Number | None]
    # "up" when a rise is a concern (every headline figure here), "down" when a fall is.
    concern: str = "up"
    decimals: int = 0


def _pct(week: WeekFigures) -> float | None:
    rate = week.occupancy_rate
    return None if rate is None else round(100 * rate, 1)


MEASURES = (
    Measure("occupancy", "Occupancy", "%", _pct, decimals=1),
    Measure("waits_over_12h", "Waits over 12 hours", "", lambda w: w.waits.over_12h),
    Measure("delay_days", "Delayed discharge", "days", lambda w: w.delayed_discharge.delay_days),
    Measure(
        "long_stays",
        "In hospital 60+ days",
        "people",
        lambda w: w.long_stays.in_hospital_over_60_days,
    ),
    Measure(
        "oap_bed_days",
        "Inappropriate out-of-area bed days",
        "",
        lambda w: w.out_of_area.inappropriate_bed_days,
    ),
    Measure(
        "restrictive_interventions",
        "Restrictive interventions",
        "per 1,000 bed days",
        lambda w: w.restrictive_interventions.per_1000_obd,
        decimals=1,
    ),
    Measure("prone", "Prone restraint", "", lambda w: w.restrictive_interventions.prone),
    Measure("seclusion_hours", "Seclusion", "hours", lambda w: w.seclusion.hours, decimals=1),
    Measure("segregation_days", "Segregation", "days", lambda w: w.segregation.days, decimals=1),
    Measure("alerts_raised", "Alerts raised", "", lambda w: w.alerts.raised),
)

SIGNAL_WORDS = {
    "outside": "{side} the {limit} limit",
    "shift": "a run of 7 or more weeks {side} the mean",
    "trend": "6 or more weeks {moving} in a row",
    "two_of_three": "2 of 3 weeks close to the {limit} limit",
}


def formatted(measure: Measure, value: Number | None) -> str:
    if value is None:
        return "no figure"
    number = f"{value:,.{measure.decimals}f}"
    if measure.unit == "%":
        return f"{number} %"
    return f"{number} {measure.unit}".strip()


def _verdict(measure: Measure, chart: spc.Chart) -> str:
    if chart.mean is None:
        return "too few weeks for limits"
    last = len(chart.values) - 1
    side = chart.special(last)
    if side is None:
        earlier = sum(1 for s in chart.signals[:last] if s)
        text = "no special cause"
        return text + (f" this week ({earlier} earlier weeks had one)" if earlier else "")
    kind = "concern" if (side == "high") == (measure.concern == "up") else "improvement"
    words = [
        SIGNAL_WORDS[name].format(
            side="above" if side == "high" else "below",
            limit="upper" if side == "high" else "lower",
            moving="rising" if side == "high" else "falling",
        )
        for name in chart.signals[last]
    ]
    return f"special cause of {kind}: " + ", ".join(words)


def reading(measure: Measure, week: WeekFigures, chart: spc.Chart) -> str:
    value = measure.get(week)
    parts = [f"{measure.label} {formatted(measure, value)}"]
    details = []
    if measure.key == "occupancy" and value is not None:
        nights = len(week.occupancy_nights)
        over = week.nights_over_85
        details.append(f"above the 85 % limit on {over} of {nights} nights")
    details.append(_verdict(measure, chart))
    if chart.provisional and chart.mean is not None:
        details.append(f"limits from {chart.points} weeks only")
    return parts[0] + ": " + "; ".join(details)


def trends(weeks: list[WeekFigures]) -> dict[str, Trend]:
    """Each headline figure over the weeks given (oldest first; the report's week last)."""
    result = {}
    for measure in MEASURES:
        values = [measure.get(w) for w in weeks]
        chart = spc.xmr([None if v is None else float(v) for v in values])
        result[measure.key] = Trend(
            label=measure.label,
            unit=measure.unit,
            concern="down" if measure.concern == "down" else "up",
            decimals=measure.decimals,
            weeks=[w.week_ending for w in weeks],
            values=values,
            spc=Limits.model_validate(chart.as_dict()),
            reading=reading(measure, weeks[-1], chart),
        )
    return result


def chart_of(trend: Trend) -> spc.Chart:
    """The chart stored with a trend, back as an object (to draw it)."""
    stored = trend.spc
    return spc.Chart(
        values=[None if v is None else float(v) for v in trend.values],
        mean=stored.mean,
        mr_mean=stored.mr_mean,
        upper=stored.upper,
        lower=stored.lower,
        signals=[list(s) for s in stored.signals],
        provisional=stored.provisional,
    )
