"""When beds were open: the one rule the weekly report and the occupancy rule count by.

A ward is open from the earlier of its creation and the first stay recorded on it (history
typed in or loaded after the ward was made), unless an admin set when it opened. Beds made
with their ward (on the same local day) open with it, so a ward made today with people
admitted to it last month counts all its beds open last month; a bed added later opens at
its creation or its own first stay, whichever came first, so adding a bed does not raise
the ward's past capacity. An admin's opened_at on a bed overrides both. An open bed is out
of use while one of its closures (bed_closures) covers the moment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.wards.models import Bed, BedClosure, Ward, WardStay

Period = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class BedOpening:
    bed_id: int
    ward_id: int
    opened_at: datetime


def ward_opened(
    created_at: datetime, opened_at: datetime | None, first_stay: datetime | None
) -> datetime:
    """When a ward counts as open from (the rule in this module's docstring)."""
    if opened_at is not None:
        return opened_at
    return created_at if first_stay is None else min(created_at, first_stay)


def bed_opened(
    *,
    created_at: datetime,
    opened_at: datetime | None,
    ward_created_at: datetime,
    ward_open: datetime,
    first_stay: datetime | None,
) -> datetime:
    """When a bed counts as open from: with its ward if made with it, else from its own
    creation or first stay; an admin's opened_at first."""
    if opened_at is not None:
        return opened_at
    if made_with_ward(created_at, ward_created_at):
        return ward_open
    return created_at if first_stay is None else min(created_at, first_stay)


def made_with_ward(created_at: datetime, ward_created_at: datetime) -> bool:
    """Made with its ward (a ward and its beds are set up together, in one local day).
    The zone is read here, not from wards.service, so the rules can import this module
    without the services (the kernel's local_date can replace it)."""
    zone = ZoneInfo(get_settings().timezone)
    return created_at.astimezone(zone).date() <= ward_created_at.astimezone(zone).date()


async def openings(
    session: AsyncSession, ward_ids: Iterable[int] | None = None
) -> list[BedOpening]:
    """Every bed (of these wards) and when it counts as open from: two or three queries,
    whatever the number of beds."""
    query = select(
        Bed.id, Bed.ward_id, Bed.created_at, Bed.opened_at, Ward.created_at, Ward.opened_at
    ).join(Ward, Ward.id == Bed.ward_id)
    # Each ward's first stay, one index probe per ward (ix_ward_stays_ward_started), not a
    # scan of every stay the trust has recorded.
    first = (
        select(func.min(WardStay.started_at)).where(WardStay.ward_id == Ward.id).scalar_subquery()
    )
    firsts = select(Ward.id, first)
    if ward_ids is not None:
        wanted = list(ward_ids)
        query = query.where(Bed.ward_id.in_(wanted))
        firsts = firsts.where(Ward.id.in_(wanted))
    rows = (await session.execute(query)).all()
    first_on_ward = dict((await session.execute(firsts)).all())
    # Beds added after their ward need their own first stay (rare: one small query).
    late = [
        bed_id
        for bed_id, _w, created, opened, ward_created, _wo in rows
        if opened is None and not made_with_ward(created, ward_created)
    ]
    first_in_bed: dict[int, datetime] = {}
    if late:
        first_in_bed = dict(
            (
                await session.execute(
                    select(WardStay.bed_id, func.min(WardStay.started_at))
                    .where(WardStay.bed_id.in_(late))
                    .group_by(WardStay.bed_id)
                )
            ).all()
        )
    result = []
    for bed_id, ward_id, created, opened, ward_created, ward_opened_at in rows:
        ward_open = ward_opened(ward_created, ward_opened_at, first_on_ward.get(ward_id))
        result.append(
            BedOpening(
                bed_id,
                ward_id,
                bed_opened(
                    created_at=created,
                    opened_at=opened,
                    ward_created_at=ward_created,
                    ward_open=ward_open,
                    first_stay=first_in_bed.get(bed_id),
                ),
            )
        )
    return result


async def closures(
    session: AsyncSession, ward_ids: Iterable[int] | None, start: datetime, end: datetime
) -> dict[int, list[Period]]:
    """The closures of the beds (of these wards) overlapping [start, end], by bed, as
    (closed_at, reopened_at) periods."""
    query = (
        select(BedClosure.bed_id, BedClosure.closed_at, BedClosure.reopened_at)
        .where(
            BedClosure.closed_at <= end,
            or_(BedClosure.reopened_at.is_(None), BedClosure.reopened_at > start),
        )
        .order_by(BedClosure.closed_at)
    )
    if ward_ids is not None:
        query = query.join(Bed, Bed.id == BedClosure.bed_id).where(Bed.ward_id.in_(list(ward_ids)))
    result: dict[int, list[Period]] = defaultdict(list)
    for bed_id, closed, reopened in await session.execute(query):
        result[bed_id].append((closed, reopened))
    return result


def closed_at(periods: Iterable[Period], moment: datetime) -> bool:
    """Whether a closure covers the moment (closed at it, not yet reopened)."""
    return any(start <= moment and (end is None or moment < end) for start, end in periods)


def is_open(opening: BedOpening, periods: Iterable[Period], moment: datetime) -> bool:
    return opening.opened_at <= moment and not closed_at(periods, moment)


async def open_beds_at(session: AsyncSession, moment: datetime) -> dict[int, int]:
    """How many beds each ward had open at a moment (past or now)."""
    closed = await closures(session, None, moment, moment)
    counts: dict[int, int] = defaultdict(int)
    for bed in await openings(session):
        if bed.opened_at <= moment and not closed_at(closed.get(bed.bed_id, ()), moment):
            counts[bed.ward_id] += 1
    return counts
