"""Bed-flow rules (RULES.md section 2) as stored alerts: ADM_WAIT on the waiting list,
CRFD_DELAY, OAP_INAPPROPRIATE, OAP_REVIEW and OAP_DISTANCE. Records are made through the
JSON API as bed managers and ward staff make them; runs go through POST /rules/run; rule
changes through PATCH /rules/{code}. Each rule: just before and just after its deadline, a
late action, a run after long downtime, reruns, records after as_of, a threshold change, a
late-recorded end seen by an incremental run, and switched off. Then the alert pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest

from app.alerts.models import Alert
from tests.alerts.scenario import (
    MIN,
    PRIORY_LONDON,
    SEC,
    YORK_CLINIC,
    D,
    FlowScenario,
    H,
    local,
    utc,
)
from tests.auth.helpers import parse

T = utc(2026, 2, 2, 8)  # a decision to admit; a placement starts; a person is ready (GMT)
LATE_CLOCK = utc(2027, 12, 1)  # for histories that run over months


@pytest.fixture
async def sc(session, client, world, clock) -> FlowScenario:
    return FlowScenario(session, client, world, clock)


async def waiting(sc: FlowScenario, decided: datetime = T) -> tuple[int, int]:
    """A person waiting for a bed: (patient id, bed request id)."""
    patient = await sc.patient()
    return patient, await sc.bed_request(patient, decided)


async def ready_since(sc: FlowScenario, start: datetime = T) -> tuple[int, int]:
    """A person on ASH since 20 days before ``start``, ready for discharge from ``start``:
    (admission id, period id)."""
    admission = await sc.admit(start - 20 * D)
    return admission, await sc.ready(admission, start)


async def placed(sc: FlowScenario, start: datetime = T, **kwargs) -> int:
    return int((await sc.place(await sc.patient(), start, **kwargs))["id"])


def ward_id(sc: FlowScenario, code: str) -> int:
    return sc.world.wards[code].id


# --- ADM_WAIT: the waiting list ----------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(T + 12 * H, []), (T + 12 * H + SEC, [(T + 12 * H, "open", None)])],
    ids=["at the deadline", "1 s after"],
)
async def test_a_request_still_open_12_hours_after_the_decision(sc, as_of, expected) -> None:
    _, request = await waiting(sc)
    await sc.run_api(as_of)
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == expected


async def test_a_waiting_alert_is_high_severity_and_on_no_ward_while_waiting(sc) -> None:
    _, request = await waiting(sc)
    body = await sc.run_api(T + 13 * H)
    [alert] = await sc.alerts_on("ADM_WAIT", "bed_request", request)
    assert (alert.severity, alert.admission_id, alert.ward_id) == ("high", None, None)
    assert alert.parameters == {"threshold": "PT12H"}
    assert "decision to admit 02 Feb 08:00" in alert.message
    [raised] = [a for a in body["raised"] if a["rule"] == "ADM_WAIT"]
    assert (raised["subject_type"], raised["subject_id"]) == ("bed_request", request)


@pytest.mark.parametrize(
    ("closed", "expected"),
    [(T + 12 * H, []), (T + 12 * H + MIN, [(T + 12 * H, "cleared", T + 12 * H + MIN)])],
    ids=["at the deadline", "a minute late"],
)
@pytest.mark.parametrize("how", ["admitted", "placed out of area", "cancelled"])
async def test_a_request_closed_at_the_deadline_is_not_a_breach(sc, how, closed, expected) -> None:
    patient, request = await waiting(sc)
    if how == "admitted":
        await sc.admit_from_request(request, patient, closed)
    elif how == "placed out of area":
        await sc.place(patient, closed, reason="11", where=YORK_CLINIC, request_id=request)
    else:
        await sc.cancel_request(request, closed)
    await sc.run_api(T + D)
    # raised already cleared when the request closed late: the run came after it
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == expected


async def test_admitted_after_14_hours_one_alert_on_the_request_with_the_ward(sc) -> None:
    patient, request = await waiting(sc)
    admission = await sc.admit_from_request(request, patient, T + 14 * H, ward="CEDAR", bed="C2")
    await sc.run_api(T + D)
    [alert] = await sc.alerts("ADM_WAIT")
    assert (alert.subject_type, alert.subject_id) == ("bed_request", request)
    assert (alert.due_at, alert.status, alert.cleared_at) == (T + 12 * H, "cleared", T + 14 * H)
    assert (alert.admission_id, alert.ward_id) == (admission, ward_id(sc, "CEDAR"))


@pytest.mark.parametrize("named", [True, False], ids=["request named", "person's own request"])
async def test_a_request_and_the_admission_that_met_it_give_one_alert(sc, named) -> None:
    """Runs while the person waited and after they were admitted: the wait is raised once,
    on the request, not again on the admission (which takes the request's decision time,
    or gives its own)."""
    sc.clock.now = T
    patient, request = await waiting(sc)
    await sc.run_api(T + 13 * H)
    sc.clock.now = T + 14 * H
    if named:
        await sc.admit_from_request(request, patient, T + 14 * H, decision_to_admit_at=T)
    else:
        await sc.admit(T + 14 * H, patient_id=patient)
    await sc.run_api(T + 15 * H)
    await sc.run_api(T + 3 * D)
    assert [(a.subject_type, a.subject_id) for a in await sc.alerts("ADM_WAIT")] == [
        ("bed_request", request)
    ]
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [
        (T + 12 * H, "cleared", T + 14 * H)
    ]


async def test_an_admission_without_a_request_still_raises_its_own_wait(sc) -> None:
    admission = await sc.admit(T + 14 * H, decision_to_admit_at=T)
    await sc.run_api(T + D)
    assert await sc.states_on("ADM_WAIT", "admission", admission) == [
        (T + 12 * H, "cleared", T + 14 * H)
    ]


async def test_an_admission_after_as_of_does_not_count(sc) -> None:
    patient, request = await waiting(sc)
    await sc.admit_from_request(request, patient, T + 20 * H)  # recorded now, before the runs
    await sc.run_api(T + 20 * H - SEC)
    [alert] = await sc.alerts_on("ADM_WAIT", "bed_request", request)
    assert (alert.status, alert.cleared_at) == ("open", None)
    # as of then the person was still waiting, on no ward
    assert (alert.admission_id, alert.ward_id) == (None, None)
    await sc.run_api(T + 20 * H)  # the first run at or after the admission clears it
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [
        (T + 12 * H, "cleared", T + 20 * H)
    ]


async def test_an_admissions_wait_alert_never_touches_the_request_with_the_same_id(
    sc, session
) -> None:
    """ADM_WAIT is raised on admissions and on requests, whose ids overlap: an open alert
    on admission N is not the waiting list's to clear when request N closes."""
    _, request = await waiting(sc)
    await sc.cancel_request(request, T + 3 * H)
    other = Alert(
        rule="ADM_WAIT", severity="high", status="open", subject_type="admission",
        subject_id=request, due_at=T + 5 * H, raised_at=T + 6 * H,
        parameters={"threshold": "PT12H"}, message="Waiting for a bed",
    )  # fmt: skip
    session.add(other)
    await session.commit()
    await sc.run_api(T + D)
    assert await sc.alerts_on("ADM_WAIT", "bed_request", request) == []
    assert await sc.states_on("ADM_WAIT", "admission", request) == [(T + 5 * H, "open", None)]


async def test_reruns_never_duplicate_the_wait(sc) -> None:
    _, request = await waiting(sc)
    first = await sc.run_api(T + 13 * H)
    again = await sc.run_api(T + 13 * H)
    later = await sc.run_api(T + 5 * D)
    assert [a["subject_id"] for a in first["raised"] if a["rule"] == "ADM_WAIT"] == [request]
    assert [a for a in again["raised"] + later["raised"] if a["rule"] == "ADM_WAIT"] == []
    assert await sc.dues("ADM_WAIT") == [T + 12 * H]


async def test_a_cancellation_recorded_late_withdraws_the_alert(sc) -> None:
    """Cancelled at 11 h, typed in after a run had raised the wait: nothing was owed at
    12 h, so the next (incremental) run withdraws it (RULES.md 1.1)."""
    sc.clock.now = T
    _, request = await waiting(sc)
    await sc.run_api(T + 13 * H)
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [(T + 12 * H, "open", None)]
    sc.clock.now = T + 14 * H
    await sc.cancel_request(request, T + 11 * H)
    await sc.run_api(T + 15 * H)
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [
        (T + 12 * H, "withdrawn", None)
    ]


async def test_a_wait_typed_in_after_the_previous_run_is_still_raised(sc) -> None:
    """Decided, waited 13 h and cancelled, all before the previous run's as_of, but typed in
    after that run: the next run must still look at it."""
    sc.clock.now = T
    await sc.run_api(T + 20 * H)
    sc.clock.now = T + 30 * H
    _, request = await waiting(sc, decided=T + H)
    await sc.cancel_request(request, T + 14 * H)
    await sc.run_api(T + 31 * H)
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [
        (T + 13 * H, "cleared", T + 14 * H)
    ]


async def test_a_stricter_wait_applies_from_the_next_run(sc) -> None:
    sc.clock.now = T
    _, request = await waiting(sc)
    await sc.run_api(T + 6 * H)
    assert await sc.alerts("ADM_WAIT") == []
    await sc.patch_rule("ADM_WAIT", {"parameters": {"threshold": "PT4H"}})
    await sc.run_api(T + 6 * H + MIN)
    [alert] = await sc.alerts_on("ADM_WAIT", "bed_request", request)
    assert (alert.due_at, alert.status, alert.parameters) == (
        T + 4 * H,
        "open",
        {"threshold": "PT4H"},
    )


async def test_an_alert_raised_under_the_old_threshold_clears_when_the_wait_ends(sc) -> None:
    sc.clock.now = T
    patient, request = await waiting(sc)
    await sc.run_api(T + 13 * H)
    await sc.patch_rule("ADM_WAIT", {"parameters": {"threshold": "PT4H"}})
    await sc.run_api(T + 14 * H)
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [
        (T + 4 * H, "open", None),
        (T + 12 * H, "open", None),
    ]
    sc.clock.now = T + 20 * H
    await sc.admit_from_request(request, patient, T + 20 * H)
    await sc.run_api(T + 21 * H)
    assert await sc.states_on("ADM_WAIT", "bed_request", request) == [
        (T + 4 * H, "cleared", T + 20 * H),
        (T + 12 * H, "cleared", T + 20 * H),
    ]


# --- CRFD_DELAY ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(T + 7 * D, []), (T + 7 * D + SEC, [(T + 7 * D, "open", None)])],
    ids=["at the deadline", "1 s after"],
)
async def test_ready_for_discharge_for_more_than_7_days(sc, as_of, expected) -> None:
    _, period = await ready_since(sc)
    await sc.run_api(as_of)
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == expected


async def test_a_delay_alert_names_the_admission_and_the_ward(sc) -> None:
    admission, period = await ready_since(sc)
    await sc.run_api(T + 8 * D)
    [alert] = await sc.alerts_on("CRFD_DELAY", "ready_for_discharge", period)
    assert (alert.severity, alert.admission_id, alert.ward_id) == (
        "medium",
        admission,
        ward_id(sc, "ASH"),
    )
    assert "Housing: awaiting social rented accommodation" in alert.message


@pytest.mark.parametrize(("moved", "ward"), [(T + 3 * D, "CEDAR"), (T + 7 * D + H, "ASH")])
async def test_the_delay_belongs_to_the_ward_the_person_was_on_at_the_deadline(
    sc, moved, ward
) -> None:
    admission, period = await ready_since(sc)
    await sc.transfer(admission, moved, "CEDAR", "C1")
    await sc.run_api(T + 10 * D)
    [alert] = await sc.alerts_on("CRFD_DELAY", "ready_for_discharge", period)
    assert alert.ward_id == ward_id(sc, ward)


@pytest.mark.parametrize(
    ("ended", "expected"),
    [(T + 7 * D, []), (T + 7 * D + MIN, [(T + 7 * D, "cleared", T + 7 * D + MIN)])],
    ids=["at the deadline", "a minute after"],
)
async def test_a_period_ended_at_the_deadline_is_not_a_breach(sc, ended, expected) -> None:
    _, period = await ready_since(sc)
    await sc.end_ready(period, ended)
    await sc.run_api(T + 20 * D)
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == expected


async def test_discharge_ends_the_delay_and_clears_it(sc) -> None:
    sc.clock.now = T
    admission, period = await ready_since(sc)
    await sc.run_api(T + 8 * D)
    sc.clock.now = T + 9 * D
    await sc.discharge(admission, T + 9 * D)
    await sc.run_api(T + 9 * D - SEC)  # before the discharge: still open
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == [
        (T + 7 * D, "open", None)
    ]
    await sc.run_api(T + 9 * D)
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == [
        (T + 7 * D, "cleared", T + 9 * D)
    ]


async def test_an_end_recorded_late_withdraws_the_delay(sc) -> None:
    """No longer ready on day 6, typed in on day 9 after a run had raised the delay: the
    next (incremental) run withdraws it (RULES.md 1.1: no delay was missed)."""
    sc.clock.now = T
    _, period = await ready_since(sc)
    await sc.run_api(T + 8 * D)
    sc.clock.now = T + 9 * D
    await sc.end_ready(period, T + 6 * D)
    await sc.run_api(T + 10 * D)
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == [
        (T + 7 * D, "withdrawn", None)
    ]


async def test_a_delay_typed_in_after_the_previous_run_is_still_raised(sc) -> None:
    sc.clock.now = T
    admission = await sc.admit(T - 20 * D)
    await sc.run_api(T + 12 * D)
    sc.clock.now = T + 13 * D
    period = await sc.ready(admission, T)
    await sc.end_ready(period, T + 10 * D)
    await sc.run_api(T + 13 * D)
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == [
        (T + 7 * D, "cleared", T + 10 * D)
    ]


async def test_a_delay_after_downtime_and_reruns(sc) -> None:
    """Ready, discharged 12 days later; the scheduler down throughout. One run long after
    raises it already cleared; runs again raise nothing more."""
    admission, period = await ready_since(sc)
    await sc.discharge(admission, T + 12 * D)
    await sc.run_api(T + 30 * D)
    again = await sc.run_api(T + 31 * D)
    assert await sc.states_on("CRFD_DELAY", "ready_for_discharge", period) == [
        (T + 7 * D, "cleared", T + 12 * D)
    ]
    assert again["raised"] == []


async def test_a_shorter_delay_threshold_applies_from_the_next_run(sc) -> None:
    _, period = await ready_since(sc)
    await sc.run_api(T + 4 * D)
    assert await sc.alerts("CRFD_DELAY") == []
    await sc.patch_rule("CRFD_DELAY", {"parameters": {"threshold": "P3D"}})
    await sc.run_api(T + 4 * D)
    [alert] = await sc.alerts_on("CRFD_DELAY", "ready_for_discharge", period)
    assert (alert.due_at, alert.parameters) == (T + 3 * D, {"threshold": "P3D"})


# --- OAP_INAPPROPRIATE ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(T, []), (T + SEC, [(T, "open", None)])],
    ids=["at the start", "1 s after"],
)
async def test_a_placement_for_want_of_a_local_bed(sc, as_of, expected) -> None:
    placement = await placed(sc, where=YORK_CLINIC)
    await sc.run_api(as_of)
    assert await sc.states_on("OAP_INAPPROPRIATE", "out_of_area_placement", placement) == (expected)


async def test_an_inappropriate_placement_is_high_and_on_no_ward(sc) -> None:
    placement = await placed(sc)
    await sc.run_api(T + H)
    [alert] = await sc.alerts_on("OAP_INAPPROPRIATE", "out_of_area_placement", placement)
    assert (alert.severity, alert.admission_id, alert.ward_id) == ("high", None, None)
    assert "Priory Hospital Roehampton" in alert.message


@pytest.mark.parametrize("reason", ["11", "12", "13", "14", "99"])
async def test_other_reasons_for_a_placement_are_not_inappropriate(sc, reason) -> None:
    await placed(sc, reason=reason)
    await sc.run_api(T + D)
    assert await sc.alerts("OAP_INAPPROPRIATE") == []


@pytest.mark.parametrize("ended", [T, T + 5 * D], ids=["the moment it began", "days later"])
async def test_an_ended_placement_is_raised_already_cleared(sc, ended) -> None:
    """Even a placement that ended the moment it began happened: raised, cleared at once."""
    placement = await placed(sc)
    await sc.end_placement(placement, ended)
    await sc.run_api(T + 10 * D)
    assert await sc.states_on("OAP_INAPPROPRIATE", "out_of_area_placement", placement) == [
        (T, "cleared", ended)
    ]


async def test_an_inappropriate_placement_clears_on_an_end_recorded_late(sc) -> None:
    sc.clock.now = T
    placement = await placed(sc)
    await sc.run_api(T + 2 * D)
    sc.clock.now = T + 6 * D
    await sc.end_placement(placement, T + D)
    await sc.run_api(T + 5 * D)  # before the end was typed in, after it happened
    assert await sc.states_on("OAP_INAPPROPRIATE", "out_of_area_placement", placement) == [
        (T, "cleared", T + D)
    ]


async def test_a_placement_typed_in_after_the_previous_run_is_still_raised(sc) -> None:
    sc.clock.now = T
    await sc.run_api(T + 3 * D)
    sc.clock.now = T + 4 * D
    placement = await placed(sc)
    await sc.end_placement(placement, T + 2 * D)
    await sc.run_api(T + 4 * D)
    assert await sc.states_on("OAP_INAPPROPRIATE", "out_of_area_placement", placement) == [
        (T, "cleared", T + 2 * D)
    ]


# --- OAP_DISTANCE --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "raised"), [(PRIORY_LONDON, True), (YORK_CLINIC, False)], ids=["272 km", "36 km"]
)
async def test_a_placement_more_than_50_km_from_home(sc, where, raised) -> None:
    placement = await placed(sc, where=where, reason="14")
    await sc.run_api(T)
    assert await sc.alerts("OAP_DISTANCE") == []  # due at the start: not strictly after
    await sc.run_api(T + SEC)
    expected = [(T, "open", None)] if raised else []
    assert await sc.states_on("OAP_DISTANCE", "out_of_area_placement", placement) == expected


@pytest.mark.parametrize(("below", "raised"), [(0.0, False), (0.01, True)], ids=["equal", "more"])
async def test_the_distance_must_be_strictly_more_than_the_threshold(sc, below, raised) -> None:
    body = await sc.place(await sc.patient(), T, where=YORK_CLINIC, reason="14")
    await sc.patch_rule("OAP_DISTANCE", {"parameters": {"km": body["distance_km"] - below}})
    await sc.run_api(T + D)
    assert len(await sc.alerts_on("OAP_DISTANCE", "out_of_area_placement", body["id"])) == int(
        raised
    )


async def test_a_far_placement_alert_keeps_its_threshold_and_clears_at_the_end(sc) -> None:
    """Raised at 50 km; the threshold raised to 500 km later does not unsay it (it keeps
    the parameters it was raised under) and it clears when the person comes back."""
    sc.clock.now = T
    placement = await placed(sc, reason="14")
    await sc.run_api(T + D)
    await sc.patch_rule("OAP_DISTANCE", {"parameters": {"km": 500}})
    await sc.run_api(T + 2 * D)
    [alert] = await sc.alerts_on("OAP_DISTANCE", "out_of_area_placement", placement)
    assert (alert.status, alert.parameters, alert.severity) == ("open", {"km": 50}, "medium")
    sc.clock.now = T + 20 * D
    await sc.end_placement(placement, T + 20 * D)
    await sc.run_api(T + 20 * D)
    assert await sc.states_on("OAP_DISTANCE", "out_of_area_placement", placement) == [
        (T, "cleared", T + 20 * D)
    ]


async def test_a_far_placement_clears_on_an_end_recorded_late(sc) -> None:
    sc.clock.now = T
    placement = await placed(sc, reason="14")
    await sc.run_api(T + 3 * D)
    sc.clock.now = T + 5 * D
    await sc.end_placement(placement, T + 2 * D)
    await sc.run_api(T + 5 * D)
    assert await sc.states_on("OAP_DISTANCE", "out_of_area_placement", placement) == [
        (T, "cleared", T + 2 * D)
    ]


# --- OAP_REVIEW ----------------------------------------------------------------------------

P = local(2026, 1, 15, 10)  # placed (GMT)
FIRST = local(2026, 4, 15, 10)  # 3 calendar months on, in UK time (BST): 09:00 UTC


@pytest.fixture
async def late(sc: FlowScenario) -> FlowScenario:
    sc.clock.now = LATE_CLOCK
    return sc


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(FIRST, []), (FIRST + SEC, [(FIRST, "open", None)])],
    ids=["at the deadline", "1 s after"],
)
async def test_a_placement_reviewed_every_3_calendar_months(late, as_of, expected) -> None:
    placement = await placed(late, P)
    await late.run_api(as_of)
    assert await late.states_on("OAP_REVIEW", "out_of_area_placement", placement) == expected
    assert FIRST == utc(2026, 4, 15, 9) != P + 90 * D


async def test_a_review_on_time_moves_the_next_deadline(late) -> None:
    placement = await placed(late, P)
    await late.review_placement(placement, local(2026, 3, 1, 10))
    await late.run_api(local(2026, 6, 1, 10))
    assert await late.alerts("OAP_REVIEW") == []
    await late.run_api(local(2026, 6, 1, 10) + SEC)
    assert await late.states_on("OAP_REVIEW", "out_of_area_placement", placement) == [
        (local(2026, 6, 1, 10), "open", None)
    ]


async def test_a_late_review_clears_the_breach_it_satisfies(late) -> None:
    placement = await placed(late, P)
    await late.review_placement(placement, local(2026, 4, 25, 10))
    await late.run_api(local(2026, 7, 25, 10) + SEC)
    assert await late.states_on("OAP_REVIEW", "out_of_area_placement", placement) == [
        (FIRST, "cleared", local(2026, 4, 25, 10)),
        (local(2026, 7, 25, 10), "open", None),  # the late review starts the next interval
    ]


@pytest.mark.parametrize(
    ("ended", "expected"),
    [(FIRST, []), (FIRST + MIN, [(FIRST, "cleared", FIRST + MIN)])],
    ids=["at the deadline", "a minute after"],
)
async def test_reviews_stop_when_the_placement_ends(late, ended, expected) -> None:
    placement = await placed(late, P)
    await late.end_placement(placement, ended)
    await late.run_api(local(2027, 1, 1))
    assert await late.states_on("OAP_REVIEW", "out_of_area_placement", placement) == expected


# One placement's history (chains worked by hand): a late review, a missed interval and a
# late review, two missed intervals, then the end.
HISTORY: list[tuple[datetime, str]] = [
    (local(2026, 5, 1, 10), "review"),  # late for 15 Apr; next 1 Aug
    (local(2026, 9, 10, 10), "review"),  # late for 1 Aug; next 10 Dec
    (local(2027, 4, 1, 10), "end"),  # 10 Dec and 10 Mar missed; 10 Jun is after the end
]
END = local(2027, 4, 1, 10)
EXPECTED = [
    (FIRST, "cleared", local(2026, 5, 1, 10)),
    (local(2026, 8, 1, 10), "cleared", local(2026, 9, 10, 10)),
    (local(2026, 12, 10, 10), "cleared", END),
    (local(2027, 3, 10, 10), "cleared", END),
]


async def happen(sc: FlowScenario, placement: int, at: datetime, what: str) -> None:
    if what == "review":
        await sc.review_placement(placement, at)
    else:
        await sc.end_placement(placement, at)


async def monthly(sc: FlowScenario, placement: int) -> None:
    """The scheduler ran on the 20th of every month; each thing recorded as it happened."""
    pending = list(HISTORY)
    for month in range(16):
        as_of = local(2026 + (month + 1) // 12, (month + 1) % 12 + 1, 20)
        while pending and pending[0][0] <= as_of:
            at, what = pending.pop(0)
            sc.clock.now = at
            await happen(sc, placement, at, what)
        await sc.run_api(as_of)


async def down(sc: FlowScenario, placement: int) -> None:
    """Everything recorded as it happened; the scheduler down for the whole time."""
    for at, what in HISTORY:
        sc.clock.now = at
        await happen(sc, placement, at, what)
    await sc.run_api(local(2027, 5, 20))


@pytest.mark.parametrize("schedule", [monthly, down])
async def test_monthly_runs_and_one_run_after_downtime_give_the_same_review_alerts(
    sc: FlowScenario, schedule: Callable[[FlowScenario, int], Awaitable[None]]
) -> None:
    sc.clock.now = P
    placement = await placed(sc, P)
    await schedule(sc, placement)
    assert await sc.states_on("OAP_REVIEW", "out_of_area_placement", placement) == EXPECTED
    again = await sc.run_api(local(2027, 5, 21))
    assert again["raised"] == [] and again["cleared"] == []
    assert await sc.states_on("OAP_REVIEW", "out_of_area_placement", placement) == EXPECTED


async def test_a_review_after_as_of_does_not_count(late) -> None:
    placement = await placed(late, P)
    await late.review_placement(placement, FIRST + 2 * D)
    await late.run_api(FIRST + D)
    assert await late.states_on("OAP_REVIEW", "out_of_area_placement", placement) == [
        (FIRST, "open", None)
    ]
    await late.run_api(FIRST + 3 * D)
    assert await late.states_on("OAP_REVIEW", "out_of_area_placement", placement) == [
        (FIRST, "cleared", FIRST + 2 * D)
    ]


async def test_a_review_recorded_late_clears_the_breach(sc) -> None:
    sc.clock.now = P
    placement = await placed(sc, P)
    await sc.run_api(FIRST + SEC)
    sc.clock.now = FIRST + 5 * D
    await sc.review_placement(placement, FIRST + 2 * D)
    await sc.run_api(FIRST + 6 * D)
    assert await sc.states_on("OAP_REVIEW", "out_of_area_placement", placement) == [
        (FIRST, "cleared", FIRST + 2 * D)
    ]


async def test_a_review_typed_in_after_the_placement_ended_redraws_its_chain(sc) -> None:
    """Ended in August, all its alerts cleared; a review of 1 March typed in in September.
    The chain then runs from that review, so 1 June was missed: the next run (incremental,
    the placement long finished) finds it through the review recorded since."""
    sc.clock.now = P
    placement = await placed(sc, P)
    ended = local(2026, 8, 15, 10)
    sc.clock.now = ended
    await sc.end_placement(placement, ended)
    await sc.run_api(local(2026, 9, 1))
    assert await sc.states_on("OAP_REVIEW", "out_of_area_placement", placement) == [
        (FIRST, "cleared", ended),
        (local(2026, 7, 15, 10), "cleared", ended),
    ]
    sc.clock.now = local(2026, 9, 5)
    await sc.review_placement(placement, local(2026, 3, 1, 10))
    await sc.run_api(local(2026, 9, 6))
    assert (local(2026, 6, 1, 10), "cleared", ended) in await sc.states_on(
        "OAP_REVIEW", "out_of_area_placement", placement
    )


async def test_monthly_reviews_apply_from_the_next_run(late) -> None:
    placement = await placed(late, P)
    await late.run_api(local(2026, 3, 20))
    assert await late.alerts("OAP_REVIEW") == []
    await late.patch_rule("OAP_REVIEW", {"parameters": {"every": "P1M"}})
    await late.run_api(local(2026, 3, 20))
    alerts = await late.alerts_on("OAP_REVIEW", "out_of_area_placement", placement)
    assert [(a.due_at, a.parameters) for a in alerts] == [
        (local(2026, 2, 15, 10), {"every": "P1M"}),
        (local(2026, 3, 15, 10), {"every": "P1M"}),
    ]


# --- all five: reruns, and switched off ------------------------------------------------------

RULES = ("ADM_WAIT", "CRFD_DELAY", "OAP_INAPPROPRIATE", "OAP_REVIEW", "OAP_DISTANCE")
AS_OF = T + 100 * D


async def everything(sc: FlowScenario) -> None:
    """A person waiting 100 days, one ready for discharge as long, one placed in London as
    long with no review: every bed-flow rule has a breach by AS_OF."""
    await waiting(sc)
    await ready_since(sc)
    await placed(sc)


async def test_every_bed_flow_rule_raises_once_however_often_it_runs(sc) -> None:
    await everything(sc)
    first = await sc.run_api(AS_OF)
    assert sorted({a["rule"] for a in first["raised"]} & set(RULES)) == sorted(RULES)
    again = await sc.run_api(AS_OF)
    later = await sc.run_api(AS_OF + D)
    assert again["raised"] == [] and later["raised"] == []
    dues = {rule: await sc.dues(rule) for rule in RULES}
    assert dues == {
        "ADM_WAIT": [T + 12 * H],
        "CRFD_DELAY": [T + 7 * D],
        "OAP_INAPPROPRIATE": [T],
        "OAP_REVIEW": [local(2026, 5, 2, 8)],
        "OAP_DISTANCE": [T],
    }


@pytest.mark.parametrize("code", RULES)
async def test_a_switched_off_rule_raises_nothing_and_catches_up_when_on(sc, code) -> None:
    await everything(sc)
    await sc.patch_rule(code, {"enabled": False})
    result = await sc.run_api(AS_OF)
    raised = {a["rule"] for a in result["raised"]}
    assert code not in raised and set(RULES) - {code} <= raised
    assert await sc.alerts(code) == []
    await sc.patch_rule(code, {"enabled": True})
    result = await sc.run_api(AS_OF + MIN)
    assert {a["rule"] for a in result["raised"]} == {code}


# --- the alert queue and each alert's page -------------------------------------------------


async def _flow_alerts(sc: FlowScenario) -> dict[str, tuple[int, int]]:
    """One alert of each new subject type: {subject type: (alert id, subject id)}."""
    _, request = await waiting(sc)
    admission, period = await ready_since(sc)
    placement = await placed(sc)
    await sc.run_api(T + 8 * D)
    found = {}
    for rule, kind, subject in (
        ("ADM_WAIT", "bed_request", request),
        ("CRFD_DELAY", "ready_for_discharge", period),
        ("OAP_INAPPROPRIATE", "out_of_area_placement", placement),
    ):
        [alert] = await sc.alerts_on(rule, kind, subject)
        found[kind] = (alert.id, subject)
    found["admission"] = (0, admission)
    return found


async def test_the_queue_links_each_bed_flow_alert_to_its_record(sc, signed_in) -> None:
    found = await _flow_alerts(sc)
    lead = await signed_in("lead")
    page = parse((await lead.get("/alerts")).text)
    links = {
        "bed_request": f"/flow/requests/{found['bed_request'][1]}",
        "out_of_area_placement": f"/flow/placements/{found['out_of_area_placement'][1]}",
        "ready_for_discharge": f"/admissions/{found['admission'][1]}",
    }
    for kind, href in links.items():
        row = page.by_id(f"alert-{found[kind][0]}")
        link = row.find("a", href=href)
        assert link is not None, kind
        # the safeguarding lead sees who it is, as for an admission
        assert link.text() == "Amira KHAN", kind
    assert "Ash Ward" in page.by_id(f"alert-{found['ready_for_discharge'][0]}").text()


@pytest.mark.parametrize("kind", ["bed_request", "ready_for_discharge", "out_of_area_placement"])
async def test_each_bed_flow_alert_has_its_page(sc, signed_in, kind) -> None:
    found = await _flow_alerts(sc)
    lead = await signed_in("lead")
    r = await lead.get(f"/alerts/{found[kind][0]}")
    assert r.status_code == 200
    summary = parse(r.text).by_id("alert-summary")
    assert "Amira KHAN" in summary.text() and "Open the record" in summary.text()
    assert "Raised" in parse(r.text).by_id("alert-history").text()


PAGES = {"bed_request": "requests", "out_of_area_placement": "placements"}


async def test_bed_managers_see_initials_for_requests_and_placements(sc, signed_in) -> None:
    found = await _flow_alerts(sc)
    beds = await signed_in("beds")
    page = parse((await beds.get("/alerts")).text)
    for kind in ("bed_request", "out_of_area_placement"):
        row = page.by_id(f"alert-{found[kind][0]}")
        assert row.find("a", href=f"/flow/{PAGES[kind]}/{found[kind][1]}").text() == "AK"
        assert "Khan" not in row.text() and "KHAN" not in row.text()
    r = await beds.get(f"/alerts/{found['bed_request'][0]}")
    assert r.status_code == 200 and "KHAN" not in parse(r.text).by_id("alert-summary").text()
