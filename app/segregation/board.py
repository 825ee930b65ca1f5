"""Seclusion, segregation and use of force as other domains see them: the board's cards,
the admission's list of episodes, and the check that refuses a discharge while one is
open. These are the hooks the board, the admission and discharge call, filled by
register_all() in app/extensions.py. All deadlines come from evaluate.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.deadlines import Chain
from app.errors import Conflict, FieldError, Invalid
from app.rules.catalogue import RuleCode
from app.segregation import evaluate, read
from app.segregation.evaluate import chains_for_seclusion, chains_for_segregation, minutes_between
from app.segregation.force.models import RestrictiveIntervention
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, Patient
from app.wards.schemas import CardRestriction, EpisodeSummary

E = TypeVar("E", Seclusion, Segregation)


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
    seclusion_policy, segregation_policy = await read.policies(session)
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
