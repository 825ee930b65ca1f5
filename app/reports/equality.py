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

from app.clock import age_on
from app.flow.people import AGE_BANDS, age_band
from app.reports.flow_figures import Person, Stay
from app.reports.rights_figures import Episode, Intervention
from app.reports.span import Span, count_in
from app.wards.codes import ETHNIC_GROUP_OF, PATIENT_SEXES

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
    min_count: int = 1,
) -> dict[str, Any]:
    """Every breakdown of one week of the span, counts below `min_count` suppressed."""
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
        suppress(result[name], min_count)
    return result


# Each measure's count, and the figures that follow it (hours and days are of the episodes
# counted, so they are hidden with them).
COUNTED_BY = {
    "restrictive_interventions": "restrictive_interventions",
    "prone": "prone",
    "seclusion_episodes": "seclusion_episodes",
    "seclusion_hours": "seclusion_episodes",
    "segregation_episodes": "segregation_episodes",
    "segregation_days": "segregation_episodes",
}
SUPPRESSION_NOTE = (
    "Counts from 1 to {below_minus_one} in a group are suppressed, as NHS statistics do: the "
    "count, its rate and its ratio are null and the measure is listed in the group's "
    "`suppressed`; where one group alone would be suppressed, the next smallest is too, so "
    "that it cannot be worked out from the total. Ratios to a suppressed reference are null "
    "and the measure is listed in the table's `reference_suppressed`."
)


def suppress(table: dict[str, Any], below: int) -> None:
    """Hide small counts in one breakdown (in place): a count of 1 for one ward and one
    week can name the person. Zero is shown (it names nobody); so are bed days, the
    denominator, which count days rather than people or events."""
    groups: dict[str, dict[str, Any]] = table["groups"]
    table["reference_suppressed"] = []
    for figures in groups.values():
        figures["suppressed"] = []
    if below <= 1:
        return
    hidden: dict[str, set[str]] = {}
    for count in dict.fromkeys(COUNTED_BY.values()):
        small = {g for g, f in groups.items() if 0 < f[count] < below}
        if len(small) == 1:
            # Secondary suppression: the smallest other count among the groups with bed
            # days, or the scope's total (shown elsewhere) would give the hidden one away.
            others = [g for g, f in groups.items() if g not in small and f["occupied_bed_days"]]
            if others:
                small.add(min(others, key=lambda g: (groups[g][count], g)))
        hidden[count] = small
    for group, figures in groups.items():
        for measure, count in COUNTED_BY.items():
            if group in hidden[count]:
                figures[measure] = None
                figures["rates"][measure] = None
                figures["ratios"][measure] = None
                figures["suppressed"].append(measure)
    reference = table["reference"]
    for measure, count in COUNTED_BY.items():
        if reference in hidden[count]:
            table["reference_suppressed"].append(measure)
            for figures in groups.values():
                figures["ratios"][measure] = None
    for figures in groups.values():
        figures["per_1000_obd"] = figures["rates"]["restrictive_interventions"]
        for key in ("ratio_to_white", "ratio_to_reference"):
            if key in figures:
                figures[key] = figures["ratios"]["restrictive_interventions"]


def suppression(below: int) -> dict[str, Any]:
    """How the report says what it suppressed (the JSON's `equality_suppression`)."""
    return {
        "below": below,
        "suppressed_as": None,
        "note": SUPPRESSION_NOTE.format(below_minus_one=below - 1) if below > 1 else "",
    }


def label(breakdown: str, group: str) -> str:
    if breakdown == "ethnic_group":
        return ETHNIC_LABELS.get(group, group)
    if breakdown == "sex":
        return PATIENT_SEXES.get(group, group)
    if breakdown == "learning_disability_or_autism":
        return LD_LABELS.get(group, group)
    return group
