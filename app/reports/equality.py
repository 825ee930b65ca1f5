"""Who bears the restrictions: each rights figure per group of people, as a rate per 1,000
occupied bed days of that group, with its ratio to a reference group.

Ethnicity is grouped as DOMAIN.md says and compared with the White group, as the Patient
and Carer Race Equality Framework asks. Sex, age band and learning disability or autism are
compared with their group with the most occupied bed days in the week (the largest, so the
steadiest rate), named in the output as `reference`. A group with no bed days has no rate
(null), and a ratio is null where either rate is missing or the reference rate is zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from app.flow.people import AGE_BANDS, age_band
from app.reports.flow_figures import Person, Stay
from app.reports.rights_figures import Episode, Intervention
from app.reports.span import Span, count_in
from app.wards.codes import ETHNIC_GROUP_OF, PATIENT_SEXES
from app.wards.service import age_on

ETHNIC_GROUPS = ("white", "mixed", "asian", "black", "other", "not_known")
ETHNIC_LABELS = {
    "white": "White",
    "mixed": "Mixed",
    "asian": "Asian",
    "black": "Black",
    "other": "Other",
    "not_known": "Not known",
}
AGE_GROUPS = (*tuple(band for _upper, band in AGE_BANDS), "75 and over")
LD_GROUPS = ("ld_or_autism", "neither")
LD_LABELS = {"ld_or_autism": "Learning disability or autism", "neither": "Neither"}
# (figure, what it counts) for every rights figure broken down.
MEASURES = (
    ("restrictive_interventions", "uses of force"),
    ("prone", "prone restraints"),
    ("seclusion_episodes", "seclusion episodes"),
    ("seclusion_hours", "hours of seclusion"),
    ("segregation_episodes", "segregation episodes"),
    ("segregation_days", "days of segregation"),
)


def breakdowns(week_ending: date) -> dict[str, tuple[Callable[[Person], str], tuple[str, ...]]]:
    return {
        "ethnic_group": (
            lambda p: ETHNIC_GROUP_OF.get(p.ethnic_category, "not_known"),
            ETHNIC_GROUPS,
        ),
        "sex": (lambda p: p.sex, tuple(PATIENT_SEXES)),
        "age_band": (lambda p: age_band(age_on(p.date_of_birth, week_ending)), AGE_GROUPS),
        "learning_disability_or_autism": (
            lambda p: "ld_or_autism" if p.learning_disability or p.autistic else "neither",
            LD_GROUPS,
        ),
    }


def _rate(count: float, obd: int) -> float | None:
    return round(1000 * count / obd, 2) if obd else None


def _ratio(rate: float | None, reference: float | None) -> float | None:
    if rate is None or not reference:
        return None
    return round(rate / reference, 2)


def equality(
    span: Span,
    week: int,
    stays: list[Stay],
    interventions: list[Intervention],
    seclusions: list[Episode],
    segregations: list[Episode],
) -> dict[str, Any]:
    """Every breakdown of one week of the span."""
    result: dict[str, Any] = {}
    for name, (group_of, groups) in breakdowns(span.weeks[week].ending).items():
        obd: Counter[str] = Counter()
        for stay in stays:
            obd[group_of(stay.person)] += count_in(stay.days, week)
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for item in interventions:
            if item.week == week:
                counts[group_of(item.person)]["restrictive_interventions"] += 1
                counts[group_of(item.person)]["prone"] += item.prone
        for kind, episodes, divisor in (
            ("seclusion", seclusions, 1.0),
            ("segregation", segregations, 24.0),
        ):
            unit = "hours" if kind == "seclusion" else "days"
            for episode in episodes:
                if week in episode.weeks(span):
                    tally = counts[group_of(episode.person)]
                    tally[f"{kind}_episodes"] += 1
                    tally[f"{kind}_{unit}"] += episode.hours.get(week, 0.0) / divisor  # type: ignore[assignment]
        present = [g for g in groups if obd[g] or counts[g]] + sorted(
            g for g in set(obd) | set(counts) if g not in groups
        )
        if name == "ethnic_group":
            reference = "white"
        else:
            # The first of the largest, in the groups' own order: the same data, the same pick.
            reference = max(present, key=lambda g: obd[g]) if present else groups[0]
        rows: dict[str, dict[str, Any]] = {}
        for group in groups if name == "ethnic_group" else present:
            figures: dict[str, Any] = {"occupied_bed_days": obd[group]}
            for measure, _what in MEASURES:
                value = counts[group][measure]
                figures[measure] = round(value, 2) if isinstance(value, float) else value
            figures["rates"] = {m: _rate(counts[group][m], obd[group]) for m, _ in MEASURES}
            rows[group] = figures
        for figures in rows.values():
            ref = rows.get(reference, {}).get("rates", {})
            figures["ratios"] = {m: _ratio(figures["rates"][m], ref.get(m)) for m, _ in MEASURES}
            # The API's own fields (API.md): restrictive interventions per 1,000 bed days.
            figures["per_1000_obd"] = figures["rates"]["restrictive_interventions"]
            figures[f"ratio_to_{reference}" if name == "ethnic_group" else "ratio_to_reference"] = (
                figures["ratios"]["restrictive_interventions"]
            )
        result[name] = {"reference": reference, "groups": rows}
    return result


def label(breakdown: str, group: str) -> str:
    if breakdown == "ethnic_group":
        return ETHNIC_LABELS.get(group, group)
    if breakdown == "sex":
        return PATIENT_SEXES.get(group, group)
    if breakdown == "learning_disability_or_autism":
        return LD_LABELS.get(group, group)
    return group
