"""Deadline chains: the one calculator behind the board's countdowns and the rules' breaches.

Pure functions of (records, as_of), exactly as RULES.md section 1 defines them:

- The first deadline is ``start + I``. A qualifying action at r moves the next deadline to
  ``r + I``. A deadline d that passes with no action is a breach at d, and the next
  deadline is ``d + I``: each missed interval is one breach.
- A deadline d is breached at ``as_of`` only if ``as_of > d`` and no action happened at or
  before d. Only actions at or before ``as_of`` count (records are often entered late).
- The chain stops when the episode ends: no deadline at or after ``ended_at`` is a breach.

Intervals may be calendar months ("P3M"), added in local time (`clock.local_tz`, the zone
the pages show) so "3 months from 31 March" is 30 June whatever the clocks did in between.

Generic: any domain's "at least every I" rule uses these; the seclusion-specific chains
(medical reviews, the independent MDT review) are in app/segregation/evaluate.py.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import isodate

from app.clock import local_tz


@dataclass(frozen=True)
class Interval:
    """A rule's interval: a fixed duration, or calendar months/years counted in local time."""

    iso: str
    _value: timedelta | isodate.Duration = field(compare=False, repr=False)

    @classmethod
    def parse(cls, iso: str) -> Interval:
        # Intervals are immutable and few; a rule run parses its thresholds once per stay.
        return _parse(iso)

    @classmethod
    def _parse(cls, iso: str) -> Interval:
        try:
            value = isodate.parse_duration(iso)
        except (isodate.ISO8601Error, ValueError) as exc:
            raise ValueError(
                f"{iso!r} is not an ISO 8601 duration such as PT2H, P7D or P3M"
            ) from exc
        if isinstance(value, timedelta) and value <= timedelta(0):
            raise ValueError(f"{iso!r} must be longer than zero")
        if isinstance(value, isodate.Duration) and (
            value.months <= 0 and value.years <= 0 and value.tdelta <= timedelta(0)
        ):
            raise ValueError(f"{iso!r} must be longer than zero")
        return cls(iso, value)

    def fixed_length(self) -> timedelta | None:
        """The length, when it does not depend on the calendar (no months or years)."""
        if isinstance(self._value, timedelta):
            return self._value
        if self._value.months == 0 and self._value.years == 0:
            length: timedelta = self._value.tdelta
            return length
        return None

    def after(self, moment: datetime) -> datetime:
        if isinstance(self._value, timedelta):
            return moment + self._value
        zone = local_tz()
        local = moment.astimezone(zone).replace(tzinfo=None)
        shifted: datetime = local + self._value
        return shifted.replace(tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=256)
def _parse(iso: str) -> Interval:
    return Interval._parse(iso)


def hours(n: float) -> Interval:
    return Interval.parse(f"PT{n}H")


@dataclass(frozen=True)
class Chain:
    """What a chain gives at as_of: the deadlines missed, and the one still to come."""

    breaches: tuple[datetime, ...]
    next_due: datetime | None
    # For each breach, when the missing action finally happened (None: still missing),
    # so an alert can be raised already cleared after downtime.
    satisfied_at: tuple[datetime | None, ...] = ()


def chain(
    *,
    start: datetime,
    as_of: datetime,
    actions: Iterable[datetime],
    interval: Interval | Callable[[datetime, int], Interval],
    ended_at: datetime | None = None,
    first_interval: Interval | None = None,
) -> Chain:
    """Walk an "at least every I" chain from ``start`` up to ``as_of``.

    ``interval`` may depend on the anchor and on how many deadlines came before (the
    medical review changes from 4-hourly to 12-hourly after the first MDT review).
    ``first_interval`` sets the first deadline only (the 1-hour first medical review).
    """
    if start > as_of:
        return Chain((), None)
    # The episode is over for this as_of only if it ended at or before as_of.
    end = ended_at if ended_at is not None and ended_at <= as_of else None
    done = sorted(a for a in actions if start <= a <= as_of)
    step: Callable[[datetime, int], Interval] = (
        interval
        if callable(interval) and not isinstance(interval, Interval)
        else (lambda _anchor, _n, i=interval: i)  # type: ignore[misc]
    )
    n = 0
    due = (first_interval or step(start, n)).after(start)
    breaches: list[datetime] = []
    satisfied: list[datetime | None] = []
    position = 0
    while True:
        if end is not None and due >= end:
            return Chain(tuple(breaches), None, tuple(satisfied))
        # The latest action at or before this deadline (and after the previous anchor).
        last_index = bisect_right(done, due, lo=position) - 1
        if last_index >= position:
            anchor = done[last_index]
            position = last_index + 1
            n += 1
            due = step(anchor, n).after(anchor)
            continue
        if as_of > due:
            breaches.append(due)
            satisfied.append(done[position] if position < len(done) else None)
            n += 1
            due = step(due, n).after(due)
            continue
        return Chain(tuple(breaches), due, tuple(satisfied))


def single(
    *,
    start: datetime,
    as_of: datetime,
    due_after: Interval,
    actions: Iterable[datetime],
    ended_at: datetime | None = None,
) -> Chain:
    """A one-off deadline (``start + I``), met by an action at or before it."""
    if start > as_of:
        return Chain((), None)
    due = due_after.after(start)
    end = ended_at if ended_at is not None and ended_at <= as_of else None
    done = sorted(a for a in actions if start <= a <= as_of)
    if any(a <= due for a in done):
        return Chain((), None)
    if end is not None and due >= end:
        return Chain((), None)
    if as_of > due:
        later = [a for a in done if a > due]
        return Chain((due,), None, (later[0] if later else None,))
    return Chain((), due)
