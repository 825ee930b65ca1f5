"""Places of safety (s.135, s.136): a person held for assessment, often before (or
instead of) any admission, for 24 hours from arrival plus at most one extension of up to
12 hours authorised before those ran out (s.136B); never a child in a police station
(s.136A(1)).

Recorded by those who see the whole trust (bed managers, the rights and safeguarding
lead, admins): the person is not on a ward, so no ward's staff hold the record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.clock import age_on, check_not_future
from app.db import flush
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.mha import schemas
from app.mha.clocks import day_of
from app.mha.due import extension_problem, place_of_safety_limit
from app.mha.models import PlaceOfSafetyEpisode
from app.wards.models import Patient

KEEPERS = {"admin", "bed_manager", "safeguarding_lead"}


def limit_of(episode: PlaceOfSafetyEpisode) -> datetime:
    return place_of_safety_limit(
        episode.arrived_at,
        extension_authorised_at=episode.extension_authorised_at,
        extension_hours=episode.extension_hours,
    )


def episode_out(
    episode: PlaceOfSafetyEpisode, patient: Patient, now: datetime
) -> schemas.PlaceOfSafetyOut:
    limit = limit_of(episode)
    until = episode.ended_at or now
    under_18 = age_on(patient.date_of_birth, day_of(episode.arrived_at)) < 18
    return schemas.PlaceOfSafetyOut(
        id=episode.id,
        patient_id=episode.patient_id,
        display_name=patient.display_name,
        section=episode.section,
        place_type=episode.place_type,
        arrived_at=episode.arrived_at,
        limit_at=limit,
        extension=(
            schemas.ExtensionOut(
                authorised_at=episode.extension_authorised_at,
                hours=episode.extension_hours or 0,
                reason=episode.extension_reason or "",
            )
            if episode.extension_authorised_at is not None
            else None
        ),
        ended_at=episode.ended_at,
        outcome=episode.outcome,
        over_limit=until > limit,
        under_18_in_police_station=under_18 and episode.place_type == "police_station",
    )


async def _patient(session: AsyncSession, patient_id: int) -> Patient:
    patient = await session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"No patient with id {patient_id}.")
    return patient


async def _locked(
    session: AsyncSession, actor: User, episode_id: int, doing: str
) -> PlaceOfSafetyEpisode:
    access.require_role(actor, KEEPERS, doing)
    episode = await session.scalar(
        select(PlaceOfSafetyEpisode)
        .where(PlaceOfSafetyEpisode.id == episode_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if episode is None:
        raise NotFound(f"No place-of-safety episode with id {episode_id}.")
    return episode


async def start(
    session: AsyncSession, *, actor: User, data: schemas.PlaceOfSafetyIn, now: datetime
) -> tuple[PlaceOfSafetyEpisode, Patient]:
    access.require_role(actor, KEEPERS, "record places of safety")
    check_not_future(data.arrived_at, now, "arrived_at")
    patient = await _patient(session, data.patient_id)
    if patient.date_of_birth > day_of(data.arrived_at):
        raise Invalid(FieldError("arrived_at", "cannot be before the person was born"))
    open_one = await session.scalar(
        select(PlaceOfSafetyEpisode.id).where(
            PlaceOfSafetyEpisode.patient_id == patient.id,
            PlaceOfSafetyEpisode.ended_at.is_(None),
        )
    )
    if open_one is not None:
        raise Conflict("This person is already held in a place of safety; end that first.")
    episode = PlaceOfSafetyEpisode(
        patient_id=patient.id,
        section=data.section,
        place_type=data.place_type,
        arrived_at=data.arrived_at,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(episode)
    await flush(session)
    await audit.record(session, actor=actor, action="place_of_safety.start", entity=episode, at=now)
    return episode, patient


async def extend(
    session: AsyncSession,
    *,
    actor: User,
    episode_id: int,
    data: schemas.ExtensionIn,
    now: datetime,
) -> tuple[PlaceOfSafetyEpisode, Patient]:
    episode = await _locked(session, actor, episode_id, "extend places of safety")
    check_not_future(data.authorised_at, now, "authorised_at")
    if episode.extension_authorised_at is not None:
        raise Conflict("This episode has already been extended once (s.136B allows one).")
    if episode.ended_at is not None and data.authorised_at >= episode.ended_at:
        raise Invalid(FieldError("authorised_at", "is after the episode ended"))
    problem = extension_problem(episode.arrived_at, data.authorised_at, data.hours)
    if problem is not None:
        field = "hours" if "at most" in problem else "authorised_at"
        raise Invalid(FieldError(field, problem))
    before = audit.snapshot(episode)
    episode.extension_authorised_at = data.authorised_at
    episode.extension_hours = data.hours
    episode.extension_reason = data.reason
    await flush(session)
    await audit.record(
        session, actor=actor, action="place_of_safety.extend", entity=episode, before=before, at=now
    )
    return episode, await _patient(session, episode.patient_id)


async def end(
    session: AsyncSession,
    *,
    actor: User,
    episode_id: int,
    data: schemas.PlaceOfSafetyEndIn,
    now: datetime,
) -> tuple[PlaceOfSafetyEpisode, Patient]:
    episode = await _locked(session, actor, episode_id, "end places of safety")
    check_not_future(data.at, now, "at")
    if episode.ended_at is not None:
        raise Conflict("This episode has already ended.")
    if data.at < episode.arrived_at:
        raise Invalid(FieldError("at", "cannot be before the person arrived"))
    before = audit.snapshot(episode)
    episode.ended_at = data.at
    episode.outcome = data.outcome
    await flush(session)
    await audit.record(
        session, actor=actor, action="place_of_safety.end", entity=episode, before=before, at=now
    )
    return episode, await _patient(session, episode.patient_id)


async def get(
    session: AsyncSession, *, actor: User, episode_id: int
) -> tuple[PlaceOfSafetyEpisode, Patient]:
    access.require_role(actor, KEEPERS, "see places of safety")
    episode = await session.get(PlaceOfSafetyEpisode, episode_id)
    if episode is None:
        raise NotFound(f"No place-of-safety episode with id {episode_id}.")
    return episode, await _patient(session, episode.patient_id)


async def open_episodes(
    session: AsyncSession, *, actor: User, now: datetime
) -> list[tuple[PlaceOfSafetyEpisode, Patient]]:
    """Everyone held in a place of safety now (and episodes ended in the last day, so a
    bed manager sees what just happened), longest held first."""
    access.require_role(actor, KEEPERS, "see places of safety")
    rows = await session.execute(
        select(PlaceOfSafetyEpisode, Patient)
        .join(Patient, Patient.id == PlaceOfSafetyEpisode.patient_id)
        .where(
            (PlaceOfSafetyEpisode.ended_at.is_(None))
            | (PlaceOfSafetyEpisode.ended_at > now - timedelta(days=1))
        )
        .order_by(PlaceOfSafetyEpisode.arrived_at)
    )
    return [(episode, patient) for episode, patient in rows]
