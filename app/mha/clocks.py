"""The Mental Health Act's time arithmetic (MHA.md §1), and nothing else.

Every legal clock of a detained person is one of four shapes, and each is computed here
exactly once so that the legal panel, the diary and the rules cannot disagree:

- "N days beginning with the day on which ..." (s.2(4), s.21B, s.66(2), s.68(2)): the
  start day is day 1; the period ends at the end of day N, midnight in England.
- "N months beginning with ..." (s.20, s.20A, s.68): calendar months; the last day is
  the day before the same date N months later; the period ends at the end of that day.
  When that date does not exist (31 August + 6 months) the law is ambiguous; the
  default takes the earlier reading, because an early alert beats a late one
  (`MonthEndRule`).
- "N hours from the time when ..." (s.4, s.5(2), s.5(4), s.135, s.136): elapsed time
  from the instant, in UTC, so a clock-change night counts 23 or 25 hours.
- "within the period of two months ending on the day on which [the authority] would
  cease" (s.20(3), s.20A(4)): the renewal window, from the start of (expiry day - 2
  calendar months + 1 day) to the end of the expiry day.

Days are days in England: the Act's days are legal days where the hospital is, whatever
zone a screen shows times in, so the zone is a parameter that defaults to
Europe/London rather than the display setting.

Pure functions of dates and instants: no database, no clock, no settings. Every instant
returned is UTC-aware; every instant taken must be aware (a naive time is refused,
as everywhere in Wardflow).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")


class MonthEndRule(StrEnum):
    """How "N months beginning with" the 29th-31st ends when the month has no such day.

    Admitted 31 August, 6 months: the same date 6 months later does not exist. One
    reading ends the period at the end of 27 February (the day before the last day of
    February), the other at the end of 28 February (29 in a leap year). The law does not
    settle it (MHA.md §1, mha-sources.md); alerts use the earlier.
    """

    EARLIER = "earlier"
    LATER = "later"


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no place on a legal clock; give a UTC-aware one")
    return moment.astimezone(UTC)


def day_of(moment: datetime, tz: ZoneInfo = ENGLAND) -> date:
    """The legal day an instant falls on (22:30 UTC on a summer evening is the next day)."""
    return _aware(moment).astimezone(tz).date()


def start_of_day(day: date, tz: ZoneInfo = ENGLAND) -> datetime:
    """The first instant of a legal day, in UTC (midnight in England)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def end_of_day(day: date, tz: ZoneInfo = ENGLAND) -> datetime:
    """The instant a legal day ends, in UTC: the next day's midnight in England.

    A period that "ends at the end of day N" is over at this instant: a person still
    held at it is held beyond the period.
    """
    return start_of_day(day + timedelta(days=1), tz)


def last_of_days(first_day: date, days: int) -> date:
    """The last day of "N days beginning with" `first_day` (the first day is day 1)."""
    if days < 1:
        raise ValueError("a period of days is at least one day long")
    return first_day + timedelta(days=days - 1)


def _month_shift(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + (day.month - 1) + months
    return index // 12, index % 12 + 1


def last_of_months(first_day: date, months: int, rule: MonthEndRule = MonthEndRule.EARLIER) -> date:
    """The last day of "N months beginning with" `first_day`.

    The day before the same date N months later: 15 March + 6 months ends on
    14 September. With no such date (31 August + 6 months), `rule` chooses between the
    day before the month's last day (EARLIER: 27 February, 28 in a leap year) and the
    month's last day (LATER: 28 February, 29 in a leap year).
    """
    if months < 1:
        raise ValueError("a period of months is at least one month long")
    year, month = _month_shift(first_day, months)
    month_length = calendar.monthrange(year, month)[1]
    if first_day.day <= month_length:
        return date(year, month, first_day.day) - timedelta(days=1)
    last = date(year, month, month_length)
    return last - timedelta(days=1) if rule is MonthEndRule.EARLIER else last


def months_before(day: date, months: int) -> date:
    """The same date `months` calendar months earlier; a missing date falls to the month's
    last day (30 April - 2 months is 28 February)."""
    year, month = _month_shift(day, -months)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def days_expiry(first_day: date, days: int, tz: ZoneInfo = ENGLAND) -> datetime:
    """When "N days beginning with" `first_day` runs out: the end of day N."""
    return end_of_day(last_of_days(first_day, days), tz)


def months_expiry(
    first_day: date,
    months: int,
    rule: MonthEndRule = MonthEndRule.EARLIER,
    tz: ZoneInfo = ENGLAND,
) -> datetime:
    """When "N months beginning with" `first_day` runs out: the end of its last day."""
    return end_of_day(last_of_months(first_day, months, rule), tz)


def hours_expiry(start: datetime, hours: float) -> datetime:
    """When "N hours from the time when ..." runs out: elapsed hours, counted in UTC."""
    if hours <= 0:
        raise ValueError("a period of hours is longer than nothing")
    return _aware(start) + timedelta(hours=hours)


@dataclass(frozen=True, slots=True)
class Window:
    """A span of time in which something must happen: [opens_at, closes_at)."""

    opens_at: datetime
    closes_at: datetime

    def holds(self, moment: datetime) -> bool:
        return self.opens_at <= _aware(moment) < self.closes_at


def renewal_window(expiry_day: date, months: int = 2, tz: ZoneInfo = ENGLAND) -> Window:
    """The window for a renewal examination (s.20(3), s.20A(4)).

    "Within the period of two months ending on the day on which [the authority] would
    cease": from the start of (expiry day - 2 calendar months + 1 day) to the end of the
    expiry day. Expiry 14 September: 15 July to 14 September. For an expiry whose date has
    no match two months earlier (30 April), the earlier month's last day is taken
    (28 February, so the window opens 1 March): the narrower window, so an examination
    that might be outside it is flagged rather than passed.
    """
    if months < 1:
        raise ValueError("a renewal window is at least one month long")
    opens_on = months_before(expiry_day, months) + timedelta(days=1)
    return Window(start_of_day(opens_on, tz), end_of_day(expiry_day, tz))


def expiry_day(expires_at: datetime, tz: ZoneInfo = ENGLAND) -> date:
    """The last legal day of a period that ends at `expires_at` (an end of day)."""
    return day_of(_aware(expires_at) - timedelta(microseconds=1), tz)


def spoken_day(day: date) -> str:
    """A legal day as people write it: '9 Sep 2026'."""
    return f"{day.day} {day:%b %Y}"


def spoken_deadline(moment: datetime, tz: ZoneInfo = ENGLAND) -> str:
    """A deadline as people say it: a period ending at midnight ends at "the end of" its
    last day ('end of 3 Jun 2027'), not at '4 Jun 2027, 00:00'; an hours clock at its
    minute ('5 Dec 2026, 12:22')."""
    local = _aware(moment).astimezone(tz)
    if local.time() == time(0):
        return f"end of {spoken_day(local.date() - timedelta(days=1))}"
    return f"{spoken_day(local.date())}, {local:%H:%M}"
