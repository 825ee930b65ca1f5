"""Restrictive practice in the demo trust: seclusion, long-term segregation and use of force.

`seed_demo` calls `seed_restrictive` last, with the admissions it planned. Past admissions
get a realistic history: seclusion mostly on PICU and adult acute wards, reviewed at about
the right rhythm with a minority of late or missing reviews (so the episode pages show
missed deadlines), a few long-term segregations on forensic, PICU and learning disability
or autism wards, and use-of-force records, a few of them never completed. The people on
the wards now are given a picture worth looking at on the board: two people in seclusion
(one review overdue, one due in about 20 minutes), one in long-term segregation whose IMHA
has not been told, a seclusion that ended earlier today, and recent uses of force, one
still to be completed within its 24 hours and an older one that never was.

Everything is planned in memory from the shared `random.Random` (so the same seed gives
the same records), every time is a whole minute inside the ward stay it belongs to and
not after `now`, and it is written with three bulk flushes.

The modules, in the order the work happens:
- `plan`: the plans in memory, the bookkeeping that keeps them apart, the review rhythm;
- `seclusion`, `segregation`, `force`: what one episode or use of force looks like;
- `past`: the history of the discharged admissions;
- `current`: the scenes on the board today and the people on the wards now;
- `write`: the bulk writing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.demo.places import DEMO_USERS
from app.demo.plan import Person, Spell
from app.demo.restrictive.current import plan_current
from app.demo.restrictive.past import plan_past
from app.demo.restrictive.plan import ForcePlan, Planner
from app.demo.restrictive.write import write
from app.wards.models import Bed, Ward, WardStay

__all__ = ["RestrictiveSummary", "seed_restrictive"]


@dataclass
class RestrictiveSummary:
    seclusions: int
    segregations: int
    uses_of_force: int
    open_seclusions: int
    open_segregations: int
    incomplete_uses_of_force: int


async def seed_restrictive(
    session: AsyncSession,
    rng: random.Random,
    now: datetime,
    spells: list[Spell],
    people: list[Person],
) -> RestrictiveSummary:
    """Add seclusion, segregation and use of force to the admissions seed_demo wrote.

    `now` is seed_demo's clock (whole minutes). Three flushes: episodes and use-of-force
    records; their reviews, observations, types, staff, versions and the segregations;
    the segregations' reviews.
    """
    admission_ids = await _admission_ids(session, spells)
    ward_ids = dict((await session.execute(select(Ward.code, Ward.id))).all())
    planner = Planner(rng, now, ward_ids, await _staff_users(session))

    current: list[tuple[Spell, int]] = []
    for spell, admission_id in zip(spells, admission_ids, strict=True):
        if spell.is_open:
            current.append((spell, admission_id))
        else:
            plan_past(planner, spell, admission_id, people[spell.person])
    plan_current(planner, current, people)

    await write(session, planner)
    return RestrictiveSummary(
        seclusions=len(planner.seclusions),
        segregations=len(planner.segregations),
        uses_of_force=len(planner.forces),
        open_seclusions=sum(1 for s in planner.seclusions if s.ended_at is None),
        open_segregations=sum(1 for s in planner.segregations if s.ended_at is None),
        incomplete_uses_of_force=sum(1 for f in planner.forces if _incomplete(f)),
    )


def _incomplete(plan: ForcePlan) -> bool:
    # A debrief is not one of the Act's items: a record without one is still complete.
    return any(value is None for key, value in plan.values.items() if key != "debriefed_at")


async def _admission_ids(session: AsyncSession, spells: list[Spell]) -> list[int]:
    """Each planned spell's admission, found by the bed and start of its first stay."""
    rows = await session.execute(
        select(Bed.label, WardStay.started_at, WardStay.admission_id).join(
            Bed, Bed.id == WardStay.bed_id
        )
    )
    by_start = {(label, started): admission for label, started, admission in rows}
    return [by_start[(s.segments[0].bed, s.segments[0].start)] for s in spells]


async def _staff_users(session: AsyncSession) -> dict[str, int]:
    """Ward code -> the demo ward-staff account that works there (it records their events)."""
    ward_staff = [(name, wards) for name, role, wards in DEMO_USERS if role == "ward_staff"]
    names = [name for name, _ in ward_staff]
    rows = await session.execute(select(User.username, User.id).where(User.username.in_(names)))
    ids: dict[str, int] = dict(rows.all())
    return {ward: ids[name] for name, wards in ward_staff for ward in wards if name in ids}
