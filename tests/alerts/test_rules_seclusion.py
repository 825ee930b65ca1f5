"""The seclusion rules (RULES.md section 2, "Seclusion") through the database: episodes and
reviews recorded through the API, a rule run at an as_of, the alerts it stored.

The pure chain arithmetic is in tests/segregation/test_evaluate.py; here each rule's
deadline is checked as a stored alert (strictly after the deadline, exactly once), with the
chains, late actions, the episode ending and records entered after as_of.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.alerts.scenario import MIN, SEC, H, Scenario, utc

S = utc(2026, 3, 9, 8)  # the seclusion starts (GMT: UTC is local time)


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    return Scenario(session, client, world, clock)


async def secluded(sc: Scenario, role: str = "nurse_in_charge", start: datetime = S) -> int:
    admission = await sc.admit(start - 2 * H)
    return await sc.seclusion(admission, start, role)


# The first deadline of each rule for an episode in which nothing was done.
FIRST_DEADLINES = {
    "SECL_MEDICAL_FIRST": S + H,
    # the first 1-hour review missed: the 4-hourly chain runs from that deadline
    "SECL_MEDICAL_REVIEW": S + H + 4 * H,
    "SECL_NURSING_REVIEW": S + 2 * H,
    "SECL_MDT_REVIEW": S + 24 * H,
    "SECL_INDEPENDENT_MDT": S + 8 * H,
    "SECL_OBSERVATION": S + 15 * MIN,
}


@pytest.mark.parametrize("rule", FIRST_DEADLINES)
async def test_each_rule_is_raised_only_strictly_after_its_deadline(sc: Scenario, rule) -> None:
    seclusion = await secluded(sc)
    due = FIRST_DEADLINES[rule]
    await sc.run(due - SEC)
    await sc.run(due)
    assert await sc.dues(rule, seclusion) == [], "as_of == due is not a breach"
    result = await sc.run(due + SEC)
    [alert] = await sc.alerts(rule, seclusion)
    assert (alert.due_at, alert.status, alert.cleared_at) == (due, "open", None)
    assert alert.subject_type == "seclusion"
    assert alert.ward_id == sc.world.wards["ASH"].id
    assert alert.severity == ("medium" if rule == "SECL_OBSERVATION" else "high")
    assert alert.id in {a.id for a in result.raised}


async def test_nursing_chain_missed_then_late_review_then_missed_again(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "nursing", S + 90 * MIN)  # on time: next S+3h30
    await sc.seclusion_review(seclusion, "nursing", S + 5 * H)  # 1h30 late for S+3h30
    await sc.run(S + 7 * H + SEC)
    assert await sc.states("SECL_NURSING_REVIEW", seclusion) == [
        # missed, and done later: raised already cleared at the review's time
        (S + 3 * H + 30 * MIN, "cleared", S + 5 * H),
        # the late review moved the chain: the next deadline is r + 2 h
        (S + 7 * H, "open", None),
    ]


async def test_each_missed_interval_is_one_alert_the_next_due_at_d_plus_i(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.run(S + 8 * H + SEC)
    assert await sc.dues("SECL_NURSING_REVIEW", seclusion) == [S + k * 2 * H for k in (1, 2, 3, 4)]


async def test_a_late_first_medical_review_raises_the_alert_already_cleared(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "medical", S + 80 * MIN)
    result = await sc.run(S + 2 * H)
    [alert] = await sc.alerts("SECL_MEDICAL_FIRST", seclusion)
    assert (alert.due_at, alert.status, alert.cleared_at) == (S + H, "cleared", S + 80 * MIN)
    assert alert.id in {a.id for a in result.raised}


async def test_an_open_alert_is_cleared_by_the_first_run_at_or_after_the_action(
    sc: Scenario,
) -> None:
    seclusion = await secluded(sc)
    await sc.run(S + H + MIN)
    assert await sc.states("SECL_MEDICAL_FIRST", seclusion) == [(S + H, "open", None)]
    # Recorded now, happened at S+1h30: a run for an as_of before that still sees it missing.
    await sc.seclusion_review(seclusion, "medical", S + 90 * MIN)
    result = await sc.run(S + 89 * MIN)
    assert await sc.states("SECL_MEDICAL_FIRST", seclusion) == [(S + H, "open", None)]
    assert result.cleared == []
    result = await sc.run(S + 90 * MIN)
    assert await sc.states("SECL_MEDICAL_FIRST", seclusion) == [(S + H, "cleared", S + 90 * MIN)]
    assert [a.rule for a in result.cleared] == ["SECL_MEDICAL_FIRST"]


async def test_a_review_after_as_of_does_not_meet_a_deadline(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "nursing", S + 2 * H + 10 * MIN)
    await sc.run(S + 2 * H + 5 * MIN)
    assert await sc.states("SECL_NURSING_REVIEW", seclusion) == [(S + 2 * H, "open", None)]


@pytest.mark.parametrize(
    ("role", "first", "medical"),
    [
        # a psychiatrist's assessment is the first review: 4-hourly from the start
        ("psychiatrist", [], [S + 4 * H, S + 8 * H]),
        ("approved_clinician", [S + H], [S + 5 * H]),
        ("nurse_in_charge", [S + H], [S + 5 * H]),
    ],
)
async def test_first_medical_review_unless_a_psychiatrist_authorised(
    sc: Scenario, role, first, medical
) -> None:
    seclusion = await secluded(sc, role=role)
    await sc.run(S + 8 * H + SEC)
    assert await sc.dues("SECL_MEDICAL_FIRST", seclusion) == first
    assert await sc.dues("SECL_MEDICAL_REVIEW", seclusion) == medical


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # after the first MDT review, medical reviews are 12-hourly: next due S+3h+12h
        ("mdt", [S + 15 * H]),
        # a medical review keeps the 4-hourly rhythm
        ("medical", [S + 7 * H, S + 11 * H, S + 15 * H]),
    ],
)
async def test_medical_reviews_every_4_h_until_the_first_mdt_then_every_12_h(
    sc: Scenario, kind, expected
) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "medical", S + 50 * MIN)
    await sc.seclusion_review(seclusion, kind, S + 3 * H)
    await sc.run(S + 15 * H + SEC)
    assert await sc.dues("SECL_MEDICAL_FIRST", seclusion) == []
    assert await sc.dues("SECL_MEDICAL_REVIEW", seclusion) == expected


async def test_an_mdt_review_counts_as_a_medical_review(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "mdt", S + 30 * MIN)
    await sc.run(S + 12 * H)
    assert await sc.dues("SECL_MEDICAL_FIRST", seclusion) == []
    assert await sc.dues("SECL_MEDICAL_REVIEW", seclusion) == []
    assert await sc.dues("SECL_MDT_REVIEW", seclusion) == []


async def test_mdt_review_every_24_h(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "mdt", S + 20 * H)
    await sc.run(S + 44 * H)
    assert await sc.dues("SECL_MDT_REVIEW", seclusion) == []
    await sc.run(S + 44 * H + SEC)
    assert await sc.dues("SECL_MDT_REVIEW", seclusion) == [S + 44 * H]


async def test_observations_every_15_minutes(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    for minutes in (10, 25, 50):  # 25 -> due 40: missed; 50 moves the next to 65
        await sc.observe(seclusion, S + minutes * MIN)
    await sc.run(S + 65 * MIN + SEC)
    assert await sc.states("SECL_OBSERVATION", seclusion) == [
        (S + 40 * MIN, "cleared", S + 50 * MIN),
        (S + 65 * MIN, "open", None),
    ]


# --- the independent MDT review --------------------------------------------------------


async def test_independent_mdt_after_8_hours_in_one_episode(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "independent_mdt", S + 9 * H)
    await sc.run(S + 8 * H + SEC)
    assert await sc.states("SECL_INDEPENDENT_MDT", seclusion) == [(S + 8 * H, "open", None)]
    await sc.run(S + 9 * H)
    assert await sc.states("SECL_INDEPENDENT_MDT", seclusion) == [(S + 8 * H, "cleared", S + 9 * H)]


async def test_independent_mdt_in_time_raises_nothing(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "independent_mdt", S + 8 * H)
    await sc.run(S + 20 * H)
    assert await sc.dues("SECL_INDEPENDENT_MDT", seclusion) == []


@pytest.mark.parametrize(
    ("earlier_start", "due"),
    [
        # 6 h (S-20h to S-14h) inside the 48 h before: 12 h in total at S+6h
        (S - 20 * H, S + 6 * H),
        # out of the window by then: the 8 h of this episode alone
        (S - 50 * H, S + 8 * H),
    ],
)
async def test_independent_mdt_after_12_hours_in_48(sc: Scenario, earlier_start, due) -> None:
    admission = await sc.admit(S - 3 * 24 * H)
    first = await sc.seclusion(admission, earlier_start)
    await sc.end_seclusion(first, earlier_start + 6 * H)
    second = await sc.seclusion(admission, S)
    await sc.run(due - SEC)
    assert await sc.dues("SECL_INDEPENDENT_MDT") == []
    await sc.run(due + SEC)
    assert await sc.dues("SECL_INDEPENDENT_MDT", second) == [due]
    assert await sc.dues("SECL_INDEPENDENT_MDT", first) == []


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        (S + 8 * H, []),  # ended as the line was reached: no breach
        (S + 8 * H + MIN, [(S + 8 * H, "cleared", S + 8 * H + MIN)]),
    ],
)
async def test_independent_mdt_cleared_by_the_episode_ending(sc: Scenario, ended, expected) -> None:
    seclusion = await secluded(sc)
    await sc.end_seclusion(seclusion, ended)
    await sc.run(S + 12 * H)
    assert await sc.states("SECL_INDEPENDENT_MDT", seclusion) == expected


# --- the episode ending ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ended", "dues"),
    [
        (S + 5 * H, [S + 2 * H, S + 4 * H]),
        # a deadline at the very moment it ended is not a breach
        (S + 4 * H, [S + 2 * H]),
    ],
)
async def test_the_chain_stops_when_the_episode_ends(sc: Scenario, ended, dues) -> None:
    seclusion = await secluded(sc)
    await sc.end_seclusion(seclusion, ended)
    await sc.run(S + 12 * H)
    assert await sc.states("SECL_NURSING_REVIEW", seclusion) == [
        (due, "cleared", ended) for due in dues
    ]


async def test_open_alerts_are_cleared_at_the_end_on_the_next_run(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.run(S + 4 * H + SEC)
    assert [s for _, s, _ in await sc.states("SECL_NURSING_REVIEW", seclusion)] == ["open"] * 2
    await sc.end_seclusion(seclusion, S + 5 * H)
    result = await sc.run(S + 6 * H + SEC)
    assert await sc.states("SECL_NURSING_REVIEW", seclusion) == [
        (S + 2 * H, "cleared", S + 5 * H),
        (S + 4 * H, "cleared", S + 5 * H),
    ]
    assert {a.rule for a in result.cleared} >= {"SECL_NURSING_REVIEW", "SECL_OBSERVATION"}
    # nothing at or after the end, on any rule
    for rule in ("SECL_NURSING_REVIEW", "SECL_OBSERVATION", "SECL_MEDICAL_REVIEW"):
        assert all(due < S + 5 * H for due in await sc.dues(rule, seclusion))


async def test_an_end_recorded_late_withdraws_alerts_raised_past_the_end(sc: Scenario) -> None:
    """The scheduler saw the episode still open at S+2h01 and raised the S+2h nursing review;
    the nurse then recorded that it had ended at S+1h50. Nothing was owed past the end, so
    the alert is withdrawn (RULES.md 1.1: the episode had ended before it)."""
    seclusion = await secluded(sc)
    await sc.run(S + 2 * H + MIN)
    assert await sc.states("SECL_NURSING_REVIEW", seclusion) == [(S + 2 * H, "open", None)]
    await sc.end_seclusion(seclusion, S + 110 * MIN)
    await sc.run(S + 2 * H + 2 * MIN)
    assert await sc.states("SECL_NURSING_REVIEW", seclusion) == [(S + 2 * H, "withdrawn", None)]


async def test_threshold_change_applies_from_the_next_run(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.run(S + 2 * H + SEC)
    [old] = await sc.alerts("SECL_NURSING_REVIEW", seclusion)
    await sc.change_rule("SECL_NURSING_REVIEW", {"every": "PT1H"})
    await sc.run(S + 3 * H + SEC)
    alerts = {a.due_at: a for a in await sc.alerts("SECL_NURSING_REVIEW", seclusion)}
    assert alerts[S + 2 * H].id == old.id
    assert alerts[S + 2 * H].parameters == {"every": "PT2H"}
    assert alerts[S + 3 * H].parameters == {"every": "PT1H"}
