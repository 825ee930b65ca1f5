"""Rule behaviours the per-area scenario files leave out (RULES.md sections 1, 1.1 and 3),
as stored alerts: late actions raised then cleared, one run after long downtime, reruns at
the same as_of, actions dated after as_of, threshold changes applying from the next run,
and a person who had already left the ward before the first run saw them there.

Each test asserts the alerts a safeguarding lead relies on, (due_at, status, cleared_at),
at the boundary: a second before, at, and a second after it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.alerts.engine import RunResult
from app.rules.catalogue import BY_CODE
from app.wards.service import get_ward
from tests.alerts.scenario import (
    MIN,
    SEC,
    D,
    FlowScenario,
    H,
    Scenario,
    force_record,
    iso,
    local,
    utc,
)

S = utc(2026, 3, 9, 8)  # a seclusion starts (GMT: UTC is local time)
T = utc(2026, 2, 1, 10)  # a segregation starts (GMT)
A = utc(2026, 2, 2, 10)  # admitted (GMT)
I0 = utc(2026, 3, 9, 10)  # a use of force starts (GMT)
END = I0 + 12 * MIN  # and ends
LATE = utc(2026, 12, 1)  # a clock after every history here: everything already typed in


@pytest.fixture
async def sc(session, client, world, clock) -> FlowScenario:
    return FlowScenario(session, client, world, clock)


async def secluded(sc: Scenario, role: str = "nurse_in_charge") -> int:
    admission = await sc.admit(S - 2 * H)
    return await sc.seclusion(admission, S, role)


async def segregated(sc: Scenario, start: datetime = T, **patient: Any) -> int:
    admission = await sc.admit(start - D, **patient)
    return await sc.segregation(admission, start)


def raised(result: RunResult, rule: str) -> list[datetime]:
    """The due_at of each alert of ``rule`` this run created."""
    return [a.due_at for a in result.raised if a.rule == rule]


def cleared(result: RunResult, rule: str) -> list[datetime]:
    return [a.due_at for a in result.cleared if a.rule == rule]


def parameters(rule: str, **changed: str | float) -> dict[str, str | float]:
    """A rule's parameters as stored on an alert: the defaults with some changed."""
    return {**BY_CODE[rule].defaults(), **changed}


# --- SECL_MDT_REVIEW ---------------------------------------------------------------------

MDT_DUE = S + 24 * H


async def test_a_late_mdt_review_is_raised_then_cleared_by_the_first_run_at_or_after_it(
    sc: Scenario,
) -> None:
    sc.clock.now = S
    seclusion = await secluded(sc)
    sc.clock.now = MDT_DUE + MIN
    await sc.run(MDT_DUE)
    assert await sc.dues("SECL_MDT_REVIEW", seclusion) == []
    await sc.run(MDT_DUE + SEC)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [(MDT_DUE, "open", None)]
    # Held 2 h late and typed in an hour after that: a run for an as_of before the review
    # still finds it missing, the first run at or after its time clears it at that time.
    sc.clock.now = S + 27 * H
    await sc.seclusion_review(seclusion, "mdt", S + 26 * H)
    result = await sc.run(S + 26 * H - SEC)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [(MDT_DUE, "open", None)]
    assert cleared(result, "SECL_MDT_REVIEW") == []
    result = await sc.run(S + 26 * H)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [(MDT_DUE, "cleared", S + 26 * H)]
    assert cleared(result, "SECL_MDT_REVIEW") == [MDT_DUE]


@pytest.mark.parametrize(
    "first_run", [S + 26 * H, S + 50 * H], ids=["at the review", "a day after it"]
)
async def test_a_late_mdt_review_before_the_first_run_is_raised_already_cleared(
    sc: Scenario, first_run
) -> None:
    sc.clock.now = S + 3 * D
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "mdt", S + 26 * H)
    result = await sc.run(first_run)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [(MDT_DUE, "cleared", S + 26 * H)]
    assert raised(result, "SECL_MDT_REVIEW") == [MDT_DUE]
    # the late review restarted the chain: the next is due r + 24 h, strictly after
    await sc.run(S + 50 * H + SEC)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [
        (MDT_DUE, "cleared", S + 26 * H),
        (S + 50 * H, "open", None),
    ]


@pytest.mark.parametrize(
    ("as_of", "dues"),
    [
        (S + 72 * H, [S + 24 * H, S + 48 * H]),  # the third is due at as_of: not yet
        (S + 72 * H + SEC, [S + 24 * H, S + 48 * H, S + 72 * H]),
    ],
    ids=["at the third deadline", "1 s after it"],
)
async def test_one_run_after_downtime_raises_each_missed_mdt_review_once(
    sc: Scenario, as_of, dues
) -> None:
    """The scheduler ran an hour in, then was down for three days: every missed interval
    is its own alert, the next due d + 24 h after each missed one."""
    sc.clock.now = S
    seclusion = await secluded(sc)
    await sc.run(S + H, now=S + H)
    sc.clock.now = S + 4 * D
    result = await sc.run(as_of)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [(due, "open", None) for due in dues]
    assert raised(result, "SECL_MDT_REVIEW") == dues


async def test_after_downtime_a_late_mdt_review_clears_every_interval_it_ended(
    sc: Scenario,
) -> None:
    sc.clock.now = S + 4 * D
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "mdt", S + 50 * H)  # S+24h and S+48h missed
    await sc.run(S + 74 * H)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [
        (S + 24 * H, "cleared", S + 50 * H),
        (S + 48 * H, "cleared", S + 50 * H),
    ]
    await sc.run(S + 74 * H + SEC)  # r + 24 h
    assert (await sc.states("SECL_MDT_REVIEW", seclusion))[-1] == (S + 74 * H, "open", None)


async def test_rerunning_at_the_same_as_of_never_duplicates_an_mdt_review_alert(
    sc: Scenario,
) -> None:
    sc.clock.now = S + 3 * D
    seclusion = await secluded(sc)
    first = await sc.run(S + 48 * H + SEC)
    before = [a.id for a in await sc.alerts("SECL_MDT_REVIEW", seclusion)]
    again = await sc.run(S + 48 * H + SEC)
    assert raised(first, "SECL_MDT_REVIEW") == [S + 24 * H, S + 48 * H]
    assert (again.raised, again.cleared) == ([], [])
    assert [a.id for a in await sc.alerts("SECL_MDT_REVIEW", seclusion)] == before
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [
        (S + 24 * H, "open", None),
        (S + 48 * H, "open", None),
    ]


async def test_an_mdt_review_dated_after_as_of_does_not_count(sc: Scenario) -> None:
    sc.clock.now = S + 3 * D
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "mdt", S + 49 * H)  # recorded before the runs
    await sc.run(S + 49 * H - SEC)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [
        (S + 24 * H, "open", None),
        (S + 48 * H, "open", None),
    ]
    await sc.run(S + 49 * H)
    assert await sc.states("SECL_MDT_REVIEW", seclusion) == [
        (S + 24 * H, "cleared", S + 49 * H),
        (S + 48 * H, "cleared", S + 49 * H),
    ]


# --- SECL_MEDICAL_REVIEW -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "next_due"),
    [
        ("medical", S + 13 * H),  # still 4-hourly
        # an MDT review is a medical review too, and from it medical reviews are 12-hourly
        ("mdt", S + 21 * H),
    ],
)
async def test_a_medical_review_dated_after_as_of_does_not_count(
    sc: Scenario, kind, next_due
) -> None:
    sc.clock.now = S + D
    seclusion = await secluded(sc)
    await sc.seclusion_review(seclusion, "medical", S + 50 * MIN)  # first on time: next S+4h50
    await sc.seclusion_review(seclusion, kind, S + 9 * H)  # misses S+4h50 and S+8h50
    await sc.run(S + 9 * H - SEC)
    assert await sc.states("SECL_MEDICAL_REVIEW", seclusion) == [
        (S + 290 * MIN, "open", None),
        (S + 530 * MIN, "open", None),
    ]
    await sc.run(S + 9 * H)
    done = [(S + 290 * MIN, "cleared", S + 9 * H), (S + 530 * MIN, "cleared", S + 9 * H)]
    assert await sc.states("SECL_MEDICAL_REVIEW", seclusion) == done
    await sc.run(next_due)
    assert await sc.states("SECL_MEDICAL_REVIEW", seclusion) == done
    await sc.run(next_due + SEC)
    assert await sc.states("SECL_MEDICAL_REVIEW", seclusion) == [*done, (next_due, "open", None)]


@dataclass(frozen=True)
class MedicalChange:
    parameter: str
    value: str
    mdt_at: datetime | None  # an MDT review (psychiatrist-authorised: no 1-hour first review)
    old_due: datetime  # raised before the change
    new_dues: list[datetime]  # the new chain's, up to its boundary (the last)


MEDICAL_CHANGES = [
    # 4-hourly from the start; then 3-hourly: S+3h, S+6h
    MedicalChange("before_mdt", "PT3H", None, S + 4 * H, [S + 3 * H, S + 6 * H]),
    # MDT at S+2h, then 12-hourly (S+14h); then 5-hourly: S+7h, S+12h, S+17h
    MedicalChange("after_mdt", "PT5H", S + 2 * H, S + 14 * H, [S + 7 * H, S + 12 * H, S + 17 * H]),
]


@pytest.mark.parametrize("change", MEDICAL_CHANGES, ids=lambda c: c.parameter)
async def test_a_medical_review_interval_change_applies_from_the_next_run(
    sc: Scenario, change: MedicalChange
) -> None:
    code = "SECL_MEDICAL_REVIEW"
    seclusion = await secluded(sc, role="psychiatrist")
    if change.mdt_at is not None:
        await sc.seclusion_review(seclusion, "mdt", change.mdt_at)
    await sc.run(change.old_due + SEC)
    [old] = await sc.alerts(code, seclusion)
    assert (old.due_at, old.status, old.parameters) == (change.old_due, "open", parameters(code))
    sc.clock.now += MIN
    await sc.change_rule(code, {change.parameter: change.value})
    *earlier, boundary = change.new_dues
    # the alert raised before keeps its due_at and the parameters it was raised under
    for as_of in (boundary - SEC, boundary):
        await sc.run(as_of)
        assert await sc.dues(code, seclusion) == sorted([*earlier, change.old_due])
    await sc.run(boundary + SEC)
    alerts = {a.due_at: a for a in await sc.alerts(code, seclusion)}
    assert sorted(alerts) == sorted([*change.new_dues, change.old_due])
    assert alerts[change.old_due].id == old.id
    assert alerts[change.old_due].parameters == parameters(code)
    new = parameters(code, **{change.parameter: change.value})
    assert [alerts[due].parameters for due in change.new_dues] == [new] * len(change.new_dues)
    assert {a.status for a in alerts.values()} == {"open"}


# --- SECL_INDEPENDENT_MDT ----------------------------------------------------------------

SIX_HOURS = parameters("SECL_INDEPENDENT_MDT", single="PT6H")


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (S + 6 * H - SEC, []),
        (S + 6 * H, []),
        (S + 6 * H + SEC, [(S + 6 * H, "open", None)]),
    ],
    ids=["1 s before 6 h", "at 6 h", "1 s after"],
)
async def test_independent_mdt_at_a_shorter_single_episode_threshold(
    sc: Scenario, as_of, expected
) -> None:
    seclusion = await secluded(sc)
    await sc.run(as_of)
    assert await sc.dues("SECL_INDEPENDENT_MDT", seclusion) == []  # 8 h by default
    sc.clock.now += MIN
    await sc.change_rule("SECL_INDEPENDENT_MDT", {"single": "PT6H"})
    await sc.run(as_of)
    assert await sc.states("SECL_INDEPENDENT_MDT", seclusion) == expected
    assert [a.parameters for a in await sc.alerts("SECL_INDEPENDENT_MDT")] == [SIX_HOURS] * len(
        expected
    )


async def test_a_7_hour_episode_needs_an_independent_mdt_once_the_line_is_6_hours(
    sc: Scenario,
) -> None:
    """Ended before the change: the next run still looks at it, and the line it crossed at
    S+6h is raised, already cleared by the end."""
    seclusion = await secluded(sc)
    await sc.end_seclusion(seclusion, S + 7 * H)
    await sc.run(S + 12 * H)
    assert await sc.dues("SECL_INDEPENDENT_MDT", seclusion) == []
    sc.clock.now += MIN
    await sc.change_rule("SECL_INDEPENDENT_MDT", {"single": "PT6H"})
    await sc.run(S + 12 * H)
    [alert] = await sc.alerts("SECL_INDEPENDENT_MDT", seclusion)
    assert (alert.due_at, alert.status, alert.cleared_at) == (S + 6 * H, "cleared", S + 7 * H)
    assert alert.parameters == SIX_HOURS


# --- SECL_OBSERVATION --------------------------------------------------------------------


async def test_an_observation_dated_after_as_of_does_not_count(sc: Scenario) -> None:
    seclusion = await secluded(sc)
    await sc.observe(seclusion, S + 40 * MIN)  # S+15m and S+30m missed
    await sc.run(S + 40 * MIN - SEC)
    assert await sc.states("SECL_OBSERVATION", seclusion) == [
        (S + 15 * MIN, "open", None),
        (S + 30 * MIN, "open", None),
    ]
    await sc.run(S + 40 * MIN)
    assert await sc.states("SECL_OBSERVATION", seclusion) == [
        (S + 15 * MIN, "cleared", S + 40 * MIN),
        (S + 30 * MIN, "cleared", S + 40 * MIN),
    ]
    # and from then the chain runs from the observation: next due S+55m
    await sc.run(S + 55 * MIN)
    assert len(await sc.dues("SECL_OBSERVATION", seclusion)) == 2
    await sc.run(S + 55 * MIN + SEC)
    assert (await sc.states("SECL_OBSERVATION", seclusion))[-1] == (S + 55 * MIN, "open", None)


async def test_a_shorter_observation_interval_applies_from_the_next_run(sc: Scenario) -> None:
    code = "SECL_OBSERVATION"
    seclusion = await secluded(sc)
    await sc.run(S + 15 * MIN + SEC)
    [old] = await sc.alerts(code, seclusion)
    assert (old.due_at, old.parameters) == (S + 15 * MIN, {"every": "PT15M"})
    sc.clock.now += MIN
    await sc.change_rule(code, {"every": "PT10M"})
    # every 10 minutes from the start: S+10m, S+20m; the S+15m alert stays as it was
    for as_of in (S + 20 * MIN - SEC, S + 20 * MIN):
        await sc.run(as_of)
        assert await sc.dues(code, seclusion) == [S + 10 * MIN, S + 15 * MIN]
    await sc.run(S + 20 * MIN + SEC)
    alerts = await sc.alerts(code, seclusion)
    assert [(a.due_at, a.status, a.parameters) for a in alerts] == [
        (S + 10 * MIN, "open", {"every": "PT10M"}),
        (S + 15 * MIN, "open", {"every": "PT15M"}),
        (S + 20 * MIN, "open", {"every": "PT10M"}),
    ]
    assert alerts[1].id == old.id


# --- stricter thresholds: LTS_AC_REVIEW, LTS_EXTERNAL_REVIEW, LTS_ICETR, RI_DEBRIEF,
# --- ADM_PURPOSE_REVIEW ------------------------------------------------------------------


async def _segregation(sc: Scenario) -> int:
    return await segregated(sc)


async def _autistic_in_segregation(sc: Scenario) -> int:
    return await segregated(sc, autistic=True)


async def _use_of_force_not_debriefed(sc: Scenario) -> int:
    admission = await sc.admit(I0 - 2 * D)
    return await sc.force(admission, force_record(I0, END, debriefed_at=None))


async def _admission(sc: Scenario) -> int:
    return await sc.admit(A)


async def _admission_reviewed_at_70_hours(sc: Scenario) -> int:
    admission = await sc.admit(A)
    await sc.purpose_review(admission, A + 70 * H)  # on time; by default next due 7 days on
    return admission


@dataclass(frozen=True)
class Stricter:
    rule: str
    change: dict[str, str]
    subject: Callable[[Scenario], Awaitable[int]]
    due: datetime  # the first deadline under the new threshold

    def __str__(self) -> str:
        return " ".join([self.rule, *(f"{k}={v}" for k, v in self.change.items())])


STRICTER = [
    Stricter("LTS_AC_REVIEW", {"every": "PT12H"}, _segregation, T + 12 * H),
    # calendar months in local time: 1 April 10:00 BST is 09:00 UTC
    Stricter("LTS_EXTERNAL_REVIEW", {"every": "P2M"}, _segregation, local(2026, 4, 1, 10)),
    Stricter("LTS_ICETR", {"within": "P14D"}, _autistic_in_segregation, T + 14 * D),
    Stricter("RI_DEBRIEF", {"within": "PT24H"}, _use_of_force_not_debriefed, END + 24 * H),
    Stricter("ADM_PURPOSE_REVIEW", {"first": "PT48H"}, _admission, A + 48 * H),
    Stricter(
        "ADM_PURPOSE_REVIEW", {"every": "P3D"}, _admission_reviewed_at_70_hours, A + 70 * H + 3 * D
    ),
]


@pytest.mark.parametrize(
    ("offset", "breached"),
    [(-SEC, False), (timedelta(0), False), (SEC, True)],
    ids=["1 s before", "at the new deadline", "1 s after"],
)
@pytest.mark.parametrize("case", STRICTER, ids=str)
async def test_a_stricter_threshold_applies_from_the_next_run(
    sc: Scenario, case: Stricter, offset, breached
) -> None:
    """Asked about the same as_of before and after the change: nothing was due under the
    default, and the next run raises the new deadline, strictly after it, with the
    parameters it was raised under."""
    sc.clock.now = LATE
    subject = await case.subject(sc)
    as_of = case.due + offset
    await sc.run(as_of)
    assert await sc.dues(case.rule, subject) == []
    sc.clock.now += MIN
    await sc.change_rule(case.rule, case.change)
    await sc.run(as_of)
    alerts = await sc.alerts(case.rule, subject)
    assert [(a.due_at, a.status, a.cleared_at) for a in alerts] == (
        [(case.due, "open", None)] if breached else []
    )
    assert [a.parameters for a in alerts] == [parameters(case.rule, **case.change)] * len(alerts)


# --- LTS_MDT_REVIEW and LTS_EXTERNAL_REVIEW: late reviews ----------------------------------


@dataclass(frozen=True)
class LateReview:
    rule: str
    kind: str
    due: datetime
    done: datetime  # the late review
    next_due: datetime  # r + the interval

    def __str__(self) -> str:
        return self.rule


LATE_REVIEWS = [
    LateReview("LTS_MDT_REVIEW", "mdt", T + 7 * D, T + 9 * D, T + 16 * D),
    # 3 calendar months in local time: 1 May 10:00 BST (09:00 UTC); 20 May + 3 months
    LateReview(
        "LTS_EXTERNAL_REVIEW",
        "external",
        local(2026, 5, 1, 10),
        local(2026, 5, 20, 10),
        local(2026, 8, 20, 10),
    ),
]


@pytest.mark.parametrize("case", LATE_REVIEWS, ids=str)
async def test_a_late_segregation_review_is_raised_then_cleared_at_its_time(
    sc: Scenario, case: LateReview
) -> None:
    sc.clock.now = T
    segregation = await segregated(sc)
    sc.clock.now = case.due + MIN  # the scheduler runs on time
    await sc.run(case.due)
    assert await sc.dues(case.rule, segregation) == []
    await sc.run(case.due + SEC)
    assert await sc.states(case.rule, segregation) == [(case.due, "open", None)]
    # Held late and typed in an hour later; a run about just before it still finds the
    # review missing (it is dated after that as_of).
    sc.clock.now = case.done + H
    await sc.segregation_review(segregation, case.kind, case.done)
    await sc.run(case.done - SEC)
    assert await sc.states(case.rule, segregation) == [(case.due, "open", None)]
    result = await sc.run(case.done)
    assert await sc.states(case.rule, segregation) == [(case.due, "cleared", case.done)]
    assert cleared(result, case.rule) == [case.due]


@pytest.mark.parametrize("case", LATE_REVIEWS, ids=str)
async def test_a_late_segregation_review_before_the_first_run_is_raised_already_cleared(
    sc: Scenario, case: LateReview
) -> None:
    sc.clock.now = case.done + H
    segregation = await segregated(sc)
    await sc.segregation_review(segregation, case.kind, case.done)
    result = await sc.run(case.next_due)
    assert await sc.states(case.rule, segregation) == [(case.due, "cleared", case.done)]
    assert raised(result, case.rule) == [case.due]
    await sc.run(case.next_due + SEC)
    assert await sc.states(case.rule, segregation) == [
        (case.due, "cleared", case.done),
        (case.next_due, "open", None),
    ]


@pytest.mark.parametrize(
    ("rule", "kind", "missed", "done"),
    [
        ("LTS_MDT_REVIEW", "mdt", [T + 7 * D, T + 14 * D], T + 15 * D),
        (
            "LTS_EXTERNAL_REVIEW",
            "external",
            [local(2026, 5, 1, 10), local(2026, 8, 1, 10)],
            local(2026, 8, 5, 10),
        ),
    ],
    ids=["LTS_MDT_REVIEW", "LTS_EXTERNAL_REVIEW"],
)
async def test_a_segregation_review_dated_after_as_of_does_not_count(
    sc: Scenario, rule, kind, missed, done
) -> None:
    """Recorded before the runs, held after two deadlines had passed: a run about a moment
    before it finds both missing; from its time, both are cleared at it."""
    sc.clock.now = done + H
    segregation = await segregated(sc)
    await sc.segregation_review(segregation, kind, done)
    await sc.run(done - SEC)
    assert await sc.states(rule, segregation) == [(due, "open", None) for due in missed]
    await sc.run(done)
    assert await sc.states(rule, segregation) == [(due, "cleared", done) for due in missed]


# --- LTS_ICETR ---------------------------------------------------------------------------


async def test_rerunning_never_duplicates_the_icetr_alert(sc: Scenario) -> None:
    segregation = await segregated(sc, autistic=True)
    first = await sc.run(T + 28 * D + SEC)
    again = await sc.run(T + 28 * D + SEC)
    later = await sc.run(T + 35 * D)
    assert raised(first, "LTS_ICETR") == [T + 28 * D]
    assert raised(again, "LTS_ICETR") == raised(later, "LTS_ICETR") == []
    assert await sc.states("LTS_ICETR", segregation) == [(T + 28 * D, "open", None)]


async def test_an_icetr_dated_after_as_of_does_not_count(sc: Scenario) -> None:
    segregation = await segregated(sc, learning_disability=True)
    await sc.segregation_review(segregation, "icetr", T + 30 * D)  # recorded before the runs
    await sc.run(T + 28 * D + SEC)
    assert await sc.states("LTS_ICETR", segregation) == [(T + 28 * D, "open", None)]
    await sc.run(T + 30 * D - SEC)
    assert await sc.states("LTS_ICETR", segregation) == [(T + 28 * D, "open", None)]
    result = await sc.run(T + 30 * D)
    assert await sc.states("LTS_ICETR", segregation) == [(T + 28 * D, "cleared", T + 30 * D)]
    assert cleared(result, "LTS_ICETR") == [T + 28 * D]


# --- ADM_UNDER_18_ADULT_WARD and ADM_MIXED_SEX: gone before the first run -----------------

ARRIVED = utc(2026, 3, 1, 15)
LEFT = utc(2026, 3, 2, 10)

WRONG_WARD = {
    # 17 (18 on 5 March 2026) on ASH, a ward for adults; moved to a young people's ward
    "ADM_UNDER_18_ADULT_WARD": ({"date_of_birth": "2008-03-05"}, "ELM"),
    # a man on ASH, a women's ward; moved to a mixed ward
    "ADM_MIXED_SEX": ({"sex": "male"}, "CEDAR"),
}


@pytest.mark.parametrize(
    ("first_run", "expected"),
    [
        (LEFT - SEC, (ARRIVED, "open", None)),
        (LEFT, (ARRIVED, "cleared", LEFT)),
        (LEFT + 30 * D, (ARRIVED, "cleared", LEFT)),
    ],
    ids=["1 s before they left", "as they left", "a month later"],
)
@pytest.mark.parametrize("how", ["discharged", "transferred"])
@pytest.mark.parametrize("rule", WRONG_WARD)
async def test_a_first_run_after_the_person_left_the_ward_raises_it_already_cleared(
    sc: Scenario, rule, how, first_run, expected
) -> None:
    patient, away = WRONG_WARD[rule]
    await sc.ward("ELM", "camhs", "mixed", 12, 2)
    admission = await sc.admit(ARRIVED, **patient)
    if how == "discharged":
        await sc.discharge(admission, LEFT)
    else:
        await sc.transfer(admission, LEFT, away, f"{away[0]}1")
    result = await sc.run(first_run)
    [alert] = await sc.alerts(rule, admission)
    assert (alert.due_at, alert.status, alert.cleared_at) == expected
    assert alert.ward_id == sc.world.wards["ASH"].id
    assert raised(result, rule) == [ARRIVED]


# --- LOS_LONG ----------------------------------------------------------------------------

L = utc(2026, 1, 2, 10)  # admitted (GMT)


async def test_a_discharge_dated_after_as_of_does_not_clear_a_long_stay(sc: Scenario) -> None:
    admission = await sc.admit(L)
    await sc.discharge(admission, L + 60 * D + MIN)  # recorded before the runs
    await sc.run(L + 60 * D)
    assert await sc.dues("LOS_LONG", admission) == []
    await sc.run(L + 60 * D + SEC)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "open", None)]
    await sc.run(L + 60 * D + MIN - SEC)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "open", None)]
    await sc.run(L + 60 * D + MIN)
    assert await sc.states("LOS_LONG", admission) == [(L + 60 * D, "cleared", L + 60 * D + MIN)]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-SEC, []), (timedelta(0), []), (SEC, [(L + 60 * D, "open", None)])],
    ids=["1 s before 60 days", "at 60 days", "1 s after"],
)
async def test_long_stay_on_a_picu_at_60_days(sc: Scenario, offset, expected) -> None:
    await sc.ward("PINE", "picu", "mixed", 18, 2)
    admission = await sc.admit(L, ward="PINE")
    await sc.run(L + 60 * D + offset)
    assert await sc.states("LOS_LONG", admission) == expected
    pine = (await get_ward(sc.session, "PINE")).id
    assert [a.ward_id for a in await sc.alerts("LOS_LONG", admission)] == [pine] * len(expected)


@pytest.mark.parametrize(
    ("changed", "picu", "adult"), [("picu", True, False), ("adult_acute", False, True)]
)
async def test_the_picu_long_stay_threshold_is_its_own(sc: Scenario, changed, picu, adult) -> None:
    """Both 60 days by default; changing one moves only its own ward type's deadline."""
    await sc.ward("PINE", "picu", "mixed", 18, 2)
    on_picu = await sc.admit(L, ward="PINE")
    on_ash = await sc.admit(L)
    await sc.change_rule("LOS_LONG", {changed: "P30D"})
    await sc.run(L + 30 * D + SEC)
    assert await sc.dues("LOS_LONG", on_picu) == ([L + 30 * D] if picu else [])
    assert await sc.dues("LOS_LONG", on_ash) == ([L + 30 * D] if adult else [])


# --- RI_PRONE ----------------------------------------------------------------------------

PRONE_AT = I0 + 5 * MIN  # five minutes into the incident


def prone_for(minutes: int) -> list[dict[str, Any]]:
    end = iso(PRONE_AT + minutes * MIN)
    return [{"type_code": "01", "started_at": iso(PRONE_AT), "ended_at": end}, {"type_code": "07"}]


async def held_prone(sc: Scenario, admission: int | None = None) -> int:
    """Held prone for 3 minutes (medium severity), the record otherwise complete."""
    if admission is None:
        admission = await sc.admit(I0 - 2 * D)
    body = force_record(I0, END, types=prone_for(3), debriefed_at=iso(I0 + 5 * H))
    return await sc.force(admission, body)


async def test_rerunning_never_duplicates_a_prone_restraint(sc: Scenario) -> None:
    sc.clock.now = I0 + 6 * H
    ri = await held_prone(sc)
    first = await sc.run(I0 + 6 * H)
    again = await sc.run(I0 + 6 * H)
    later = await sc.run(I0 + 2 * D)
    assert raised(first, "RI_PRONE") == [PRONE_AT]
    assert raised(again, "RI_PRONE") == raised(later, "RI_PRONE") == []
    assert await sc.states("RI_PRONE", ri) == [(PRONE_AT, "open", None)]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (I0 + 2 * MIN, []),  # the incident had begun, the prone restraint not yet
        (PRONE_AT - SEC, []),
        (PRONE_AT, []),
        (PRONE_AT + SEC, [(PRONE_AT, "open", None)]),
    ],
    ids=["incident begun", "1 s before prone", "as prone began", "1 s after"],
)
async def test_a_prone_restraint_starting_after_as_of_is_not_raised(
    sc: Scenario, as_of, expected
) -> None:
    sc.clock.now = I0 + 6 * H
    ri = await held_prone(sc)
    await sc.run(as_of)
    assert await sc.states("RI_PRONE", ri) == expected


@pytest.mark.parametrize(
    "last_run", [I0 - H, I0 + H], ids=["before the incident", "before it was recorded"]
)
async def test_a_prone_restraint_is_raised_by_the_first_run_days_later(
    sc: Scenario, last_run
) -> None:
    """The scheduler's last run came before the incident, or before staff recorded it,
    and then it was down for four days."""
    sc.clock.now = last_run
    admission = await sc.admit(I0 - 2 * D)
    await sc.run(last_run, now=last_run)
    sc.clock.now = I0 + 6 * H
    ri = await held_prone(sc, admission)
    sc.clock.now = I0 + 4 * D
    result = await sc.run(I0 + 4 * D)
    [alert] = await sc.alerts("RI_PRONE", ri)
    assert (alert.due_at, alert.status, alert.severity) == (PRONE_AT, "open", "medium")
    assert raised(result, "RI_PRONE") == [PRONE_AT]


# --- OAP_INAPPROPRIATE and OAP_DISTANCE --------------------------------------------------

P = utc(2026, 2, 2, 8)  # placed (GMT)


async def test_a_placement_starting_after_as_of_is_not_raised(sc: FlowScenario) -> None:
    # For want of a local bed, in London (about 272 km from home): both rules apply.
    placement = int((await sc.place(await sc.patient(), P))["id"])
    for as_of in (P - D, P - SEC, P):
        await sc.run_api(as_of)
        assert await sc.alerts("OAP_INAPPROPRIATE") == []
        assert await sc.alerts("OAP_DISTANCE") == []
    await sc.run_api(P + SEC)
    for rule in ("OAP_INAPPROPRIATE", "OAP_DISTANCE"):
        assert await sc.states_on(rule, "out_of_area_placement", placement) == [(P, "open", None)]


@pytest.mark.parametrize("ended", [P + SEC, P + 5 * D], ids=["a second after", "days later"])
async def test_a_far_placement_ended_before_the_first_run_is_raised_already_cleared(
    sc: FlowScenario, ended
) -> None:
    placement = int((await sc.place(await sc.patient(), P, reason="14"))["id"])
    await sc.end_placement(placement, ended)
    body = await sc.run_api(P + 10 * D)
    assert await sc.states_on("OAP_DISTANCE", "out_of_area_placement", placement) == [
        (P, "cleared", ended)
    ]
    assert [a["rule"] for a in body["raised"]] == ["OAP_DISTANCE"]
