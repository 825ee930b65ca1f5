"""Use of force: RI_PRONE, RI_RECORD_INCOMPLETE and RI_DEBRIEF.

RI_RECORD_INCOMPLETE and RI_DEBRIEF follow late-typed records (RULES.md 1.1,
app/alerts/withdraw.py), judging each alert at its own due: one whose action (the debrief,
or the complete version of the record) turns out to have come at or before it is withdrawn,
one whose action came after it is cleared then. A record is complete when a complete version
of it was recorded, so completing it later (recorded after the deadline) never shows it was
complete by then: that alert is cleared, not withdrawn. Only a version stamped by its deadline
but committed after a run had raised the alert (a request in flight) withdraws it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import Breach, CheckSpec, RunContext, Typed, happened
from app.alerts.checks.window import reach_of, still_relevant
from app.deadlines import Interval
from app.rules.catalogue import RuleCode, Severity
from app.segregation.codes import PRONE
from app.segregation.force.models import (
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
)
from app.sql import among, among_selected

RI = RestrictiveIntervention


def _recorded(identity: Any) -> Callable[[datetime], ColumnElement[bool]]:
    """Written since: a record completed later (types, end, debrief added with PATCH) is
    "recorded since" the previous run, whenever it was created. Every write is a version."""

    def since(moment: datetime) -> ColumnElement[bool]:
        return among_selected(
            identity,
            select(InterventionVersion.intervention_id).where(
                InterventionVersion.recorded_at > moment
            ),
        )

    return since


def _ended_since(moment: datetime) -> ColumnElement[bool]:
    """coalesce(ended_at, started_at) >= moment, written so each branch has its index
    (started_at is never null: a record with no end counts from its start)."""
    return or_(RI.ended_at >= moment, and_(RI.ended_at.is_(None), RI.started_at >= moment))


async def prone(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """Every prone restraint, due when it began. High severity when it lasted longer than
    the threshold, or when its end is not recorded (it may have)."""
    code = RuleCode.RI_PRONE
    high_after = Interval.parse(str(ctx.parameters[code]["high_after"]))
    rows = await session.execute(
        select(
            RI.id,
            RI.admission_id,
            RI.ward_id,
            InterventionType.started_at,
            InterventionType.ended_at,
        )
        .join(InterventionType, InterventionType.intervention_id == RI.id)
        .where(
            InterventionType.type_code == PRONE,
            InterventionType.retired_at.is_(None),
            InterventionType.started_at < ctx.as_of,
            # On the types' own columns, so each branch of the OR is an index lookup.
            still_relevant(
                ctx,
                InterventionType.started_at,
                _recorded(InterventionType.intervention_id),
                InterventionType.intervention_id,
                code,
            ),
        )
    )
    result = []
    for intervention_id, admission_id, ward_id, started_at, ended_at in rows:
        long = ended_at is None or ended_at > high_after.after(started_at)
        severity: Severity | None = "high" if long else None
        minutes = (
            ""
            if ended_at is None
            else f" for {int((ended_at - started_at).total_seconds() // 60)} min"
        )
        result.append(
            Breach(
                code, "restrictive_intervention", intervention_id, started_at, admission_id,
                ward_id, severity=severity,
                detail=f"prone restraint{minutes or ', end not recorded'}",
            )
        )  # fmt: skip
    return result


async def _candidates(
    session: AsyncSession, ctx: RunContext, code: str, within: Interval
) -> list[RestrictiveIntervention]:
    return list(
        await session.scalars(
            select(RI).where(
                RI.started_at <= ctx.as_of,
                still_relevant(
                    ctx,
                    _ended_since,
                    _recorded(RI.id),
                    RI.id,
                    code,
                    reach=reach_of(within),
                ),
            )
        )
    )


def _due(record: RestrictiveIntervention, within: Interval) -> datetime:
    """Counted from the end; from the start while no end is recorded (not later than due)."""
    return within.after(record.ended_at or record.started_at)


def _deadlines(
    record: RestrictiveIntervention, within: Interval, ctx: RunContext, code: str
) -> list[datetime]:
    """The deadline the record gives now, once passed, and those its open alerts were
    raised at. An end recorded after the deadline counted from the start moves the deadline
    (as does a threshold change), but the alert already raised stays a breach until its
    action is done: judged at its own due, it clears then rather than staying open for
    ever."""
    dues = {_due(record, within), *ctx.pending_dues(code, record.id)}
    # Only deadlines passed by as_of: a run into the past judges nothing after it.
    return sorted(d for d in dues if ctx.as_of > d)


async def record_incomplete(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """Judged on the versions as recorded: complete at the deadline if the latest version
    recorded by then lacked nothing; cleared by the first complete version after it."""
    code = RuleCode.RI_RECORD_INCOMPLETE
    within = Interval.parse(str(ctx.parameters[code]["within"]))
    records = {
        r: dues
        for r in await _candidates(session, ctx, code, within)
        if (dues := _deadlines(r, within, ctx, code))
    }
    if not records:
        return []
    versions: dict[int, list[tuple[datetime, bool]]] = {}
    completed_by: dict[int, list[Typed]] = {}
    for version_id, intervention_id, recorded_at, data in await session.execute(
        select(
            InterventionVersion.id,
            InterventionVersion.intervention_id,
            InterventionVersion.recorded_at,
            InterventionVersion.data,
        )
        .where(
            among(InterventionVersion.intervention_id, [r.id for r in records]),
            InterventionVersion.recorded_at <= ctx.as_of,
        )
        .order_by(InterventionVersion.intervention_id, InterventionVersion.version)
    ):
        complete = not data.get("missing")
        versions.setdefault(intervention_id, []).append((recorded_at, complete))
        if complete and intervention_id not in completed_by:
            table = InterventionVersion.__tablename__
            completed_by[intervention_id] = [
                Typed(table, version_id, "completed record", recorded_at, None, ends=True)
            ]
    result = []
    for record, dues in records.items():
        # Judged at each of its dues: an alert the first complete version met is withdrawn.
        evidence = completed_by.get(record.id, [])
        ctx.examine([code], "restrictive_intervention", record.id, partial(_given, evidence))
        history = versions.get(record.id, [])
        for due in dues:
            at_due = [complete for at, complete in history if at <= due]
            if at_due and at_due[-1]:
                continue
            completed = [at for at, complete in history if at > due and complete]
            result.append(_breach(code, record, due, completed[0] if completed else None))
    return result


def _breach(
    code: str, record: RestrictiveIntervention, due: datetime, cleared_at: datetime | None
) -> Breach:
    return Breach(
        code, "restrictive_intervention", record.id, due, record.admission_id, record.ward_id,
        cleared_at=cleared_at,
    )  # fmt: skip


async def debrief(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    code = RuleCode.RI_DEBRIEF
    within = Interval.parse(str(ctx.parameters[code]["within"]))
    result = []
    for record in await _candidates(session, ctx, code, within):
        debriefed = happened(record.debriefed_at, ctx.as_of)
        for due in _deadlines(record, within, ctx, code):
            if debriefed is not None and debriefed <= due:
                # Met, even if typed in after the alert was raised: the engine withdraws
                # it, naming the debrief (RULES.md 1.1).
                continue
            result.append(_breach(code, record, due, debriefed))
        evidence = (
            []
            if debriefed is None
            else [Typed(RI.__tablename__, record.id, "debrief", debriefed, None, ends=True)]
        )
        ctx.examine([code], "restrictive_intervention", record.id, partial(_given, evidence))
    return result


def _given(records: list[Typed], code: str) -> list[Typed]:
    return records


CHECKS = (
    CheckSpec((RuleCode.RI_PRONE,), prone),
    CheckSpec((RuleCode.RI_RECORD_INCOMPLETE,), record_incomplete),
    CheckSpec((RuleCode.RI_DEBRIEF,), debrief),
)
