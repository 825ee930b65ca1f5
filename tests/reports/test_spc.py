"""The XmR chart against worked examples, each number worked out by hand (Making Data
Count's rules: limits at the mean +/- 2.66 x the mean moving range; special causes)."""

from __future__ import annotations

import pytest

from app.reports import spc
from app.reports.trends import MEASURES, reading
from tests.reports.blank import blank_report


def test_limits_and_a_point_outside_them() -> None:
    chart = spc.xmr([5, 7, 6, 8, 7, 6, 20])
    # mean = (5 + 7 + 6 + 8 + 7 + 6 + 20) / 7 = 59 / 7 = 8.428571
    assert chart.mean == pytest.approx(59 / 7)
    # moving ranges 2, 1, 2, 1, 1, 14: mean 21 / 6 = 3.5
    assert chart.mr_mean == pytest.approx(3.5)
    # limits 8.428571 +/- 2.66 x 3.5 = 8.428571 +/- 9.31
    assert chart.upper == pytest.approx(17.738571, abs=1e-6)
    assert chart.lower == pytest.approx(-0.881429, abs=1e-6)
    # 20 is above the upper limit; nothing else is special (6 below the mean is no shift).
    assert chart.signals == [[], [], [], [], [], [], ["outside"]]
    assert chart.special(6) == "high"
    assert chart.provisional  # 7 points: fewer than 15


def test_a_shift_of_seven_above_the_mean() -> None:
    chart = spc.xmr([10, 12, 10, 12, 10, 12, 10, 13, 13, 13, 13, 13, 13, 13])
    # mean 167 / 14 = 11.928571; moving ranges six 2s, a 3, six 0s: 15 / 13 = 1.153846;
    # upper limit 11.928571 + 2.66 x 1.153846 = 14.997802: every 13 is inside it, and
    # inside two sigma (11.928571 + 2.046154 = 13.974725), but the last 7 are all above
    # the mean: a shift.
    assert chart.mean == pytest.approx(167 / 14)
    assert chart.mr_mean == pytest.approx(15 / 13)
    assert chart.upper == pytest.approx(14.997802, abs=1e-6)
    assert chart.signals == [[]] * 7 + [["shift"]] * 7
    six = spc.xmr([10, 12, 10, 12, 10, 12, 10, 10, 13, 13, 13, 13, 13, 13])
    assert all("shift" not in s for s in six.signals)  # 6 above is not yet a shift


def test_a_trend_of_six_rising() -> None:
    chart = spc.xmr([10, 12, 10, 12, 10, 12, 10, 11, 12, 13, 14, 15])
    # 10, 11, 12, 13, 14, 15: six points each above the one before. The upper limit,
    # 141 / 12 + 2.66 x 17 / 11 = 11.75 + 4.110909 = 15.860909, holds them all.
    assert chart.upper == pytest.approx(15.860909, abs=1e-6)
    assert chart.signals == [[]] * 6 + [["trend"]] * 6
    assert chart.special(11) == "high"
    flat = spc.xmr([10, 12, 10, 12, 10, 12, 10, 11, 12, 12, 14, 15])
    assert all("trend" not in s for s in flat.signals)  # an equal neighbour breaks it


def test_two_of_three_beyond_two_sigma() -> None:
    chart = spc.xmr([10, 12, 10, 12, 10, 12, 10, 12, 10, 12, 15.5, 15.5])
    # mean 141 / 12 = 11.75; moving ranges nine 2s, 3.5, 0: 21.5 / 11 = 1.954545;
    # upper limit 11.75 + 5.199091 = 16.949091 (15.5 inside); two sigma is two thirds of
    # the way: 11.75 + 3.466061 = 15.216061, and both 15.5s are beyond it.
    assert chart.upper == pytest.approx(16.949091, abs=1e-6)
    assert chart.signals == [[]] * 10 + [["two_of_three"]] * 2


def test_a_week_with_no_figure_is_left_out() -> None:
    chart = spc.xmr([5, None, 7, 6, 8, 7, 6, 20])
    assert chart.mean == pytest.approx(59 / 7)  # as the first example, without the gap
    assert chart.mr_mean == pytest.approx(3.5)
    assert chart.signals[1] == []
    assert spc.xmr([3.0]).mean is None  # one point: no limits


def test_the_one_line_reading() -> None:
    occupancy = next(m for m in MEASURES if m.key == "occupancy")
    values: list[float | None] = [80.0, 82.0] * 9 + [93.0]
    nights = [{"midnight": "2026-03-24", "occupied": 0, "open": 0, "rate": None}] * 7
    week = blank_report(occupancy_rate=0.93, occupancy_nights=nights, nights_over_85=6)
    text = reading(occupancy, week, spc.xmr(values))
    assert text == (
        "Occupancy 93.0 %: above the 85 % limit on 6 of 7 nights; "
        "special cause of concern: above the upper limit"
    )
    steady = [80.0, 82.0] * 10
    week = blank_report(occupancy_rate=0.82, occupancy_nights=nights, nights_over_85=0)
    assert reading(occupancy, week, spc.xmr(steady)) == (
        "Occupancy 82.0 %: above the 85 % limit on 0 of 7 nights; no special cause"
    )
    prone = next(m for m in MEASURES if m.key == "prone")
    falling = [9.0, 8.0, 7.0, 6.0, 5.0, 4.0]
    force = {"count": 4, "people": 2, "per_1000_obd": None, "prone": 4}
    text = reading(prone, blank_report(restrictive_interventions=force), spc.xmr(falling))
    assert text.startswith(
        "Prone restraint 4: special cause of improvement: 6 or more weeks falling"
    )
