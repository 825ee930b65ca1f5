"""The use-of-force rules (RULES.md section 2, "Use of force") as stored alerts: RI_PRONE and
its severity, RI_RECORD_INCOMPLETE judged from the record's versions as recorded, and
RI_DEBRIEF."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.alerts.scenario import MIN, SEC, D, H, Scenario, force_record, iso, utc

I0 = utc(2026, 3, 9, 10)  # the incident starts (GMT)
END = I0 + 12 * MIN
PRONE_AT = I0 + MIN


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    sc = Scenario(session, client, world, clock)
    sc.clock.now = I0 + 6 * H  # staff write the record after the incident
    return sc


def record(**overrides: Any) -> dict[str, Any]:
    """A complete record, debriefed 5 hours after it began; ... drops an item."""
    return force_record(I0, END, **{"debriefed_at": iso(I0 + 5 * H), **overrides})


async def intervention(sc: Scenario, **overrides: Any) -> int:
    admission = await sc.admit(I0 - 2 * D)
    return await sc.force(admission, record(**overrides))


def prone(minutes: int | None) -> list[dict[str, Any]]:
    start = PRONE_AT
    end = None if minutes is None else iso(start + minutes * MIN)
    return [{"type_code": "01", "started_at": iso(start), "ended_at": end}, {"type_code": "07"}]


# --- RI_PRONE -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "severity"),
    [(3, "medium"), (10, "medium"), (11, "high"), (None, "high")],
    ids=["3 min", "10 min", "11 min", "end not recorded"],
)
async def test_every_prone_restraint_high_when_over_10_minutes(
    sc: Scenario, minutes, severity
) -> None:
    overrides: dict[str, Any] = {"types": prone(minutes)}
    if minutes is None:
        overrides["ended_at"] = None
    ri = await intervention(sc, **overrides)
    await sc.run(PRONE_AT)
    assert await sc.dues("RI_PRONE", ri) == []
    await sc.run(PRONE_AT + SEC)
    [alert] = await sc.alerts("RI_PRONE", ri)
    assert (alert.due_at, alert.status, alert.severity) == (PRONE_AT, "open", severity)
    assert alert.subject_type == "restrictive_intervention"
    assert alert.ward_id == sc.world.wards["ASH"].id


async def test_no_prone_alert_without_prone_restraint(sc: Scenario) -> None:
    ri = await intervention(sc)
    await sc.run(I0 + D)
    assert await sc.dues("RI_PRONE", ri) == []


async def test_prone_threshold_change(sc: Scenario) -> None:
    await sc.change_rule("RI_PRONE", {"high_after": "PT2M"})
    ri = await intervention(sc, types=prone(3))
    await sc.run(I0 + H)
    [alert] = await sc.alerts("RI_PRONE", ri)
    assert (alert.severity, alert.parameters) == ("high", {"high_after": "PT2M"})


# --- RI_RECORD_INCOMPLETE -----------------------------------------------------------------

DUE = END + 24 * H


async def test_a_complete_record_raises_nothing(sc: Scenario) -> None:
    ri = await intervention(sc)
    await sc.run(DUE + D)
    assert await sc.dues("RI_RECORD_INCOMPLETE", ri) == []


async def test_incomplete_record_raised_strictly_after_24_hours_from_the_end(sc: Scenario) -> None:
    ri = await intervention(sc, outcome=None)
    await sc.run(DUE)
    assert await sc.dues("RI_RECORD_INCOMPLETE", ri) == []
    await sc.run(DUE + SEC)
    [alert] = await sc.alerts("RI_RECORD_INCOMPLETE", ri)
    assert (alert.due_at, alert.status, alert.severity) == (DUE, "open", "medium")


@pytest.mark.parametrize(
    ("completed", "expected"),
    [
        (DUE - H, []),
        (DUE, []),  # the version recorded at the deadline counts
        (DUE + 2 * H, [(DUE, "cleared", DUE + 2 * H)]),
    ],
    ids=["before the deadline", "at it", "after it"],
)
async def test_record_completed_judged_by_when_the_version_was_recorded(
    sc: Scenario, completed, expected
) -> None:
    ri = await intervention(sc, outcome=None)
    sc.clock.now = completed
    await sc.patch_force(ri, {"outcome": "Settled."})
    await sc.run(DUE + 3 * H)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == expected


async def test_completed_late_clears_the_open_alert_on_the_next_run(sc: Scenario) -> None:
    ri = await intervention(sc, outcome=None)
    await sc.run(DUE + H)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(DUE, "open", None)]
    sc.clock.now = DUE + 2 * H
    await sc.patch_force(ri, {"outcome": "Settled."})
    # a run about an as_of before the completing version was recorded still finds it missing
    await sc.run(DUE + 90 * MIN, now=sc.clock.now)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(DUE, "open", None)]
    await sc.run(DUE + 2 * H)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(DUE, "cleared", DUE + 2 * H)]


async def test_a_version_that_removes_an_item_again_is_incomplete(sc: Scenario) -> None:
    ri = await intervention(sc)
    sc.clock.now = I0 + 20 * H
    await sc.patch_force(ri, {"outcome": "", "correction_reason": "Outcome was for another case"})
    await sc.run(DUE + SEC)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(DUE, "open", None)]


async def test_no_end_recorded_counts_from_the_start(sc: Scenario) -> None:
    ri = await intervention(sc, ended_at=None)
    await sc.run(I0 + 24 * H)
    assert await sc.dues("RI_RECORD_INCOMPLETE", ri) == []
    await sc.run(I0 + 24 * H + SEC)
    assert await sc.dues("RI_RECORD_INCOMPLETE", ri) == [I0 + 24 * H]


async def test_record_incomplete_threshold_change(sc: Scenario) -> None:
    await sc.change_rule("RI_RECORD_INCOMPLETE", {"within": "PT12H"})
    ri = await intervention(sc, staff=None)
    await sc.run(END + 12 * H + SEC)
    [alert] = await sc.alerts("RI_RECORD_INCOMPLETE", ri)
    assert (alert.due_at, alert.parameters) == (END + 12 * H, {"within": "PT12H"})


# --- RI_DEBRIEF ---------------------------------------------------------------------------

DEBRIEF_DUE = END + 72 * H


@pytest.mark.parametrize(
    ("debriefed", "expected"),
    [
        (DEBRIEF_DUE, []),
        (DEBRIEF_DUE + MIN, [(DEBRIEF_DUE, "cleared", DEBRIEF_DUE + MIN)]),
        (None, [(DEBRIEF_DUE, "open", None)]),
    ],
    ids=["at 72 h", "after", "none"],
)
async def test_debrief_within_72_hours_of_the_end(sc: Scenario, debriefed, expected) -> None:
    sc.clock.now = I0 + 10 * D
    ri = await intervention(sc, debriefed_at=None if debriefed is None else iso(debriefed))
    await sc.run(DEBRIEF_DUE)
    assert await sc.dues("RI_DEBRIEF", ri) == []
    await sc.run(DEBRIEF_DUE + 2 * MIN)
    assert await sc.states("RI_DEBRIEF", ri) == expected
    if expected:
        assert (await sc.alerts("RI_DEBRIEF", ri))[0].severity == "low"


async def test_debrief_recorded_later_counts_from_when_it_happened(sc: Scenario) -> None:
    ri = await intervention(sc, debriefed_at=None)
    await sc.run(DEBRIEF_DUE + H)
    assert await sc.states("RI_DEBRIEF", ri) == [(DEBRIEF_DUE, "open", None)]
    debriefed: datetime = DEBRIEF_DUE + 3 * H
    sc.clock.now = debriefed + D
    await sc.patch_force(ri, {"debriefed_at": iso(debriefed)})
    await sc.run(debriefed - MIN)  # the debrief had not happened by then
    assert await sc.states("RI_DEBRIEF", ri) == [(DEBRIEF_DUE, "open", None)]
    await sc.run(debriefed)
    assert await sc.states("RI_DEBRIEF", ri) == [(DEBRIEF_DUE, "cleared", debriefed)]


async def test_prone_restraint_added_when_the_record_is_completed_later(sc: Scenario) -> None:
    """The record is started in a hurry (no types), the scheduler runs, and the types are
    added later with PATCH: the prone restraint must still be raised."""
    sc.clock.now = I0 + 20 * MIN
    ri = await intervention(sc, types=None, ended_at=None, debriefed_at=None)
    await sc.run(I0 + H)
    assert await sc.dues("RI_PRONE", ri) == []
    sc.clock.now = I0 + 5 * H
    await sc.patch_force(ri, {"types": prone(3), "ended_at": iso(END)})
    await sc.run(I0 + 5 * H)
    assert await sc.dues("RI_PRONE", ri) == [PRONE_AT]


# --- an end recorded after the deadline counted from the start ----------------------------


async def test_an_end_recorded_late_moves_the_deadline_and_the_first_alert_still_clears(
    sc: Scenario,
) -> None:
    """The record is saved with no end and no outcome; 24 h after the start it is a breach.
    The end added a day later moves the deadline, but the alert already raised is still
    owed its action: it must clear when the record is completed, not stay open for ever."""
    ri = await intervention(sc, ended_at=None, outcome=None)
    await sc.run(I0 + 24 * H + SEC)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(I0 + 24 * H, "open", None)]

    sc.clock.now = I0 + 30 * H
    await sc.patch_force(ri, {"ended_at": iso(END)})
    await sc.run(I0 + 30 * H)
    # still incomplete at both deadlines, the one from the start and the one from the end
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [
        (I0 + 24 * H, "open", None),
        (DUE, "open", None),
    ]

    completed = I0 + 40 * H
    sc.clock.now = completed
    await sc.patch_force(ri, {"outcome": "Settled."})
    await sc.run(completed - SEC, now=completed)
    assert [s for _, s, _ in await sc.states("RI_RECORD_INCOMPLETE", ri)] == ["open", "open"]
    await sc.run(completed)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [
        (I0 + 24 * H, "cleared", completed),
        (DUE, "cleared", completed),
    ]


async def test_an_end_recorded_late_then_a_debrief_clears_every_debrief_alert(
    sc: Scenario,
) -> None:
    ri = await intervention(sc, ended_at=None, debriefed_at=None)
    await sc.run(I0 + 72 * H + SEC)
    assert await sc.states("RI_DEBRIEF", ri) == [(I0 + 72 * H, "open", None)]

    sc.clock.now = I0 + 73 * H
    await sc.patch_force(ri, {"ended_at": iso(END)})
    await sc.run(I0 + 73 * H)
    assert await sc.states("RI_DEBRIEF", ri) == [
        (I0 + 72 * H, "open", None),
        (DEBRIEF_DUE, "open", None),
    ]

    debriefed = I0 + 4 * D
    sc.clock.now = debriefed + H
    await sc.patch_force(ri, {"debriefed_at": iso(debriefed)})
    await sc.run(debriefed)
    assert await sc.states("RI_DEBRIEF", ri) == [
        (I0 + 72 * H, "cleared", debriefed),
        (DEBRIEF_DUE, "cleared", debriefed),
    ]


async def test_a_debrief_before_an_end_recorded_late_clears_the_alert_from_the_start(
    sc: Scenario,
) -> None:
    """Debriefed at 80 h, the end (12 min in) typed in afterwards: the deadline from the end
    was missed too, so both alerts are there, and both were done at the debrief."""
    ri = await intervention(sc, ended_at=None, debriefed_at=None)
    await sc.run(I0 + 72 * H + SEC)
    debriefed = I0 + 80 * H
    sc.clock.now = debriefed + H
    await sc.patch_force(ri, {"ended_at": iso(END), "debriefed_at": iso(debriefed)})
    await sc.run(debriefed + H)
    assert await sc.states("RI_DEBRIEF", ri) == [
        (I0 + 72 * H, "cleared", debriefed),
        (DEBRIEF_DUE, "cleared", debriefed),
    ]


async def test_a_run_into_the_past_leaves_an_incomplete_record_alert_open(sc: Scenario) -> None:
    """Complete at first, then an item removed by a correction: the alert at the deadline
    is open. A person asking what was breached as of a time before the deadline must not
    clear it (the versions then were complete, but the deadline had not come)."""
    ri = await intervention(sc)
    sc.clock.now = I0 + 20 * H
    await sc.patch_force(ri, {"outcome": "", "correction_reason": "Outcome was for another case"})
    sc.clock.now = DUE + H
    await sc.run(DUE + H)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(DUE, "open", None)]
    await sc.run(I0 + 10 * H, now=DUE + 2 * H)
    assert await sc.states("RI_RECORD_INCOMPLETE", ri) == [(DUE, "open", None)]
