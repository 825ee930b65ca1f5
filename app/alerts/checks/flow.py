"""Bed-flow rules: ADM_WAIT for bed requests (the admission part is in admissions.py),
CRFD_DELAY, OAP_INAPPROPRIATE, OAP_REVIEW and OAP_DISTANCE.

Each subject here has one end (a request closes, a period or a placement ends). Once it
has ended by as_of nothing more is owed, so every alert still open for it is cleared at
that end: the ones raised while it looked unfinished (an end recorded late), and the ones
raised under a threshold since changed, which would otherwise stay open for ever.

ADM_WAIT (bed requests), CRFD_DELAY and OAP_REVIEW follow late-typed records both ways
(RULES.md 1.1, app/alerts/withdraw.py): the run tells the engine each subject it judged whole,
and an alert no longer a breach (its request closed, its period or placement ended, or a
review made, at or before its deadline, typed in after it was raised) is withdrawn; one
raised under another threshold is withdrawn only by an end at or before its deadline and
cleared at an end after it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import Breach, CheckSpec, RunContext, Typed, earliest, happened
from app.alerts.checks.window import stays_of, still_relevant
from app.alerts.models import Alert
from app.clock import local_tz
from app.deadlines import Interval, chain
from app.discharge.codes import DELAY_REASONS
from app.discharge.models import ReadyForDischarge
from app.flow.codes import INAPPROPRIATE_REASON
from app.flow.models import BedRequest, OutOfAreaPlacement, PlacementReview
from app.rules.catalogue import RuleCode
from app.sql import among, among_selected
from app.wards.models import WardStay

ACTIVE = ("open", "acknowledged")
OAP = OutOfAreaPlacement
RFD = ReadyForDischarge


def _pending_by_subject(items: Iterable[tuple[int, datetime]]) -> dict[int, list[datetime]]:
    index: dict[int, list[datetime]] = {}
    for subject_id, due in items:
        index.setdefault(subject_id, []).append(due)
    return index


def _settled(
    code: str,
    subject_type: str,
    subject_id: int,
    pending: Mapping[int, list[datetime]],
    found: Iterable[datetime],
    ended: datetime | None,
    admission_id: int | None = None,
) -> list[Breach]:
    """The subject's alerts still open that this run did not find again, cleared at its
    end once it has ended by as_of (see the module's docstring)."""
    if ended is None:
        return []
    seen = set(found)
    return [
        Breach(code, subject_type, subject_id, due, admission_id, None, cleared_at=ended)
        for due in pending.get(subject_id, [])
        if due not in seen
    ]


def _ending(table: str, subject_id: int, what: str, ended_at: datetime | None) -> list[Typed]:
    """The subject's end, as the record that withdrew an alert (typed as a change to it)."""
    return [] if ended_at is None else [Typed(table, subject_id, what, ended_at, None, True)]


def _given(records: list[Typed], code: str) -> list[Typed]:
    return records


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(local_tz()):%d %b %H:%M}"


# --- ADM_WAIT: the waiting list ------------------------------------------------------------


async def waiting_for_a_bed(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """A request still open ``threshold`` after the decision to admit. Cleared when it
    closed (admitted, placed out of area or cancelled); met by an admission, the alert
    names the admission and the ward the person was admitted to."""
    code = RuleCode.ADM_WAIT
    if code not in ctx.enabled:
        return []
    threshold = Interval.parse(str(ctx.parameters[code]["threshold"]))
    # ADM_WAIT alerts are about admissions too, and their ids are not bed request ids: read
    # the waiting list's own pending alerts, for the window and for clearing.
    pending_rows: list[tuple[int, datetime]] = []
    if ctx.pending.get(code):
        pending_rows = [
            (subject_id, due)
            for subject_id, due in await session.execute(
                select(Alert.subject_id, Alert.due_at).where(
                    Alert.rule == code,
                    Alert.subject_type == "bed_request",
                    Alert.status.in_(ACTIVE),
                )
            )
        ]
    own = replace(ctx, pending={code: pending_rows})
    admitted_to = (
        select(WardStay.ward_id)
        .where(WardStay.admission_id == BedRequest.admission_id)
        .order_by(WardStay.started_at, WardStay.id)
        .limit(1)
        .correlate(BedRequest)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            BedRequest.id,
            BedRequest.decision_to_admit_at,
            BedRequest.closed_at,
            BedRequest.admission_id,
            BedRequest.ward_type,
            admitted_to,
        ).where(
            BedRequest.decision_to_admit_at < ctx.as_of,
            still_relevant(own, BedRequest.closed_at, BedRequest.updated_at, BedRequest.id, code),
        )
    )
    result: list[Breach] = []
    for request_id, decided, closed_at, admission_id, ward_type, ward_id in rows:
        due = threshold.after(decided)
        closed = happened(closed_at, ctx.as_of)
        # Its one deadline is judged: an alert the closure (typed late) met is withdrawn.
        evidence = (
            _ending("admissions", admission_id, "admission", closed)
            if admission_id is not None
            else _ending("bed_requests", request_id, "closure of the bed request", closed)
        )
        ctx.examine([code], "bed_request", request_id, partial(_given, evidence))
        if ctx.as_of > due and (closed is None or closed > due):
            # An admission after as_of had not happened yet: the person was still waiting.
            met = closed is not None and admission_id is not None
            result.append(
                Breach(
                    code,
                    "bed_request",
                    request_id,
                    due,
                    admission_id if met else None,
                    ward_id if met else None,
                    cleared_at=closed,
                    detail=f"decision to admit {_when(decided)}; "
                    f"bed wanted: {ward_type.replace('_', ' ')}",
                )
            )
    return result


# --- CRFD_DELAY ----------------------------------------------------------------------------


async def delayed_discharge(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """A clinically-ready-for-discharge period still open ``threshold`` after it began;
    cleared when it ended (a discharge ends it). The ward is where the person was then."""
    code = RuleCode.CRFD_DELAY
    if code not in ctx.enabled:
        return []
    threshold = Interval.parse(str(ctx.parameters[code]["threshold"]))
    periods = (
        await session.execute(
            select(RFD.id, RFD.admission_id, RFD.started_at, RFD.ended_at, RFD.reason_code).where(
                RFD.started_at < ctx.as_of,
                still_relevant(ctx, RFD.ended_at, RFD.updated_at, RFD.id, code),
            )
        )
    ).all()
    if not periods:
        return []
    stays = await stays_of(session, [p.admission_id for p in periods])
    result: list[Breach] = []
    for period_id, admission_id, started_at, ended_at, reason_code in periods:
        due = threshold.after(started_at)
        ended = happened(ended_at, ctx.as_of)
        # Its one deadline is judged: an alert the end (or discharge) typed late met is
        # withdrawn.
        evidence = _ending("ready_for_discharge", period_id, "end of the delay", ended)
        ctx.examine([code], "ready_for_discharge", period_id, partial(_given, evidence))
        if ctx.as_of > due and (ended is None or ended > due):
            result.append(
                Breach(
                    code,
                    "ready_for_discharge",
                    period_id,
                    due,
                    admission_id,
                    stays.ward_at(admission_id, due),
                    cleared_at=ended,
                    detail=f"ready since {_when(started_at)}: "
                    f"{DELAY_REASONS.get(reason_code, reason_code)}",
                )
            )
    return result


# --- out-of-area placements ----------------------------------------------------------------


async def _placements(
    session: AsyncSession,
    ctx: RunContext,
    code: str,
    condition: ColumnElement[bool],
    relevant: ColumnElement[bool] | None = None,
) -> list[Any]:
    """Placements begun before as_of that the run must look at and that meet the rule's
    condition, or that still have an alert to clear (a threshold changed since)."""
    pending = ctx.pending_ids(code)
    seen = still_relevant(ctx, OAP.ended_at, OAP.updated_at, OAP.id, code)
    rows = await session.execute(
        select(
            OAP.id, OAP.started_at, OAP.ended_at, OAP.distance_km, OAP.reason_code,
            OAP.provider_name,
        ).where(
            OAP.started_at < ctx.as_of,
            seen if relevant is None else or_(seen, relevant),
            or_(condition, among(OAP.id, pending) if pending else false()),
        )
    )  # fmt: skip
    return list(rows)


async def inappropriate_placement(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """Placed out of area because no local bed was free: due at the start, cleared at the
    end. A placement that ended the moment it began is still raised (already cleared):
    it happened."""
    code = RuleCode.OAP_INAPPROPRIATE
    if code not in ctx.enabled:
        return []
    pending = _pending_by_subject(ctx.pending.get(code, []))
    result: list[Breach] = []
    for row in await _placements(session, ctx, code, OAP.reason_code == INAPPROPRIATE_REASON):
        ended = happened(row.ended_at, ctx.as_of)
        found = []
        if row.reason_code == INAPPROPRIATE_REASON:
            found.append(row.started_at)
            result.append(
                Breach(
                    code, "out_of_area_placement", row.id, row.started_at, None, None,
                    cleared_at=ended, detail=f"no local bed: placed with {row.provider_name}",
                )
            )  # fmt: skip
        result += _settled(code, "out_of_area_placement", row.id, pending, found, ended)
    return result


async def placed_far_from_home(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """Placed more than ``km`` (strictly) from the home locality, by the distance kept
    when the person was placed: due at the start, cleared at the end."""
    code = RuleCode.OAP_DISTANCE
    if code not in ctx.enabled:
        return []
    km = float(ctx.parameters[code]["km"])
    pending = _pending_by_subject(ctx.pending.get(code, []))
    result: list[Breach] = []
    for row in await _placements(session, ctx, code, OAP.distance_km > km):
        ended = happened(row.ended_at, ctx.as_of)
        found = []
        if row.distance_km > km:
            found.append(row.started_at)
            result.append(
                Breach(
                    code, "out_of_area_placement", row.id, row.started_at, None, None,
                    cleared_at=ended,
                    detail=f"{row.distance_km:.0f} km from home: placed with {row.provider_name}",
                )
            )  # fmt: skip
        result += _settled(code, "out_of_area_placement", row.id, pending, found, ended)
    return result


async def placement_review(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """A review at least every ``every`` from the start (calendar months, local time), as
    a deadline chain that stops at the end: each missed interval is one breach, a late
    review clears the one it satisfies."""
    code = RuleCode.OAP_REVIEW
    if code not in ctx.enabled:
        return []
    every = Interval.parse(str(ctx.parameters[code]["every"]))
    # A review recorded since the last run can move a finished placement's chain (a new
    # anchor gives new deadlines), so its placement is read again.
    reviewed = (
        among_selected(
            OAP.id,
            select(PlacementReview.placement_id).where(
                PlacementReview.recorded_at > ctx.recorded_since
            ),
        )
        if ctx.window_start is not None and ctx.recorded_since is not None
        else None
    )
    placements = await _placements(session, ctx, code, true(), reviewed)
    if not placements:
        return []
    reviews: dict[int, list[datetime]] = {}
    typed: dict[int, list[Typed]] = {}
    for review_id, placement_id, at, recorded_at in await session.execute(
        select(
            PlacementReview.id, PlacementReview.placement_id, PlacementReview.at,
            PlacementReview.recorded_at,
        ).where(among(PlacementReview.placement_id, [p.id for p in placements]))
    ):  # fmt: skip
        reviews.setdefault(placement_id, []).append(at)
        typed.setdefault(placement_id, []).append(
            Typed(PlacementReview.__tablename__, review_id, "placement review", at, recorded_at)
        )
    result: list[Breach] = []
    for row in placements:
        found = chain(
            start=row.started_at,
            as_of=ctx.as_of,
            actions=reviews.get(row.id, []),
            interval=every,
            ended_at=row.ended_at,
        )
        satisfied = found.satisfied_at or (None,) * len(found.breaches)
        ended = happened(row.ended_at, ctx.as_of)
        result += [
            Breach(
                code, "out_of_area_placement", row.id, due, None, None,
                cleared_at=earliest(done, ended), detail=f"placed with {row.provider_name}",
            )
            for due, done in zip(found.breaches, satisfied, strict=True)
        ]  # fmt: skip
        # Every deadline of the chain up to as_of is judged: an alert no longer among them
        # (a review or the end typed late) is withdrawn by the engine (RULES.md 1.1).
        evidence = [
            *typed.get(row.id, []),
            *_ending(OAP.__tablename__, row.id, "end of the placement", ended),
        ]
        ctx.examine([code], "out_of_area_placement", row.id, partial(_given, evidence))
    return result


CHECKS = (
    CheckSpec((RuleCode.ADM_WAIT,), waiting_for_a_bed),
    CheckSpec((RuleCode.CRFD_DELAY,), delayed_discharge),
    CheckSpec((RuleCode.OAP_INAPPROPRIATE,), inappropriate_placement),
    CheckSpec((RuleCode.OAP_REVIEW,), placement_review),
    CheckSpec((RuleCode.OAP_DISTANCE,), placed_far_from_home),
)
