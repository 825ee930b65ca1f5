"""Which week and which part of the trust a report is about.

A week runs from Monday 00:00 to the next Monday 00:00, Europe/London, whatever the clocks
do in it: the week the clocks go forward is 167 hours long, the week they go back 169.
Its days are counted by the local midnights that end them, Tuesday 00:00 .. next Monday
00:00 (API.md, Reports), so every week has seven.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import local_date, local_tz
from app.errors import FieldError, Invalid, NotFound
from app.wards.models import Site, Ward

DAY = timedelta(days=1)
TREND_WEEKS = 26
# No report for weeks before this: nothing was recorded then (and dates near year 1
# cannot be stepped back from).
EARLIEST = date(1900, 1, 1)


def local_midnight(day: date) -> datetime:
    """The instant (UTC) at which `day` begins in local time."""
    return datetime.combine(day, time(0), tzinfo=local_tz()).astimezone(UTC)


@dataclass(frozen=True)
class Week:
    ending: date  # a Sunday

    @property
    def monday(self) -> date:
        return self.ending - 6 * DAY

    @property
    def start(self) -> datetime:
        return local_midnight(self.monday)

    @property
    def end(self) -> datetime:
        return local_midnight(self.ending + DAY)

    def back(self, weeks: int) -> Week:
        return Week(self.ending - timedelta(weeks=weeks))

    def series(self, count: int = TREND_WEEKS) -> list[Week]:
        """The `count` weeks ending with this one, oldest first."""
        return [self.back(n) for n in range(count - 1, -1, -1)]


def last_finished(now: datetime) -> Week:
    today = local_date(now)
    return Week(today - (today.weekday() + 1) * DAY)


def finished_week(ending: date, now: datetime, field: str = "week_ending") -> Week:
    """The week ending on that Sunday, if it is over (422 otherwise: a week still running,
    or to come, has no report yet)."""
    if ending.weekday() != 6:
        raise Invalid(FieldError(field, f"{ending.isoformat()} is not a Sunday"))
    if ending < EARLIEST:
        # The report looks back TREND_WEEKS weeks; near year 1 there are no such dates.
        raise Invalid(FieldError(field, f"must be {EARLIEST.year} or later"))
    week = Week(ending)
    if ending >= date.max - 7 * DAY or week.end > now:
        raise Invalid(
            FieldError(field, f"the week ending {ending.isoformat()} has not finished yet")
        )
    return week


@dataclass(frozen=True)
class Scope:
    """The trust, one site or one ward. `ward_ids` is None for the whole trust."""

    type: str
    code: str
    name: str
    ward_ids: frozenset[int] | None = None

    @property
    def label(self) -> str:
        return self.name if self.type == "trust" else f"{self.name} ({self.code})"

    def as_dict(self) -> dict[str, str | None]:
        return {"type": self.type, "code": self.code or None, "name": self.name}


TRUST = Scope("trust", "", "The trust")


async def resolve_scope(
    session: AsyncSession, *, ward_code: str | None = None, site_code: str | None = None
) -> Scope:
    ward_code = (ward_code or "").strip() or None
    site_code = (site_code or "").strip() or None
    if ward_code and site_code:
        raise Invalid(FieldError("ward_code", "give a ward or a site, not both"))
    if ward_code:
        ward = await session.scalar(select(Ward).where(Ward.code == ward_code))
        if ward is None:
            raise NotFound(f"No ward {ward_code!r}.")
        return Scope("ward", ward.code, ward.name, frozenset({ward.id}))
    if site_code:
        site = await session.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise NotFound(f"No site {site_code!r}.")
        ids = await session.scalars(select(Ward.id).where(Ward.site_id == site.id))
        return Scope("site", site.code, site.name, frozenset(ids))
    return TRUST
