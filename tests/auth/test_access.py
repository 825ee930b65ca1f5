"""Who may do what, through the API and the pages, and that a refusal writes nothing.

The matrix is app/auth/access.py: clinical readers are admin, safeguarding lead, bed
manager and ward staff (own wards); placers are admin, bed manager and ward staff (own);
clinical writers are admin and ward staff (own); places are admin only; directors see
no individual records.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.wards.models import Admission, Bed, Locality, Patient, Ward
from tests.factories import admission_body

USERS = ["admin", "nurse", "birchnurse", "beds", "lead", "director", None]

READ = {
    "admin": 200,
    "nurse": 200,
    "birchnurse": 403,
    "beds": 200,
    "lead": 200,
    "director": 403,
    None: 401,
}
EXPECTED: dict[str, dict[str | None, int]] = {
    "board": READ,
    "admission": READ,
    "patient": READ,
    "admit": {
        "admin": 201,
        "nurse": 201,
        "birchnurse": 403,
        "beds": 201,
        "lead": 403,
        "director": 403,
        None: 401,
    },
    "discharge": {
        "admin": 200,
        "nurse": 200,
        "birchnurse": 403,
        "beds": 403,
        "lead": 403,
        "director": 403,
        None: 401,
    },
    "locality": {
        "admin": 201,
        "nurse": 403,
        "birchnurse": 403,
        "beds": 403,
        "lead": 403,
        "director": 403,
        None: 401,
    },
    "close_bed": {
        "admin": 200,
        "nurse": 200,
        "birchnurse": 403,
        "beds": 200,
        "lead": 403,
        "director": 403,
        None: 401,
    },
}


async def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(model))


async def bed_status(session, ward: str, label: str) -> str:  # type: ignore[no-untyped-def]
    return await session.scalar(
        select(Bed.status).join(Ward).where(Ward.code == ward, Bed.label == label)
    )


async def discharged_at(session, admission_id: int):  # type: ignore[no-untyped-def]
    return await session.scalar(select(Admission.discharged_at).where(Admission.id == admission_id))


@pytest.mark.parametrize("action", list(EXPECTED))
@pytest.mark.parametrize("who", USERS, ids=[u or "no-one" for u in USERS])
async def test_api_access(world, client, session, who, action):
    admission = await world.admit(bed="A1")
    admission_id, patient_id = admission.id, admission.patient_id
    waiting = await world.patient(given_name="Ola", family_name="Nowak")
    waiting_id = waiting.id
    headers = world.auth(who) if who else {}
    expected = EXPECTED[action][who]
    admissions_before = await count(session, Admission)
    localities_before = await count(session, Locality)
    audit_before = await count(session, AuditEntry)

    requests: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "board": ("GET", "/api/v1/wards/ASH/board", None),
        "admission": ("GET", f"/api/v1/admissions/{admission_id}", None),
        "patient": ("GET", f"/api/v1/patients/{patient_id}", None),
        # Named by NHS number and date of birth: ward staff may not read the waiting person
        # yet, so a bare id would be refused (issue 17).
        "admit": (
            "POST",
            "/api/v1/admissions",
            admission_body(
                waiting_id,
                bed_label="A2",
                nhs_number=waiting.nhs_number,
                date_of_birth=waiting.date_of_birth.isoformat(),
            ),
        ),
        "discharge": (
            "POST",
            f"/api/v1/admissions/{admission_id}/discharge",
            {"at": "2026-03-10T11:00:00Z", "destination": "usual_residence"},
        ),
        "locality": (
            "POST",
            "/api/v1/localities",
            {"code": "HGT", "name": "Harrogate", "latitude": 54.0, "longitude": -1.5},
        ),
        "close_bed": (
            "PATCH",
            "/api/v1/wards/ASH/beds/A6",
            {"status": "closed", "reason": "Ligature work"},
        ),
    }
    method, path, body = requests[action]
    response = await client.request(method, path, json=body, headers=headers)

    assert response.status_code == expected, response.text
    allowed = expected < 400
    if not allowed:
        assert response.headers["content-type"].startswith("application/problem+json")
        # A refusal says nothing about the person.
        assert "Jane" not in response.text and "Ola" not in response.text
        assert await count(session, AuditEntry) == audit_before

    # The effect is there when allowed, and nothing at all when refused.
    if action == "board":
        if allowed:
            [a1] = [b for b in response.json()["beds"] if b["label"] == "A1"]
            assert a1["occupant"]["admission_id"] == admission_id
    elif action == "admission":
        if allowed:
            assert response.json()["id"] == admission_id
    elif action == "patient":
        if allowed:
            assert response.json()["id"] == patient_id
    elif action == "admit":
        assert await count(session, Admission) == admissions_before + (1 if allowed else 0)
        open_for_waiting = await session.scalar(
            select(func.count()).select_from(Admission).where(Admission.patient_id == waiting_id)
        )
        assert open_for_waiting == (1 if allowed else 0)
    elif action == "discharge":
        assert (await discharged_at(session, admission_id) is not None) is allowed
    elif action == "locality":
        assert await count(session, Locality) == localities_before + (1 if allowed else 0)
    elif action == "close_bed":
        assert await bed_status(session, "ASH", "A6") == ("closed" if allowed else "open")


async def test_ward_staff_list_only_their_own_wards_admissions(world, client):
    ash = (await world.admit(ward="ASH", bed="A1")).id
    birch = (await world.admit(ward="BIRCH", bed="B1")).id

    nurse = await client.get("/api/v1/admissions", headers=world.auth("nurse"))
    birchnurse = await client.get("/api/v1/admissions", headers=world.auth("birchnurse"))
    asked = await client.get(
        "/api/v1/admissions", params={"ward_code": "ASH"}, headers=world.auth("birchnurse")
    )

    assert [a["id"] for a in nurse.json()] == [ash]
    assert [a["id"] for a in birchnurse.json()] == [birch]
    assert asked.status_code == 403


async def test_directors_see_no_individual_records(world, client):
    await world.admit(bed="A1")

    response = await client.get("/api/v1/admissions", headers=world.auth("director"))

    assert response.status_code == 403


# --- the pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/wards/ASH",
        "/admissions/{id}",
        "/admissions/{id}/discharge",
        "/admissions/{id}/transfer",
        "/wards/ASH/beds/A3/admit",
    ],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
async def test_other_wards_staff_cannot_open_ash_pages(world, signed_in, path, htmx):
    admission_id = (await world.admit(bed="A1")).id
    birchnurse = await signed_in("birchnurse")

    response = await birchnurse.get(path.format(id=admission_id), htmx=htmx)

    assert response.status_code == 403
    assert "Jane" not in response.text
    assert "SMITH" not in response.text


@pytest.mark.parametrize("path", ["/wards/ASH", "/admissions/{id}", "/admissions/{id}/discharge"])
async def test_directors_cannot_open_patient_pages(world, signed_in, path):
    admission_id = (await world.admit(bed="A1")).id
    director = await signed_in("director")

    response = await director.get(path.format(id=admission_id))

    assert response.status_code == 403
    assert "SMITH" not in response.text


async def test_other_wards_staff_cannot_admit_to_ash_through_the_form(world, session, signed_in):
    birchnurse = await signed_in("birchnurse")
    patients, admissions = await count(session, Patient), await count(session, Admission)

    response = await birchnurse.post(
        "/wards/ASH/beds/A3/admit",
        {
            "nhs_number": "",
            "given_name": "Ola",
            "family_name": "Nowak",
            "date_of_birth": "1980-05-05",
            "sex": "female",
            "ethnic_category": "A",
            "home_locality_code": "LDS",
            "admitted_at": "2026-03-10T09:00",
            "legal_status": "s2",
            "reason": "Crisis",
            "expected_benefit": "Safety",
        },
    )

    assert response.status_code == 403
    assert await count(session, Patient) == patients
    assert await count(session, Admission) == admissions


@pytest.mark.parametrize(
    "path, data",
    [
        (
            "/admissions/{id}/discharge",
            {"at": "2026-03-10T11:00", "destination": "usual_residence"},
        ),
        (
            "/admissions/{id}/transfer",
            {"bed": "BIRCH/B1", "at": "2026-03-10T11:00", "reason": "Nearer home"},
        ),
        pytest.param(
            "/admissions/{id}/purpose-reviews",
            {"at": "2026-03-10T11:00", "still_needed": "no", "note": "Ready to go"},
        ),
        pytest.param(
            "/admissions/{id}/legal-status", {"at": "2026-03-10T11:00", "legal_status": "informal"}
        ),
        ("/wards/ASH/beds/A6/status", {"status": "closed", "reason": "Deep clean"}),
    ],
)
async def test_other_wards_staff_cannot_change_ash_records_through_forms(
    world, session, signed_in, path, data
):
    admission_id = (await world.admit(bed="A1")).id
    birchnurse = await signed_in("birchnurse")
    audit_before = await count(session, AuditEntry)

    response = await birchnurse.post(path.format(id=admission_id), data)

    assert response.status_code == 403
    assert await count(session, AuditEntry) == audit_before
    assert await discharged_at(session, admission_id) is None
    assert await bed_status(session, "ASH", "A6") == "open"


async def test_ward_list_shows_ward_staff_only_their_wards(world, signed_in):
    birchnurse = await signed_in("birchnurse")

    response = await birchnurse.get("/wards")

    assert response.status_code == 200
    assert "Birch Ward" in response.text
    assert "Ash Ward" not in response.text


@pytest.mark.parametrize(
    "path, data",
    [
        (
            "/admissions/{id}/purpose-reviews",
            {"at": "2026-03-10T11:00", "still_needed": "no", "note": "Ready to go"},
        ),
        ("/admissions/{id}/legal-status", {"at": "2026-03-10T11:00", "legal_status": "informal"}),
    ],
)
async def test_readers_who_may_not_write_are_refused_403_by_the_admission_forms(
    world, session, signed_in, path, data
):
    admission_id = (await world.admit(bed="A1")).id
    lead = await signed_in("lead")
    audit_before = await count(session, AuditEntry)

    response = await lead.post(path.format(id=admission_id), data)

    assert response.status_code == 403
    assert await count(session, AuditEntry) == audit_before


async def test_readers_who_may_not_write_are_not_offered_the_admission_forms(world, signed_in):
    admission_id = (await world.admit(bed="A1")).id
    lead = await signed_in("lead")

    page = await lead.get(f"/admissions/{admission_id}")

    assert page.status_code == 200
    assert "Severe depression" in page.text
    assert f'action="/admissions/{admission_id}/purpose-reviews"' not in page.text
    assert f'action="/admissions/{admission_id}/legal-status"' not in page.text
