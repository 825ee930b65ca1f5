"""Seclusion and segregation as the API and the episode pages show them: each episode with
its duration, what is due next and which deadlines were missed (all from evaluate.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.deadlines import Chain
from app.rules import catalogue, settings
from app.segregation import evaluate, schemas
from app.segregation.evaluate import chains_for_seclusion, chains_for_segregation, minutes_between
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, Patient


async def policies(
    session: AsyncSession,
) -> tuple[catalogue.SeclusionPolicy, catalogue.SegregationPolicy]:
    """The thresholds in force (the catalogue's defaults with the trust's stored changes),
    the same the rule runs use, so the board's countdowns and the alerts always agree."""
    parameters = await settings.parameters_in_force(session)
    return catalogue.seclusion_policy(parameters), catalogue.segregation_policy(parameters)


def _missed(chains: dict[str, Chain]) -> list[schemas.MissedOut]:
    return [
        schemas.MissedOut(rule=m.rule, due_at=m.due_at, done_at=m.done_at)
        for m in evaluate.missed(chains)
    ]


async def _patient_of(session: AsyncSession, admission_id: int) -> Patient:
    patient = await session.scalar(
        select(Patient)
        .join(Admission, Admission.patient_id == Patient.id)
        .where(Admission.id == admission_id)
    )
    assert patient is not None
    return patient


def needs_icetr(patient: Patient) -> bool:
    return bool(patient.learning_disability or patient.autistic)


async def seclusion_out(
    session: AsyncSession, seclusion: Seclusion, now: datetime
) -> schemas.SeclusionOut:
    earlier = list(
        await session.scalars(
            select(Seclusion).where(
                Seclusion.admission_id == seclusion.admission_id,
                Seclusion.id != seclusion.id,
                Seclusion.started_at < seclusion.started_at,
            )
        )
    )
    policy, _ = await policies(session)
    chains = chains_for_seclusion(seclusion, earlier, now, policy)
    patient = await _patient_of(session, seclusion.admission_id)
    followed_by = await session.scalar(
        select(Segregation.id).where(Segregation.from_seclusion_id == seclusion.id)
    )
    return schemas.SeclusionOut(
        id=seclusion.id,
        admission_id=seclusion.admission_id,
        patient_id=patient.id,
        kind="seclusion",
        status="open" if seclusion.ended_at is None else "ended",
        started_at=seclusion.started_at,
        ended_at=seclusion.ended_at,
        reason=seclusion.reason,
        end_note=seclusion.end_note,
        authorised_by_role=seclusion.authorised_by_role,
        duration_minutes=minutes_between(seclusion.started_at, seclusion.ended_at or now),
        next_due=evaluate.next_due(chains, evaluate.SECLUSION_DUE_KEYS),
        missed=_missed(chains),
        reviews=[schemas.SeclusionReviewOut.model_validate(r) for r in seclusion.reviews],
        observations=[schemas.ObservationOut.model_validate(o) for o in seclusion.observations],
        followed_by_segregation_id=followed_by,
    )


async def segregation_out(
    session: AsyncSession, segregation: Segregation, now: datetime
) -> schemas.SegregationOut:
    _, policy = await policies(session)
    patient = await _patient_of(session, segregation.admission_id)
    chains = chains_for_segregation(segregation, needs_icetr(patient), now, policy)
    return schemas.SegregationOut(
        id=segregation.id,
        admission_id=segregation.admission_id,
        patient_id=patient.id,
        kind="segregation",
        status="open" if segregation.ended_at is None else "ended",
        started_at=segregation.started_at,
        ended_at=segregation.ended_at,
        reason=segregation.reason,
        end_note=segregation.end_note,
        commissioner_informed_at=segregation.commissioner_informed_at,
        imha_informed_at=segregation.imha_informed_at,
        from_seclusion_id=segregation.from_seclusion_id,
        duration_minutes=minutes_between(segregation.started_at, segregation.ended_at or now),
        next_due=evaluate.next_due(chains, evaluate.SEGREGATION_DUE_KEYS),
        missed=_missed(chains),
        reviews=[schemas.ReviewOut.model_validate(r) for r in segregation.reviews],
    )
