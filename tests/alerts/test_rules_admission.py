"""Admission, stay and ward rules (RULES.md section 2, "Admission, stay and discharge") as
stored alerts: ADM_WAIT (the admission part), ADM_PURPOSE_REVIEW, ADM_UNDER_18_ADULT_WARD,
ADM_MIXED_SEX, LOS_LONG and WARD_OCCUPANCY. Bed requests, ready-for-discharge periods and
out-of-area placements are not built yet, so their rules are not here."""

from __future__ import annotations

import pytest

from tests.alerts.scenario import MIN, SEC, D, H, Scenario, local, utc

A = utc(2026, 2, 2, 10)  # admitted (GMT)


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    return Scenario(session, client, world, clock)


# --- ADM_WAIT ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited", "raised"), [(12 * H, False), (12 * H + SEC, True)], ids=["12 h", "12 h 1 s"]
)
async def test_admission_after_a_wait_longer_than_12_hours(sc: Scenario, waited, raised) -> None:
    decided = A - waited
    admission = await sc.admit(A, decision_to_admit_at=decided)
    result = await sc.run(A + D)
    # raised already cleared: the person had been admitted by the time of the run
    expected = [(decided + 12 * H, "cleared", A)] if raised else []
    assert await sc.states("ADM_WAIT", admission) == expected
    assert [a.rule for a in result.raised].count("ADM_WAIT") == len(expected)


async def test_a_run_while_the_person_was_still_waiting_finds_it_open(sc: Scenario) -> None:
    decided = A - 20 * H
    admission = await sc.admit(A, decision_to_admit_at=decided)
    await sc.run(decided + 12 * H)
    assert await sc.states("ADM_WAIT", admission) == []
    await sc.run(decided + 12 * H + SEC)
    assert await sc.states("ADM_WAIT", admission) == [(decided + 12 * H, "open", None)]
    await sc.run(A)
    assert await sc.states("ADM_WAIT", admission) == [(decided + 12 * H, "cleared", A)]


async def test_wait_threshold_change(sc: Scenario) -> None:
    admission = await sc.admit(A, decision_to_admit_at=A - 6 * H)
    await sc.run(A + D)
    assert await sc.dues("ADM_WAIT", admission) == []
    await sc.change_rule("ADM_WAIT", {"threshold": "PT4H"})
    await sc.run(A + D + H)
    [alert] = await sc.alerts("ADM_WAIT", admission)
    assert (alert.due_at, alert.parameters) == (A - 2 * H, {"threshold": "PT4H"})


# --- ADM_PURPOSE_REVIEW ------------------------------------------------------------------


async def test_purpose_review_first_within_72_hours(sc: Scenario) -> None:
    admission = await sc.admit(A)
    await sc.run(A + 72 * H)
    assert await sc.dues("ADM_PURPOSE_REVIEW", admission) == []
    await sc.run(A + 72 * H + SEC)
    [alert] = await sc.alerts("ADM_PURPOSE_REVIEW", admission)
    assert (alert.due_at, alert.status, alert.severity) == (A + 72 * H, "open", "medium")
    assert alert.ward_id == sc.world.wards["ASH"].id


async def test_purpose_review_then_every_7_days(sc: Scenario) -> None:
    admission = await sc.admit(A)
    await sc.purpose_review(admission, A + 70 * H)  # on time: next due 7 days later
    await sc.purpose_review(admission, A + 70 * H + 8 * D)  # a day late
    await sc.run(A + 70 * H + 22 * D)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [
        (A + 70 * H + 7 * D, "cleared", A + 70 * H + 8 * D),
        (A + 70 * H + 15 * D, "open", None),  # r + 7 d
    ]


async def test_purpose_review_missed_intervals_each_one_alert(sc: Scenario) -> None:
    admission = await sc.admit(A)
    await sc.run(A + 72 * H + 14 * D + SEC)
    assert await sc.dues("ADM_PURPOSE_REVIEW", admission) == [
        A + 72 * H,
        A + 72 * H + 7 * D,
        A + 72 * H + 14 * D,
    ]


async def test_purpose_review_after_as_of_does_not_count(sc: Scenario) -> None:
    admission = await sc.admit(A)
    await sc.purpose_review(admission, A + 80 * H)
    await sc.run(A + 75 * H)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [(A + 72 * H, "open", None)]
    await sc.run(A + 80 * H)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [(A + 72 * H, "cleared", A + 80 * H)]


@pytest.mark.parametrize(
    ("discharged", "dues"),
    [(A + 72 * H, []), (A + 72 * H + MIN, [A + 72 * H])],
    ids=["at the deadline", "after it"],
)
async def test_purpose_reviews_stop_at_discharge(sc: Scenario, discharged, dues) -> None:
    admission = await sc.admit(A)
    await sc.discharge(admission, discharged)
    await sc.run(A + 30 * D)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [
        (due, "cleared", discharged) for due in dues
    ]


async def test_purpose_review_alert_withdrawn_by_a_discharge_recorded_late(sc: Scenario) -> None:
    admission = await sc.admit(A)
    await sc.run(A + 72 * H + MIN)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [(A + 72 * H, "open", None)]
    # discharged at A + 71 h, recorded after the run: nothing was owed at A + 72 h, so the
    # alert is withdrawn (RULES.md 1.1), not cleared (which would say a right was missed)
    await sc.discharge(admission, A + 71 * H)
    await sc.run(A + 73 * H)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [(A + 72 * H, "withdrawn", None)]


# --- ADM_UNDER_18_ADULT_WARD -------------------------------------------------------------

# 18 on 5 March 2026: local midnight (GMT) starts the birthday.
BIRTHDAY = utc(2026, 3, 5)
DOB = "2008-03-05"


async def test_under_18_admitted_to_an_adult_ward(sc: Scenario) -> None:
    admitted = utc(2026, 3, 1, 15)
    admission = await sc.admit(admitted, date_of_birth=DOB)
    await sc.run(admitted)
    assert await sc.dues("ADM_UNDER_18_ADULT_WARD", admission) == []
    await sc.run(admitted + SEC)
    [alert] = await sc.alerts("ADM_UNDER_18_ADULT_WARD", admission)
    assert (alert.due_at, alert.status, alert.severity) == (admitted, "open", "high")
    assert alert.ward_id == sc.world.wards["ASH"].id
    # cleared when they turn 18 (the first run at or after the birthday)
    await sc.run(BIRTHDAY - SEC)
    assert (await sc.alerts("ADM_UNDER_18_ADULT_WARD", admission))[0].status == "open"
    await sc.run(BIRTHDAY)
    assert await sc.states("ADM_UNDER_18_ADULT_WARD", admission) == [
        (admitted, "cleared", BIRTHDAY)
    ]


@pytest.mark.parametrize(
    ("admitted", "raised"),
    [
        (local(2026, 3, 4, 23, 59), True),
        (local(2026, 3, 5, 0, 0), False),  # their 18th birthday
    ],
)
async def test_under_18_is_judged_by_the_local_calendar(sc: Scenario, admitted, raised) -> None:
    admission = await sc.admit(admitted, date_of_birth=DOB)
    await sc.run(admitted + H)
    assert await sc.dues("ADM_UNDER_18_ADULT_WARD", admission) == ([admitted] if raised else [])


async def test_under_18_transferred_onto_an_adult_ward(sc: Scenario) -> None:
    await sc.ward("ELM", "camhs", "mixed", 12, 2)
    admitted, moved = utc(2026, 2, 10, 10), utc(2026, 2, 20, 16)
    admission = await sc.admit(admitted, ward="ELM", bed="E1", date_of_birth=DOB)
    await sc.transfer(admission, moved, "ASH", "A1")
    await sc.run(moved - SEC)
    assert await sc.dues("ADM_UNDER_18_ADULT_WARD", admission) == []
    await sc.run(moved + SEC)
    [alert] = await sc.alerts("ADM_UNDER_18_ADULT_WARD", admission)
    assert (alert.due_at, alert.ward_id) == (moved, sc.world.wards["ASH"].id)
    # transferred back to the young people's ward: cleared at that moment
    await sc.transfer(admission, moved + 5 * H, "ELM", "E2")
    await sc.run(moved + 6 * H)
    assert await sc.states("ADM_UNDER_18_ADULT_WARD", admission) == [
        (moved, "cleared", moved + 5 * H)
    ]


# --- ADM_MIXED_SEX -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "ward", "raised"),
    [
        ("male", "ASH", True),
        ("female", "BIRCH", True),
        ("female", "ASH", False),
        ("male", "CEDAR", False),  # a mixed ward
        # not recorded as the ward's sex: a person checks, rather than the service assume
        ("not_known", "ASH", True),
    ],
)
async def test_mixed_sex_accommodation(sc: Scenario, sex, ward, raised) -> None:
    admission = await sc.admit(A, ward=ward, sex=sex)
    await sc.run(A)
    assert await sc.dues("ADM_MIXED_SEX", admission) == []
    await sc.run(A + SEC)
    assert await sc.dues("ADM_MIXED_SEX", admission) == ([A] if raised else [])


async def test_mixed_sex_on_transfer_and_cleared_by_the_move_out(sc: Scenario) -> None:
    admission = await sc.admit(A, ward="CEDAR", sex="female")
    await sc.transfer(admission, A + D, "BIRCH", "B1")
    await sc.transfer(admission, A + D + 3 * H, "CEDAR", "C2")
    await sc.run(A + D + 2 * H)
    assert await sc.states("ADM_MIXED_SEX", admission) == [(A + D, "open", None)]
    assert (await sc.alerts("ADM_MIXED_SEX", admission))[0].ward_id == sc.world.wards["BIRCH"].id
    await sc.run(A + 2 * D)
    assert await sc.states("ADM_MIXED_SEX", admission) == [(A + D, "cleared", A + D + 3 * H)]


# --- LOS_LONG ---------------------------------------------------------------------------

L = utc(2026, 1, 2, 10)


async def test_long_stay_on_an_adult_acute_ward_at_60_days(sc: Scenario) -> None:
    admission = await sc.admit(L)
    await sc.run(L + 60 * D)
    assert await sc.dues("LOS_LONG", admission) == []
    await sc.run(L + 60 * D + SEC)
    [alert] = await sc.alerts("LOS_LONG", admission)
    assert (alert.due_at, alert.status, alert.severity) == (L + 60 * D, "open", "medium")
    await sc.discharge(admission, L + 61 * D)
    await sc.run(L + 62 * D)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "cleared", L + 61 * D)]


async def test_discharged_at_60_days_is_not_a_long_stay(sc: Scenario) -> None:
    admission = await sc.admit(L)
    await sc.discharge(admission, L + 60 * D)
    await sc.run(L + 61 * D)
    assert await sc.dues("LOS_LONG", admission) == []


async def test_long_stay_alert_withdrawn_by_a_discharge_recorded_late(sc: Scenario) -> None:
    """Discharged on day 59, typed in after the run: no long stay (RULES.md 1.1)."""
    admission = await sc.admit(L)
    await sc.run(L + 60 * D + MIN)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "open", None)]
    await sc.discharge(admission, L + 59 * D)  # typed in after the run
    await sc.run(L + 60 * D + 2 * MIN)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "withdrawn", None)]


async def test_long_stay_on_an_older_adult_ward_at_90_days(sc: Scenario) -> None:
    await sc.ward("OAK", "older_adult_acute", "mixed", 65, 2)
    start = utc(2025, 11, 20, 10)
    admission = await sc.admit(start, ward="OAK", date_of_birth="1950-01-01")
    await sc.run(start + 90 * D)
    assert await sc.dues("LOS_LONG", admission) == []
    await sc.run(start + 90 * D + SEC)
    assert await sc.dues("LOS_LONG", admission) == [start + 90 * D]


async def test_long_stay_raised_on_arrival_when_moved_past_the_threshold(sc: Scenario) -> None:
    await sc.ward("OAK", "older_adult_acute", "mixed", 65, 2)
    start, moved = utc(2025, 11, 20, 10), utc(2026, 2, 1, 10)  # day 73
    admission = await sc.admit(start, ward="OAK", date_of_birth="1950-01-01")
    await sc.transfer(admission, moved, "ASH", "A1")
    await sc.run(utc(2026, 3, 1))
    [alert] = await sc.alerts("LOS_LONG", admission)
    assert (alert.due_at, alert.ward_id) == (moved, sc.world.wards["ASH"].id)


async def test_long_stay_threshold_change(sc: Scenario) -> None:
    admission = await sc.admit(L)
    await sc.change_rule("LOS_LONG", {"adult_acute": "P30D"})
    await sc.run(L + 30 * D + SEC)
    [alert] = await sc.alerts("LOS_LONG", admission)
    assert alert.due_at == L + 30 * D
    assert alert.parameters["adult_acute"] == "P30D"
    assert alert.parameters["older_adult_acute"] == "P90D"


async def test_a_transfer_after_the_threshold_is_the_same_long_stay(sc: Scenario) -> None:
    """Moved between two adult acute wards on day 70: one long stay, one alert, not one
    more per ward."""
    sc.clock.now = L + 100 * D
    admission = await sc.admit(L)
    await sc.run(L + 61 * D)
    await sc.transfer(admission, L + 70 * D, "CEDAR", "C1")
    await sc.run(L + 70 * D)
    await sc.run(L + 70 * D + SEC)
    await sc.run(L + 75 * D)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "open", None)]
    await sc.discharge(admission, L + 80 * D)
    await sc.run(L + 81 * D)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "cleared", L + 80 * D)]


async def test_a_long_stay_moved_by_a_transfer_recorded_late_clears_at_the_discharge(
    sc: Scenario,
) -> None:
    """Raised at day 60 on an adult acute ward; a transfer to an older adult ward on day 50
    is typed in afterwards, so the records now give day 90. The alert already raised is
    kept (the lead decides), and clears with the stay, not never."""
    sc.clock.now = L + 100 * D
    await sc.ward("OAK", "older_adult_acute", "mixed", 65, 2)
    admission = await sc.admit(L, ward="CEDAR", date_of_birth="1950-01-01")
    await sc.run(L + 60 * D + SEC)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "open", None)]
    await sc.transfer(admission, L + 50 * D, "OAK", "O1")
    await sc.run(L + 62 * D)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "open", None)]
    await sc.run(L + 90 * D + SEC)
    assert await sc.states("LOS_LONG", admission) == [
        (L + 60 * D, "open", None),
        (L + 90 * D, "open", None),
    ]
    await sc.discharge(admission, L + 95 * D)
    await sc.run(L + 95 * D)
    assert await sc.states("LOS_LONG", admission) == [
        (L + 60 * D, "cleared", L + 95 * D),
        (L + 90 * D, "cleared", L + 95 * D),
    ]


# --- WARD_OCCUPANCY ----------------------------------------------------------------------

DAY = utc(2026, 3, 9)  # local midnight (GMT)


async def fill(sc: Scenario, ward: str, beds: int, at=DAY - 10 * D) -> list[int]:
    sex = "male" if ward == "BIRCH" else "female"
    return [await sc.admit(at, ward=ward, bed=f"{ward[0]}{i}", sex=sex) for i in range(1, beds + 1)]


async def occupancy(sc: Scenario, ward: str = "ASH") -> list[tuple]:
    return await sc.states("WARD_OCCUPANCY", sc.world.wards[ward].id)


@pytest.mark.parametrize(
    ("ward", "occupied", "raised"),
    [
        ("ASH", 5, False),  # 83 % of 6
        ("ASH", 6, True),
        ("BIRCH", 3, False),  # 75 % of 4
        ("BIRCH", 4, True),
    ],
)
async def test_occupancy_above_85_per_cent(sc: Scenario, ward, occupied, raised) -> None:
    await fill(sc, ward, occupied)
    await sc.run(DAY + 9 * H)
    alerts = await sc.alerts("WARD_OCCUPANCY", sc.world.wards[ward].id)
    assert [(a.due_at, a.status, a.subject_type) for a in alerts] == (
        [(DAY, "open", "ward")] if raised else []
    )
    if raised:
        assert alerts[0].ward_id == sc.world.wards[ward].id


async def test_occupancy_counts_open_beds_only(sc: Scenario) -> None:
    await fill(sc, "ASH", 5)
    await sc.run(DAY + 9 * H)
    assert await occupancy(sc) == []
    await sc.close_bed("ASH", "A6")  # 5 of 5 open beds, from the clock's time on
    # A run into the past counts the beds open then: A6 closed after DAY + 10 h.
    assert sc.clock.now > DAY + 10 * H
    await sc.run(DAY + 10 * H)
    assert await occupancy(sc) == []
    await sc.run(sc.clock.now)
    assert await occupancy(sc) == [(DAY + D, "open", None)]


async def test_occupancy_counts_the_beds_open_at_as_of(sc: Scenario) -> None:
    """A bed closed after as_of was open then; one reopened after as_of was closed then."""
    await fill(sc, "ASH", 5)
    closed_at = sc.clock.now
    await sc.close_bed("ASH", "A6")
    sc.clock.now = closed_at + 2 * D
    await sc.call("PATCH", "/wards/ASH/beds/A6", {"status": "open"})
    await sc.run(closed_at - H)  # before the closure: 5 of 6
    assert await occupancy(sc) == []
    await sc.run(closed_at + D)  # inside it: 5 of 5
    assert [state for _due, *state in await occupancy(sc)] == [["open", None]]


async def test_occupancy_threshold_change(sc: Scenario) -> None:
    await fill(sc, "ASH", 5)
    await sc.change_rule("WARD_OCCUPANCY", {"threshold": 80})
    await sc.run(DAY + 9 * H)
    [alert] = await sc.alerts("WARD_OCCUPANCY", sc.world.wards["ASH"].id)
    assert alert.parameters == {"threshold": 80}


async def test_one_occupancy_alert_per_ward_per_local_day(sc: Scenario) -> None:
    await fill(sc, "ASH", 6)
    await sc.run(DAY + 9 * H)
    await sc.run(DAY + 18 * H)
    assert await occupancy(sc) == [(DAY, "open", None)]
    await sc.run(DAY + D + 9 * H)
    # the day before ended at midnight; today is a new alert
    assert await occupancy(sc) == [(DAY, "cleared", DAY + D), (DAY + D, "open", None)]


async def test_occupancy_cleared_when_back_under_the_threshold(sc: Scenario) -> None:
    [first, *_] = await fill(sc, "ASH", 6)
    await sc.run(DAY + 9 * H)
    await sc.discharge(first, DAY + 11 * H)
    await sc.run(DAY + 10 * H)  # before the discharge: still full
    assert await occupancy(sc) == [(DAY, "open", None)]
    await sc.run(DAY + 12 * H)
    [(due, status, cleared_at)] = await occupancy(sc)
    assert (due, status) == (DAY, "cleared")
    assert cleared_at is not None and DAY + 11 * H <= cleared_at <= DAY + 12 * H


async def test_occupancy_ignores_admissions_after_as_of(sc: Scenario) -> None:
    await fill(sc, "ASH", 5)
    await sc.admit(DAY + 14 * H, ward="ASH", bed="A6")
    await sc.run(DAY + 13 * H)
    assert await occupancy(sc) == []
    await sc.run(DAY + 14 * H + SEC)
    assert await occupancy(sc) == [(DAY, "open", None)]


@pytest.mark.parametrize(
    ("as_of", "due"),
    [
        # summer time: the local day starts at 23:00 UTC the evening before
        (local(2026, 4, 10, 12), utc(2026, 4, 9, 23)),
        (utc(2026, 4, 10, 23, 30), utc(2026, 4, 10, 23)),  # 00:30 on 11 April in London
        (utc(2026, 3, 10, 23, 30), utc(2026, 3, 10)),  # GMT: still 10 March
    ],
)
async def test_occupancy_day_is_the_london_calendar_day(sc: Scenario, as_of, due) -> None:
    await fill(sc, "CEDAR", 3)
    await sc.run(as_of)
    assert await sc.dues("WARD_OCCUPANCY", sc.world.wards["CEDAR"].id) == [due]
