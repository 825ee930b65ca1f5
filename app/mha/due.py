"""When each Mental Health Act right falls due (MHA.md §3), as pure functions.

One function per clock in the rules table, each taking the facts the law counts from
and the parameter values in force, and returning the instant after which, with nothing
recorded, the right has been missed. The rules, the legal panel and the diary all ask
here, so "due" on the screen is exactly what raises an alert.

Where the law leaves a reading open, the earlier instant is taken (an early alert beats a
late one), and the function says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import holidays

from app.mha.clocks import (
    MonthEndRule,
    day_of,
    days_expiry,
    end_of_day,
    hours_expiry,
    last_of_months,
    months_expiry,
)


@dataclass(frozen=True, slots=True)
class Provision:
    """One detaining provision as the tribunal-referral clock sees it."""

    legal_status: str
    clock_start: date


def referral_applicable_day(history: Iterable[Provision]) -> date | None:
    """The "applicable day" of s.68(5) for the current s.2/s.3 liability, or None.

    The day the person was admitted under s.2 or s.3; for a s.3 that followed a s.2,
    the day of the original s.2 admission (s.68(5)(b)(ii)). `history` is the
    continuous run of provisions of one period of liability, oldest first. A s.37 has
    no six-month referral (Sch. 1 Pt I para 10).
    """
    applicable: date | None = None
    for provision in history:
        if provision.legal_status in {"s2", "s3"}:
            applicable = applicable or provision.clock_start
        elif provision.legal_status in {"s37", "s37_41"}:
            applicable = None
    return applicable


def tribunal_referral_due(applicable_day: date, months: int = 6) -> datetime:
    """s.68(2): "on expiry of the period of six months beginning with the applicable day"."""
    return months_expiry(applicable_day, months)


def periodic_referral_due(
    last_considered_on: date, *, under_18: bool, years: int = 3, years_under_18: int = 1
) -> datetime:
    """s.68(6): a case not considered by a tribunal in the last 3 years (1 if under 18)."""
    return months_expiry(last_considered_on, 12 * (years_under_18 if under_18 else years))


def consent_three_month_point(
    first_medicine_at: datetime, months: int = 3, rule: MonthEndRule = MonthEndRule.EARLIER
) -> datetime:
    """s.58(1)(b): from when medicine needs a T2 or T3 certificate.

    "Three months or more have elapsed since the first occasion in that period when
    medicine was administered". Taken as the start of the day three calendar months on
    (the day after the last day of "three months beginning with" the first day), not the
    hour of the first dose: a certificate is then needed from the first moment of that
    day, the earlier of the readings.
    """
    first_day = day_of(first_medicine_at)
    return end_of_day(last_of_months(first_day, months, rule))


def consent_warning_at(three_month_point: datetime, days: int = 14) -> datetime:
    """When the diary and the board start warning of the three-month point."""
    return three_month_point - timedelta(days=days)


def holding_expiry(
    legal_status: str,
    started_at: datetime,
    *,
    nurse_holding_started_at: datetime | None = None,
    s4_hours: int = 72,
    s5_2_hours: int = 72,
    s5_4_hours: int = 6,
) -> datetime:
    """s.4, s.5(2), s.5(4): elapsed hours from the instant they began.

    A s.5(2) report made while the person was held under a nurse's s.5(4) runs its
    72 hours from when the s.5(4) began (s.5(5)), not from the report.
    """
    if legal_status == "s4":
        return hours_expiry(started_at, s4_hours)
    if legal_status == "s5_4":
        return hours_expiry(started_at, s5_4_hours)
    if legal_status == "s5_2":
        start = started_at
        if nurse_holding_started_at is not None and nurse_holding_started_at < started_at:
            start = nurse_holding_started_at
        return hours_expiry(start, s5_2_hours)
    raise ValueError(f"{legal_status!r} is not a holding power")


def place_of_safety_limit(
    arrived_at: datetime,
    *,
    extension_authorised_at: datetime | None = None,
    extension_hours: float | None = None,
    hours: int = 24,
    max_extension_hours: int = 12,
) -> datetime:
    """s.135(3ZA), s.136(2A), s.136B: 24 hours from arrival, plus a valid extension.

    An extension counts only if authorised before the 24 hours ran out and for at most
    12 hours; otherwise the limit stays at 24 hours (and the record is refused at entry).
    """
    limit = hours_expiry(arrived_at, hours)
    if extension_authorised_at is None or extension_hours is None:
        return limit
    if extension_authorised_at >= limit or not 0 < extension_hours <= max_extension_hours:
        return limit
    return limit + timedelta(hours=extension_hours)


def extension_problem(
    arrived_at: datetime,
    authorised_at: datetime,
    extension_hours: float,
    *,
    hours: int = 24,
    max_extension_hours: int = 12,
) -> str | None:
    """Why an extension cannot be recorded, in words for the form, or None."""
    limit = hours_expiry(arrived_at, hours)
    if authorised_at >= limit:
        return f"The {hours} hours had already run out when the extension was authorised"
    if authorised_at < arrived_at:
        return "The extension cannot be authorised before the person arrived"
    if not 0 < extension_hours <= max_extension_hours:
        return f"An extension is for at most {max_extension_hours} hours"
    return None


def awol_report_due(left_at: datetime, back_at: datetime, days: int = 7) -> datetime | None:
    """s.21B: back after more than 28 days absent without leave, a report (H6) is due
    within one week beginning with the day of return; None for a shorter absence.

    "More than 28 days" is read as elapsed time, so an absence of 28 days and an hour
    counts: the reading that raises the alert.
    """
    if back_at - left_at <= timedelta(days=28):
        return None
    return days_expiry(day_of(back_at), days)


def rights_due(provision_started_at: datetime, hours: float = 24) -> datetime:
    """s.132: rights given orally and in writing after a new provision or a new hospital
    ("as soon as practicable": a local default, 24 hours)."""
    return hours_expiry(provision_started_at, hours)


def under_18_adult_ward_notice_due(arrived_at: datetime, hours: float = 48) -> datetime:
    """CQC09 reg 18(2)(h): a child on an adult ward for more than 48 continuous hours."""
    return hours_expiry(arrived_at, hours)


@cache
def _english_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a bank holiday in England."""
    return day.weekday() < 5 and day not in _english_holidays(day.year)


def working_days_after(day: date, count: int) -> date:
    """The `count`-th working day after `day` (the day itself not counted)."""
    if count < 1:
        raise ValueError("count working days from one")
    current = day
    while count:
        current += timedelta(days=1)
        if is_working_day(current):
            count -= 1
    return current


def post_admission_ctr_due(
    admitted_at: datetime,
    *,
    under_18: bool,
    adult_days: int = 28,
    child_working_days: int = 10,
) -> datetime:
    """NHS England C(E)TR policy: a review after admission for a person with a learning
    disability or autism and no community C(E)TR before it.

    Adults: within 28 days beginning with the day of admission. Under 18: within 10
    working days of admission, the admission day not counted, bank holidays in England
    skipped. Each ends at the end of its last day.
    """
    admitted_on = day_of(admitted_at)
    if under_18:
        return end_of_day(working_days_after(admitted_on, child_working_days))
    return days_expiry(admitted_on, adult_days)


def repeat_ctr_due(last_held_on: date, months: int) -> datetime:
    """A repeat inpatient C(E)TR: 3 months (under 18), 6 (adults), 12 (secure wards)."""
    return months_expiry(last_held_on, months)
