"""Admissions, transfers, purpose reviews, legal status and discharge through the API."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.wards.models import Admission, LegalStatusChange, WardStay
from tests.factories import admission_body

API = "/api/v1"


async def counts(session) -> tuple[int, int, int, int]:
    return tuple(
        [  # type: ignore[return-value]
            await session.scalar(select(func.count()).select_from(model))
            for model in (Admission, WardStay, LegalStatusChange, AuditEntry)
        ]
    )


async def test_admit_records_reason_benefit_stay_and_legal_status(client, world, session):
    patient = await world.patient()
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth("nurse"),
        # Ward staff admitting someone not yet on their wards show they know them (issue 17).
        json=admission_body(
            patient.id,
            decision_to_admit_at="2026-03-10T01:30:00+00:00",
            expected_discharge_date="2026-04-01",
            nhs_number=patient.nhs_number,
            date_of_birth=patient.date_of_birth.isoformat(),
        ),
    )
    assert r.status_code == 201
    a = r.json()
    assert a["status"] == "open" and a["ward_code"] == "ASH" and a["bed_label"] == "A1"
    assert a["reason"] == "Psychotic relapse, not safe at home"
    assert a["expected_benefit"] == "Restart medication and stabilise"
    assert a["admitted_at"] == "2026-03-10T09:00:00Z"
    assert a["decision_to_admit_at"] == "2026-03-10T01:30:00Z"
    assert a["legal_status_history"] == [{"legal_status": "s2", "at": "2026-03-10T09:00:00Z"}]
    assert [s["bed_label"] for s in a["stays"]] == ["A1"]
    got = (await client.get(f"{API}/admissions/{a['id']}", headers=world.auth("nurse"))).json()
    assert got == a
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "admission.create"))
    assert entry.username == "nurse" and entry.after["reason"] == a["reason"]


async def test_times_with_other_offsets_are_stored_in_utc(client, world):
    patient = await world.patient()
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth(),
        json=admission_body(patient.id, admitted_at="2026-03-10T10:00:00+01:00"),
    )
    assert r.json()["admitted_at"] == "2026-03-10T09:00:00Z"


@pytest.mark.parametrize("field", ["reason", "expected_benefit"])
@pytest.mark.parametrize("value", [..., "", "   \n\t"])
async def test_reason_and_benefit_are_required_and_not_blank(client, world, session, field, value):
    patient = await world.patient()
    before = await counts(session)
    r = await client.post(
        f"{API}/admissions", headers=world.auth(), json=admission_body(patient.id, **{field: value})
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await counts(session) == before


async def test_a_time_without_offset_is_refused(client, world):
    patient = await world.patient()
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth(),
        json=admission_body(patient.id, admitted_at="2026-03-10T09:00:00"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "admitted_at"
    assert "offset" in r.json()["errors"][0]["message"]


@pytest.mark.parametrize(("minutes_ahead", "status"), [(4, 201), (5, 201), (6, 422)])
async def test_the_future_is_allowed_up_to_five_minutes(
    client, world, clock, minutes_ahead, status
):
    patient = await world.patient()
    at = (clock.now + timedelta(minutes=minutes_ahead)).isoformat()
    r = await client.post(
        f"{API}/admissions", headers=world.auth(), json=admission_body(patient.id, admitted_at=at)
    )
    assert r.status_code == status


async def test_decision_after_admission_and_discharge_date_before_it_are_refused(client, world):
    patient = await world.patient()
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth(),
        json=admission_body(patient.id, decision_to_admit_at="2026-03-10T09:00:01Z"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decision_to_admit_at"
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth(),
        json=admission_body(patient.id, expected_discharge_date="2026-03-09"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "expected_discharge_date"


@pytest.mark.parametrize("legal_status", ["s2", "s37_41", "s136", "informal", "other"])
async def test_legal_status_codes(client, world, legal_status):
    patient = await world.patient()
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth(),
        json=admission_body(patient.id, legal_status=legal_status),
    )
    assert r.status_code == 201


async def test_unknown_legal_status_patient_ward_or_bed(client, world):
    patient = await world.patient()
    h = world.auth()
    r = await client.post(
        f"{API}/admissions", headers=h, json=admission_body(patient.id, legal_status="s99")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "legal_status"
    for overrides in ({"patient_id": 999999}, {"ward_code": "NOPE"}, {"bed_label": "Z9"}):
        body = {**admission_body(patient.id), **overrides}
        assert (await client.post(f"{API}/admissions", headers=h, json=body)).status_code == 404


async def test_conflicts_bed_taken_bed_closed_patient_already_in(client, world, session):
    h = world.auth()
    first = await world.admit(bed="A1")
    other = await world.patient()
    before = await counts(session)
    r = await client.post(
        f"{API}/admissions", headers=h, json=admission_body(other.id, bed_label="A1")
    )
    assert r.status_code == 409 and "occupied" in r.json()["detail"]
    await client.patch(
        f"{API}/wards/ASH/beds/A6", headers=h, json={"status": "closed", "reason": "Repairs"}
    )
    before = await counts(session)
    r = await client.post(
        f"{API}/admissions", headers=h, json=admission_body(other.id, bed_label="A6")
    )
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    r = await client.post(
        f"{API}/admissions", headers=h, json=admission_body(first.patient_id, bed_label="A2")
    )
    assert r.status_code == 409 and "open admission" in r.json()["detail"]
    assert await counts(session) == before


async def test_backdated_admission_into_a_bed_that_was_occupied_then(client, world, clock):
    h = world.auth()
    first = await world.admit(bed="A1", at=clock.now - timedelta(days=5))
    r = await client.post(
        f"{API}/admissions/{first.id}/discharge",
        headers=h,
        json={"at": (clock.now - timedelta(days=1)).isoformat(), "destination": "usual_residence"},
    )
    assert r.status_code == 200
    other = await world.patient()
    r = await client.post(
        f"{API}/admissions",
        headers=h,
        json=admission_body(
            other.id, bed_label="A1", admitted_at=(clock.now - timedelta(days=2)).isoformat()
        ),
    )
    assert r.status_code == 409 and "at that time" in r.json()["detail"]
    r = await client.post(
        f"{API}/admissions",
        headers=h,
        json=admission_body(
            other.id, bed_label="A1", admitted_at=(clock.now - timedelta(days=1)).isoformat()
        ),
    )
    assert r.status_code == 201


async def test_transfer_closes_one_stay_and_opens_the_next(client, world, clock):
    admission = await world.admit(bed="A1", at=clock.now - timedelta(days=2))
    h = world.auth()
    at = (clock.now - timedelta(hours=3)).isoformat()
    r = await client.post(
        f"{API}/admissions/{admission.id}/transfer",
        headers=h,
        json={"ward_code": "CEDAR", "bed_label": "C2", "at": at, "reason": "Needs a quieter ward"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["ward_code"] == "CEDAR" and body["bed_label"] == "C2"
    first, second = body["stays"]
    assert first["ended_at"] == second["started_at"] == at.replace("+00:00", "Z")
    assert second["transfer_reason"] == "Needs a quieter ward" and second["ended_at"] is None
    ash = (await client.get(f"{API}/wards/ASH/board", headers=h)).json()
    assert ash["beds"][0]["occupant"] is None
    cedar = (await client.get(f"{API}/wards/CEDAR/board", headers=h)).json()
    assert cedar["beds"][1]["occupant"]["admission_id"] == admission.id
    assert cedar["beds"][1]["occupant"]["days_on_ward"] == 0


async def test_bad_transfers_change_nothing(client, world, session, clock):
    admission = await world.admit(bed="A1", at=clock.now - timedelta(days=2))
    await world.admit(bed="A2")
    h = world.auth()
    before = await counts(session)
    cases = [
        ({"ward_code": "ASH", "bed_label": "A2", "at": clock.now.isoformat(), "reason": "x"}, 409),
        ({"ward_code": "ASH", "bed_label": "A1", "at": clock.now.isoformat(), "reason": "x"}, 422),
        (
            {
                "ward_code": "ASH",
                "bed_label": "A3",
                "at": (clock.now - timedelta(days=3)).isoformat(),
                "reason": "x",
            },
            422,
        ),
        ({"ward_code": "ASH", "bed_label": "A3", "at": clock.now.isoformat(), "reason": " "}, 422),
        ({"ward_code": "NOPE", "bed_label": "A3", "at": clock.now.isoformat(), "reason": "x"}, 404),
    ]
    for body, status in cases:
        r = await client.post(f"{API}/admissions/{admission.id}/transfer", headers=h, json=body)
        assert r.status_code == status, (body, r.json())
    assert await counts(session) == before
    assert (
        await client.post(f"{API}/admissions/999999/transfer", headers=h, json=cases[0][0])
    ).status_code == 404


async def test_purpose_reviews_inside_the_admission(client, world, clock):
    admission = await world.admit(at=clock.now - timedelta(days=2))
    h = world.auth("nurse")
    url = f"{API}/admissions/{admission.id}/purpose-reviews"
    r = await client.post(
        url,
        headers=h,
        json={
            "at": (clock.now - timedelta(hours=1)).isoformat(),
            "still_needed": True,
            "note": "Still acutely unwell; benefit on track",
        },
    )
    assert r.status_code == 201 and r.json()["still_needed"] is True
    r = await client.post(
        url,
        headers=h,
        json={"at": (clock.now - timedelta(days=3)).isoformat(), "still_needed": True, "note": "x"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    r = await client.post(
        url, headers=h, json={"at": clock.now.isoformat(), "still_needed": "maybe", "note": "x"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "still_needed"
    got = (await client.get(f"{API}/admissions/{admission.id}", headers=h)).json()
    assert len(got["purpose_reviews"]) == 1


async def test_legal_status_changes_are_kept_as_history(client, world, clock):
    admission = await world.admit(at=clock.now - timedelta(days=2), legal_status="s2")
    h = world.auth()
    url = f"{API}/admissions/{admission.id}"
    r = await client.patch(
        url,
        headers=h,
        json={"legal_status": "s3", "at": (clock.now - timedelta(hours=2)).isoformat()},
    )
    assert r.status_code == 200 and r.json()["legal_status"] == "s3"
    # A change entered late but effective earlier does not displace the later one.
    r = await client.patch(
        url,
        headers=h,
        json={"legal_status": "s5_2", "at": (clock.now - timedelta(days=1)).isoformat()},
    )
    body = r.json()
    assert body["legal_status"] == "s3"
    assert [c["legal_status"] for c in body["legal_status_history"]] == ["s2", "s5_2", "s3"]
    r = await client.patch(url, headers=h, json={"expected_discharge_date": "2026-04-30"})
    assert r.status_code == 200 and r.json()["expected_discharge_date"] == "2026-04-30"
    r = await client.patch(
        url,
        headers=h,
        json={"legal_status": "s3", "at": (clock.now - timedelta(days=3)).isoformat()},
    )
    assert r.status_code == 422
    assert (await client.patch(url, headers=h, json={})).status_code == 422


async def test_discharge_ends_the_stay_and_frees_the_bed(client, world, clock, session):
    admission = await world.admit(bed="A1", at=clock.now - timedelta(days=2))
    h = world.auth("nurse")
    url = f"{API}/admissions/{admission.id}/discharge"
    r = await client.post(
        url,
        headers=h,
        json={"at": (clock.now - timedelta(days=3)).isoformat(), "destination": "usual_residence"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    r = await client.post(url, headers=h, json={"at": clock.now.isoformat(), "destination": "moon"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "destination"
    r = await client.post(
        url, headers=h, json={"at": clock.now.isoformat(), "destination": "usual_residence"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "discharged" and body["stays"][0]["ended_at"] == body["discharged_at"]
    before = await counts(session)
    r = await client.post(
        url, headers=h, json={"at": clock.now.isoformat(), "destination": "usual_residence"}
    )
    assert r.status_code == 409
    assert await counts(session) == before
    board = (await client.get(f"{API}/wards/ASH/board", headers=h)).json()
    assert board["beds"][0]["occupant"] is None
    # A discharged patient can be admitted again.
    r = await client.post(
        f"{API}/admissions",
        headers=h,
        json=admission_body(
            admission.patient_id, bed_label="A1", admitted_at=clock.now.isoformat()
        ),
    )
    assert r.status_code == 201


async def test_list_admissions_filters(client, world, clock):
    open_one = await world.admit(bed="A1")
    other = await world.admit(ward="BIRCH", bed="B1", patient=await world.patient(sex="male"))
    h = world.auth()
    rows = (await client.get(f"{API}/admissions?ward_code=ASH&open=true", headers=h)).json()
    assert [a["id"] for a in rows] == [open_one.id]
    rows = (await client.get(f"{API}/admissions?open=true", headers=h)).json()
    assert {a["id"] for a in rows} == {open_one.id, other.id}
    rows = (await client.get(f"{API}/admissions?open=true", headers=world.auth("nurse"))).json()
    assert [a["id"] for a in rows] == [open_one.id]
    assert (
        await client.get(f"{API}/admissions?ward_code=BIRCH", headers=world.auth("nurse"))
    ).status_code == 403
