"""When each Mental Health Act right falls due (MHA.md §3), at and around each boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.mha.clocks import ENGLAND
from app.mha.due import (
    Provision,
    awol_report_due,
    consent_three_month_point,
    consent_warning_at,
    extension_problem,
    holding_expiry,
    is_working_day,
    periodic_referral_due,
    place_of_safety_limit,
    post_admission_ctr_due,
    referral_applicable_day,
    repeat_ctr_due,
    rights_due,
    tribunal_referral_due,
    under_18_adult_ward_notice_due,
    working_days_after,
)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ENGLAND).astimezone(UTC)


# --- tribunal referral (s.68) -----------------------------------------------------------


def test_a_section_3_after_a_section_2_counts_from_the_section_2_day() -> None:
    history = [Provision("s2", date(2026, 1, 10)), Provision("s3", date(2026, 2, 1))]
    assert referral_applicable_day(history) == date(2026, 1, 10)
    assert tribunal_referral_due(date(2026, 1, 10)) == london(2026, 7, 10)


def test_a_section_3_alone_counts_from_its_own_day() -> None:
    assert referral_applicable_day([Provision("s3", date(2026, 2, 1))]) == date(2026, 2, 1)


def test_no_six_month_referral_for_a_hospital_order() -> None:
    assert referral_applicable_day([Provision("s37", date(2026, 2, 1))]) is None
    assert (
        referral_applicable_day(
            [Provision("s2", date(2026, 1, 2)), Provision("s37", date(2026, 1, 20))]
        )
        is None
    )


def test_periodic_referral_three_years_or_one_under_18() -> None:
    assert periodic_referral_due(date(2026, 4, 1), under_18=False) == london(2029, 4, 1)
    assert periodic_referral_due(date(2026, 4, 1), under_18=True) == london(2027, 4, 1)


# --- consent to treatment (s.58) --------------------------------------------------------


def test_the_three_month_point_is_the_start_of_the_day_three_months_on() -> None:
    point = consent_three_month_point(london(2026, 3, 15, 10))
    assert point == london(2026, 6, 15)
    # A certificate is needed from midnight, hours before the hour of the first dose.
    assert point < london(2026, 6, 15, 10)
    assert consent_warning_at(point) == point - timedelta(days=14)


def test_the_three_month_point_from_a_month_end() -> None:
    # First dose 30 November: no 30 February, so the earlier reading: from 28 February.
    assert consent_three_month_point(london(2026, 11, 30, 9)) == london(2027, 2, 28)


def test_a_late_evening_dose_in_summer_counts_from_the_english_day() -> None:
    first = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in England
    assert consent_three_month_point(first) == london(2026, 10, 1)


# --- holding powers ---------------------------------------------------------------------


def test_holding_powers() -> None:
    start = london(2026, 10, 24, 22)  # the night the clocks go back
    assert holding_expiry("s4", start) - start == timedelta(hours=72)
    assert holding_expiry("s5_4", start) - start == timedelta(hours=6)
    assert holding_expiry("s5_2", start) - start == timedelta(hours=72)
    with pytest.raises(ValueError, match="not a holding power"):
        holding_expiry("s3", start)


def test_a_doctors_holding_power_after_a_nurses_runs_from_the_nurses() -> None:
    nurse = london(2026, 5, 1, 20)
    doctor = nurse + timedelta(hours=4)
    assert holding_expiry("s5_2", doctor, nurse_holding_started_at=nurse) == nurse + timedelta(
        hours=72
    )


# --- places of safety (s.135, s.136) ----------------------------------------------------


def test_place_of_safety_is_24_hours_from_arrival() -> None:
    arrived = london(2026, 3, 28, 12)
    assert place_of_safety_limit(arrived) == arrived + timedelta(hours=24)


def test_an_extension_authorised_in_time_adds_its_hours() -> None:
    arrived = london(2026, 3, 28, 12)
    last_moment = arrived + timedelta(hours=24) - timedelta(seconds=1)
    assert place_of_safety_limit(
        arrived, extension_authorised_at=last_moment, extension_hours=12
    ) == arrived + timedelta(hours=36)
    assert extension_problem(arrived, last_moment, 12) is None


def test_an_extension_too_late_or_too_long_does_not_count() -> None:
    arrived = london(2026, 3, 28, 12)
    at_limit = arrived + timedelta(hours=24)
    assert (
        place_of_safety_limit(arrived, extension_authorised_at=at_limit, extension_hours=6)
        == at_limit
    )
    assert "already run out" in (extension_problem(arrived, at_limit, 6) or "")
    early = arrived + timedelta(hours=20)
    assert (
        place_of_safety_limit(arrived, extension_authorised_at=early, extension_hours=12.5)
        == at_limit
    )
    assert "at most 12 hours" in (extension_problem(arrived, early, 12.5) or "")
    assert "before the person arrived" in (
        extension_problem(arrived, arrived - timedelta(minutes=1), 2) or ""
    )


# --- absence without leave (s.21B) ------------------------------------------------------


def test_return_after_more_than_28_days_needs_a_report_within_a_week() -> None:
    left = london(2026, 4, 1, 9)
    back = left + timedelta(days=28, hours=1)
    assert awol_report_due(left, back) == london(2026, 5, 6)  # back 29 April; 7 days ends 5 May


def test_return_within_28_days_needs_no_report() -> None:
    left = london(2026, 4, 1, 9)
    assert awol_report_due(left, left + timedelta(days=28)) is None


# --- rights, notices -------------------------------------------------------------------


def test_rights_and_the_cqc_notice() -> None:
    start = london(2026, 3, 28, 12)
    assert rights_due(start) == start + timedelta(hours=24)
    assert under_18_adult_ward_notice_due(start) == start + timedelta(hours=48)


# --- C(E)TRs --------------------------------------------------------------------------


def test_working_days_skip_weekends_and_english_bank_holidays() -> None:
    assert not is_working_day(date(2026, 12, 25))  # Christmas Day, a Friday
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day substitute, Monday
    assert not is_working_day(date(2026, 12, 26))  # Saturday
    assert is_working_day(date(2026, 12, 29))
    # Admitted Wednesday 23 December 2026: 24th, 29th, 30th, 31st, 4 Jan (1 Jan is a
    # bank holiday), 5, 6, 7, 8, 11 January.
    assert working_days_after(date(2026, 12, 23), 10) == date(2027, 1, 11)


def test_post_admission_ctr_for_adults_and_children() -> None:
    admitted = london(2026, 12, 23, 15)
    assert post_admission_ctr_due(admitted, under_18=False) == london(2027, 1, 20)
    assert post_admission_ctr_due(admitted, under_18=True) == london(2027, 1, 12)


def test_repeat_ctr() -> None:
    assert repeat_ctr_due(date(2026, 1, 5), 3) == london(2026, 4, 5)
    assert repeat_ctr_due(date(2026, 1, 5), 12) == london(2027, 1, 5)
