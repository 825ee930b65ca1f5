"""The weeks of a report and its trend as one span, so that each figure is read with a
fixed number of queries for all 26 weeks and shared out in one pass.

Days are counted by local midnights (API.md): an interval from `start` to `end` holds the
midnights m with start < m <= end, as `midnights_between` counts them, so a stay's days
over consecutive weeks add up to its length. In dates: the midnight that begins date D is
in the interval when local_date(start) < D <= local_date(end).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from app.clock import local_date
from app.reports.period import DAY, Week


class Span:
    def __init__(self, weeks: list[Week]) -> None:
        self.weeks = weeks
        self.start = weeks[0].start
        self.end = weeks[-1].end
        # Midnights counted: the Tuesday of the first week .. the Monday after the last.
        self.first_day = weeks[0].monday + DAY
        self.days = 7 * len(weeks)
        self._starts = [w.start for w in weeks]

    # --- instants -----------------------------------------------------------------------

    def week_of(self, moment: datetime | None) -> int | None:
        """The index of the week holding this instant, if any (the start is in, the end out)."""
        if moment is None or moment < self.start or moment >= self.end:
            return None
        return bisect.bisect_right(self._starts, moment) - 1

    def hours(self, start: datetime, end: datetime | None) -> list[tuple[int, float]]:
        """(week, hours) of the interval inside each week: split at the weeks' edges."""
        stop = self.end if end is None else min(end, self.end)
        first = max(start, self.start)
        if stop <= first:
            return []
        result = []
        i = self.week_of(first)
        assert i is not None
        while i < len(self.weeks) and self.weeks[i].start < stop:
            week = self.weeks[i]
            seconds = (min(stop, week.end) - max(first, week.start)).total_seconds()
            if seconds > 0:
                result.append((i, seconds / 3600))
            i += 1
        return result

    # --- midnights ----------------------------------------------------------------------

    def day_range(self, start: datetime, end: datetime | None) -> tuple[int, int] | None:
        """The indexes [lo, hi] of the span's midnights inside the interval, if any."""
        return self.date_range(local_date(start), None if end is None else local_date(end))

    def date_range(self, after: date, upto: date | None) -> tuple[int, int] | None:
        lo = max((after - self.first_day).days + 1, 0)
        hi = self.days - 1 if upto is None else min((upto - self.first_day).days, self.days - 1)
        return (lo, hi) if lo <= hi else None

    def counter(self) -> DayCounter:
        return DayCounter(self)

    def day(self, index: int) -> date:
        return self.first_day + timedelta(days=index)

    def week_days(self, week: int) -> range:
        return range(7 * week, 7 * week + 7)


class DayCounter:
    """How many intervals hold each midnight of the span (a difference array)."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self._diff = [0] * (span.days + 1)

    def add(self, days: tuple[int, int] | None, value: int = 1) -> None:
        if days is not None:
            self._diff[days[0]] += value
            self._diff[days[1] + 1] -= value

    def per_day(self) -> list[int]:
        result, running = [], 0
        for value in self._diff[:-1]:
            running += value
            result.append(running)
        return result

    def per_week(self) -> list[int]:
        days = self.per_day()
        return [sum(days[7 * i : 7 * i + 7]) for i in range(len(self.span.weeks))]


def intersect(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def count_in(days: tuple[int, int] | None, week: int) -> int:
    """How many of the interval's midnights fall in the given week of the span."""
    return 0 if days is None else max(0, min(days[1], 7 * week + 6) - max(days[0], 7 * week) + 1)


def median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
