"""Rights figures for every week of a span: restrictive interventions (use of force),
seclusion, long-term segregation, and the alerts the rules raised and how they were handled.

As in flow_figures: each is read once for the whole span and shared out by week.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.alerts.models import Alert
from app.reports.flow_figures import PERSON_COLUMNS, Person, in_scope, person
from app.reports.period import Scope
from app.reports.span import Span, median
from app.segregation.force.models import InterventionType, RestrictiveIntervention
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, Patient, WardStay

PRONE = "01"


@dataclass
class Intervention:
    week: int
    prone: bool
    person: Person


@dataclass
class Episode:
    """A seclusion or segregation, with its hours inside each week it touched."""

    started_at: datetime
    ended_at: datetime | None
    person: Person
    hours: dict[int, float] = field(default_factory=dict)

    def weeks(self, span: Span) -> set[int]:
        touched = set(self.hours)
        started = span.week_of(self.started_at)
        if started is not None:  # an episode ended as it began still happened
            touched.add(started)
        return touched


async def interventions(session: AsyncSession, scope: Scope, span: Span) -> list[Intervention]:
    """Uses of force that began in the span on a ward in scope; prone if any of its current
    (not corrected away) types is prone restraint."""
    prone = exists(
        select(InterventionType.id).where(
            InterventionType.intervention_id == RestrictiveIntervention.id,
            InterventionType.retired_at.is_(None),
            InterventionType.type_code == PRONE,
        )
    )
    query = (
        select(RestrictiveIntervention.started_at, prone.label("prone"), *PERSON_COLUMNS)
        .join(Admission, Admission.id == RestrictiveIntervention.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(
            RestrictiveIntervention.started_at >= span.start,
            RestrictiveIntervention.started_at < span.end,
        )
    )
    rows: Any = await session.execute(in_scope(query, RestrictiveIntervention.ward_id, scope))
    result = []
    for row in rows.all():
        week = span.week_of(row[0])
        if week is not None:
            result.append(Intervention(week, bool(row[1]), person(row, 2)))
    return result


async def episodes(
    session: AsyncSession, scope: Scope, span: Span, model: type[Seclusion] | type[Segregation]
) -> list[Episode]:
    """Episodes in progress at any time in the span, on the ward the person was on when the
    episode began."""
    stay = aliased(WardStay)
    query = (
        select(model.started_at, model.ended_at, *PERSON_COLUMNS)
        .join(Admission, Admission.id == model.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .outerjoin(
            stay,
            and_(
                stay.admission_id == model.admission_id,
                stay.started_at <= model.started_at,
                or_(stay.ended_at.is_(None), stay.ended_at > model.started_at),
            ),
        )
        .where(
            model.started_at < span.end, or_(model.ended_at.is_(None), model.ended_at >= span.start)
        )
    )
    rows: Any = await session.execute(in_scope(query, stay.ward_id, scope))
    result = []
    for row in rows.all():
        episode = Episode(row[0], row[1], person(row, 2))
        episode.hours = dict(span.hours(row[0], row[1]))
        result.append(episode)
    return result


def intervention_figures(
    span: Span, items: list[Intervention], obd: list[int]
) -> list[dict[str, Any]]:
    result = []
    for i in range(len(span.weeks)):
        week = [x for x in items if x.week == i]
        count = len(week)
        result.append(
            {
                "count": count,
                "people": len({x.person.id for x in week}),
                "per_1000_obd": round(1000 * count / obd[i], 2) if obd[i] else None,
                "prone": sum(x.prone for x in week),
            }
        )
    return result


def episode_figures(span: Span, items: list[Episode], unit: str) -> list[dict[str, Any]]:
    """`episodes`: in progress at any time in the week; `started` in it; `hours` (seclusion)
    or `days` (segregation) inside the week, split at its edges; the median length of the
    episodes that ended in the week, whole."""
    per_week: list[list[Episode]] = [[] for _ in span.weeks]
    for episode in items:
        for i in episode.weeks(span):
            per_week[i].append(episode)
    divisor = 1.0 if unit == "hours" else 24.0
    result = []
    for i, week in enumerate(per_week):
        total = sum(e.hours.get(i, 0.0) for e in week) / divisor
        ended = [
            (e.ended_at - e.started_at).total_seconds() / 3600 / divisor
            for e in week
            if e.ended_at is not None and span.week_of(e.ended_at) == i
        ]
        middle = median(ended)
        result.append(
            {
                "episodes": len(week),
                "started": sum(1 for e in week if span.week_of(e.started_at) == i),
                "people": len({e.person.id for e in week}),
                unit: round(total, 2),
                f"median_{unit}": None if middle is None else round(middle, 2),
                "open_at_end": sum(
                    1 for e in week if e.ended_at is None or e.ended_at > span.weeks[i].end
                ),
            }
        )
    return result


# --- alerts ---------------------------------------------------------------------------------


def _between(column: Any, start: datetime, end: datetime) -> Any:
    return and_(column.is_not(None), column >= start, column < end)


def _live_at(moment: datetime) -> Any:
    """Raised by then and neither cleared (the missing action done), resolved nor withdrawn
    (a record typed in later met the deadline, RULES.md 1.1) by then."""
    return and_(
        Alert.raised_at < moment,
        or_(Alert.cleared_at.is_(None), Alert.cleared_at >= moment),
        or_(Alert.resolved_at.is_(None), Alert.resolved_at >= moment),
        or_(Alert.withdrawn_at.is_(None), Alert.withdrawn_at >= moment),
    )


def _awaiting_review_at(moment: datetime) -> Any:
    """Cleared by then but not yet resolved by a person (RULES.md 1.1)."""
    return and_(
        Alert.raised_at < moment,
        Alert.cleared_at.is_not(None),
        Alert.cleared_at < moment,
        or_(Alert.resolved_at.is_(None), Alert.resolved_at >= moment),
    )


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


async def alerts(session: AsyncSession, scope: Scope, span: Span) -> list[dict[str, Any]]:
    """Alerts by when the rules raised them (so each appears in exactly one week's report,
    even one raised late for an old deadline); cleared, acknowledged, resolved and
    withdrawn by when that happened; open (not cleared, resolved or withdrawn) and awaiting
    review at the week's end.
    Summed in SQL: one query for every week, one for the last week's rules."""
    columns = []
    for week in span.weeks:
        columns += [
            _count(_between(Alert.raised_at, week.start, week.end)),
            _count(_between(Alert.cleared_at, week.start, week.end)),
            _count(_between(Alert.acknowledged_at, week.start, week.end)),
            _count(_between(Alert.resolved_at, week.start, week.end)),
            _count(_live_at(week.end)),
            _count(_awaiting_review_at(week.end)),
            _count(_between(Alert.withdrawn_at, week.start, week.end)),
        ]
    query = in_scope(
        select(*columns).where(
            Alert.raised_at < span.end,
            # What was resolved before the span is in none of its figures.
            or_(
                Alert.raised_at >= span.start,
                and_(Alert.resolved_at.is_(None), Alert.withdrawn_at.is_(None)),
                Alert.resolved_at >= span.start,
                Alert.withdrawn_at >= span.start,
            ),
        ),
        Alert.ward_id,
        scope,
    )
    row = (await session.execute(query)).one()
    names = (
        "raised",
        "cleared",
        "acknowledged",
        "resolved",
        "open_at_end",
        "awaiting_review_at_end",
        "withdrawn",
    )
    width = len(names)
    result: list[dict[str, Any]] = []
    for i in range(len(span.weeks)):
        values = row[width * i : width * (i + 1)]
        result.append({name: int(v or 0) for name, v in zip(names, values, strict=True)})
    last = span.weeks[-1]
    by_rule = in_scope(
        select(
            Alert.rule,
            _count(_between(Alert.raised_at, last.start, last.end)),
            _count(_live_at(last.end)),
        )
        .where(
            Alert.raised_at < last.end,
            or_(
                Alert.raised_at >= last.start,
                Alert.resolved_at.is_(None),
                Alert.resolved_at >= last.end,
            ),
        )
        .group_by(Alert.rule),
        Alert.ward_id,
        scope,
    )
    rules: dict[str, dict[str, int]] = defaultdict(dict)
    for rule, raised, live in await session.execute(by_rule):
        if raised or live:
            rules[rule] = {"raised": int(raised or 0), "open_at_end": int(live or 0)}
    result[-1]["by_rule"] = dict(sorted(rules.items()))
    return result
