"""The long-term segregation rules (RULES.md section 2) as stored alerts: each deadline
strictly after, the chains, calendar months, both notifications, IC(E)TR only for a person
with a learning disability or an autistic person, late records and the episode ending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.alerts.scenario import MIN, SEC, D, H, Scenario, local, utc

T = utc(2026, 2, 1, 10)  # segregation starts (GMT)


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    return Scenario(session, client, world, clock)


async def segregated(sc: Scenario, start: datetime = T, **kwargs: Any) -> int:
    patient = {k: kwargs.pop(k) for k in ("learning_disability", "autistic") if k in kwargs}
    admission = await sc.admit(start - D, **patient)
    return await sc.segregation(admission, start, **kwargs)


FIRST_DEADLINES = {
    "LTS_AC_REVIEW": T + 24 * H,
    "LTS_MDT_REVIEW": T + 7 * D,
    "LTS_NOTIFICATION": T + 24 * H,
    "LTS_ICETR": T + 28 * D,
}


@pytest.mark.parametrize("rule", FIRST_DEADLINES)
async def test_each_rule_is_raised_only_strictly_after_its_deadline(sc: Scenario, rule) -> None:
    segregation = await segregated(sc, autistic=True)
    due = FIRST_DEADLINES[rule]
    await sc.run(due - SEC)
    await sc.run(due)
    assert await sc.dues(rule, segregation) == []
    await sc.run(due + SEC)
    [alert] = await sc.alerts(rule, segregation)
    assert (alert.due_at, alert.status, alert.subject_type) == (due, "open", "segregation")
    assert alert.severity == ("medium" if rule == "LTS_NOTIFICATION" else "high")
    assert alert.ward_id == sc.world.wards["ASH"].id


async def test_ac_review_chain_an_mdt_review_counts_an_external_does_not(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.segregation_review(segregation, "approved_clinician", T + 20 * H)
    await sc.segregation_review(segregation, "mdt", T + 40 * H)  # next due T+64h
    await sc.segregation_review(segregation, "external", T + 60 * H)  # not an AC review
    await sc.run(T + 64 * H)
    assert await sc.dues("LTS_AC_REVIEW", segregation) == []
    await sc.run(T + 64 * H + SEC)
    assert await sc.dues("LTS_AC_REVIEW", segregation) == [T + 64 * H]


async def test_ac_review_missed_intervals_and_a_late_review(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.segregation_review(segregation, "approved_clinician", T + 50 * H)
    await sc.run(T + 75 * H)
    assert await sc.states("LTS_AC_REVIEW", segregation) == [
        (T + 24 * H, "cleared", T + 50 * H),  # missed, done 2 h after the next one was due
        (T + 48 * H, "cleared", T + 50 * H),
        (T + 74 * H, "open", None),  # r + 24 h
    ]


async def test_mdt_review_every_7_days(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.segregation_review(segregation, "mdt", T + 6 * D)
    await sc.run(T + 20 * D)
    assert await sc.dues("LTS_MDT_REVIEW", segregation) == [T + 13 * D]
    await sc.run(T + 20 * D + SEC)
    assert await sc.dues("LTS_MDT_REVIEW", segregation) == [T + 13 * D, T + 20 * D]


class TestExternalReviewInCalendarMonths:
    """3 calendar months in local time: from 1 Feb 10:00 GMT to 1 May 10:00 BST (09:00 UTC),
    which no fixed number of days or hours gives."""

    START = local(2026, 2, 1, 10)
    DUE = local(2026, 5, 1, 10)

    async def test_due_three_calendar_months_after_the_start(self, sc: Scenario) -> None:
        assert utc(2026, 5, 1, 9) == self.DUE
        sc.clock.now = utc(2026, 9, 1, 12)
        segregation = await segregated(sc, start=self.START)
        await sc.run(self.DUE - SEC)
        await sc.run(self.DUE)
        assert await sc.dues("LTS_EXTERNAL_REVIEW", segregation) == []
        await sc.run(self.DUE + SEC)
        assert await sc.dues("LTS_EXTERNAL_REVIEW", segregation) == [self.DUE]
        # missed: the next is 3 months after that deadline (1 August, 10:00 BST)
        await sc.run(local(2026, 8, 1, 10) + SEC)
        assert await sc.dues("LTS_EXTERNAL_REVIEW", segregation) == [
            self.DUE,
            local(2026, 8, 1, 10),
        ]

    async def test_a_review_moves_the_next_to_three_months_after_it(self, sc: Scenario) -> None:
        sc.clock.now = utc(2026, 9, 1, 12)
        segregation = await segregated(sc, start=self.START)
        await sc.segregation_review(segregation, "external", local(2026, 3, 31, 15))
        # 31 March + 3 months is 30 June (no 31 June), at 15:00 local
        await sc.run(local(2026, 6, 30, 15))
        assert await sc.dues("LTS_EXTERNAL_REVIEW", segregation) == []
        await sc.run(local(2026, 6, 30, 15) + SEC)
        assert await sc.dues("LTS_EXTERNAL_REVIEW", segregation) == [local(2026, 6, 30, 15)]


@pytest.mark.parametrize(
    ("commissioner", "imha", "expected"),
    [
        (T + 2 * H, T + 24 * H, []),
        (T + 2 * H, None, [(T + 24 * H, "open", None)]),
        (None, T + 2 * H, [(T + 24 * H, "open", None)]),
        (None, None, [(T + 24 * H, "open", None)]),
        # done when the later of the two was told
        (T + 2 * H, T + 30 * H, [(T + 24 * H, "cleared", T + 30 * H)]),
        (T + 40 * H, T + 2 * H, [(T + 24 * H, "cleared", T + 40 * H)]),
    ],
)
async def test_notification_needs_both_commissioner_and_imha(
    sc: Scenario, commissioner, imha, expected
) -> None:
    segregation = await segregated(sc, commissioner=commissioner, imha=imha)
    await sc.run(T + 3 * D)
    assert await sc.states("LTS_NOTIFICATION", segregation) == expected


async def test_notification_recorded_later_counts_from_when_it_happened(sc: Scenario) -> None:
    segregation = await segregated(sc, commissioner=T + H)
    await sc.run(T + 25 * H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    await sc.inform(segregation, imha=T + 30 * H)
    await sc.run(T + 29 * H)  # a question about before the IMHA was told
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    await sc.run(T + 30 * H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "cleared", T + 30 * H)]


@pytest.mark.parametrize(
    ("learning_disability", "autistic", "raised"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
async def test_icetr_only_for_a_person_with_a_learning_disability_or_autism(
    sc: Scenario, learning_disability, autistic, raised
) -> None:
    segregation = await segregated(sc, learning_disability=learning_disability, autistic=autistic)
    await sc.run(T + 30 * D)
    assert await sc.dues("LTS_ICETR", segregation) == ([T + 28 * D] if raised else [])


@pytest.mark.parametrize(
    ("review_at", "expected"),
    [
        (T + 28 * D, []),
        (T + 29 * D, [(T + 28 * D, "cleared", T + 29 * D)]),
    ],
)
async def test_icetr_review(sc: Scenario, review_at, expected) -> None:
    segregation = await segregated(sc, learning_disability=True)
    await sc.segregation_review(segregation, "icetr", review_at)
    await sc.run(T + 35 * D)
    assert await sc.states("LTS_ICETR", segregation) == expected


async def test_a_review_after_as_of_does_not_count(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.segregation_review(segregation, "approved_clinician", T + 30 * H)
    await sc.run(T + 26 * H)
    assert await sc.states("LTS_AC_REVIEW", segregation) == [(T + 24 * H, "open", None)]
    result = await sc.run(T + 30 * H)
    assert await sc.states("LTS_AC_REVIEW", segregation) == [(T + 24 * H, "cleared", T + 30 * H)]
    assert "LTS_AC_REVIEW" in {a.rule for a in result.cleared}


async def test_the_chains_stop_when_segregation_ends(sc: Scenario) -> None:
    segregation = await segregated(sc, learning_disability=True)
    await sc.end_segregation(segregation, T + 72 * H)
    await sc.run(T + 40 * D)
    ended = T + 72 * H
    # T+72h is the end itself: not a breach; MDT, IC(E)TR fall due after the end
    assert await sc.states("LTS_AC_REVIEW", segregation) == [
        (T + 24 * H, "cleared", ended),
        (T + 48 * H, "cleared", ended),
    ]
    # nobody was told: still owed after the end, so still open
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    for rule in ("LTS_MDT_REVIEW", "LTS_EXTERNAL_REVIEW", "LTS_ICETR"):
        assert await sc.dues(rule, segregation) == []


async def test_the_notification_is_owed_after_a_segregation_shorter_than_24_hours(
    sc: Scenario,
) -> None:
    """Ended after 10 hours with nobody told: runs every few hours (windowed, the episode
    long finished) still raise it just after 24 h, and telling both afterwards clears it."""
    sc.clock.now = T + 10 * H + MIN  # the scheduler's runs, each at the time it happens
    segregation = await segregated(sc)
    ended = T + 10 * H
    await sc.end_segregation(segregation, ended)
    for as_of in (T + 11 * H, T + 16 * H, T + 20 * H, T + 24 * H, T + 24 * H + SEC):
        sc.clock.now = as_of
        await sc.run(as_of)
        if as_of == T + 24 * H:
            assert await sc.dues("LTS_NOTIFICATION", segregation) == []
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    assert await sc.dues("LTS_AC_REVIEW", segregation) == []
    told = T + 30 * H
    sc.clock.now = told + H
    await sc.inform(segregation, commissioner=T + 12 * H, imha=told)
    await sc.run(told - SEC)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    await sc.run(told)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "cleared", told)]


async def test_a_short_segregation_told_in_time_raises_no_notification(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.end_segregation(segregation, T + 10 * H)
    await sc.inform(segregation, commissioner=T + 12 * H, imha=T + 24 * H)
    await sc.run(T + 3 * D)
    assert await sc.dues("LTS_NOTIFICATION", segregation) == []


async def test_open_alerts_are_cleared_at_the_end_on_the_next_run(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.run(T + 25 * H)
    assert await sc.states("LTS_AC_REVIEW", segregation) == [(T + 24 * H, "open", None)]
    await sc.end_segregation(segregation, T + 26 * H)
    await sc.run(T + 26 * H - MIN)  # before the end: still open
    assert await sc.states("LTS_AC_REVIEW", segregation) == [(T + 24 * H, "open", None)]
    await sc.run(T + 26 * H)
    assert await sc.states("LTS_AC_REVIEW", segregation) == [(T + 24 * H, "cleared", T + 26 * H)]


async def test_threshold_change_applies_from_the_next_run(sc: Scenario) -> None:
    segregation = await segregated(sc)
    await sc.run(T + 7 * D + SEC)
    [old] = await sc.alerts("LTS_MDT_REVIEW", segregation)
    await sc.change_rule("LTS_MDT_REVIEW", {"every": "P3D"})
    await sc.run(T + 10 * D + SEC)
    alerts = {a.due_at: a for a in await sc.alerts("LTS_MDT_REVIEW", segregation)}
    assert alerts[T + 7 * D].id == old.id
    assert alerts[T + 7 * D].parameters == {"every": "P7D"}
    # the new chain (every 3 days from the start) with the parameters it was raised under
    new = {due: a.parameters for due, a in alerts.items() if a.id != old.id}
    assert T + 9 * D in new
    assert set(map(str, new.values())) == {str({"every": "P3D"})}


# --- the notification's alert after the episode: cleared only by telling both -------------


async def short_segregation(sc: Scenario, **told: datetime) -> int:
    """T to T+2h, the end typed in at T+3h."""
    sc.clock.now = T + 3 * H
    segregation = await segregated(sc, **told)
    await sc.end_segregation(segregation, T + 2 * H)
    return segregation


async def run_at(sc: Scenario, *moments: datetime) -> None:
    """Scheduled runs, each at the time it happens (windowed after the first)."""
    for moment in moments:
        sc.clock.now = moment
        await sc.run(moment)


async def test_a_run_into_the_past_leaves_an_owed_notification_open(sc: Scenario) -> None:
    segregation = await short_segregation(sc)
    await run_at(sc, T + 25 * H)
    # "what was breached as of T+3h?": before the deadline, so it says nothing of it
    await sc.run(T + 3 * H, now=T + 26 * H)
    await run_at(sc, T + 27 * H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]


async def test_an_owed_notification_survives_a_longer_threshold_until_both_are_told(
    sc: Scenario,
) -> None:
    segregation = await short_segregation(sc)
    await run_at(sc, T + 25 * H)
    await sc.change_rule("LTS_NOTIFICATION", {"within": "PT48H"})
    await run_at(sc, T + 30 * H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    await run_at(sc, T + 48 * H + SEC)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [
        (T + 24 * H, "open", None),
        (T + 48 * H, "open", None),
    ]
    told = T + 50 * H
    sc.clock.now = told
    await sc.inform(segregation, commissioner=told, imha=told)
    await run_at(sc, told + H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [
        (T + 24 * H, "cleared", told),
        (T + 48 * H, "cleared", told),
    ]


async def test_a_notification_typed_in_late_and_dated_in_time_withdraws_the_alert(
    sc: Scenario,
) -> None:
    """Both were told at T+20h, which was typed in after the alert was raised: the
    deadline was met, only the record was late (RULES.md 1.1)."""
    segregation = await segregated(sc)
    await run_at(sc, T + 25 * H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
    sc.clock.now = T + 26 * H
    await sc.inform(segregation, commissioner=T + 20 * H, imha=T + 20 * H)
    await run_at(sc, T + 27 * H)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "withdrawn", None)]
    [alert] = await sc.alerts("LTS_NOTIFICATION", segregation)
    assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("segregations", segregation)


async def test_a_notification_corrected_away_is_seen_by_the_next_scheduled_run(
    sc: Scenario,
) -> None:
    """Told at T+1h, the segregation long over; days later the IMHA's time is corrected
    to "not told". The next windowed run must find the notification owed."""
    segregation = await short_segregation(sc, commissioner=T + H, imha=T + H)
    await run_at(sc, T + 3 * H, T + 30 * H, T + 60 * H, T + 90 * H)
    assert await sc.dues("LTS_NOTIFICATION", segregation) == []
    sc.clock.now = T + 100 * H
    await sc.call("PATCH", f"/segregations/{segregation}", {"imha_informed_at": None})
    await run_at(sc, T + 100 * H + MIN)
    assert await sc.states("LTS_NOTIFICATION", segregation) == [(T + 24 * H, "open", None)]
