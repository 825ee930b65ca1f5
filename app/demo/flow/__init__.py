"""Bed flow in the demo trust: people waiting for a bed, out-of-area placements, and people
clinically ready for discharge who cannot leave yet.

`seed_demo` calls `seed_flow` after restrictive practice and before the rule run, so the
rules see all of it. The waiting list, the placements (with their reviews and ends) and the
delays of people on the wards now go through the services, as a bed manager or a nurse
records them: the same checks, the same audit entries, each recorded a few minutes after it
happened. Delays that ended at a past discharge cannot (the service refuses a discharged
admission), so those few are written as rows, inside their admissions as the database
requires.

What a person trying Wardflow should find: about six people waiting, two of them past the
12-hour standard; four people placed out of area (mostly for want of a local bed, one for
safeguarding), one overdue its 3-monthly review; two placements ended when the person came
back to a local bed; and about one in eight people on the wards ready for discharge, with
the reasons that really hold people up (housing, care packages, care homes, funding), some
for more than a week. Planned from the shared `random.Random`: the same seed, the same
records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.demo.flow.delays import ready_in_the_past, ready_now
from app.demo.flow.placed import ended_placements, open_placements
from app.demo.flow.plan import Recorder
from app.demo.flow.waiting import waiting_list
from app.demo.plan import Person, Spell
from app.wards.models import Bed, Patient, WardStay

__all__ = ["FlowSummary", "seed_flow"]


@dataclass
class FlowSummary:
    waiting: int
    waiting_over_12_hours: int
    open_placements: int
    ended_placements: int
    ready_for_discharge: int
    past_ready_for_discharge: int
    new_patients: int


async def seed_flow(
    session: AsyncSession,
    rng: random.Random,
    now: datetime,
    spells: list[Spell],
    people: list[Person],
) -> FlowSummary:
    """Add bed flow to the trust seed_demo wrote. `now` is seed_demo's clock (whole minutes)."""
    users = {
        u.username: u for u in await session.scalars(select(User).options(selectinload(User.wards)))
    }
    recorder = Recorder(rng, now, users)
    rows = await session.execute(select(Patient.nhs_number, Patient.id))
    recorder.patient_ids = {number: patient_id for number, patient_id in rows}
    recorder.numbers = set(recorder.patient_ids)
    known = len(recorder.numbers)
    admission_ids = await _admission_ids(session, spells)
    current = [(s, a) for s, a in zip(spells, admission_ids, strict=True) if s.is_open]

    ready = await ready_now(session, recorder, current)
    past_ready = await ready_in_the_past(session, recorder)
    ended = await ended_placements(session, recorder, spells, people)
    placed = await open_placements(session, recorder)
    waited = await waiting_list(session, recorder, people)
    return FlowSummary(
        waiting=len(waited),
        waiting_over_12_hours=sum(1 for hours in waited if hours > 12),
        open_placements=placed,
        ended_placements=ended,
        ready_for_discharge=ready,
        past_ready_for_discharge=past_ready,
        new_patients=len(recorder.numbers) - known,
    )


async def _admission_ids(session: AsyncSession, spells: list[Spell]) -> list[int]:
    """Each planned spell's admission, found by the bed and start of its first stay."""
    rows = await session.execute(
        select(Bed.label, WardStay.started_at, WardStay.admission_id).join(
            Bed, Bed.id == WardStay.bed_id
        )
    )
    by_start = {(label, started): admission for label, started, admission in rows}
    return [by_start[(s.segments[0].bed, s.segments[0].start)] for s in spells]
