"""Seclusion (SECL_*) and long-term segregation (LTS_*): the same chains as the board's
countdowns and the episode pages, from app/segregation/evaluate.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.alerts.breaches import Breach, CheckSpec, RunContext, Stays, Typed, earliest
from app.alerts.checks.window import reach_of, stays_of, still_relevant
from app.audit.models import AuditEntry
from app.deadlines import Chain
from app.rules import catalogue
from app.rules.catalogue import RuleCode
from app.segregation import evaluate
from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.sql import among, among_selected
from app.wards.models import Admission, Patient

SECLUSION_CODES = tuple(evaluate.SECLUSION_DUE_KEYS)
SEGREGATION_CODES = tuple(evaluate.SEGREGATION_DUE_KEYS)


def _breaches(
    ctx: RunContext,
    kind: str,
    record: Seclusion | Segregation,
    chains: dict[str, Chain],
    stays: Stays,
    done_by: Mapping[str, datetime | None] | None = None,
) -> list[Breach]:
    done_by = done_by or {}
    ended = (
        record.ended_at if record.ended_at is not None and record.ended_at <= ctx.as_of else None
    )
    result = []
    for code, item in chains.items():
        if code not in ctx.enabled:
            continue
        satisfied = item.satisfied_at or (None,) * len(item.breaches)
        for due, done in zip(item.breaches, satisfied, strict=True):
            result.append(
                Breach(
                    rule=code,
                    subject_type=kind,
                    subject_id=record.id,
                    due_at=due,
                    admission_id=record.admission_id,
                    ward_id=stays.ward_at(record.admission_id, due),
                    # Done late, or the episode ended: the alert is cleared, not gone
                    # (unless its action is owed whether or not the episode goes on).
                    cleared_at=done if code in evaluate.OWED_AFTER_END else earliest(done, ended),
                )
            )
    for code in chains:
        if code in evaluate.OWED_AFTER_END:
            found = [b.due_at for b in result if b.rule == code]
            result += _owed_after_end(ctx, code, kind, record, found, done_by.get(code))
    # Every deadline of these chains up to as_of is judged: an alert of this episode that
    # is no longer among them is withdrawn by the engine (an end or review typed late).
    ctx.examine(chains, kind, record.id, lambda code: _typed(code, kind, record, done_by))
    return result


def _typed(
    code: str, kind: str, record: Seclusion | Segregation, done_by: Mapping[str, datetime | None]
) -> list[Typed]:
    """The episode's records that can move a rule's chain, for naming what withdrew an
    alert: its reviews and observations and its end; for the notification, that alone."""
    if code in done_by:
        notified = done_by[code]
        return (
            []
            if notified is None
            else [Typed(f"{kind}s", record.id, "notification", notified, None)]
        )
    reviews: list[Any] = list(record.reviews)
    typed = [
        Typed(f"{kind}_reviews", r.id, f"{r.kind.replace('_', ' ')} review", r.at, r.recorded_at)
        for r in reviews
    ]
    if isinstance(record, Seclusion):
        typed += [
            Typed("seclusion_observations", o.id, "observation", o.at, o.recorded_at)
            for o in record.observations
        ]
    if record.ended_at is not None:
        end = Typed(f"{kind}s", record.id, f"end of the {kind}", record.ended_at, None, ends=True)
        typed.append(end)
    return typed


def _owed_after_end(
    ctx: RunContext,
    code: str,
    kind: str,
    record: Seclusion | Segregation,
    found: list[datetime],
    done: datetime | None,
) -> list[Breach]:
    """An open alert the chain no longer gives (the threshold since changed, the action
    typed in later and dated after it): the episode's end does not clear it, only the
    action, once done by as_of. Deadlines after as_of are left alone (a run into the past).
    One the action met (done at or before it) is withdrawn by the engine instead."""
    if code not in ctx.enabled or done is None or done > ctx.as_of:
        return []
    return [
        Breach(code, kind, record.id, due, record.admission_id, None, cleared_at=done)
        for due in ctx.pending_dues(code, record.id)
        if due not in found and ctx.as_of > due and done > due
    ]


async def seclusion_breaches(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    policy = catalogue.seclusion_policy(ctx.parameters)
    seclusions = list(
        await session.scalars(
            select(Seclusion)
            .where(
                Seclusion.started_at <= ctx.as_of,
                still_relevant(
                    ctx,
                    Seclusion.ended_at,
                    _seclusion_written_since,
                    Seclusion.id,
                    *SECLUSION_CODES,
                ),
            )
            .options(selectinload(Seclusion.reviews), selectinload(Seclusion.observations))
        )
    )
    if not seclusions:
        return []
    admission_ids = {s.admission_id for s in seclusions}
    # 12 hours in any 48 needs the admission's other episodes in the window before each.
    window_start = min(s.started_at for s in seclusions) - policy.independent_window
    others: dict[int, list[Seclusion]] = {}
    for other in await session.scalars(
        select(Seclusion).where(
            among(Seclusion.admission_id, admission_ids),
            Seclusion.started_at <= ctx.as_of,
            or_(Seclusion.ended_at.is_(None), Seclusion.ended_at > window_start),
        )
    ):
        others.setdefault(other.admission_id, []).append(other)
    stays = await stays_of(session, admission_ids)
    result = []
    for seclusion in seclusions:
        earlier = [
            e for e in others.get(seclusion.admission_id, []) if e.started_at < seclusion.started_at
        ]
        chains = evaluate.chains_for_seclusion(seclusion, earlier, ctx.as_of, policy)
        result += _breaches(ctx, "seclusion", seclusion, chains, stays)
    return result


def _audited_since(action: str, table: str, moment: datetime) -> Select[Any]:
    """The ids of the episodes with this change in the audit log since (an end typed in)."""
    return select(cast(AuditEntry.entity_id, Integer)).where(
        AuditEntry.action == action, AuditEntry.entity_type == table, AuditEntry.at > moment
    )


def _seclusion_written_since(moment: datetime) -> ColumnElement[bool]:
    """Started, or a review, an observation or its end typed in since: records typed late
    move the chains both ways (RULES.md 1.1), so the episode is judged again. Each branch
    is an index lookup of what was typed since, so a run's cost follows what changed."""
    reviewed = select(SeclusionReview.seclusion_id).where(SeclusionReview.recorded_at > moment)
    observed = select(SeclusionObservation.seclusion_id).where(
        SeclusionObservation.recorded_at > moment
    )
    return or_(
        Seclusion.created_at > moment,
        among_selected(Seclusion.id, reviewed),
        among_selected(Seclusion.id, observed),
        among_selected(Seclusion.id, _audited_since("seclusion.end", "seclusions", moment)),
    )


def _segregation_written_since(moment: datetime) -> ColumnElement[bool]:
    """Started, or its notification times recorded or corrected, or its end typed in, since
    (updated_at keeps when: a correction can take an action away, so the episode must be
    judged again); or a review typed in since (RULES.md 1.1)."""
    reviewed = select(SegregationReview.segregation_id).where(
        SegregationReview.recorded_at > moment
    )
    return or_(
        Segregation.created_at > moment,
        Segregation.updated_at > moment,
        among_selected(Segregation.id, reviewed),
    )


def _notified(segregation: Segregation) -> datetime | None:
    """Both told: when the later of the two was."""
    told = (segregation.commissioner_informed_at, segregation.imha_informed_at)
    return None if None in told else max(t for t in told if t is not None)


async def segregation_breaches(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    policy = catalogue.segregation_policy(ctx.parameters)
    segregations = list(
        await session.scalars(
            select(Segregation)
            .where(
                Segregation.started_at <= ctx.as_of,
                still_relevant(
                    ctx,
                    Segregation.ended_at,
                    _segregation_written_since,
                    Segregation.id,
                    *SEGREGATION_CODES,
                    # The notification is still owed after a segregation shorter than it.
                    reach=reach_of(policy.notification),
                ),
            )
            .options(selectinload(Segregation.reviews))
        )
    )
    if not segregations:
        return []
    admission_ids = {s.admission_id for s in segregations}
    rows = await session.execute(
        select(Admission.id, Patient.learning_disability, Patient.autistic)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(among(Admission.id, admission_ids))
    )
    icetr = {admission_id: bool(ld or autistic) for admission_id, ld, autistic in rows}
    stays = await stays_of(session, admission_ids)
    result = []
    for segregation in segregations:
        chains = evaluate.chains_for_segregation(
            segregation, icetr.get(segregation.admission_id, False), ctx.as_of, policy
        )
        done_by: dict[str, datetime | None] = {RuleCode.LTS_NOTIFICATION: _notified(segregation)}
        result += _breaches(ctx, "segregation", segregation, chains, stays, done_by)
    return result


CHECKS = (
    CheckSpec(SECLUSION_CODES, seclusion_breaches),
    CheckSpec(SEGREGATION_CODES, segregation_breaches),
)
