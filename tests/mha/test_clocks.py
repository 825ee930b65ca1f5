"""The Mental Health Act's time arithmetic, row by row of MHA.md §1.

Each case is a date a Mental Health Act office would check by hand: the worked examples
of MHA.md, both clock changes, leap years and month ends, and the instants either side
of each boundary (a period that ends "at the end of day 28" is over at midnight, not a
microsecond before).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.mha.clocks import (
    ENGLAND,
    MonthEndRule,
    day_of,
    days_expiry,
    end_of_day,
    expiry_day,
    hours_expiry,
    last_of_days,
    last_of_months,
    months_before,
    months_expiry,
    renewal_window,
    start_of_day,
)

TICK = timedelta(microseconds=1)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in England, as the UTC instant it is."""
    return datetime(year, month, day, hour, minute, tzinfo=ENGLAND).astimezone(UTC)


# --- "N days beginning with the day on which ..." --------------------------------------


def test_section_2_admitted_late_evening_runs_to_the_end_of_day_28() -> None:
    # MHA.md's example: admitted 22:00 on 1 March; day 28 is 28 March; expires at 24:00.
    admitted = london(2026, 3, 1, 22)
    first_day = day_of(admitted)
    assert first_day == date(2026, 3, 1)
    assert last_of_days(first_day, 28) == date(2026, 3, 28)
    assert days_expiry(first_day, 28) == london(2026, 3, 29)
    # 28 March 2026 is a Saturday before the spring change: midnight is 00:00 UTC.
    assert days_expiry(first_day, 28) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)


def test_day_28_ending_on_the_spring_clock_change_night() -> None:
    # In 2027 the clocks go forward on Sunday 28 March: the end of 28 March is midnight
    # BST, which is 23:00 UTC, an hour before midnight UTC.
    expires = days_expiry(date(2027, 3, 1), 28)
    assert expires == datetime(2027, 3, 28, 23, 0, tzinfo=UTC)
    assert expires.astimezone(ENGLAND).time().hour == 0


def test_day_ending_on_the_autumn_clock_change_night() -> None:
    # Clocks go back on Sunday 25 October 2026: that day has 25 hours; it ends at
    # midnight GMT, 00:00 UTC on the 26th.
    assert end_of_day(date(2026, 10, 25)) == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)
    assert end_of_day(date(2026, 10, 25)) - start_of_day(date(2026, 10, 25)) == timedelta(hours=25)
    assert end_of_day(date(2026, 3, 29)) - start_of_day(date(2026, 3, 29)) == timedelta(hours=23)


def test_the_day_a_summer_night_admission_counts_from_is_the_english_day() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in England: day 1 is 2 July.
    admitted = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    assert day_of(admitted) == date(2026, 7, 2)
    assert days_expiry(day_of(admitted), 28) == datetime(2026, 7, 29, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first_day", "last_day"),
    [
        (date(2028, 2, 10), date(2028, 3, 8)),  # leap year: 29 February is a day
        (date(2027, 2, 10), date(2027, 3, 9)),
        (date(2026, 12, 20), date(2027, 1, 16)),  # across a year end
    ],
)
def test_day_28_across_february_and_year_ends(first_day: date, last_day: date) -> None:
    assert last_of_days(first_day, 28) == last_day


def test_one_week_beginning_with_the_day_of_return_is_seven_days() -> None:
    # s.21B: "within the period of one week beginning with the day on which he returned".
    assert last_of_days(date(2026, 5, 4), 7) == date(2026, 5, 10)


def test_the_period_is_running_until_midnight_and_over_at_it() -> None:
    expires = days_expiry(date(2026, 3, 1), 28)
    assert day_of(expires - TICK) == date(2026, 3, 28)
    assert day_of(expires) == date(2026, 3, 29)
    assert expiry_day(expires) == date(2026, 3, 28)


# --- "N months beginning with ..." -----------------------------------------------------


def test_six_months_from_15_march_ends_on_14_september() -> None:
    assert last_of_months(date(2026, 3, 15), 6) == date(2026, 9, 14)
    # 14 September is in summer time: its end is 23:00 UTC.
    assert months_expiry(date(2026, 3, 15), 6) == datetime(2026, 9, 14, 23, 0, tzinfo=UTC)


def test_a_period_from_the_first_of_a_month_ends_on_the_last_day_of_the_one_before() -> None:
    assert last_of_months(date(2026, 3, 1), 6) == date(2026, 8, 31)
    assert last_of_months(date(2026, 1, 1), 12) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("first_day", "rule", "last_day"),
    [
        # 31 August + 6 months: no 31 February. Earlier reading: the day before the
        # month's last day; later reading: the month's last day.
        (date(2026, 8, 31), MonthEndRule.EARLIER, date(2027, 2, 27)),
        (date(2026, 8, 31), MonthEndRule.LATER, date(2027, 2, 28)),
        # A leap year's February has a 29th.
        (date(2027, 8, 31), MonthEndRule.EARLIER, date(2028, 2, 28)),
        (date(2027, 8, 31), MonthEndRule.LATER, date(2028, 2, 29)),
        # 29 August into a leap February: the date exists, the rule does not matter.
        (date(2027, 8, 29), MonthEndRule.EARLIER, date(2028, 2, 28)),
        (date(2027, 8, 29), MonthEndRule.LATER, date(2028, 2, 28)),
        # 30 August into an ordinary February.
        (date(2026, 8, 30), MonthEndRule.EARLIER, date(2027, 2, 27)),
        # 31 October + 6 months: no 31 April.
        (date(2026, 10, 31), MonthEndRule.EARLIER, date(2027, 4, 29)),
        (date(2026, 10, 31), MonthEndRule.LATER, date(2027, 4, 30)),
    ],
)
def test_month_ends_with_no_matching_date(
    first_day: date, rule: MonthEndRule, last_day: date
) -> None:
    assert last_of_months(first_day, 6, rule) == last_day


def test_the_default_month_end_rule_is_the_earlier_reading() -> None:
    # Clinical safety: an early alert beats a late one.
    assert last_of_months(date(2026, 8, 31), 6) == date(2027, 2, 27)


def test_29_february_plus_a_year() -> None:
    assert last_of_months(date(2028, 2, 29), 12) == date(2029, 2, 27)
    assert last_of_months(date(2028, 2, 29), 12, MonthEndRule.LATER) == date(2029, 2, 28)


def test_months_before_falls_to_the_last_day_of_a_short_month() -> None:
    assert months_before(date(2026, 9, 14), 2) == date(2026, 7, 14)
    assert months_before(date(2027, 4, 30), 2) == date(2027, 2, 28)
    assert months_before(date(2028, 4, 30), 2) == date(2028, 2, 29)
    assert months_before(date(2027, 1, 31), 2) == date(2026, 11, 30)


# --- "N hours from the time when ..." --------------------------------------------------


def test_hours_are_elapsed_across_the_spring_change() -> None:
    # s.4 made at 01:30 on Saturday 28 March 2026; the clocks go forward that Sunday.
    start = london(2026, 3, 28, 1, 30)
    expires = hours_expiry(start, 72)
    assert expires - start == timedelta(hours=72)
    # 72 elapsed hours is 02:30 on the Tuesday by the wall clock, not 01:30.
    assert expires.astimezone(ENGLAND).replace(tzinfo=None) == datetime(2026, 3, 31, 2, 30)


def test_hours_are_elapsed_across_the_autumn_change() -> None:
    # s.5(4) (6 hours) at 22:00 on Saturday 24 October 2026; the clocks go back at 02:00.
    start = london(2026, 10, 24, 22)
    expires = hours_expiry(start, 6)
    assert expires - start == timedelta(hours=6)
    assert expires.astimezone(ENGLAND).replace(tzinfo=None) == datetime(2026, 10, 25, 3, 0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        hours_expiry(datetime(2026, 3, 1, 12), 72)
    with pytest.raises(ValueError, match="naive"):
        day_of(datetime(2026, 3, 1, 12))


@pytest.mark.parametrize("bad", [0, -1])
def test_empty_periods_are_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        last_of_days(date(2026, 1, 1), bad)
    with pytest.raises(ValueError):
        last_of_months(date(2026, 1, 1), bad)
    with pytest.raises(ValueError):
        hours_expiry(datetime(2026, 1, 1, tzinfo=UTC), bad)


# --- the two-month renewal window ------------------------------------------------------


def test_renewal_window_for_an_expiry_on_14_september() -> None:
    window = renewal_window(date(2026, 9, 14))
    assert window.opens_at == london(2026, 7, 15)
    assert window.closes_at == london(2026, 9, 15)


def test_renewal_window_boundaries() -> None:
    window = renewal_window(date(2026, 9, 14))
    assert not window.holds(window.opens_at - TICK)
    assert window.holds(window.opens_at)
    assert window.holds(window.closes_at - TICK)
    assert not window.holds(window.closes_at)


@pytest.mark.parametrize(
    ("expiry", "opens_on"),
    [
        # No 30 February: the earlier month's last day, so the window opens 1 March.
        (date(2027, 4, 30), date(2027, 3, 1)),
        (date(2028, 4, 30), date(2028, 3, 1)),
        (date(2027, 4, 29), date(2027, 3, 1)),
        (date(2028, 4, 29), date(2028, 3, 1)),
        (date(2026, 8, 31), date(2026, 7, 1)),
        (date(2027, 1, 31), date(2026, 12, 1)),
        (date(2027, 2, 27), date(2026, 12, 28)),
    ],
)
def test_renewal_window_when_two_months_earlier_has_no_such_date(
    expiry: date, opens_on: date
) -> None:
    assert renewal_window(expiry).opens_at == start_of_day(opens_on)


def test_deadlines_are_spoken_as_the_act_counts_them() -> None:
    from app.mha.clocks import spoken_deadline

    # The end of a day in summer time is 23:00 UTC: "end of" that day, not the next midnight.
    assert spoken_deadline(months_expiry(date(2026, 3, 15), 6)) == "end of 14 Sep 2026"
    assert spoken_deadline(london(2026, 3, 28, 12, 5)) == "28 Mar 2026, 12:05"
