"""Statistical process control: the XmR chart NHS boards read ("Making Data Count", NHS
England / NHS Improvement, 2019; its SPC tool's rules).

- Limits: mean of the points, moving ranges |x_i - x_(i-1)|, mean moving range (MR-bar);
  natural process limits = mean +/- 2.66 x MR-bar (2.66 = 3 / d2, d2 = 1.128 for n = 2).
- Special cause, each flagged on every point it covers:
  1. a point outside the limits (`outside`);
  2. a shift: 7 or more consecutive points all above or all below the mean (`shift`);
     a point exactly on the mean breaks the run;
  3. a trend: 6 or more consecutive points each higher, or each lower, than the one before
     (`trend`); an equal neighbour breaks it;
  4. two out of three consecutive points beyond two sigma on the same side (`two_of_three`):
     sigma = 2.66 x MR-bar / 3, so beyond two thirds of the way from the mean to a limit;
     flagged on the points beyond.
- Weeks with no value (a rate with no bed days) are left out of the chart, not made zero.
- With fewer than 2 points there are no limits; Making Data Count advises at least 15
  before taking limits seriously, so `provisional` says when there are fewer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

SHIFT = 7
TREND = 6
E2 = 2.66
MIN_POINTS = 15


@dataclass
class Chart:
    values: list[float | None]
    mean: float | None = None
    mr_mean: float | None = None
    upper: float | None = None
    lower: float | None = None
    # Per point (same indexes as values): the rules it breaks.
    signals: list[list[str]] = field(default_factory=list)
    provisional: bool = True

    @property
    def points(self) -> int:
        return sum(v is not None for v in self.values)

    def special(self, index: int) -> str | None:
        """'high' or 'low' when the point is a special cause, and on which side."""
        value = self.values[index]
        if not self.signals[index] or value is None or self.mean is None:
            return None
        if "trend" in self.signals[index] and len(self.signals[index]) == 1:
            return self._trend_side(index)
        return "high" if value > self.mean else "low"

    def _trend_side(self, index: int) -> str:
        known = [(i, v) for i, v in enumerate(self.values) if v is not None]
        position = next(p for p, (i, _v) in enumerate(known) if i == index)
        before = known[position - 1][1] if position > 0 else None
        after = known[position + 1][1] if position + 1 < len(known) else None
        value = self.values[index]
        assert value is not None
        rising = (before is not None and value > before) or (after is not None and after > value)
        return "high" if rising else "low"

    def as_dict(self) -> dict[str, object]:
        return {
            "mean": _round(self.mean),
            "mr_mean": _round(self.mr_mean),
            "upper": _round(self.upper),
            "lower": _round(self.lower),
            "signals": self.signals,
            "provisional": self.provisional,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def xmr(values: list[float | None]) -> Chart:
    chart = Chart(list(values), signals=[[] for _ in values])
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return chart
    xs = [v for _i, v in known]
    mean = sum(xs) / len(xs)
    ranges = [abs(b - a) for a, b in itertools.pairwise(xs)]
    mr_mean = sum(ranges) / len(ranges)
    chart.mean, chart.mr_mean = mean, mr_mean
    chart.upper, chart.lower = mean + E2 * mr_mean, mean - E2 * mr_mean
    chart.provisional = len(xs) < MIN_POINTS
    flags: list[set[str]] = [set() for _ in xs]

    for p, x in enumerate(xs):
        if x > chart.upper or x < chart.lower:
            flags[p].add("outside")

    side = [1 if x > mean else -1 if x < mean else 0 for x in xs]
    _runs(side, SHIFT, flags, "shift")

    steps = [0] + [1 if b > a else -1 if b < a else 0 for a, b in itertools.pairwise(xs)]
    # A trend of n points is n - 1 steps the same way; the first point starts it.
    start = 1
    while start < len(xs):
        if steps[start] == 0:
            start += 1
            continue
        end = start
        while end + 1 < len(xs) and steps[end + 1] == steps[start]:
            end += 1
        if end - start + 2 >= TREND:
            for p in range(start - 1, end + 1):
                flags[p].add("trend")
        start = end + 1

    two_sigma = 2 * E2 * mr_mean / 3
    beyond = [1 if x > mean + two_sigma else -1 if x < mean - two_sigma else 0 for x in xs]
    for p in range(len(xs) - 2):
        for direction in (1, -1):
            window = [q for q in range(p, p + 3) if beyond[q] == direction]
            if len(window) >= 2:
                for q in window:
                    flags[q].add("two_of_three")

    order = ("outside", "shift", "trend", "two_of_three")
    for (index, _v), found in zip(known, flags, strict=True):
        chart.signals[index] = [name for name in order if name in found]
    return chart


def _runs(side: list[int], length: int, flags: list[set[str]], name: str) -> None:
    start = 0
    while start < len(side):
        end = start
        while end + 1 < len(side) and side[end + 1] == side[start]:
            end += 1
        if side[start] != 0 and end - start + 1 >= length:
            for p in range(start, end + 1):
                flags[p].add(name)
        start = end + 1
