"""Deadline chains: the one calculator behind the board's countdowns and the rules' breaches.

Pure functions of (records, as_of), exactly as RULES.md section 1 defines them:

- The first deadline is ``start + I``. A qualifying action at r moves the next deadline to
  ``r + I``. A deadline d that passes with no action is a breach at d, and the next
  deadline is ``d + I``: each missed interval is one breach.
- A deadline d is breached at ``as_of`` only if ``as_of > d`` and no action happened at or
  before d. Only actions at or before ``as_of`` count (records are often entered late).
- The chain stops when the episode ends: no deadline at or after ``ended_at`` is a breach.

Intervals may be calendar months ("P3M"), added in local time so "3 months from 31 March"
is 30 June whatever the clocks did in between.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import isodate

LONDON = ZoneInfo("Europe/London")


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
            return self._value.tdelta
        return None

    def after(self, moment: datetime) -> datetime:
        if isinstance(self._value, timedelta):
            return moment + self._value
        local = moment.astimezone(LONDON).replace(tzinfo=None)
        shifted = local + self._value
        return shifted.replace(tzinfo=LONDON).astimezone(UTC)


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


# --- seclusion -----------------------------------------------------------------------------

MEDICAL_KINDS = frozenset({"medical", "mdt", "independent_mdt"})  # an MDT includes a doctor
MDT_KINDS = frozenset({"mdt"})


@dataclass(frozen=True)
class Review:
    kind: str
    at: datetime


def medical_chain(
    *,
    start: datetime,
    as_of: datetime,
    reviews: Sequence[Review],
    ended_at: datetime | None,
    authorised_by_psychiatrist: bool,
    first: Interval,
    before_mdt: Interval,
    after_mdt: Interval,
) -> tuple[Chain, bool]:
    """The medical review chain; returns it and whether its first deadline is the 1-hour one.

    Unless a psychiatrist authorised seclusion (their assessment is the first review), the
    first deadline is ``start + first`` (SECL_MEDICAL_FIRST). After that, a medical review is
    due every ``before_mdt`` until the first MDT review, then every ``after_mdt``.
    """
    first_mdt = min(
        # Only an MDT review proper starts the 12-hourly rhythm: RULES.md is silent on an
        # independent MDT review here, and we take the reading that raises the alert.
        (r.at for r in reviews if r.kind in MDT_KINDS and start <= r.at <= as_of),
        default=None,
    )

    def step(anchor: datetime, _n: int) -> Interval:
        return after_mdt if first_mdt is not None and first_mdt <= anchor else before_mdt

    medical = [r.at for r in reviews if r.kind in MEDICAL_KINDS]
    if authorised_by_psychiatrist:
        return chain(
            start=start, as_of=as_of, actions=medical, interval=step, ended_at=ended_at
        ), False
    return chain(
        start=start,
        as_of=as_of,
        actions=medical,
        interval=step,
        ended_at=ended_at,
        first_interval=first,
    ), True


@dataclass(frozen=True)
class Episode:
    id: int
    started_at: datetime
    ended_at: datetime | None


def independent_review_line(
    episode: Episode,
    earlier: Sequence[Episode],
    *,
    as_of: datetime,
    single_limit: timedelta = timedelta(hours=8),
    window_limit: timedelta = timedelta(hours=12),
    window: timedelta = timedelta(hours=48),
) -> datetime | None:
    """When this episode crosses the line that needs an independent MDT review, or None.

    The line: ``single_limit`` in this one episode, or ``window_limit`` of seclusion in total
    (this admission's episodes, this one included) within any ``window``. An episode still
    open at as_of is assumed to go on, so the board can show when the line will be reached.
    Seclusion time inside a trailing window never falls while a person is secluded (time
    enters at rate 1 and leaves at most as fast), so the crossing is found by walking the
    piecewise-linear total between the points where its rate can change.
    """
    start = episode.started_at
    if start > as_of:
        return None
    ended = episode.ended_at if episode.ended_at is not None and episode.ended_at <= as_of else None
    end = ended if ended is not None else start + single_limit
    others = [
        (e.started_at, min(e.ended_at or as_of, as_of))
        for e in earlier
        if e.id != episode.id and e.started_at < start and e.started_at <= as_of
    ]

    def total(t: datetime) -> timedelta:
        lo = t - window
        amount = max(timedelta(0), t - max(lo, start))
        for s, e in others:
            overlap = min(e, t) - max(s, lo)
            if overlap > timedelta(0):
                amount += overlap
        return amount

    points = {start, end}
    for s, e in others:
        for moment in (s + window, e + window):
            if start < moment < end:
                points.add(moment)
    ordered = sorted(points)
    for a, b in pairwise(ordered):
        total_a, total_b = total(a), total(b)
        if total_b >= window_limit:
            if total_a >= window_limit:
                return a
            rate = (total_b - total_a) / (b - a)
            return min(a + (window_limit - total_a) / rate, start + single_limit)
    if ended is None or start + single_limit < ended:
        return start + single_limit
    return None


def independent_review(
    episode: Episode,
    earlier: Sequence[Episode],
    reviews: Sequence[Review],
    *,
    as_of: datetime,
    single_limit: timedelta = timedelta(hours=8),
    window_limit: timedelta = timedelta(hours=12),
    window: timedelta = timedelta(hours=48),
) -> Chain:
    """SECL_INDEPENDENT_MDT: due when the line is crossed; met by an independent MDT review
    at or after the start of this episode and at or before the crossing; cleared by one
    later, or by the episode ending."""
    due = independent_review_line(
        episode,
        earlier,
        as_of=as_of,
        single_limit=single_limit,
        window_limit=window_limit,
        window=window,
    )
    if due is None:
        return Chain((), None)
    independent = sorted(
        r.at for r in reviews if r.kind == "independent_mdt" and episode.started_at <= r.at <= as_of
    )
    if any(at <= due for at in independent):
        return Chain((), None)
    ended = episode.ended_at if episode.ended_at is not None and episode.ended_at <= as_of else None
    if ended is not None and due >= ended:
        return Chain((), None)
    if as_of > due:
        cleared = [at for at in independent if at > due]
        if ended is not None:
            cleared.append(ended)
        return Chain((due,), None, (min(cleared) if cleared else None,))
    return Chain((), due)
