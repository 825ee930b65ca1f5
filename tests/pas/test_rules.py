"""The feed's rules as stored alerts (issue 21): ADM_PURPOSE_MISSING at and around its
24 hours, cleared by the ward recording the purpose or by a discharge; FEED_SILENT counting
silence only in the working day, cleared by the next message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.checks.pas import FEED_SUBJECT_ID, silent_until
from tests.alerts.scenario import MIN, SEC, D, H, Scenario, local
from tests.factories import next_nhs_number
from tests.pas.helpers import adt, send

pytestmark = pytest.mark.asyncio

A = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)  # admitted by the feed (PV1-44, GMT)
PURPOSE = {"reason": "Relapse of psychosis", "expected_benefit": "Restart treatment safely"}


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    return Scenario(session, client, world, clock)


async def feed_admission(sc: Scenario, bed: str = "A1") -> int:
    ack = await send(
        sc.client, sc.world, adt("A01", nhs=next_nhs_number(), bed=bed, pv1_44="202603100830")
    )
    assert ack["code"] == "AA", ack
    board = await sc.call("GET", "/wards/ASH/board")
    return int(next(b for b in board["beds"] if b["label"] == bed)["occupant"]["admission_id"])


# --- ADM_PURPOSE_MISSING -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "raised"), [(A + 24 * H, False), (A + 24 * H + SEC, True)], ids=["24 h", "24 h 1 s"]
)
async def test_purpose_still_missing_after_24_hours(sc: Scenario, as_of, raised) -> None:
    admission = await feed_admission(sc)
    await sc.run(as_of)
    expected = [(A + 24 * H, "open", None)] if raised else []
    assert await sc.states("ADM_PURPOSE_MISSING", admission) == expected
    if raised:
        [alert] = await sc.alerts("ADM_PURPOSE_MISSING", admission)
        assert (alert.subject_type, alert.severity, alert.admission_id) == (
            "admission",
            "high",
            admission,
        )
        assert alert.ward_id == sc.world.wards["ASH"].id


async def test_recording_the_purpose_clears_the_alert_at_that_moment(sc: Scenario) -> None:
    admission = await feed_admission(sc)
    await sc.run(A + 25 * H)
    sc.clock.now = A + 30 * H
    await sc.call("PATCH", f"/admissions/{admission}", PURPOSE, user="nurse")
    await sc.run(A + 30 * H + MIN)
    assert await sc.states("ADM_PURPOSE_MISSING", admission) == [
        (A + 24 * H, "cleared", A + 30 * H)
    ]
    # A later run, windowed, changes nothing and raises nothing again.
    await sc.run(A + 3 * D)
    assert len(await sc.alerts("ADM_PURPOSE_MISSING", admission)) == 1


@pytest.mark.parametrize(
    ("recorded", "raised"), [(24 * H, False), (24 * H + SEC, True)], ids=["at 24 h", "after"]
)
async def test_recorded_at_the_deadline_meets_it(sc: Scenario, recorded, raised) -> None:
    admission = await feed_admission(sc)
    sc.clock.now = A + recorded
    await sc.call("PATCH", f"/admissions/{admission}", PURPOSE, user="nurse")
    # A first run after the event (the scheduler was down): raised already cleared, or not.
    await sc.run(A + 2 * D)
    expected = [(A + 24 * H, "cleared", A + recorded)] if raised else []
    assert await sc.states("ADM_PURPOSE_MISSING", admission) == expected


async def test_the_reason_alone_is_not_enough(sc: Scenario) -> None:
    admission = await feed_admission(sc)
    sc.clock.now = A + 2 * H
    await sc.call("PATCH", f"/admissions/{admission}", {"reason": "Relapse"}, user="nurse")
    await sc.run(A + 2 * D)
    assert await sc.states("ADM_PURPOSE_MISSING", admission) == [(A + 24 * H, "open", None)]


@pytest.mark.parametrize(
    ("discharged", "expected"),
    [(23 * H, []), (26 * H, [(A + 24 * H, "cleared", A + 26 * H)])],
    ids=["before the deadline", "after it"],
)
async def test_a_discharge_ends_the_deadline(sc: Scenario, discharged, expected) -> None:
    admission = await feed_admission(sc)
    sc.clock.now = A + 2 * D
    await sc.discharge(admission, A + discharged)
    await sc.run(A + 3 * D)
    assert await sc.states("ADM_PURPOSE_MISSING", admission) == expected


async def test_an_admission_typed_with_its_purpose_is_never_raised(sc: Scenario) -> None:
    admission = await sc.admit(A)
    await sc.run(A + 5 * D)
    assert await sc.alerts("ADM_PURPOSE_MISSING", admission) == []


async def test_the_threshold_is_the_trusts_to_tighten(sc: Scenario) -> None:
    admission = await feed_admission(sc)
    await sc.change_rule("ADM_PURPOSE_MISSING", {"within": "PT12H"})
    await sc.run(A + 13 * H)
    assert await sc.dues("ADM_PURPOSE_MISSING", admission) == [A + 12 * H]


# --- FEED_SILENT: the working-day arithmetic ----------------------------------------------


@pytest.mark.parametrize(
    ("last", "due"),
    [
        (local(2026, 3, 10, 10, 0), local(2026, 3, 10, 10, 30)),  # in the day
        (local(2026, 3, 10, 19, 30), local(2026, 3, 10, 20, 0)),  # ends as the day does
        (local(2026, 3, 10, 19, 50), local(2026, 3, 11, 8, 20)),  # 10 min, the night, 20 min
        (local(2026, 3, 10, 23, 0), local(2026, 3, 11, 8, 30)),  # at night: from the morning
        (local(2026, 3, 11, 6, 0), local(2026, 3, 11, 8, 30)),  # early: from 08:00
        # The clocks go forward in the night (29 March 2026): 08:00 is still 08:00 local.
        (local(2026, 3, 28, 19, 45), local(2026, 3, 29, 8, 15)),
        # And back (25 October 2026).
        (local(2026, 10, 24, 21, 0), local(2026, 10, 25, 8, 30)),
    ],
)
async def test_silence_counts_only_the_working_day(last, due) -> None:
    assert silent_until(last, timedelta(minutes=30), 8, 20) == due


async def test_a_day_over_midnight_and_an_all_day_setting() -> None:
    # A trust that watches 20:00 to 08:00 only (starts after ends): 07:50 runs to 20:20.
    assert silent_until(local(2026, 3, 10, 7, 50), 30 * MIN, 20, 8) == local(2026, 3, 10, 20, 20)
    # Equal hours: silence counts all day.
    assert silent_until(local(2026, 3, 10, 23, 50), 30 * MIN, 0, 24) == local(2026, 3, 11, 0, 20)
    assert silent_until(local(2026, 3, 10, 23, 50), 30 * MIN, 8, 8) == local(2026, 3, 11, 0, 20)


# --- FEED_SILENT as alerts -----------------------------------------------------------------

T = local(2026, 3, 10, 10, 0)  # a message arrives (received_at is the clock)


async def message_at(sc: Scenario, at: datetime) -> None:
    sc.clock.now = at
    ack = await send(sc.client, sc.world, adt("A08", nhs=next_nhs_number()))
    assert ack["code"] in ("AA", "AE"), ack  # alive either way: it was heard


@pytest.mark.parametrize(
    ("as_of", "raised"), [(T + 30 * MIN, False), (T + 30 * MIN + SEC, True)], ids=["30", "30:01"]
)
async def test_a_feed_silent_for_30_minutes_of_the_day(sc: Scenario, as_of, raised) -> None:
    await message_at(sc, T)
    await sc.run(as_of)
    expected = [(T + 30 * MIN, "open", None)] if raised else []
    assert await sc.states("FEED_SILENT") == expected
    if raised:
        [alert] = await sc.alerts("FEED_SILENT")
        assert (alert.subject_type, alert.subject_id, alert.ward_id) == (
            "pas_feed",
            FEED_SUBJECT_ID,
            None,
        )


async def test_the_next_message_clears_it_and_a_second_silence_is_a_second_alert(
    sc: Scenario,
) -> None:
    await message_at(sc, T)
    await sc.run(T + 35 * MIN)
    await message_at(sc, T + 40 * MIN)
    await sc.run(T + 41 * MIN)
    assert await sc.states("FEED_SILENT") == [(T + 30 * MIN, "cleared", T + 40 * MIN)]
    # Heard again within 30 minutes: nothing more; then silent again.
    await message_at(sc, T + 60 * MIN)
    await sc.run(T + 85 * MIN)
    await sc.run(T + 95 * MIN)
    assert await sc.states("FEED_SILENT") == [
        (T + 30 * MIN, "cleared", T + 40 * MIN),
        (T + 90 * MIN, "open", None),
    ]


async def test_a_quiet_night_is_not_silence(sc: Scenario) -> None:
    evening = local(2026, 3, 10, 19, 50)
    await message_at(sc, evening)
    await sc.run(local(2026, 3, 11, 7, 59))
    await sc.run(local(2026, 3, 11, 8, 20))
    assert await sc.alerts("FEED_SILENT") == []
    await sc.run(local(2026, 3, 11, 8, 21))
    assert await sc.dues("FEED_SILENT") == [local(2026, 3, 11, 8, 20)]


async def test_no_feed_no_alert(sc: Scenario) -> None:
    result = await sc.run(T + D)
    assert result.run.errors == {}  # the check ran, and found nothing to fall silent
    assert await sc.alerts("FEED_SILENT") == []


async def test_catch_up_after_downtime_finds_each_silence_once(sc: Scenario) -> None:
    await message_at(sc, T)
    await message_at(sc, T + 2 * H)  # a silence from 10:30 to 12:00
    await message_at(sc, T + 2 * H + 10 * MIN)
    sc.clock.now = T + 5 * H
    await sc.run(T + 5 * H)  # the first run since: both silences, the first already cleared
    await sc.run(T + 5 * H + MIN)
    assert await sc.states("FEED_SILENT") == [
        (T + 30 * MIN, "cleared", T + 2 * H),
        (T + 2 * H + 40 * MIN, "open", None),
    ]


async def test_the_hours_are_the_trusts(sc: Scenario) -> None:
    await sc.change_rule("FEED_SILENT", {"silence": "PT1H", "day_starts": 0, "day_ends": 24})
    night = local(2026, 3, 10, 23, 0)
    await message_at(sc, night)
    await sc.run(night + H + SEC)
    assert await sc.dues("FEED_SILENT") == [night + H]
