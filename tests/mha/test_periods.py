"""Detention periods: each provision's expiry and where its clock starts (MHA.md §1-§2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.mha.clocks import ENGLAND, MonthEndRule, start_of_day
from app.mha.periods import (
    PeriodLengths,
    Shape,
    clock_start_day,
    is_detaining,
    period_expiry,
    shape_of,
    window_for_renewal,
)
from app.wards.codes import LEGAL_STATUSES


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ENGLAND).astimezone(UTC)


def test_every_legal_status_has_a_clock_shape() -> None:
    # A status added to the code list without a clock would silently never expire.
    for code in LEGAL_STATUSES:
        assert isinstance(shape_of(code), Shape)
    with pytest.raises(ValueError, match="unknown legal status"):
        shape_of("s999")


def test_informal_and_other_do_not_detain() -> None:
    assert not is_detaining("informal")
    assert is_detaining("s2")
    assert is_detaining("s37_41")


def test_section_2_expires_at_the_end_of_day_28() -> None:
    admitted = london(2026, 3, 1, 22)
    start = clock_start_day("s2", admitted_at=admitted)
    assert period_expiry("s2", started_at=admitted, clock_start=start) == london(2026, 3, 29)


def test_section_2_is_not_renewed() -> None:
    admitted = london(2026, 3, 1, 22)
    once = period_expiry("s2", started_at=admitted, clock_start=date(2026, 3, 1), renewals=1)
    assert once == london(2026, 3, 29)


def test_section_3_six_months_then_six_then_twelve_each_from_the_last_expiry() -> None:
    admitted = london(2026, 3, 15, 16)
    start = clock_start_day("s3", admitted_at=admitted)
    expiries = [
        period_expiry("s3", started_at=admitted, clock_start=start, renewals=n) for n in range(4)
    ]
    assert expiries == [
        london(2026, 9, 15),  # end of 14 September 2026
        london(2027, 3, 15),  # end of 14 March 2027
        london(2028, 3, 15),  # then a year at a time
        london(2029, 3, 15),
    ]


def test_renewals_chain_from_each_expiry_so_a_month_end_only_brings_them_earlier() -> None:
    # From 31 August: the first period ends 27 February (the earlier reading); the
    # renewal runs from the expiration (s.20(2)), so it begins 28 February.
    start = date(2026, 8, 31)
    admitted = start_of_day(start)
    first = period_expiry("s3", started_at=admitted, clock_start=start)
    renewed = period_expiry("s3", started_at=admitted, clock_start=start, renewals=1)
    assert first == start_of_day(date(2027, 2, 28))
    assert renewed == start_of_day(date(2027, 8, 28))
    later = PeriodLengths(month_end_rule=MonthEndRule.LATER)
    assert period_expiry(
        "s3", started_at=admitted, clock_start=start, lengths=later
    ) == start_of_day(date(2027, 3, 1))


def test_a_section_3_for_someone_already_in_hospital_runs_from_the_application_received() -> None:
    # s.5(1): informal since January, the s.3 application received 10 March.
    start = clock_start_day(
        "s3",
        admitted_at=london(2026, 1, 4, 9),
        application_received_on=date(2026, 3, 10),
    )
    assert start == date(2026, 3, 10)
    assert period_expiry("s3", started_at=london(2026, 3, 10, 15), clock_start=start) == london(
        2026, 9, 10
    )


def test_a_hospital_order_runs_from_the_court_order_not_the_admission() -> None:
    # Sch. 1 Pt I para 6: ordered 2 June, admitted 20 June.
    start = clock_start_day("s37", admitted_at=london(2026, 6, 20, 11), order_on=date(2026, 6, 2))
    assert start == date(2026, 6, 2)
    assert period_expiry("s37", started_at=london(2026, 6, 20, 11), clock_start=start) == (
        london(2026, 12, 2)
    )


def test_an_order_date_does_not_move_a_civil_section() -> None:
    admitted = london(2026, 6, 20, 11)
    assert clock_start_day("s3", admitted_at=admitted, order_on=date(2026, 6, 2)) == date(
        2026, 6, 20
    )


def test_a_revoked_cto_starts_a_new_section_3_period_on_the_revocation_day() -> None:
    # s.17G(5): as if admitted on the day the order is revoked.
    revoked = london(2026, 11, 3, 14)
    assert period_expiry("s3", started_at=revoked, clock_start=date(2026, 11, 3)) == london(
        2027, 5, 3
    )


@pytest.mark.parametrize(
    ("provision", "hours"),
    [("s4", 72), ("s5_2", 72), ("s5_4", 6), ("s135", 24), ("s136", 24)],
)
def test_holding_powers_run_elapsed_hours(provision: str, hours: int) -> None:
    start = london(2026, 3, 28, 1, 30)  # the night before the clocks go forward
    expires = period_expiry(provision, started_at=start, clock_start=date(2026, 3, 28))
    assert expires == start + timedelta(hours=hours)


@pytest.mark.parametrize(
    "provision", ["informal", "other", "s37_41", "s47_49", "s48_49", "s35", "s36", "s38"]
)
def test_provisions_with_no_computed_expiry(provision: str) -> None:
    start = london(2026, 3, 1, 9)
    assert period_expiry(provision, started_at=start, clock_start=date(2026, 3, 1)) is None


def test_dated_lengths_change_the_arithmetic_not_the_code() -> None:
    # The Mental Health Act 2025, once commenced: s.3 for 3, 3, 6, then 12 months.
    act_2025 = PeriodLengths(renewable_months=(3, 3, 6, 12))
    start = date(2027, 1, 10)
    admitted = start_of_day(start)
    expiries = [
        period_expiry("s3", started_at=admitted, clock_start=start, renewals=n, lengths=act_2025)
        for n in range(5)
    ]
    assert [e.astimezone(ENGLAND).date() - timedelta(days=1) for e in expiries if e] == [
        date(2027, 4, 9),
        date(2027, 7, 9),
        date(2028, 1, 9),
        date(2029, 1, 9),
        date(2030, 1, 9),
    ]


def test_the_renewal_window_of_a_period_is_the_two_months_ending_on_its_last_day() -> None:
    expires = london(2026, 9, 15)  # end of 14 September
    window = window_for_renewal(expires)
    assert window.opens_at == london(2026, 7, 15)
    assert window.closes_at == expires


def test_renewals_are_counted_from_zero() -> None:
    with pytest.raises(ValueError):
        period_expiry(
            "s3", started_at=london(2026, 1, 1), clock_start=date(2026, 1, 1), renewals=-1
        )
