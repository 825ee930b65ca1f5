"""Seclusion and long-term segregation: start, review, observe, notify, end.

One service for the API and the pages. Each write locks the admission first (then the
episode), so two people starting a seclusion at once make one, and checks that what is
recorded falls inside the admission and the episode; the database checks it again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.clock import check_not_future
from app.db import flush
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.segregation import schemas
from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.wards import admissions
from app.wards.models import Admission

E = TypeVar("E", Seclusion, Segregation)
R = TypeVar("R", SeclusionReview, SeclusionObservation, SegregationReview)

NAMES = {Seclusion: "seclusion", Segregation: "segregation"}


async def _admission(
    session: AsyncSession, actor: User, admission_id: int, doing: str
) -> Admission:
    return await admissions.admission_for_change(
        session, actor, admission_id, doing, access.CLINICAL_WRITERS
    )


async def _refuse_overlap(
    session: AsyncSession, model: type[E], admission_id: int, started_at: datetime
) -> None:
    """One open episode of a kind per admission, and none overlapping another."""
    clash = await session.scalar(
        select(model)
        .where(
            model.admission_id == admission_id,
            or_(model.ended_at.is_(None), model.ended_at > started_at),
        )
        .order_by(model.started_at.desc())
        .limit(1)
    )
    if clash is None:
        return
    name = NAMES[model]
    if clash.ended_at is None:
        raise Conflict(f"A {name} is already open for this admission; end it first.")
    raise Conflict(f"This would overlap an earlier {name}, which ended after that time.")


def _check_start(admission: Admission, started_at: datetime, now: datetime) -> None:
    if admission.discharged_at is not None:
        raise Conflict("This admission has already been discharged.")
    admissions.check_within(admission, started_at, now, "started_at")


async def _episode(
    session: AsyncSession, actor: User, model: type[E], episode_id: int, doing: str
) -> tuple[E, Admission]:
    """The episode, locked, once the actor may change its admission (admission locked first)."""
    admission_id = await session.scalar(select(model.admission_id).where(model.id == episode_id))
    if admission_id is None:
        raise NotFound(f"No {NAMES[model]} with id {episode_id}.")
    admission = await _admission(session, actor, admission_id, doing)
    episode = await session.scalar(
        select(model)
        .where(model.id == episode_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert episode is not None
    return episode, admission


def _check_inside(episode: Seclusion | Segregation, at: datetime, now: datetime) -> None:
    check_not_future(at, now, "at")
    name = NAMES[type(episode)]
    if at < episode.started_at:
        raise Invalid(FieldError("at", f"cannot be before the {name} started"))
    if episode.ended_at is not None and at > episode.ended_at:
        raise Invalid(FieldError("at", f"cannot be after the {name} ended"))


async def _latest_record(
    session: AsyncSession, episode: Seclusion | Segregation
) -> datetime | None:
    if isinstance(episode, Seclusion):
        times = [
            await session.scalar(
                select(SeclusionReview.at)
                .where(SeclusionReview.seclusion_id == episode.id)
                .order_by(SeclusionReview.at.desc())
                .limit(1)
            ),
            await session.scalar(
                select(SeclusionObservation.at)
                .where(SeclusionObservation.seclusion_id == episode.id)
                .order_by(SeclusionObservation.at.desc())
                .limit(1)
            ),
        ]
    else:
        times = [
            await session.scalar(
                select(SegregationReview.at)
                .where(SegregationReview.segregation_id == episode.id)
                .order_by(SegregationReview.at.desc())
                .limit(1)
            )
        ]
    return max((t for t in times if t is not None), default=None)


async def _end(
    session: AsyncSession,
    actor: User,
    episode: Seclusion | Segregation,
    data: schemas.EndIn,
    now: datetime,
) -> None:
    name = NAMES[type(episode)]
    if episode.ended_at is not None:
        raise Conflict(f"This {name} has already ended.")
    check_not_future(data.at, now, "at")
    if data.at < episode.started_at:
        raise Invalid(FieldError("at", f"cannot be before the {name} started"))
    latest = await _latest_record(session, episode)
    if latest is not None and data.at < latest:
        raise Invalid(
            FieldError("at", f"cannot be before the last review or observation in this {name}")
        )
    before = audit.snapshot(episode)
    episode.ended_at = data.at
    episode.end_note = data.note
    episode.ended_by_id = actor.id
    if isinstance(episode, Segregation):
        episode.updated_at = now
    await flush(session)
    await audit.record(
        session, actor=actor, action=f"{name}.end", entity=episode, before=before, at=now
    )


async def _added(session: AsyncSession, actor: User, row: R, action: str, now: datetime) -> R:
    """Write a record made inside an episode (a review, an observation) and audit it."""
    session.add(row)
    await flush(session)
    await audit.record(session, actor=actor, action=action, entity=row, at=now)
    return row


# --- seclusion --------------------------------------------------------------------------


async def start_seclusion(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.SeclusionIn,
    now: datetime,
) -> Seclusion:
    admission = await _admission(session, actor, admission_id, "start seclusion")
    _check_start(admission, data.started_at, now)
    await _refuse_overlap(session, Seclusion, admission.id, data.started_at)
    seclusion = Seclusion(
        admission_id=admission.id,
        started_at=data.started_at,
        authorised_by_role=data.authorised_by_role,
        reason=data.reason,
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(seclusion)
    await flush(session)
    await audit.record(session, actor=actor, action="seclusion.start", entity=seclusion, at=now)
    return seclusion


async def add_seclusion_review(
    session: AsyncSession,
    *,
    actor: User,
    seclusion_id: int,
    data: schemas.SeclusionReviewIn,
    now: datetime,
) -> SeclusionReview:
    seclusion, _ = await _episode(session, actor, Seclusion, seclusion_id, "review seclusion")
    _check_inside(seclusion, data.at, now)
    review = SeclusionReview(
        seclusion_id=seclusion.id,
        kind=data.kind,
        at=data.at,
        note=data.note,
        outcome=data.outcome,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    return await _added(session, actor, review, "seclusion.review", now)


async def add_observation(
    session: AsyncSession,
    *,
    actor: User,
    seclusion_id: int,
    data: schemas.ObservationIn,
    now: datetime,
) -> SeclusionObservation:
    seclusion, _ = await _episode(session, actor, Seclusion, seclusion_id, "observe seclusion")
    _check_inside(seclusion, data.at, now)
    observation = SeclusionObservation(
        seclusion_id=seclusion.id,
        at=data.at,
        note=data.note,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    return await _added(session, actor, observation, "seclusion.observation", now)


async def end_seclusion(
    session: AsyncSession, *, actor: User, seclusion_id: int, data: schemas.EndIn, now: datetime
) -> Seclusion:
    seclusion, _ = await _episode(session, actor, Seclusion, seclusion_id, "end seclusion")
    await _end(session, actor, seclusion, data, now)
    return seclusion


async def seclusion_to_segregation(
    session: AsyncSession,
    *,
    actor: User,
    seclusion_id: int,
    data: schemas.SeclusionToSegregationIn,
    now: datetime,
) -> Segregation:
    """End the seclusion and start long-term segregation at the same moment, or do neither."""
    seclusion, admission = await _episode(
        session, actor, Seclusion, seclusion_id, "move seclusion to segregation"
    )
    await _end(session, actor, seclusion, schemas.EndIn(at=data.at, note=data.note), now)
    return await _start_segregation(
        session,
        actor,
        admission,
        schemas.SegregationIn(
            started_at=data.at,
            reason=data.reason,
            commissioner_informed_at=data.commissioner_informed_at,
            imha_informed_at=data.imha_informed_at,
        ),
        now,
        from_seclusion_id=seclusion.id,
    )


# --- segregation ------------------------------------------------------------------------


def _check_informed(
    segregation_start: datetime, field: str, at: datetime | None, now: datetime
) -> None:
    if at is None:
        return
    check_not_future(at, now, field)
    if at < segregation_start:
        raise Invalid(FieldError(field, "cannot be before the segregation started"))


async def _start_segregation(
    session: AsyncSession,
    actor: User,
    admission: Admission,
    data: schemas.SegregationIn,
    now: datetime,
    from_seclusion_id: int | None = None,
) -> Segregation:
    _check_start(admission, data.started_at, now)
    for field in ("commissioner_informed_at", "imha_informed_at"):
        _check_informed(data.started_at, field, getattr(data, field), now)
    await _refuse_overlap(session, Segregation, admission.id, data.started_at)
    segregation = Segregation(
        admission_id=admission.id,
        started_at=data.started_at,
        reason=data.reason,
        commissioner_informed_at=data.commissioner_informed_at,
        imha_informed_at=data.imha_informed_at,
        from_seclusion_id=from_seclusion_id,
        created_at=now,
        created_by_id=actor.id,
        updated_at=now,
    )
    session.add(segregation)
    await flush(session)
    await audit.record(session, actor=actor, action="segregation.start", entity=segregation, at=now)
    return segregation


async def start_segregation(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.SegregationIn,
    now: datetime,
) -> Segregation:
    admission = await _admission(session, actor, admission_id, "start segregation")
    return await _start_segregation(session, actor, admission, data, now)


async def update_segregation(
    session: AsyncSession,
    *,
    actor: User,
    segregation_id: int,
    data: schemas.SegregationPatch,
    now: datetime,
) -> Segregation:
    """Record when the commissioner and the IMHA were told (a correction is audited)."""
    segregation, _ = await _episode(
        session, actor, Segregation, segregation_id, "record segregation notifications"
    )
    fields = data.model_fields_set
    if not fields:
        raise Invalid("give commissioner_informed_at or imha_informed_at", field="body")
    before = audit.snapshot(segregation)
    for field in sorted(fields):
        value = getattr(data, field)
        _check_informed(segregation.started_at, field, value, now)
        setattr(segregation, field, value)
    segregation.updated_at = now
    await flush(session)
    await audit.record(
        session,
        actor=actor,
        action="segregation.notification",
        entity=segregation,
        before=before,
        at=now,
    )
    return segregation


async def add_segregation_review(
    session: AsyncSession,
    *,
    actor: User,
    segregation_id: int,
    data: schemas.SegregationReviewIn,
    now: datetime,
) -> SegregationReview:
    segregation, _ = await _episode(
        session, actor, Segregation, segregation_id, "review segregation"
    )
    _check_inside(segregation, data.at, now)
    review = SegregationReview(
        segregation_id=segregation.id,
        kind=data.kind,
        at=data.at,
        note=data.note,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    return await _added(session, actor, review, "segregation.review", now)


async def end_segregation(
    session: AsyncSession, *, actor: User, segregation_id: int, data: schemas.EndIn, now: datetime
) -> Segregation:
    segregation, _ = await _episode(session, actor, Segregation, segregation_id, "end segregation")
    await _end(session, actor, segregation, data, now)
    return segregation


# --- reading ----------------------------------------------------------------------------


async def get_seclusion(
    session: AsyncSession, *, actor: User, seclusion_id: int, now: datetime
) -> Seclusion:
    seclusion = await session.scalar(
        select(Seclusion)
        .where(Seclusion.id == seclusion_id)
        .options(selectinload(Seclusion.reviews), selectinload(Seclusion.observations))
        .execution_options(populate_existing=True)
    )
    if seclusion is None:
        raise NotFound(f"No seclusion with id {seclusion_id}.")
    # Reading checks the one read rule: the stay the seclusion began on (app/auth/scope.py).
    await admissions.get_admission(
        session,
        actor=actor,
        admission_id=seclusion.admission_id,
        now=now,
        record_at=seclusion.started_at,
    )
    return seclusion


async def get_segregation(
    session: AsyncSession, *, actor: User, segregation_id: int, now: datetime
) -> Segregation:
    segregation = await session.scalar(
        select(Segregation)
        .where(Segregation.id == segregation_id)
        .options(selectinload(Segregation.reviews))
        .execution_options(populate_existing=True)
    )
    if segregation is None:
        raise NotFound(f"No segregation with id {segregation_id}.")
    await admissions.get_admission(
        session,
        actor=actor,
        admission_id=segregation.admission_id,
        now=now,
        record_at=segregation.started_at,
    )
    return segregation
