"""How long each detaining provision lasts, and where its clock starts (MHA.md §1-§2).

A detention period's expiry is computed, never typed: from the provision, the day (or
instant) its clock starts, how many times it has been renewed, and the period lengths in
force on the day it began (`PeriodLengths`, resolved from the dated rule parameters by
the caller, so a commencement order of the Mental Health Act 2025 changes values, not
code).

Clock-start facts (mha-sources.md): a s.3 made for a person already in hospital runs
from the day the application was received (s.5(1)); a transfer to another hospital
restarts nothing (s.19(2)); a s.37 hospital order, and a transfer direction that has the
same effect (s.47(3), s.48(3)), runs from the date of the order or direction (Sch. 1
Pt I para 6); a revoked CTO starts a new s.3-type period on the revocation day
(s.17G(5)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.mha.clocks import (
    ENGLAND,
    MonthEndRule,
    Window,
    day_of,
    days_expiry,
    end_of_day,
    expiry_day,
    hours_expiry,
    last_of_months,
    renewal_window,
)


class Shape(StrEnum):
    """Which kind of legal clock a provision runs on."""

    DAYS = "days"  # "28 days beginning with the day ..." (s.2)
    RENEWABLE = "renewable"  # months, renewed under s.20 / s.20A (s.3, s.37, CTO)
    HOURS = "hours"  # "72 hours from the time when ..." (s.4, s.5, s.135, s.136)
    NONE = "none"  # no expiry of its own: informal, restricted, set by a court


# The legal statuses of API.md (`POST /admissions`) and a CTO, by clock shape.
DAY_PROVISIONS = frozenset({"s2"})
RENEWABLE_PROVISIONS = frozenset({"s3", "s37", "s47", "s48", "cto"})
HOUR_PROVISIONS = frozenset({"s4", "s5_2", "s5_4", "s135", "s136"})
# Clocks that start on the date of a court order or a direction, not the admission.
ORDER_DAY_PROVISIONS = frozenset({"s37", "s47", "s48"})
# Restricted patients (s.41, s.49) have no expiry of their own; remands and interim
# orders (s.35, s.36, s.38) end when the court says, which is recorded, not computed.
NO_EXPIRY = frozenset({"informal", "s35", "s36", "s37_41", "s38", "s47_49", "s48_49", "other"})


def shape_of(provision: str) -> Shape:
    if provision in DAY_PROVISIONS:
        return Shape.DAYS
    if provision in RENEWABLE_PROVISIONS:
        return Shape.RENEWABLE
    if provision in HOUR_PROVISIONS:
        return Shape.HOURS
    if provision in NO_EXPIRY:
        return Shape.NONE
    raise ValueError(f"unknown legal status {provision!r}")


def is_detaining(provision: str) -> bool:
    """Whether the provision authorises holding the person (everything but informal)."""
    shape_of(provision)
    return provision not in {"informal", "other"}


@dataclass(frozen=True, slots=True)
class PeriodLengths:
    """The statutory numbers one detention period is computed with.

    Defaults are the Mental Health Act 1983 as in force in December 2026. The Mental
    Health Act 2025 will shorten several (s.3: 3, 3, 6, then 12 months) when commenced;
    a period keeps the values in force on the day it began.
    """

    s2_days: int = 28
    # s.3, an unrestricted s.37 and a CTO: the first period, the first renewal, then
    # every later renewal (the last value repeats).
    renewable_months: tuple[int, ...] = (6, 6, 12)
    s4_hours: int = 72
    s5_2_hours: int = 72
    s5_4_hours: int = 6
    place_of_safety_hours: int = 24
    month_end_rule: MonthEndRule = MonthEndRule.EARLIER

    def hours_for(self, provision: str) -> int:
        return {
            "s4": self.s4_hours,
            "s5_2": self.s5_2_hours,
            "s5_4": self.s5_4_hours,
            "s135": self.place_of_safety_hours,
            "s136": self.place_of_safety_hours,
        }[provision]

    def months_for(self, period_index: int) -> int:
        """Months of the n-th period (0: the first, 1: the first renewal, ...)."""
        lengths = self.renewable_months
        return lengths[min(period_index, len(lengths) - 1)]


def clock_start_day(
    provision: str,
    *,
    admitted_at: datetime,
    application_received_on: date | None = None,
    order_on: date | None = None,
    tz: ZoneInfo = ENGLAND,
) -> date:
    """The day the law counts a period from.

    - s.37, s.47, s.48 (and their restricted forms): the date of the order or direction
      when given; it is never after the admission (s.40(1): admitted within 28 days).
    - Someone already in hospital (informal, or on s.2 when a s.3 is made): the day the
      application was received by the managers (s.5(1)).
    - Otherwise the day of admission, in England.
    """
    admitted_on = day_of(admitted_at, tz)
    if order_on is not None and provision.split("_")[0] in ORDER_DAY_PROVISIONS:
        return order_on
    if application_received_on is not None:
        return application_received_on
    return admitted_on


def period_expiry(
    provision: str,
    *,
    started_at: datetime,
    clock_start: date,
    renewals: int = 0,
    lengths: PeriodLengths | None = None,
    tz: ZoneInfo = ENGLAND,
) -> datetime | None:
    """When the authority to hold the person ends, or None where it has no expiry.

    - s.2: the end of day 28 beginning with the clock-start day; never renewed.
    - s.3, s.37, s.47, s.48, CTO: the end of the last day of the first period, and each
      renewal runs "from the expiration" of the one before (s.20(2), s.20(8)), so the
      periods are chained day after day; with the month-end rule that can only bring an
      expiry earlier, never later.
    - s.4, s.5(2), s.5(4), s.135, s.136: elapsed hours from `started_at` (the arrival or
      the report), in UTC.
    """
    lengths = lengths or PeriodLengths()
    if renewals < 0:
        raise ValueError("renewals are counted from 0")
    shape = shape_of(provision)
    if shape is Shape.DAYS:
        return days_expiry(clock_start, lengths.s2_days, tz)
    if shape is Shape.HOURS:
        return hours_expiry(started_at, lengths.hours_for(provision))
    if shape is Shape.NONE:
        return None
    first_day = clock_start
    last_day = first_day
    for index in range(renewals + 1):
        last_day = last_of_months(first_day, lengths.months_for(index), lengths.month_end_rule)
        first_day = date.fromordinal(last_day.toordinal() + 1)
    return end_of_day(last_day, tz)


def window_for_renewal(expires_at: datetime, tz: ZoneInfo = ENGLAND) -> Window:
    """The two-month window a renewal examination must fall in (s.20(3), s.20A(4))."""
    return renewal_window(expiry_day(expires_at, tz), tz=tz)
