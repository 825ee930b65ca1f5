"""Building the nation: places and accounts first, then hospital after hospital, planned
in a thread of its own while the rows of the hospitals before are written.

Planning is Python; writing is mostly the database's own work (on PostgreSQL, another
process), so the two overlap: a national build takes about as long as the database needs
to store the rows. The planning thread hands over batches of a few hundred thousand rows
through a short queue (so memory stays bounded), in order, so ids and foreign keys line
up and the result does not depend on timing. Everything happens in the caller's one
transaction: a failure anywhere leaves the database as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.audit.service import SYSTEM
from app.auth.service import DEMO_PASSWORD, create_user
from app.demo import database_is_empty
from app.demo.plan import to_minute
from app.demo.restrictive.plan import Planner
from app.demo.synthetic import writer as bulk
from app.demo.synthetic.flow import FlowRecords
from app.demo.synthetic.history import admissions_per_year, plan_site
from app.demo.synthetic.people import NhsNumbers, People
from app.demo.synthetic.places import (
    LARGE_WARD,
    Places,
    SitePlan,
    bed_labels,
    plan_places,
    ward_display_name,
)
from app.demo.synthetic.records import Context, SiteRecords
from app.demo.synthetic.restrictive import plan_restrictive, write_restrictive
from app.wards.models import BedClosure

Progress = Callable[[str, int, int], None]
# Rows held before they are handed over for writing (with the queue, under 1 GB).
BATCH_ROWS = 300_000
# Who can sign in: the demo trust's roles; the nurse works on a 30-bed ward and one more.
ACCOUNTS = (
    ("admin", "admin"),
    ("nurse", "ward_staff"),
    ("bedmanager", "bed_manager"),
    ("safeguarding", "safeguarding_lead"),
    ("director", "director"),
)


@dataclass
class Summary:
    localities: int
    sites: int
    wards: int
    beds: int
    closed_beds: int
    years: float
    open_admissions: int
    past_admissions: int
    patients: int
    transfers: int
    seclusions: int
    segregations: int
    uses_of_force: int
    rows: dict[str, int]
    users: list[tuple[str, str, str]] = field(default_factory=list)
    large_ward: str | None = None

    @property
    def restrictive_episodes(self) -> int:
        return self.seclusions + self.segregations + self.uses_of_force

    @property
    def occupancy(self) -> float:
        open_beds = self.beds - self.closed_beds
        return self.open_admissions / open_beds if open_beds else 0.0


def _places(seed: int, beds: int) -> Places:
    return plan_places(random.Random(f"wardflow-synthetic:{seed}:places"), beds)  # noqa: S311


def years_for(beds: int, admissions: int, seed: int) -> float:
    """The history long enough for about this many past admissions at this many beds."""
    return admissions / admissions_per_year(_places(seed, beds).wards)


@dataclass
class PlaceIds:
    localities: dict[str, int]
    wards: dict[str, int]
    beds: dict[str, int]  # "ward code/label" -> id


@dataclass
class Tally:
    open: int = 0
    past: int = 0
    patients: int = 0
    transfers: int = 0
    seclusions: int = 0
    segregations: int = 0
    forces: int = 0
    closed: list[tuple[int, str, datetime]] = field(default_factory=list)  # bed id, why, since


class Planning:
    """The planning thread's work: each hospital's rows, in hospital order."""

    def __init__(
        self, ctx: Context, places: Places, ids: PlaceIds, seed: int, rows: bulk.Rows
    ) -> None:
        self.ctx = ctx
        self.places = places
        self.ids = ids
        self.seed = seed
        self.rows = rows
        self.numbers = NhsNumbers(seed * 7919 + 17)
        self.tally = Tally()

    def site(self, site: SitePlan, staff_users: dict[str, int]) -> None:
        ctx, tally = self.ctx, self.tally
        rng = random.Random(f"wardflow-synthetic:{self.seed}:{site.code}")  # noqa: S311
        ctx.rng = rng
        history = plan_site(rng, site, ctx.now, ctx.history_start)
        people = People(rng, site, self.places, self.numbers, ctx.now)
        people.assign(history.spells)
        records = SiteRecords(ctx, site, people, self.rows)
        records.admissions(history.spells)
        FlowRecords(records).flow()
        planner = Planner(rng, ctx.now, self.ids.wards, staff_users)
        plan_restrictive(planner, history.spells, records.admission_ids, people.people)
        write_restrictive(planner, self.rows)
        for spell in history.spells:
            if spell.is_open:
                tally.open += 1
            else:
                tally.past += 1
            tally.transfers += len(spell.segments) > 1
        tally.patients += len(records.patient_ids)
        tally.seclusions += len(planner.seclusions)
        tally.segregations += len(planner.segregations)
        tally.forces += len(planner.forces)
        tally.closed += [
            (self.ids.beds[f"{b.ward.code}/{b.label}"], b.closed_reason, b.closed_at or ctx.now)
            for b in history.beds
            if b.closed_reason is not None
        ]


_DONE = object()


async def build(
    session: AsyncSession,
    *,
    beds: int,
    years: float,
    seed: int,
    now: datetime,
    progress: Progress | None = None,
) -> Summary:
    """Fill an empty database. Writes in the session's transaction; the caller commits."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if years <= 0:
        raise ValueError("years must be positive")
    if not await database_is_empty(session):
        raise RuntimeError(
            "The database already has wards or users; a synthetic set needs it empty."
        )
    report = progress or (lambda _step, _done, _total: None)
    clock = to_minute(now.astimezone(UTC))
    places = _places(seed, beds)

    rows = bulk.Rows(await bulk.first_ids(session))
    out = bulk.Writer(session)
    ids = _places_rows(places, rows, clock)
    written = await out.write(rows.take())
    large = next((w.code for w in places.wards if w.beds == LARGE_WARD), places.wards[0].code)
    nurse_wards = [large, *[w.code for w in places.wards if w.code != large][:1]]
    users, nurse_id = await _users(session, clock, nurse_wards)
    staff_users = dict.fromkeys(nurse_wards, nurse_id)

    ctx = Context(
        rng=random.Random(0),  # noqa: S311 (each hospital sets its own)
        now=clock,
        history_start=clock - timedelta(days=365.25 * years),
        places=places,
        ward_ids=ids.wards,
        bed_ids=ids.beds,
        locality_ids=ids.localities,
        user_for=staff_users.get,
    )
    planning = Planning(ctx, places, ids, seed, rows)
    handover: queue.Queue[object] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def plan_all() -> None:
        try:
            for done, site in enumerate(places.sites, start=1):
                if stop.is_set():
                    return
                planning.site(site, staff_users)
                if rows.count() >= BATCH_ROWS:
                    handover.put(rows.take())
                report("hospitals planned", done, len(places.sites))
            handover.put(rows.take())
            handover.put(_DONE)
        except BaseException as exc:  # handed to the writer, which raises it
            handover.put(exc)

    thread = threading.Thread(target=plan_all, name="synthetic-planning", daemon=True)
    thread.start()
    total_rows = 0
    try:
        while (item := await asyncio.to_thread(handover.get)) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, dict)
            for name, count in (await out.write(item)).items():
                written[name] = written.get(name, 0) + count
                total_rows += count
            report("rows written", total_rows, max(total_rows, 1))
    except BaseException:
        stop.set()
        while thread.is_alive():  # free a planner waiting on a full queue
            with contextlib.suppress(queue.Empty):
                handover.get(timeout=0.1)
        raise
    thread.join()

    tally = planning.tally
    # Closed last: the database refuses a stay, even a past one, in a closed bed.
    await _close_beds(session, tally.closed)
    summary = Summary(
        localities=len(places.towns),
        sites=len(places.sites),
        wards=len(places.wards),
        beds=sum(w.beds for w in places.wards),
        closed_beds=len(tally.closed),
        years=years,
        open_admissions=tally.open,
        past_admissions=tally.past,
        patients=tally.patients,
        transfers=tally.transfers,
        seclusions=tally.seclusions,
        segregations=tally.segregations,
        uses_of_force=tally.forces,
        rows={name: written.get(name, 0) for name in bulk.ORDER},
        users=users,
        large_ward=large if any(w.beds == LARGE_WARD for w in places.wards) else None,
    )
    session.add(
        AuditEntry(
            at=clock,
            user_id=None,
            username=SYSTEM,
            action="seed.synthetic",
            entity_type="nation",
            entity_id="synthetic",
            before=None,
            after={"beds": beds, "years": years, "seed": seed, "rows": summary.rows},
        )
    )
    await session.flush()
    report("statistics", 0, 1)
    await out.finish()
    report("statistics", 1, 1)
    return summary


async def _close_beds(session: AsyncSession, closed: list[tuple[int, str, datetime]]) -> None:
    """Close the beds out of use now, each with its closure since it closed (the weekly
    report counts open beds from bed_closures)."""
    if not closed:
        return
    await session.execute(
        text("UPDATE beds SET status = 'closed', closed_reason = :reason WHERE id = :bed_id"),
        [{"bed_id": bed_id, "reason": reason} for bed_id, reason, _since in closed],
    )
    await session.execute(
        insert(BedClosure),
        [
            {"bed_id": bed_id, "closed_at": since, "reason": reason}
            for bed_id, reason, since in closed
        ],
    )


def _places_rows(places: Places, rows: bulk.Rows, now: datetime) -> PlaceIds:
    localities: dict[str, int] = {}
    for town in places.towns:
        localities[town.code] = rows.next_id("localities")
        rows.add(
            "localities",
            (localities[town.code], town.code, town.name, town.latitude, town.longitude),
        )
    wards: dict[str, int] = {}
    beds: dict[str, int] = {}
    for site in places.sites:
        site_id = rows.next_id("sites")
        rows.add("sites", (site_id, site.code, site.name, localities[site.town.code]))
        for spec in site.wards:
            wards[spec.code] = rows.next_id("wards")
            rows.add(
                "wards",
                (
                    wards[spec.code], spec.code, ward_display_name(spec), site_id,
                    spec.ward_type, spec.sex, spec.min_age, spec.max_age, now,
                ),
            )  # fmt: skip
            for label in bed_labels(spec):
                bed_id = beds[f"{spec.code}/{label}"] = rows.next_id("beds")
                rows.add("beds", (bed_id, wards[spec.code], label, "open", None, now))
    return PlaceIds(localities, wards, beds)


async def _users(
    session: AsyncSession, now: datetime, nurse_wards: list[str]
) -> tuple[list[tuple[str, str, str]], int]:
    """The demo accounts, through create_user (hashed passwords, audited as usual)."""
    made, nurse_id = [], 0
    for username, role in ACCOUNTS:
        user = await create_user(
            session,
            username=username,
            role=role,
            password=DEMO_PASSWORD,
            ward_codes=nurse_wards if role == "ward_staff" else [],
            now=now,
            # The public demo password, past the breached-password check; flagged until changed.
            demo=True,
        )
        await session.flush()
        if role == "ward_staff":
            nurse_id = user.id
        made.append((username, role, DEMO_PASSWORD))
    return made, nurse_id
