"""The demo's restrictive practice as a plan in memory, and the timing every part shares.

Seclusions, segregations and uses of force are decided here first and written together
at the end (see `write`), so the same `random.Random` gives the same records and no row
needs a flush of its own. `Planner` keeps what has been decided and which times each
admission already has taken, so episodes never overlap; `rhythm` says when the actions
of an "at least every so often" duty (reviews, observations) were done.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.demo.plan import to_minute
from app.segregation.models import Seclusion

MINUTE = timedelta(minutes=1)
HOUR = 60  # minutes
DAY = 24 * HOUR


@dataclass
class Quality:
    """How reliably one episode's reviews were done on time."""

    late: float
    missed: float


GOOD = Quality(late=0.03, missed=0.01)
POOR = Quality(late=0.15, missed=0.06)
PERFECT = Quality(late=0.0, missed=0.0)


@dataclass
class SeclusionPlan:
    admission_id: int
    ward: str
    started_at: datetime
    ended_at: datetime | None
    authorised_by_role: str
    reason: str
    end_note: str | None
    reviews: list[tuple[str, datetime, str, str | None]]  # kind, at, note, outcome
    observations: list[datetime]
    # The written row, once flushed: its id links the reviews and a segregation to it.
    row: Seclusion | None = None


@dataclass
class SegregationPlan:
    admission_id: int
    ward: str
    started_at: datetime
    ended_at: datetime | None
    reason: str
    end_note: str | None
    commissioner_informed_at: datetime | None
    imha_informed_at: datetime | None
    reviews: list[tuple[str, datetime, str]]  # kind, at, note
    from_seclusion: SeclusionPlan | None = None


@dataclass
class ForcePlan:
    admission_id: int
    ward: str
    started_at: datetime
    ended_at: datetime
    types: list[tuple[str, datetime, datetime]]  # code, start, end
    staff: list[tuple[str, str]]  # name, job title
    values: dict[str, object]  # the record's other columns (None where never completed)
    created_at: datetime


@dataclass
class Planner:
    rng: random.Random
    now: datetime
    ward_ids: dict[str, int]
    staff_users: dict[str, int]  # ward code -> a demo ward-staff user who works there
    seclusions: list[SeclusionPlan] = field(default_factory=list)
    segregations: list[SegregationPlan] = field(default_factory=list)
    forces: list[ForcePlan] = field(default_factory=list)
    # Per admission, the times already taken by an episode or use of force.
    busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def free(self, admission_id: int, start: datetime, end: datetime) -> bool:
        return all(end <= s or start >= e for s, e in self.busy.get(admission_id, []))

    def take(self, admission_id: int, start: datetime, end: datetime) -> None:
        self.busy.setdefault(admission_id, []).append((start, end))

    def recorded(self, at: datetime, most: int = 30) -> datetime:
        """When something done at `at` was typed in: soon after, never after now."""
        return min(self.now, at + timedelta(minutes=self.rng.randint(0, most)))

    def user_for(self, ward: str) -> int | None:
        return self.staff_users.get(ward)

    def place(self, earliest: datetime, latest_end: datetime, minutes: int) -> datetime | None:
        """A whole-minute start from `earliest` leaving `minutes` before `latest_end`;
        earlier in the stay is likelier (people are most unwell soon after admission)."""
        room = int((latest_end - earliest) / MINUTE) - minutes
        if room < 0:
            return None
        return to_minute(earliest + int(room * self.rng.random() ** 1.5) * MINUTE)


def rhythm(
    rng: random.Random,
    *,
    first_due: int,
    interval: int | Callable[[int], int],
    limit: int,
    early: tuple[int, int],
    late: tuple[int, int],
    quality: Quality,
    also: list[int] | None = None,
    first: tuple[int, int] | None = None,
    horizon: int | None = None,
) -> list[int]:
    """Actions of an "at least every `interval`" chain up to `limit` (inclusive), in
    minutes from the start.

    Mostly a little before each deadline; sometimes late; now and then not done at all,
    when the next deadline is a whole interval on. `also` holds other actions that count
    (an MDT review is also an approved clinician's), which move the chain on as well.
    `interval` may be a function of the minute the next interval runs from (a seclusion's
    medical reviews slow down after the first MDT). `first`, when given, is the range the
    very first action falls in (any time within its deadline, not just before it).
    Deadlines are followed until `horizon` minutes past `limit` (by default the latest a
    late action can be).
    """
    step = interval if callable(interval) else lambda _at: interval
    others = sorted(also or [])
    chase_until = limit + (late[1] if horizon is None else horizon)
    times: list[int] = []
    anchor, due = 0, first_due
    while due <= chase_until:
        covering = [t for t in others if anchor < t <= due]
        if covering:
            anchor = covering[-1]
            due = anchor + step(anchor)
            continue
        roll = rng.random()
        if roll < quality.missed:
            due += step(due)
            continue
        if roll < quality.missed + quality.late:
            at = due + rng.randint(*late)
        elif first is not None and anchor == 0:
            at = rng.randint(*first)
        else:
            at = max(anchor + 1, due - rng.randint(*early))
        if at > limit:
            break
        times.append(at)
        anchor, due = at, at + step(at)
    return times
