"""Late-typed records move alerts both ways (RULES.md 1.1, issue 22): an alert raised
before a record was typed in, whose deadline the record shows was met, is withdrawn with
the record that withdrew it; it leaves the queue and stays in the history and audit log.

Each test is the issue's reproduction for one rule: a run, a record typed in late (the
clock is when it is typed, the body says when it happened), another run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.alerts.models import Alert
from app.audit.models import AuditEntry
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

S = utc(2026, 3, 9, 8)  # an episode starts (GMT: UTC is local time)


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    return Scenario(session, client, world, clock)


async def secluded(sc: Scenario, role: str) -> int:
    sc.clock.now = S
    admission = await sc.admit(S - 2 * H)
    return await sc.seclusion(admission, S, role)


async def at(sc: Scenario, moment: datetime) -> None:
    """What follows is typed in at this moment."""
    sc.clock.now = moment


async def withdrawn_by(sc: Scenario, alert: Alert) -> tuple[str | None, int | None, str | None]:
    return alert.withdrawn_by_type, alert.withdrawn_by_id, alert.withdrawn_reason


async def audit_actions(sc: Scenario, alert_id: int) -> list[str]:
    rows = await sc.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "alerts", AuditEntry.entity_id == str(alert_id))
        .order_by(AuditEntry.id)
    )
    return list(rows)


async def test_nursing_review_typed_late_withdraws_the_alert_it_met(sc: Scenario) -> None:
    """The issue's reproduction, step by step."""
    rule = "SECL_NURSING_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")
    await sc.run(S + 3 * H)
    assert await sc.states(rule, seclusion) == [(S + 2 * H, "open", None)]

    await at(sc, S + 3 * H + 5 * MIN)
    await sc.seclusion_review(seclusion, "nursing", S + H)  # happened at S+1h, typed now
    result = await sc.run(S + 3 * H + 30 * MIN)
    assert await sc.states(rule, seclusion) == [
        (S + 2 * H, "withdrawn", None),  # the chain moved: S+1h, then S+3h
        (S + 3 * H, "open", None),
    ]
    [stale] = result.withdrawn
    assert stale.due_at == S + 2 * H
    assert stale.withdrawn_at == S + 3 * H + 30 * MIN
    assert stale.withdrawn_by_type == "seclusion_reviews"
    assert stale.withdrawn_reason == "the nursing review at 09:00 on 09 Mar 2026 was recorded late"

    await at(sc, S + 5 * H + 10 * MIN)
    await sc.seclusion_review(seclusion, "nursing", S + 4 * H)
    await sc.end_seclusion(seclusion, S + 5 * H)
    await sc.run(S + 6 * H)
    assert await sc.states(rule, seclusion) == [
        (S + 2 * H, "withdrawn", None),
        (S + 3 * H, "cleared", S + 4 * H),
    ]
    assert await audit_actions(sc, stale.id) == ["alert.raise", "alert.withdraw"]


async def test_first_medical_review_typed_late_withdraws_its_alert(sc: Scenario) -> None:
    rule = "SECL_MEDICAL_FIRST"
    seclusion = await secluded(sc, "nurse_in_charge")
    await sc.run(S + 2 * H)
    assert await sc.states(rule, seclusion) == [(S + H, "open", None)]
    await at(sc, S + 2 * H + MIN)
    await sc.seclusion_review(seclusion, "medical", S + 50 * MIN)
    await sc.run(S + 2 * H + 30 * MIN)
    [alert] = await sc.alerts(rule, seclusion)
    assert (alert.status, alert.cleared_at) == ("withdrawn", None)
    assert alert.withdrawn_by_type == "seclusion_reviews"
    assert alert.withdrawn_reason == "the medical review at 08:50 on 09 Mar 2026 was recorded late"
    # The medical chain runs from the review typed late, not from the missed deadline.
    await sc.run(S + 5 * H)
    assert await sc.states("SECL_MEDICAL_REVIEW", seclusion) == [
        (S + 4 * H + 50 * MIN, "open", None)
    ]


async def test_medical_review_typed_late_moves_the_four_hourly_chain(sc: Scenario) -> None:
    rule = "SECL_MEDICAL_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")  # 4-hourly from the start
    await sc.run(S + 5 * H)
    assert await sc.states(rule, seclusion) == [(S + 4 * H, "open", None)]
    await at(sc, S + 5 * H + MIN)
    await sc.seclusion_review(seclusion, "medical", S + 3 * H)
    await sc.run(S + 7 * H + MIN)
    assert await sc.states(rule, seclusion) == [
        (S + 4 * H, "withdrawn", None),
        (S + 7 * H, "open", None),
    ]


async def test_approved_clinician_review_typed_late_withdraws_the_lts_alert(
    sc: Scenario,
) -> None:
    rule = "LTS_AC_REVIEW"
    sc.clock.now = S + H
    admission = await sc.admit(S - D)
    segregation = await sc.segregation(admission, S, commissioner=S + H, imha=S + H)
    await sc.run(S + 25 * H)
    assert await sc.states(rule, segregation) == [(S + 24 * H, "open", None)]
    await at(sc, S + 25 * H + MIN)
    await sc.segregation_review(segregation, "approved_clinician", S + 20 * H)
    await sc.run(S + 26 * H)
    [alert] = await sc.alerts(rule, segregation)
    assert alert.status == "withdrawn"
    assert alert.withdrawn_by_type == "segregation_reviews"


async def test_segregation_end_typed_late_withdraws_the_deadlines_after_it(sc: Scenario) -> None:
    rule = "LTS_AC_REVIEW"
    sc.clock.now = S + H
    admission = await sc.admit(S - D)
    segregation = await sc.segregation(admission, S, commissioner=S + H, imha=S + H)
    await sc.run(S + 49 * H)
    assert await sc.dues(rule, segregation) == [S + 24 * H, S + 48 * H]
    await at(sc, S + 49 * H + MIN)
    await sc.end_segregation(segregation, S + 30 * H)
    await sc.run(S + 50 * H)
    assert await sc.states(rule, segregation) == [
        (S + 24 * H, "cleared", S + 30 * H),  # missed, then the segregation ended
        (S + 48 * H, "withdrawn", None),  # it had ended before: nothing was owed
    ]
    [alert] = [a for a in await sc.alerts(rule, segregation) if a.status == "withdrawn"]
    assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("segregations", segregation)
    assert alert.withdrawn_reason == (
        "the end of the segregation at 14:00 on 10 Mar 2026 was recorded late"
    )


async def test_purpose_review_typed_late_withdraws_its_alert(sc: Scenario) -> None:
    rule = "ADM_PURPOSE_REVIEW"
    sc.clock.now = S
    admission = await sc.admit(S)
    await sc.run(S + 73 * H)
    assert await sc.states(rule, admission) == [(S + 72 * H, "open", None)]
    await at(sc, S + 73 * H + MIN)
    await sc.purpose_review(admission, S + 70 * H)
    await sc.run(S + 74 * H)
    [alert] = await sc.alerts(rule, admission)
    assert alert.status == "withdrawn"
    assert alert.withdrawn_by_type == "purpose_reviews"


async def test_discharge_typed_late_withdraws_the_purpose_reviews_after_it(sc: Scenario) -> None:
    rule = "ADM_PURPOSE_REVIEW"
    sc.clock.now = S
    admission = await sc.admit(S)
    await sc.run(S + 72 * H + 8 * D)
    assert await sc.dues(rule, admission) == [S + 72 * H, S + 72 * H + 7 * D]
    await at(sc, S + 72 * H + 8 * D + MIN)
    await sc.discharge(admission, S + 100 * H)
    await sc.run(S + 72 * H + 8 * D + H)
    assert await sc.states(rule, admission) == [
        (S + 72 * H, "cleared", S + 100 * H),
        (S + 72 * H + 7 * D, "withdrawn", None),
    ]
    [alert] = [a for a in await sc.alerts(rule, admission) if a.status == "withdrawn"]
    assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("admissions", admission)


async def test_an_ended_episode_is_read_again_when_a_review_is_typed_into_it(
    sc: Scenario,
) -> None:
    """A windowed run: the seclusion ended before the window and its only alert is already
    cleared (nothing to clear, nothing new), yet a review typed in since must be judged."""
    rule = "SECL_NURSING_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")
    await at(sc, S + 4 * H)
    await sc.seclusion_review(seclusion, "nursing", S + 3 * H)
    await sc.end_seclusion(seclusion, S + 4 * H)
    await sc.run(S + 5 * H)
    assert await sc.states(rule, seclusion) == [(S + 2 * H, "cleared", S + 3 * H)]
    await at(sc, S + 6 * H)
    await sc.seclusion_review(seclusion, "nursing", S + 90 * MIN)  # next due S+3h30: met
    await sc.run(S + 7 * H)
    assert await sc.states(rule, seclusion) == [(S + 2 * H, "withdrawn", None)]


async def test_a_late_action_typed_in_later_still_earlier_re_times_a_cleared_alert(
    sc: Scenario,
) -> None:
    rule = "SECL_NURSING_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")
    await at(sc, S + 4 * H)
    await sc.seclusion_review(seclusion, "nursing", S + 3 * H + 30 * MIN)
    await sc.run(S + 4 * H)
    assert await sc.states(rule, seclusion) == [(S + 2 * H, "cleared", S + 3 * H + 30 * MIN)]
    await at(sc, S + 5 * H)
    await sc.seclusion_review(seclusion, "nursing", S + 2 * H + 30 * MIN)
    await sc.run(S + 5 * H)
    assert (await sc.states(rule, seclusion))[:1] == [(S + 2 * H, "cleared", S + 2 * H + 30 * MIN)]


async def test_acknowledged_alert_is_withdrawn_keeping_the_note_resolved_stays(
    sc: Scenario,
) -> None:
    rule = "SECL_NURSING_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")
    await sc.run(S + 5 * H)
    first, second = await sc.alerts(rule, seclusion)  # due S+2h and S+4h
    first.status, first.acknowledged_at = "acknowledged", S + 5 * H
    first.acknowledged_by, first.acknowledge_note = "lead", "Asked the nurse in charge"
    second.status, second.resolved_at = "resolved", S + 5 * H
    second.resolved_by, second.resolve_note = "lead", "Spoke to the ward"
    await sc.session.commit()
    await at(sc, S + 5 * H + MIN)
    await sc.seclusion_review(seclusion, "nursing", S + H)
    await sc.seclusion_review(seclusion, "nursing", S + 3 * H)
    await sc.run(S + 5 * H + 2 * MIN)
    first, second = (await sc.alerts(rule, seclusion))[:2]
    assert (first.status, first.acknowledge_note) == ("withdrawn", "Asked the nurse in charge")
    assert second.status == "resolved"


async def test_a_withdrawn_alert_is_reinstated_when_a_later_record_moves_the_chain_back(
    sc: Scenario,
) -> None:
    """Typed in two goes or at once, the same records give the same alerts: S+1h moves the
    chain off S+4h, then S+2h (meeting S+3h) moves it back onto S+4h."""
    rule = "SECL_NURSING_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")
    await sc.run(S + 4 * H + MIN)
    await at(sc, S + 4 * H + 2 * MIN)
    await sc.seclusion_review(seclusion, "nursing", S + H)
    await sc.run(S + 4 * H + 3 * MIN)
    assert await sc.states(rule, seclusion) == [
        (S + 2 * H, "withdrawn", None),
        (S + 3 * H, "open", None),
        (S + 4 * H, "withdrawn", None),
    ]
    await at(sc, S + 4 * H + 4 * MIN)
    await sc.seclusion_review(seclusion, "nursing", S + 2 * H)
    result = await sc.run(S + 4 * H + 5 * MIN)
    assert await sc.states(rule, seclusion) == [
        (S + 2 * H, "withdrawn", None),
        (S + 3 * H, "withdrawn", None),
        (S + 4 * H, "open", None),
    ]
    assert [a.due_at for a in result.reinstated] == [S + 4 * H]


async def test_an_alert_raised_under_another_threshold_is_withdrawn_only_by_an_end_before_it(
    sc: Scenario,
) -> None:
    """RULES.md 3 keeps an alert to the thresholds it was raised under: a chain that no
    longer gives it after a threshold change does not show the deadline was met. An end
    typed late, before the deadline, does (nothing was owed under any threshold)."""
    rule = "SECL_NURSING_REVIEW"
    seclusion = await secluded(sc, "psychiatrist")
    await sc.run(S + 4 * H + MIN)  # S+2h and S+4h, every 2 hours
    await sc.change_rule(rule, {"every": "PT3H"})
    await sc.run(S + 4 * H + 2 * MIN)
    assert await sc.states(rule, seclusion) == [
        (S + 2 * H, "open", None),  # missed under the 2-hourly threshold: stays
        (S + 3 * H, "open", None),
        (S + 4 * H, "open", None),
    ]
    await at(sc, S + 4 * H + 3 * MIN)
    await sc.end_seclusion(seclusion, S + 3 * H + 30 * MIN)  # ended before S+4h
    await sc.run(S + 4 * H + 4 * MIN)
    assert await sc.states(rule, seclusion) == [
        (S + 2 * H, "cleared", S + 3 * H + 30 * MIN),
        (S + 3 * H, "cleared", S + 3 * H + 30 * MIN),
        (S + 4 * H, "withdrawn", None),
    ]


# --- bed flow (issue 22, continued): OAP_REVIEW, ADM_WAIT on bed requests, CRFD_DELAY -------

P = local(2026, 1, 15, 10)  # placed (GMT)
FIRST = local(2026, 4, 15, 10)  # its first 3-monthly review is due (BST)
T = utc(2026, 2, 2, 8)  # a decision to admit; a person is ready for discharge


@pytest.fixture
async def fsc(session, client, world, clock) -> FlowScenario:
    clock.now = T
    return FlowScenario(session, client, world, clock)


async def placement(sc: FlowScenario) -> int:
    sc.clock.now = P
    return int((await sc.place(await sc.patient(), P))["id"])


@pytest.mark.parametrize(
    ("reviewed", "expected"),
    [(FIRST, ("withdrawn", None)), (FIRST + SEC, ("cleared", FIRST + SEC))],
    ids=["at the deadline", "1 s after"],
)
async def test_placement_review_typed_late_withdraws_the_alert_it_met(
    fsc: FlowScenario, reviewed: datetime, expected: tuple[str, datetime | None]
) -> None:
    rule = "OAP_REVIEW"
    oap = await placement(fsc)
    await fsc.run_api(FIRST + D)
    assert await fsc.states_on(rule, "out_of_area_placement", oap) == [(FIRST, "open", None)]
    await at(fsc, FIRST + 2 * D)
    await fsc.review_placement(oap, reviewed)  # happened then, typed now
    result = await fsc.run(FIRST + 3 * D)
    [alert] = await fsc.alerts_on(rule, "out_of_area_placement", oap)
    assert (alert.status, alert.cleared_at) == expected
    if expected[0] == "withdrawn":
        assert [a.id for a in result.withdrawn] == [alert.id]
        assert alert.withdrawn_by_type == "out_of_area_reviews"
        assert alert.withdrawn_reason == (
            "the placement review at 10:00 on 15 Apr 2026 was recorded late"
        )
        assert await audit_actions(fsc, alert.id) == ["alert.raise", "alert.withdraw"]


@pytest.mark.parametrize(
    ("ended", "first"),
    [(FIRST, ("withdrawn", None)), (FIRST + SEC, ("cleared", FIRST + SEC))],
    ids=["at the deadline", "1 s after"],
)
async def test_placement_end_typed_late_withdraws_the_reviews_after_it(
    fsc: FlowScenario, ended: datetime, first: tuple[str, datetime | None]
) -> None:
    rule = "OAP_REVIEW"
    oap = await placement(fsc)
    await fsc.run_api(local(2026, 7, 16))
    assert await fsc.dues(rule, oap) == [FIRST, local(2026, 7, 15, 10)]
    await at(fsc, local(2026, 7, 17))
    await fsc.end_placement(oap, ended)
    await fsc.run(local(2026, 7, 18))
    alerts = await fsc.alerts_on(rule, "out_of_area_placement", oap)
    assert [(a.status, a.cleared_at) for a in alerts] == [first, ("withdrawn", None)]
    assert (alerts[1].withdrawn_by_type, alerts[1].withdrawn_by_id) == (
        "out_of_area_placements",
        oap,
    )


@pytest.mark.parametrize(
    ("ended", "expected"),
    [(FIRST - D, ("withdrawn", None)), (FIRST + D, ("cleared", FIRST + D))],
    ids=["ended before it", "ended after it"],
)
async def test_a_placement_alert_raised_under_another_threshold_follows_only_the_end(
    fsc: FlowScenario, ended: datetime, expected: tuple[str, datetime | None]
) -> None:
    """Raised 3-monthly, then the threshold made 2-monthly: the old alert is kept (by its own
    threshold it was missed), withdrawn by an end typed late before it, cleared by one after."""
    rule = "OAP_REVIEW"
    oap = await placement(fsc)
    await fsc.run_api(FIRST + SEC)
    await fsc.patch_rule(rule, {"parameters": {"every": "P2M"}})
    await fsc.run_api(FIRST + 2 * SEC)
    assert await fsc.states_on(rule, "out_of_area_placement", oap) == [
        (local(2026, 3, 15, 10), "open", None),
        (FIRST, "open", None),  # raised under 3-monthly: stays
    ]
    await at(fsc, FIRST + 2 * D)
    await fsc.end_placement(oap, ended)
    await fsc.run(FIRST + 3 * D)
    alerts = await fsc.alerts_on(rule, "out_of_area_placement", oap)
    assert (alerts[-1].due_at, alerts[-1].status, alerts[-1].cleared_at) == (FIRST, *expected)


@pytest.mark.parametrize(
    ("closed", "expected"),
    [(T + 12 * H, ("withdrawn", None)), (T + 12 * H + SEC, ("cleared", T + 12 * H + SEC))],
    ids=["at the deadline", "1 s after"],
)
async def test_an_admission_typed_late_withdraws_the_wait_it_met(
    fsc: FlowScenario, closed: datetime, expected: tuple[str, datetime | None]
) -> None:
    rule = "ADM_WAIT"
    patient = await fsc.patient()
    request = await fsc.bed_request(patient, T)
    await fsc.run_api(T + 13 * H)
    assert await fsc.states_on(rule, "bed_request", request) == [(T + 12 * H, "open", None)]
    await at(fsc, T + 14 * H)
    admission = await fsc.admit_from_request(request, patient, closed)
    await fsc.run(T + 15 * H)
    [alert] = await fsc.alerts_on(rule, "bed_request", request)
    assert (alert.status, alert.cleared_at) == expected
    if expected[0] == "withdrawn":
        assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("admissions", admission)
        assert alert.withdrawn_reason == "the admission at 20:00 on 02 Feb 2026 was recorded late"
    # The admission that met the request raises no wait of its own either.
    assert await fsc.alerts_on(rule, "admission", admission) == []


@pytest.mark.parametrize(
    ("ended", "expected"),
    [(T + 7 * D, ("withdrawn", None)), (T + 7 * D + SEC, ("cleared", T + 7 * D + SEC))],
    ids=["at the deadline", "1 s after"],
)
async def test_a_ready_for_discharge_end_typed_late_withdraws_the_delay(
    fsc: FlowScenario, ended: datetime, expected: tuple[str, datetime | None]
) -> None:
    rule = "CRFD_DELAY"
    admission = await fsc.admit(T - 20 * D)
    period = await fsc.ready(admission, T)
    await fsc.run_api(T + 8 * D)
    assert await fsc.states_on(rule, "ready_for_discharge", period) == [(T + 7 * D, "open", None)]
    await at(fsc, T + 9 * D)
    await fsc.end_ready(period, ended)
    await fsc.run(T + 10 * D)
    [alert] = await fsc.alerts_on(rule, "ready_for_discharge", period)
    assert (alert.status, alert.cleared_at) == expected
    if expected[0] == "withdrawn":
        assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("ready_for_discharge", period)


async def test_a_discharge_typed_late_withdraws_the_delay_it_ended(fsc: FlowScenario) -> None:
    rule = "CRFD_DELAY"
    admission = await fsc.admit(T - 20 * D)
    period = await fsc.ready(admission, T)
    await fsc.run_api(T + 8 * D)
    await at(fsc, T + 9 * D)
    await fsc.discharge(admission, T + 6 * D)
    await fsc.run(T + 10 * D)
    assert await fsc.states_on(rule, "ready_for_discharge", period) == [
        (T + 7 * D, "withdrawn", None)
    ]


# --- use of force: RI_DEBRIEF, RI_RECORD_INCOMPLETE ----------------------------------------

I0 = utc(2026, 3, 9, 10)  # an incident starts
I1 = I0 + 12 * MIN  # and ends
DEBRIEF_DUE = I1 + 72 * H
RECORD_DUE = I1 + 24 * H


async def force_used(sc: Scenario, **overrides: Any) -> int:
    sc.clock.now = I0 + 6 * H
    admission = await sc.admit(I0 - 2 * D)
    return await sc.force(admission, force_record(I0, I1, **overrides))


@pytest.mark.parametrize(
    ("debriefed", "expected"),
    [(DEBRIEF_DUE, ("withdrawn", None)), (DEBRIEF_DUE + SEC, ("cleared", DEBRIEF_DUE + SEC))],
    ids=["at the deadline", "1 s after"],
)
async def test_a_debrief_typed_late_withdraws_the_alert_it_met(
    sc: Scenario, debriefed: datetime, expected: tuple[str, datetime | None]
) -> None:
    rule = "RI_DEBRIEF"
    ri = await force_used(sc)
    await sc.run(DEBRIEF_DUE + H)
    assert await sc.states(rule, ri) == [(DEBRIEF_DUE, "open", None)]
    await at(sc, DEBRIEF_DUE + 2 * H)
    await sc.patch_force(ri, {"debriefed_at": iso(debriefed)})  # happened then, typed now
    await sc.run(DEBRIEF_DUE + 3 * H)
    [alert] = await sc.alerts(rule, ri)
    assert (alert.status, alert.cleared_at) == expected
    if expected[0] == "withdrawn":
        assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("restrictive_interventions", ri)
        assert alert.withdrawn_reason == "the debrief at 10:12 on 12 Mar 2026 was recorded late"


async def test_a_debrief_alert_raised_under_another_threshold_follows_the_debrief(
    sc: Scenario,
) -> None:
    """Raised at 72 h, the threshold since made 96 h: judged at its own due, a debrief typed
    late and dated before it withdraws it (it was met by the threshold it was raised under)."""
    rule = "RI_DEBRIEF"
    ri = await force_used(sc)
    await sc.run(DEBRIEF_DUE + H)
    await sc.change_rule(rule, {"within": "PT96H"})
    await sc.run(DEBRIEF_DUE + 2 * H)
    assert await sc.states(rule, ri) == [(DEBRIEF_DUE, "open", None)]
    await at(sc, DEBRIEF_DUE + 3 * H)
    await sc.patch_force(ri, {"debriefed_at": iso(DEBRIEF_DUE - H)})
    await sc.run(DEBRIEF_DUE + 4 * H)
    assert await sc.states(rule, ri) == [(DEBRIEF_DUE, "withdrawn", None)]


@pytest.mark.parametrize(
    ("stamped", "expected"),
    [
        (RECORD_DUE, ("withdrawn", None)),
        (RECORD_DUE + SEC, ("cleared", RECORD_DUE + SEC)),
        (RECORD_DUE + 2 * H, ("cleared", RECORD_DUE + 2 * H)),
    ],
    ids=["stamped at the deadline", "1 s after", "completed later"],
)
async def test_a_completed_record_committed_after_the_run_withdraws_the_alert(
    sc: Scenario, stamped: datetime, expected: tuple[str, datetime | None]
) -> None:
    """A record is complete when a complete version of it is recorded: completing it later
    clears the alert at that time, it never withdraws it. Only a version stamped by the
    deadline (a request begun then) that the run raising the alert could not yet see
    withdraws it."""
    rule = "RI_RECORD_INCOMPLETE"
    ri = await force_used(sc, outcome=...)
    await sc.run(RECORD_DUE + 5 * MIN, now=RECORD_DUE + 5 * MIN)
    assert await sc.states(rule, ri) == [(RECORD_DUE, "open", None)]
    await at(sc, stamped)  # the completing request's stamp
    completed = await sc.patch_force(ri, {"outcome": "Settled."})
    await sc.run(RECORD_DUE + 3 * H)
    [alert] = await sc.alerts(rule, ri)
    assert (alert.status, alert.cleared_at) == expected
    if expected[0] == "withdrawn":
        assert alert.withdrawn_by_type == "intervention_versions"
        assert completed["missing"] == []


# --- stays: LOS_LONG ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("discharged", "expected"),
    [(S + 60 * D, ("withdrawn", None)), (S + 60 * D + SEC, ("cleared", S + 60 * D + SEC))],
    ids=["at the deadline", "1 s after"],
)
async def test_a_discharge_typed_late_withdraws_the_long_stay(
    sc: Scenario, discharged: datetime, expected: tuple[str, datetime | None]
) -> None:
    rule = "LOS_LONG"
    sc.clock.now = S
    admission = await sc.admit(S)  # an adult acute ward: 60 days
    await sc.run(S + 61 * D)
    assert await sc.states(rule, admission) == [(S + 60 * D, "open", None)]
    await at(sc, S + 62 * D)
    await sc.discharge(admission, discharged)
    await sc.run(S + 63 * D)
    [alert] = await sc.alerts(rule, admission)
    assert (alert.status, alert.cleared_at) == expected
    if expected[0] == "withdrawn":
        assert (alert.withdrawn_by_type, alert.withdrawn_by_id) == ("admissions", admission)
        assert (
            alert.withdrawn_reason == "the discharge at 09:00 on 08 May 2026 was recorded late"
        )  # BST


async def test_a_long_stay_raised_under_another_threshold_follows_only_the_discharge(
    sc: Scenario,
) -> None:
    rule = "LOS_LONG"
    sc.clock.now = S
    admission = await sc.admit(S)
    await sc.run(S + 61 * D)
    await sc.change_rule(rule, {"adult_acute": "P90D", "picu": "P60D", "older_adult_acute": "P90D"})
    await sc.run(S + 61 * D + MIN)
    assert await sc.states(rule, admission) == [(S + 60 * D, "open", None)]  # kept
    await at(sc, S + 62 * D)
    await sc.discharge(admission, S + 59 * D)
    await sc.run(S + 63 * D)
    assert await sc.states(rule, admission) == [(S + 60 * D, "withdrawn", None)]


# --- stays: ADM_MIXED_SEX, ADM_UNDER_18_ADULT_WARD ----------------------------------------


@pytest.mark.parametrize(
    ("moved", "expected"),
    [(S, ("withdrawn", None)), (S + SEC, ("cleared", S + SEC))],
    ids=["at arrival", "1 s after"],
)
async def test_a_transfer_typed_late_shows_the_person_never_was_on_the_ward(
    sc: Scenario, moved: datetime, expected: tuple[str, datetime | None]
) -> None:
    """Admitted onto the women's adult ward (ASH) in the system, in fact taken straight to
    the mixed young people's ward (ELM): the transfer, typed in later at the moment of
    arrival, withdraws both alerts; a second later, they were on ASH: cleared then."""
    sc.clock.now = S
    await sc.ward("ELM", "camhs", "mixed", 12, 2)
    admission = await sc.admit(S, sex="male", date_of_birth="2008-06-01")  # 17, on ASH (18+)
    await sc.run(S + H)
    for rule in ("ADM_MIXED_SEX", "ADM_UNDER_18_ADULT_WARD"):
        assert await sc.states(rule, admission) == [(S, "open", None)]
    await at(sc, S + 2 * H)
    await sc.transfer(admission, moved, "ELM", "E1")
    await sc.run(S + 3 * H)
    for rule in ("ADM_MIXED_SEX", "ADM_UNDER_18_ADULT_WARD"):
        [alert] = await sc.alerts(rule, admission)
        assert (alert.due_at, alert.status, alert.cleared_at) == (S, *expected), rule
        if expected[0] == "withdrawn":
            assert alert.withdrawn_by_type == "ward_stays"
            assert (
                alert.withdrawn_reason == "the transfer at 08:00 on 09 Mar 2026 was recorded late"
            )
