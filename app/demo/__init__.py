"""Sample data, kept out of the domain packages: the demo trust and the synthetic nation.

`seed_demo` (here) fills an empty database with a realistic demo trust: places, people, six
months of admissions, restrictive practice, bed flow, the alerts the rules raise, and the
demo accounts. The CLI (`wardflow seed demo`) calls it and commits. Everything is planned
in memory first from one `random.Random`, so the same `rng_seed` and `now` always give the
same trust, and then written with a handful of bulk flushes, so seeding takes seconds.

The modules: `plan` (the planner both data sets share: types, tables, draws), `places`
(the trust's localities, hospitals, wards, beds and accounts), `trust` (its bed histories,
people and admissions), `restrictive` (seclusion, segregation, use of force), `flow` (the
waiting list, out-of-area placements, ready for discharge), `alerts` (the rules run over
it), and `synthetic` (`wardflow seed synthetic`: a region or nation for benchmarks).

Everything is synthetic: names are drawn from lists, NHS numbers come from the 999 range
that is never issued to real people, and the hospitals are invented.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.audit.service import SYSTEM
from app.auth.models import User
from app.auth.service import DEMO_PASSWORD
from app.demo.alerts import seed_alerts
from app.demo.flow import seed_flow
from app.demo.places import (
    CLOSED_BEDS,
    DEMO_USERS,
    LOCALITIES,
    SITES,
    WARDS,
    close_beds,
    write_places,
    write_users,
)
from app.demo.plan import Progress, to_minute
from app.demo.restrictive import seed_restrictive
from app.demo.trust import plan_people, plan_spells, write_people_and_admissions
from app.wards.models import Ward

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "DemoSummary", "database_is_empty", "seed_demo"]


@dataclass
class DemoSummary:
    """What seed_demo made, for the CLI to print (including the demo sign-ins)."""

    sites: int
    wards: int
    beds: int
    open_admissions: int
    patients: int
    past_admissions: int
    users: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, password
    localities: int = 0
    closed_beds: int = 0
    transfers: int = 0
    seclusions: int = 0
    segregations: int = 0
    uses_of_force: int = 0
    waiting_for_a_bed: int = 0
    out_of_area: int = 0  # open placements
    ready_for_discharge: int = 0  # people on the wards now


async def database_is_empty(session: AsyncSession) -> bool:
    """True when there are no wards and no users (so seeding cannot clash with real data)."""
    has_ward = await session.scalar(select(Ward.id).limit(1))
    has_user = await session.scalar(select(User.id).limit(1))
    return has_ward is None and has_user is None


async def seed_demo(
    session: AsyncSession,
    *,
    now: datetime,
    progress: Progress | None = None,
    rng_seed: int = 2026,
) -> DemoSummary:
    """Fill an empty database with the demo trust. Adds and flushes; the caller commits."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not await database_is_empty(session):
        raise RuntimeError("The database already has wards or users; demo data needs it empty.")
    report = progress or (lambda _step, _done, _total: None)
    now = now.astimezone(UTC)
    rng = random.Random(rng_seed)  # noqa: S311 (repeatable demo data, not security)

    # Clinical times are whole minutes, rounded down so none is after `now`.
    clock = to_minute(now)

    beds = await write_places(session, report, clock)
    users = await write_users(session, now, report)
    spells = plan_spells(rng, clock, report)
    people = plan_people(rng, spells, clock, report)
    await write_people_and_admissions(session, rng, spells, people, clock, beds, report)
    await close_beds(session, beds, clock)
    restrictive = await seed_restrictive(session, rng, clock, spells, people)
    flow = await seed_flow(session, rng, clock, spells, people)
    # Last, so the rules see everything above.
    await session.flush()
    await seed_alerts(session, clock, "safeguarding")

    open_count = sum(1 for s in spells if s.is_open)
    summary = DemoSummary(
        sites=len(SITES),
        wards=len(WARDS),
        beds=len(beds),
        open_admissions=open_count,
        patients=len(people) + flow.new_patients,
        past_admissions=len(spells) - open_count,
        users=users,
        localities=len(LOCALITIES),
        closed_beds=len(CLOSED_BEDS),
        transfers=sum(1 for s in spells if len(s.segments) > 1),
        seclusions=restrictive.seclusions,
        segregations=restrictive.segregations,
        uses_of_force=restrictive.uses_of_force,
        waiting_for_a_bed=flow.waiting,
        out_of_area=flow.open_placements,
        ready_for_discharge=flow.ready_for_discharge,
    )
    session.add(
        AuditEntry(
            at=now,
            user_id=None,
            username=SYSTEM,
            action="seed.demo",
            entity_type="trust",
            entity_id="demo",
            before=None,
            # Counts only: the demo passwords stay out of the audit log.
            after={**asdict(summary), "users": [u[0] for u in users], "rng_seed": rng_seed},
        )
    )
    await session.flush()
    return summary
