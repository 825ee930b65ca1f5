"""The waiting list through the API: bed requests, their waiting time, cancelling, and an
admission (or an out-of-area placement) closing the request it meets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.flow.models import BedRequest
from app.wards.models import Admission
from tests.factories import admission_body
from tests.flow.helpers import API, hours, iso, new_patient, waiting


async def count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def test_a_request_is_created_with_its_waiting_time_and_no_name(client, world, clock):
    patient = await new_patient(client, world, given_name="Amira", family_name="Khan")
    r = await client.post(
        f"{API}/bed-requests",
        headers=world.auth("beds"),
        json={
            "patient_id": patient["id"],
            "decision_to_admit_at": iso(clock.now - hours(3.5)),
            "ward_type": "picu",
            "note": "Police custody, s136",
        },
    )
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "open" and body["ward_type"] == "picu"
    assert body["waiting_minutes"] == 210
    assert body["person"] == {
        "patient_id": patient["id"],
        "initials": "AK",
        "sex": "female",
        "age_band": "35-44",
        "home_locality_code": "LDS",
    }
    assert "Khan" not in r.text and "Amira" not in r.text
    got = await client.get(f"{API}/bed-requests/{body['id']}", headers=world.auth("lead"))
    assert got.json() == body


async def test_the_open_list_is_longest_waiting_first_and_the_clock_runs(client, world, clock):
    first = await waiting(
        client, world, (await new_patient(client, world))["id"], clock.now - hours(2)
    )
    longest = await waiting(
        client, world, (await new_patient(client, world))["id"], clock.now - hours(13)
    )
    r = await client.get(f"{API}/bed-requests?open=true", headers=world.auth("beds"))
    assert [(x["id"], x["waiting_minutes"]) for x in r.json()] == [
        (longest["id"], 780),
        (first["id"], 120),
    ]
    clock.now += hours(1)
    r = await client.get(f"{API}/bed-requests?open=true", headers=world.auth("beds"))
    assert [x["waiting_minutes"] for x in r.json()] == [840, 180]


async def test_a_second_open_request_for_one_person_is_409(client, world, clock, session):
    patient = await new_patient(client, world)
    await waiting(client, world, patient["id"], clock.now - hours(1))
    before = await count(session, BedRequest)
    r = await client.post(
        f"{API}/bed-requests",
        headers=world.auth("beds"),
        json={
            "patient_id": patient["id"],
            "decision_to_admit_at": iso(clock.now),
            "ward_type": "adult_acute",
        },
    )
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await count(session, BedRequest) == before


async def test_a_person_already_in_hospital_cannot_wait_for_a_bed(client, world, clock):
    admission = await world.admit()
    r = await client.post(
        f"{API}/bed-requests",
        headers=world.auth("beds"),
        json={
            "patient_id": admission.patient_id,
            "decision_to_admit_at": iso(clock.now),
            "ward_type": "adult_acute",
        },
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ward_type": "surgical"}, "ward_type"),
        ({"decision_to_admit_at": "2026-03-10T09:00:00"}, "decision_to_admit_at"),
        ({"decision_to_admit_at": "2026-03-10T12:06:00Z"}, "decision_to_admit_at"),
        ({"decision_to_admit_at": None}, "decision_to_admit_at"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_requests_are_422_naming_the_field(client, world, clock, session, change, field):
    patient = await new_patient(client, world)
    before = await count(session, BedRequest)
    body = {
        "patient_id": patient["id"],
        "decision_to_admit_at": iso(clock.now),
        "ward_type": "adult_acute",
        **change,
    }
    r = await client.post(f"{API}/bed-requests", headers=world.auth("beds"), json=body)
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await count(session, BedRequest) == before


async def test_unknown_patient_and_request_are_404(client, world, clock):
    r = await client.post(
        f"{API}/bed-requests",
        headers=world.auth("beds"),
        json={"patient_id": 999999, "decision_to_admit_at": iso(clock.now), "ward_type": "picu"},
    )
    assert r.status_code == 404
    assert (await client.get(f"{API}/bed-requests/999999", headers=world.auth())).status_code == 404
    r = await client.post(
        f"{API}/bed-requests/999999/cancel",
        headers=world.auth("beds"),
        json={"at": iso(clock.now), "reason": "x"},
    )
    assert r.status_code == 404


async def test_who_may_ask_for_and_see_beds(client, world, clock):
    patient = await new_patient(client, world)
    body = {
        "patient_id": patient["id"],
        "decision_to_admit_at": iso(clock.now),
        "ward_type": "adult_acute",
    }
    for user in ("director", "lead"):
        r = await client.post(f"{API}/bed-requests", headers=world.auth(user), json=body)
        assert r.status_code == 403, user
    assert (
        await client.get(f"{API}/bed-requests", headers=world.auth("director"))
    ).status_code == 403
    r = await client.post(f"{API}/bed-requests", headers=world.auth("nurse"), json=body)
    assert r.status_code == 201


async def test_cancel_closes_the_request_with_its_reason(client, world, clock, session):
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(5))
    r = await client.post(
        f"{API}/bed-requests/{request['id']}/cancel",
        headers=world.auth("beds"),
        json={"at": iso(clock.now - hours(1)), "reason": "Home treatment team took over"},
    )
    assert r.status_code == 200
    body = r.json()
    assert (
        body["status"] == "cancelled" and body["cancel_reason"] == "Home treatment team took over"
    )
    assert body["closed_at"] == iso(clock.now - hours(1))
    assert body["waiting_minutes"] == 240
    listed = await client.get(f"{API}/bed-requests?open=true", headers=world.auth("beds"))
    assert request["id"] not in [x["id"] for x in listed.json()]
    closed = await client.get(f"{API}/bed-requests?open=false", headers=world.auth("beds"))
    assert request["id"] in [x["id"] for x in closed.json()]
    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "bed_request.cancel")
    )
    assert entry.before["status"] == "open" and entry.after["status"] == "cancelled"
    again = await client.post(
        f"{API}/bed-requests/{request['id']}/cancel",
        headers=world.auth("beds"),
        json={"at": iso(clock.now), "reason": "again"},
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"at": "2026-03-10T04:00:00Z", "reason": "x"}, "at"),  # before the decision
        ({"at": "2026-03-10T12:10:00Z", "reason": "x"}, "at"),  # in the future
        ({"at": "2026-03-10T11:00:00Z", "reason": "  "}, "reason"),
        ({"at": "2026-03-10T11:00:00Z"}, "reason"),
    ],
)
async def test_a_bad_cancel_is_422_and_changes_nothing(client, world, clock, body, field):
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(6))
    r = await client.post(
        f"{API}/bed-requests/{request['id']}/cancel", headers=world.auth("beds"), json=body
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    got = await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth("beds"))
    assert got.json()["status"] == "open"


async def test_admitting_with_the_request_closes_it_and_keeps_the_wait(client, world, clock):
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(14))
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth("beds"),
        json=admission_body(
            patient["id"], admitted_at=iso(clock.now - hours(1)), bed_request_id=request["id"]
        ),
    )
    assert r.status_code == 201, r.text
    admission = r.json()
    # The admission takes the decision time from the request: the wait is measured once.
    assert admission["decision_to_admit_at"] == request["decision_to_admit_at"]
    got = (await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth())).json()
    assert got["status"] == "admitted" and got["admission_id"] == admission["id"]
    assert got["closed_at"] == iso(clock.now - hours(1)) and got["waiting_minutes"] == 780
    clock.now += hours(5)
    got = (await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth())).json()
    assert got["waiting_minutes"] == 780
    listed = await client.get(f"{API}/bed-requests?open=true", headers=world.auth("beds"))
    assert listed.json() == []


async def test_admitting_the_person_without_naming_the_request_still_closes_it(
    client, world, clock
):
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(3))
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth("nurse"),
        # Ward staff admitting someone not yet on their wards show they know them.
        json=admission_body(
            patient["id"],
            admitted_at=iso(clock.now - hours(1)),
            nhs_number=patient["nhs_number"],
            date_of_birth=patient["date_of_birth"],
        ),
    )
    assert r.status_code == 201
    got = (await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth())).json()
    assert got["status"] == "admitted" and got["admission_id"] == r.json()["id"]


async def test_an_admission_before_the_decision_leaves_a_later_request_open(client, world, clock):
    """Entered late: an admission last night does not meet a decision made this morning."""
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(1))
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth("nurse"),
        # Ward staff admitting someone not yet on their wards show they know them.
        json=admission_body(
            patient["id"],
            admitted_at=iso(clock.now - hours(20)),
            nhs_number=patient["nhs_number"],
            date_of_birth=patient["date_of_birth"],
        ),
    )
    assert r.status_code == 201
    got = (await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth())).json()
    assert got["status"] == "open"


async def _refused(client, world, session, body, status, field=None):
    admissions_before = await count(session, Admission)
    r = await client.post(f"{API}/admissions", headers=world.auth("beds"), json=body)
    assert r.status_code == status, r.text
    if field:
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await count(session, Admission) == admissions_before
    return r


async def test_an_admission_naming_a_request_it_cannot_meet_is_refused_whole(
    client, world, clock, session
):
    patient = await new_patient(client, world)
    other = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(3))
    at = iso(clock.now - hours(1))
    await _refused(
        client,
        world,
        session,
        admission_body(other["id"], admitted_at=at, bed_request_id=request["id"]),
        422,
        "bed_request_id",
    )
    await _refused(
        client,
        world,
        session,
        admission_body(
            patient["id"], admitted_at=iso(clock.now - hours(4)), bed_request_id=request["id"]
        ),
        422,
        "admitted_at",
    )
    await _refused(
        client,
        world,
        session,
        admission_body(patient["id"], admitted_at=at, bed_request_id=999999),
        404,
    )
    got = (await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth())).json()
    assert got["status"] == "open"
    await client.post(
        f"{API}/bed-requests/{request['id']}/cancel",
        headers=world.auth("beds"),
        json={"at": iso(clock.now - hours(2)), "reason": "Went home with crisis team"},
    )
    await _refused(
        client,
        world,
        session,
        admission_body(patient["id"], admitted_at=at, bed_request_id=request["id"]),
        409,
    )
