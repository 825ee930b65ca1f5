"""Admission, stay and discharge rules: ADM_WAIT (for admissions), ADM_PURPOSE_REVIEW,
ADM_UNDER_18_ADULT_WARD, ADM_MIXED_SEX and LOS_LONG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import Breach, CheckSpec, RunContext, Typed, earliest, happened
from app.alerts.checks.window import stays_of, still_relevant
from app.audit.models import AuditEntry
from app.clock import local_tz
from app.deadlines import Interval, chain
from app.flow.models import BedRequest
from app.rules.catalogue import RuleCode
from app.sql import among, among_selected
from app.wards.models import Admission, Patient, PurposeReview, Ward, WardStay


@dataclass(frozen=True)
class Stay:
    admission_id: int
    ward_id: int
    started_at: datetime
    ended_at: datetime | None
    ward_type: str
    ward_sex: str
    ward_min_age: int
    admitted_at: datetime
    discharged_at: datetime | None
    date_of_birth: date
    patient_sex: str
    stay_id: int

    def never_there(self, as_of: datetime) -> bool:
        """Moved on the moment they arrived (a transfer at the same instant, often typed in
        later): the person was never on this ward (RULES.md 1.1)."""
        return self.ended_at is not None and self.ended_at == self.started_at <= as_of


async def _stays(session: AsyncSession, ctx: RunContext, *codes: str) -> list[Stay]:
    """Every ward stay begun by as_of in the admissions the run must look at.

    Two reads, the admissions (a few index scans) and then their stays by admission: as one
    join, PostgreSQL hashes the whole history of stays to find the open ones' stays."""
    people = {
        row[0]: row[1:]
        for row in await session.execute(
            select(
                Admission.id,
                Admission.admitted_at,
                Admission.discharged_at,
                Patient.date_of_birth,
                Patient.sex,
            )
            .join(Patient, Patient.id == Admission.patient_id)
            .where(
                Admission.admitted_at <= ctx.as_of,
                still_relevant(
                    ctx, Admission.discharged_at, Admission.created_at, Admission.id, *codes
                ),
            )
        )
    }
    if not people:
        return []
    rows = await session.execute(
        select(
            WardStay.admission_id,
            WardStay.ward_id,
            WardStay.started_at,
            WardStay.ended_at,
            Ward.ward_type,
            Ward.sex,
            Ward.min_age,
            WardStay.id,
        )
        .join(Ward, Ward.id == WardStay.ward_id)
        .where(WardStay.started_at <= ctx.as_of, among(WardStay.admission_id, people))
        .order_by(WardStay.admission_id, WardStay.started_at)
    )
    return [Stay(*row[:-1], *people[row[0]], row[-1]) for row in rows]


def _eighteenth_birthday(date_of_birth: date) -> datetime:
    """Local midnight at the start of the 18th birthday (29 February: 1 March)."""
    try:
        birthday = date_of_birth.replace(year=date_of_birth.year + 18)
    except ValueError:
        birthday = date(date_of_birth.year + 18, 3, 1)
    return datetime.combine(birthday, time(), local_tz())


def _local_date(moment: datetime) -> date:
    return moment.astimezone(local_tz()).date()


def under_18_on_adult_ward(stays: list[Stay], ctx: RunContext) -> list[Breach]:
    code = RuleCode.ADM_UNDER_18_ADULT_WARD
    result = []
    for stay in stays:
        if stay.ward_min_age < 18:
            continue
        birthday = _eighteenth_birthday(stay.date_of_birth)
        # Under 18 when they arrived, by the local calendar (at admission or on transfer).
        if _local_date(stay.started_at) >= birthday.date() or not ctx.as_of > stay.started_at:
            continue
        if stay.never_there(ctx.as_of):
            continue
        result.append(
            Breach(
                code,
                "admission",
                stay.admission_id,
                stay.started_at,
                stay.admission_id,
                stay.ward_id,
                cleared_at=earliest(
                    happened(stay.ended_at, ctx.as_of), happened(birthday, ctx.as_of)
                ),
                detail=f"arrived aged under 18 on a ward for ages {stay.ward_min_age} and over",
            )
        )
    return result


def mixed_sex(stays: list[Stay], ctx: RunContext) -> list[Breach]:
    """A person whose recorded sex is not the ward's, on a single-sex ward. Other and not
    known are raised too: a person must check, rather than the service assume."""
    code = RuleCode.ADM_MIXED_SEX
    return [
        Breach(
            code,
            "admission",
            stay.admission_id,
            stay.started_at,
            stay.admission_id,
            stay.ward_id,
            cleared_at=happened(stay.ended_at, ctx.as_of),
            detail=f"{stay.patient_sex.replace('_', ' ')} person on a {stay.ward_sex} ward",
        )
        for stay in stays
        if stay.ward_sex != "mixed"
        and stay.patient_sex != stay.ward_sex
        and ctx.as_of > stay.started_at
        and not stay.never_there(ctx.as_of)
    ]


def long_stay(stays: list[Stay], ctx: RunContext) -> list[Breach]:
    """One breach per admission: the first moment its length of stay reaches the threshold
    of the ward type the person is on (a transfer onto such a ward after the threshold
    raises it on arrival; a later transfer is the same long stay, not another)."""
    code = RuleCode.LOS_LONG
    parameters = ctx.parameters[code]
    result: dict[int, Breach] = {}
    for stay in stays:
        threshold = parameters.get(stay.ward_type)
        if threshold is None:
            continue
        due = max(Interval.parse(str(threshold)).after(stay.admitted_at), stay.started_at)
        if stay.ended_at is not None and due >= stay.ended_at:
            continue
        if not ctx.as_of > due:
            continue
        first = result.get(stay.admission_id)
        if first is not None and first.due_at <= due:
            continue
        result[stay.admission_id] = Breach(
            code,
            "admission",
            stay.admission_id,
            due,
            stay.admission_id,
            stay.ward_id,
            cleared_at=happened(stay.discharged_at, ctx.as_of),
            detail=f"{threshold} reached on a {stay.ward_type.replace('_', ' ')} ward",
        )
    # Every admission read is judged whole (RULES.md 1.1), each alert at its own due
    # (withdraw.OWN_DUE): one the records no longer give (a discharge typed late, dated at or
    # before it) is withdrawn by the discharge. Alerts at another due (the stay as it looked
    # before a transfer recorded late, or raised once per transfer before this was one
    # breach) last as long as the stay: cleared at a discharge after them.
    for admission_id, discharged_at in {s.admission_id: s.discharged_at for s in stays}.items():
        ended = happened(discharged_at, ctx.as_of)
        evidence = [] if ended is None else [_discharge(admission_id, ended)]
        ctx.examine([code], "admission", admission_id, partial(_given, evidence))
    return list(result.values())


def _discharge(admission_id: int, at: datetime) -> Typed:
    return Typed("admissions", admission_id, "discharge", at, None, True)


def _given(records: list[Typed], code: str) -> list[Typed]:
    return records


async def purpose_review(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    code = RuleCode.ADM_PURPOSE_REVIEW
    parameters = ctx.parameters[code]
    first, every = (
        Interval.parse(str(parameters["first"])),
        Interval.parse(str(parameters["every"])),
    )
    latest = (
        select(func.max(PurposeReview.at))
        .where(
            PurposeReview.admission_id == Admission.id,
            # As chain() counts actions: within the admission, by as_of.
            PurposeReview.at >= Admission.admitted_at,
            PurposeReview.at <= ctx.as_of,
        )
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                Admission.id, Admission.admitted_at, Admission.discharged_at,
                Admission.created_at, latest,
            ).where(
                Admission.admitted_at <= ctx.as_of,
                still_relevant(
                    ctx, Admission.discharged_at, _purpose_written_since, Admission.id, code
                ),
            )
        )
    ).all()  # fmt: skip
    if ctx.window_start is not None:
        rows = await _chains_that_may_have_moved(session, ctx, rows, first, every)
    if not rows:
        return []
    admissions = [(row[0], row[1], row[2]) for row in rows]
    ids = [a[0] for a in admissions]
    reviews: dict[int, list[datetime]] = {}
    typed: dict[int, list[Typed]] = {}
    for review_id, admission_id, at, recorded_at in await session.execute(
        select(
            PurposeReview.id,
            PurposeReview.admission_id,
            PurposeReview.at,
            PurposeReview.recorded_at,
        ).where(among(PurposeReview.admission_id, ids))
    ):
        reviews.setdefault(admission_id, []).append(at)
        typed.setdefault(admission_id, []).append(
            Typed("purpose_reviews", review_id, "purpose review", at, recorded_at)
        )
    stays = await stays_of(session, ids)
    result = []
    for admission_id, admitted_at, discharged_at in admissions:
        found = chain(
            start=admitted_at,
            as_of=ctx.as_of,
            actions=reviews.get(admission_id, []),
            interval=every,
            first_interval=first,
            ended_at=discharged_at,
        )
        satisfied = found.satisfied_at or (None,) * len(found.breaches)
        ended = happened(discharged_at, ctx.as_of)
        result += [
            Breach(
                code,
                "admission",
                admission_id,
                due,
                admission_id,
                stays.ward_at(admission_id, due),
                cleared_at=earliest(done, ended),
            )
            for due, done in zip(found.breaches, satisfied, strict=True)
        ]
        # Every deadline up to as_of is judged: an alert no longer among them (a review or
        # the discharge typed late) is withdrawn by the engine (RULES.md 1.1).
        ctx.examine(
            [code], "admission", admission_id,
            partial(_purpose_typed, typed.get(admission_id, []), admission_id, discharged_at),
        )  # fmt: skip
    return result


def _purpose_typed(
    reviews: list[Typed], admission_id: int, discharged_at: datetime | None, code: str
) -> list[Typed]:
    if discharged_at is None:
        return reviews
    return [*reviews, Typed("admissions", admission_id, "discharge", discharged_at, None, True)]


def _purpose_written_since(moment: datetime) -> ColumnElement[bool]:
    """Admitted, or a purpose review or the discharge typed in since: records typed late
    move the chain both ways (RULES.md 1.1). Index lookups of what was typed since."""
    reviewed = select(PurposeReview.admission_id).where(PurposeReview.recorded_at > moment)
    discharged = select(cast(AuditEntry.entity_id, Integer)).where(
        AuditEntry.action == "admission.discharge",
        AuditEntry.entity_type == Admission.__tablename__,
        AuditEntry.at > moment,
    )
    return or_(
        Admission.created_at > moment,
        among_selected(Admission.id, reviewed),
        among_selected(Admission.id, discharged),
    )


async def _chains_that_may_have_moved(
    session: AsyncSession, ctx: RunContext, rows: Sequence[Any], first: Interval, every: Interval
) -> list[Any]:
    """Of the admissions a windowed run looks at, those whose purpose-review chain can hold
    a deadline in the window, or an alert to clear; walking only these keeps a run's cost
    to what changes each minute, not to years of weekly reviews or to every overdue one.

    The others need no walk. Their latest review L (at or before as_of) is at or before
    the window's start, and no review was recorded since. The walk anchors at the last
    action whatever came before (the first deadline at or after L finds L as the latest
    action), so every deadline the chain holds up to L fell due before the window: found by
    earlier runs. After L, with no action, the deadlines are L + every, then every after
    each missed one (from the admission: first, then every), and none of them falls in the
    window (``_falls_due_in``). An alert already open clears only by a review (recorded
    since, or dated after the window's start) or a discharge, which each put the admission
    back in, as does being new.

    This rests on what the service allows: reviews are only added (nothing clinical is
    deleted), dated within the admission; admitted_at never changes; a discharge is not
    undone. After a correction made in the database by hand, `wardflow rules run
    --everything` (hazard H15)."""
    assert ctx.window_start is not None and ctx.recorded_since is not None
    reviewed = set(
        await session.scalars(
            select(PurposeReview.admission_id).where(PurposeReview.recorded_at > ctx.recorded_since)
        )
    )
    kept = []
    for row in rows:
        admission_id, admitted_at, discharged_at, created_at, latest = row
        next_due = every.after(latest) if latest is not None else first.after(admitted_at)
        if (
            _falls_due_in(next_due, every, ctx.window_start, ctx.as_of)
            or (latest is not None and latest > ctx.window_start)
            or discharged_at is not None
            or created_at > ctx.recorded_since
            or admission_id in reviewed
        ):
            kept.append(row)
    return kept


def _falls_due_in(due: datetime, every: Interval, start: datetime, as_of: datetime) -> bool:
    """Whether a deadline of the missed run ``due``, every after it, every after that...
    is breached in the window: at or after its start (one exactly at the previous as_of
    was not yet breached then) and before as_of."""
    step = every.fixed_length()
    if step is not None and due < start:
        # Fixed steps: jump over the missed ones (a chain overdue for years is one step).
        due += step * -((due - start) // step)  # the first at or after start
    while due < start:
        due = every.after(due)
    return as_of > due


async def waited_for_admission(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """An admission whose decision to admit came more than the threshold before it: the
    person waited too long. An admission that met a bed request is left to the bed-flow
    check, which raises that wait on the request: one wait, one alert."""
    code = RuleCode.ADM_WAIT
    threshold = Interval.parse(str(ctx.parameters[code]["threshold"]))
    rows = await session.execute(
        select(
            Admission.id,
            Admission.decision_to_admit_at,
            Admission.admitted_at,
            WardStay.ward_id,
        )
        .join(WardStay, WardStay.admission_id == Admission.id)
        .where(
            Admission.decision_to_admit_at.is_not(None),
            Admission.decision_to_admit_at < ctx.as_of,
            WardStay.started_at == Admission.admitted_at,
            ~select(BedRequest.id).where(BedRequest.admission_id == Admission.id).exists(),
            still_relevant(ctx, Admission.admitted_at, Admission.created_at, Admission.id, code),
        )
    )
    result = []
    for admission_id, decided_at, admitted_at, ward_id in rows:
        assert decided_at is not None
        due = threshold.after(decided_at)
        if admitted_at <= due or not ctx.as_of > due:
            continue
        result.append(
            Breach(
                code,
                "admission",
                admission_id,
                due,
                admission_id,
                ward_id,
                cleared_at=happened(admitted_at, ctx.as_of),
                detail=f"decision to admit {decided_at.astimezone(local_tz()):%d %b %H:%M}",
            )
        )
    return result


STAY_RULES = {
    RuleCode.ADM_UNDER_18_ADULT_WARD: under_18_on_adult_ward,
    RuleCode.ADM_MIXED_SEX: mixed_sex,
    RuleCode.LOS_LONG: long_stay,
}


async def stay_rules(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """The rules that look only at who is on which ward when: one read of the stays (at
    national scale it is the largest read of a run) for all three."""
    codes = [code for code in STAY_RULES if code in ctx.enabled]
    if not codes:
        return []
    stays = await _stays(session, ctx, *codes)
    # Who was on which ward when is judged whole for each admission read: an arrival alert
    # whose stay a transfer typed in later shows never began (moved on the moment they
    # arrived) is withdrawn by that transfer (RULES.md 1.1).
    first: dict[int, int] = {}
    for stay in stays:
        first[stay.admission_id] = min(first.get(stay.admission_id, stay.stay_id), stay.stay_id)
    moved: dict[int, list[Typed]] = {}
    for stay in stays:
        if stay.stay_id != first[stay.admission_id]:  # a transfer began every later stay
            transfer = Typed("ward_stays", stay.stay_id, "transfer", stay.started_at, None)
            moved.setdefault(stay.admission_id, []).append(transfer)
    arrivals = [code for code in codes if code != RuleCode.LOS_LONG]
    for admission_id in {stay.admission_id for stay in stays}:
        evidence = moved.get(admission_id, [])
        ctx.examine(arrivals, "admission", admission_id, partial(_given, evidence))
    return [breach for code in codes for breach in STAY_RULES[code](stays, ctx)]


CHECKS = (
    CheckSpec((RuleCode.ADM_WAIT,), waited_for_admission),
    CheckSpec((RuleCode.ADM_PURPOSE_REVIEW,), purpose_review),
    CheckSpec(tuple(STAY_RULES), stay_rules),
)
