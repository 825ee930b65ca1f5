"""What seclusion and segregation look like from outside: the API's episodes, the board's
cards, the admission's list, and the discharge check. All deadlines come from evaluate.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.deadlines import Chain
from app.errors import Conflict, FieldError, Invalid
from app.rules import catalogue, settings
from app.rules.catalogue import RuleCode
from app.segregation import evaluate, schemas
from app.segregation.evaluate import Episode, Review
from app.segregation.models import RestrictiveIntervention, Seclusion, Segregation
from app.wards.models import Admission, Patient
from app.wards.schemas import CardRestriction, EpisodeSummary

E = TypeVar("E", Seclusion, Segregation)


async def policies(
    session: AsyncSession,
) -> tuple[catalogue.SeclusionPolicy, catalogue.SegregationPolicy]:
    """The thresholds in force (the catalogue's defaults with the trust's stored changes),
    the same the rule runs use, so the board's countdowns and the alerts always agree."""
    parameters = await settings.parameters_in_force(session)
    return catalogue.seclusion_policy(parameters), catalogue.segregation_policy(parameters)


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


def as_episode(record: Seclusion | Segregation) -> Episode:
    return Episode(record.id, record.started_at, record.ended_at)


def reviews_of(record: Seclusion | Segregation) -> list[Review]:
    return [Review(r.kind, r.at) for r in record.reviews]


def chains_for_seclusion(
    seclusion: Seclusion,
    earlier: Sequence[Seclusion],
    as_of: datetime,
    policy: catalogue.SeclusionPolicy,
) -> dict[str, Chain]:
    return evaluate.seclusion_chains(
        as_episode(seclusion),
        authorised_by_role=seclusion.authorised_by_role,
        reviews=reviews_of(seclusion),
        observations=[o.at for o in seclusion.observations],
        earlier=[as_episode(e) for e in earlier if e.id != seclusion.id],
        as_of=as_of,
        policy=policy,
    )


def chains_for_segregation(
    segregation: Segregation,
    needs_icetr: bool,
    as_of: datetime,
    policy: catalogue.SegregationPolicy,
) -> dict[str, Chain]:
    return evaluate.segregation_chains(
        as_episode(segregation),
        reviews=reviews_of(segregation),
        commissioner_informed_at=segregation.commissioner_informed_at,
        imha_informed_at=segregation.imha_informed_at,
        needs_icetr=needs_icetr,
        as_of=as_of,
        policy=policy,
    )


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


# --- the board's cards ------------------------------------------------------------------


def _most_urgent(
    chains: dict[str, Chain], keys: dict[str, str]
) -> tuple[str | None, datetime | None, bool]:
    """The earliest deadline still missing, else the next one to come: (kind, when, overdue)."""
    missing = [
        (due, code)
        for code, item in chains.items()
        for due, done in zip(
            item.breaches, item.satisfied_at or (None,) * len(item.breaches), strict=True
        )
        if done is None
    ]
    if missing:
        due, code = min(missing)
        return keys[code], due, True
    upcoming = [(item.next_due, code) for code, item in chains.items() if item.next_due]
    if upcoming:
        due, code = min(upcoming)
        return keys[code], due, False
    return None, None, False


def _card(
    kind: Literal["seclusion", "segregation"],
    record: Seclusion | Segregation,
    chains: dict[str, Chain],
    now: datetime,
) -> CardRestriction:
    keys = evaluate.SECLUSION_DUE_KEYS if kind == "seclusion" else evaluate.SEGREGATION_DUE_KEYS
    observation = chains.pop(RuleCode.SECL_OBSERVATION, None)
    next_kind, next_due, overdue = _most_urgent(chains, keys)
    card = CardRestriction(
        kind=kind,
        id=record.id,
        started_at=record.started_at,
        duration_minutes=minutes_between(record.started_at, now),
        next_kind=next_kind,
        next_due=next_due,
        overdue=overdue,
    )
    if observation is not None:
        _, card.observation_due, card.observation_overdue = _most_urgent(
            {RuleCode.SECL_OBSERVATION: observation}, keys
        )
    return card


async def card_restrictions(
    session: AsyncSession, admission_ids: list[int], now: datetime
) -> dict[int, list[CardRestriction]]:
    """Open seclusions and segregations for the board: a fixed number of queries."""
    seclusion_policy, segregation_policy = await policies(session)
    seclusions = list(
        await session.scalars(
            select(Seclusion)
            .where(Seclusion.admission_id.in_(admission_ids), Seclusion.ended_at.is_(None))
            .options(selectinload(Seclusion.reviews), selectinload(Seclusion.observations))
        )
    )
    segregations = list(
        await session.scalars(
            select(Segregation)
            .where(Segregation.admission_id.in_(admission_ids), Segregation.ended_at.is_(None))
            .options(selectinload(Segregation.reviews))
        )
    )
    earlier: dict[int, list[Seclusion]] = {}
    if seclusions:
        window_start = min(s.started_at for s in seclusions) - seclusion_policy.independent_window
        for record in await session.scalars(
            select(Seclusion).where(
                Seclusion.admission_id.in_([s.admission_id for s in seclusions]),
                Seclusion.ended_at.is_not(None),
                Seclusion.ended_at > window_start,
            )
        ):
            earlier.setdefault(record.admission_id, []).append(record)
    icetr: dict[int, bool] = {}
    if segregations:
        rows = await session.execute(
            select(Admission.id, Patient.learning_disability, Patient.autistic)
            .join(Patient, Patient.id == Admission.patient_id)
            .where(Admission.id.in_([s.admission_id for s in segregations]))
        )
        icetr = {admission_id: bool(ld or autistic) for admission_id, ld, autistic in rows.all()}

    cards: dict[int, list[CardRestriction]] = {}
    for seclusion in seclusions:
        chains = chains_for_seclusion(
            seclusion, earlier.get(seclusion.admission_id, []), now, seclusion_policy
        )
        cards.setdefault(seclusion.admission_id, []).append(
            _card("seclusion", seclusion, chains, now)
        )
    for segregation in segregations:
        chains = chains_for_segregation(
            segregation, icetr.get(segregation.admission_id, False), now, segregation_policy
        )
        cards.setdefault(segregation.admission_id, []).append(
            _card("segregation", segregation, chains, now)
        )
    return cards


# --- the admission's list, and discharge ------------------------------------------------


async def list_episodes(
    session: AsyncSession, admission_ids: list[int]
) -> dict[int, list[EpisodeSummary]]:
    result: dict[int, list[EpisodeSummary]] = {}
    records: list[Seclusion | Segregation] = [
        *await session.scalars(select(Seclusion).where(Seclusion.admission_id.in_(admission_ids))),
        *await session.scalars(
            select(Segregation).where(Segregation.admission_id.in_(admission_ids))
        ),
    ]
    for record in records:
        kind: Literal["seclusion", "segregation"] = (
            "seclusion" if isinstance(record, Seclusion) else "segregation"
        )
        result.setdefault(record.admission_id, []).append(
            EpisodeSummary(
                kind=kind,
                id=record.id,
                started_at=record.started_at,
                ended_at=record.ended_at,
                status="open" if record.ended_at is None else "ended",
                url=f"/{kind}s/{record.id}",
            )
        )
    for force in await session.scalars(
        select(RestrictiveIntervention).where(
            RestrictiveIntervention.admission_id.in_(admission_ids)
        )
    ):
        result.setdefault(force.admission_id, []).append(
            EpisodeSummary(
                kind="use_of_force",
                id=force.id,
                started_at=force.started_at,
                ended_at=force.ended_at,
                status="recorded",
                url=f"/use-of-force/{force.id}",
            )
        )
    return result


async def _open_at(
    session: AsyncSession, model: type[E], admission_id: int, at: datetime
) -> E | None:
    """The admission's first episode of this kind still going on at ``at`` (or after it)."""
    return await session.scalar(
        select(model)
        .where(
            model.admission_id == admission_id,
            or_(model.ended_at.is_(None), model.ended_at > at),
        )
        .order_by(model.started_at)
        .limit(1)
    )


async def refuse_discharge_while_restricted(
    session: AsyncSession, admission: Admission, at: datetime
) -> None:
    """A discharge while seclusion or segregation is open is refused (DOMAIN.md)."""
    for name, still in (
        ("seclusion", await _open_at(session, Seclusion, admission.id, at)),
        ("segregation", await _open_at(session, Segregation, admission.id, at)),
    ):
        if still is None:
            continue
        if still.started_at > at:
            raise Invalid(FieldError("at", f"cannot be before a {name} recorded after it"))
        raise Conflict(f"This person's {name} is still open at that time: end it before discharge.")


async def admission_section(
    session: AsyncSession, admission: Admission, now: datetime, reader: User
) -> tuple[str, dict[str, object]]:
    """The admission page's restrictive practice section: every episode and use of force
    the reader may see (those on stays app/auth/scope.py lets them read)."""
    from app.auth import scope
    from app.segregation import force

    seen = scope.admission_seen(reader, admission, now).shows
    episodes = (await list_episodes(session, [admission.id])).get(admission.id, [])
    interventions = await force.interventions_for_admission(session, admission.id)
    return "segregation/_admission_section.html", {
        "episodes": sorted(
            (e for e in episodes if e.kind != "use_of_force" and seen(e.started_at)),
            key=lambda e: e.started_at,
        ),
        "interventions": [r for r in interventions if seen(r.started_at)],
        "admission_id": admission.id,
        "now": now,
    }
