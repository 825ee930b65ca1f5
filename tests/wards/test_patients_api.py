"""Patients through the JSON API: NHS number checks, codes, duplicates."""

import pytest
from sqlalchemy import func, select

from app.wards.models import Patient
from tests.factories import invalid_nhs_number, next_nhs_number, patient_body

API = "/api/v1"


async def test_create_and_read_a_patient(client, world):
    number = next_nhs_number()
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number=spaced)
    )
    assert r.status_code == 201
    body = r.json()
    assert body["nhs_number"] == number  # spaces allowed on input, stored as 10 digits
    assert body["display_name"] == "Amira KHAN" and body["home_locality_code"] == "LDS"
    r = await client.get(f"{API}/patients/{body['id']}", headers=world.auth())
    assert r.status_code == 200 and r.json() == body


@pytest.mark.parametrize("bad", ["123456789", "12345678901", "abcdefghij", "INVALID"])
async def test_malformed_nhs_numbers_are_refused(client, world, session, bad):
    value = invalid_nhs_number() if bad == "INVALID" else bad
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number=value)
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "nhs_number"
    assert await session.scalar(select(func.count()).select_from(Patient)) == 0


async def test_a_check_digit_off_by_one_is_named(client, world):
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number=invalid_nhs_number())
    )
    assert "check digit" in r.json()["errors"][0]["message"]


async def test_the_same_nhs_number_twice_conflicts(client, world):
    number = next_nhs_number()
    assert (
        await client.post(
            f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number=number)
        )
    ).status_code == 201
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number=number)
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "unknown"),
        ("ethnic_category", "Q"),
        ("ethnic_category", "1"),
        ("date_of_birth", "15/06/1985"),
        ("given_name", "  "),
        ("family_name", ""),
    ],
)
async def test_bad_codes_and_blanks_are_422_on_the_field(client, world, field, value):
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(**{field: value})
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("code", ["A", "H", "N", "R", "S", "Z", "99"])
async def test_every_kind_of_ethnic_code_is_accepted(client, world, code):
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(ethnic_category=code)
    )
    assert r.status_code == 201 and r.json()["ethnic_category"] == code


async def test_missing_field_and_unknown_field(client, world):
    body = patient_body()
    del body["sex"]
    r = await client.post(f"{API}/patients", headers=world.auth(), json=body)
    assert r.status_code == 422 and r.json()["errors"] == [
        {"field": "sex", "message": "is required"}
    ]
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json={**patient_body(), "nhs": "1"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "nhs"


async def test_birth_in_the_future_and_unknown_locality(client, world):
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(date_of_birth="2026-03-11")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "date_of_birth"
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(home_locality_code="NOWHERE")
    )
    assert r.status_code == 404


async def test_unknown_patient_is_404_and_malformed_json_is_422(client, world):
    assert (await client.get(f"{API}/patients/999999", headers=world.auth())).status_code == 404
    r = await client.post(
        f"{API}/patients",
        headers={**world.auth(), "content-type": "application/json"},
        content=b"{not json",
    )
    assert r.status_code == 422


# --- issue 17 finding 4: ASCII digits only; the CHI refusal says why ------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "９４３４７６５９１９",  # full-width digits
        "٩٤٣٤٧٦٥٩١٩",  # Arabic-Indic digits
        "۹۴۳۴۷۶۵۹۱۹",  # Extended Arabic-Indic (Persian) digits
        "943\u00a0476\u00a05919",  # non-breaking spaces
    ],
)
async def test_nhs_numbers_take_ascii_digits_spaces_and_dashes_only(client, world, session, typed):
    """Unicode digits once made three patients of one NHS number: now refused, and the
    ASCII number is recorded once."""
    ascii_ = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number="943-476-5919")
    )
    again = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number=typed)
    )

    assert ascii_.status_code == 201 and ascii_.json()["nhs_number"] == "9434765919"
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "nhs_number"
    assert await session.scalar(select(func.count()).select_from(Patient)) == 1


async def test_a_chi_range_number_without_a_birth_date_says_so(client, world):
    """3102990002 passes the modulus-11 check but 31/02/99 is no date: the message says that,
    not that the check digit is wrong."""
    r = await client.post(
        f"{API}/patients", headers=world.auth(), json=patient_body(nhs_number="3102990002")
    )
    assert r.status_code == 422
    message = r.json()["errors"][0]["message"]
    assert "Scottish CHI" in message and "date of birth" in message
    assert "check digit" not in message


# --- issue 17 finding 1: finding a registered person to admit them -------------------------


async def test_lookup_needs_the_exact_nhs_number_and_date_of_birth(client, world, session):
    """Ward staff find a registered person to admit by NHS number and date of birth
    together, get only what the admit form needs, and every try is audited under the
    person it reached."""
    from app.audit.models import AuditEntry

    known = await world.patient(given_name="Grace", family_name="Obi")
    nurse = world.auth("nurse")

    found = await client.post(
        f"{API}/patients/lookup",
        headers=nurse,
        json={"nhs_number": known.nhs_number, "date_of_birth": "1990-01-02"},
    )
    wrong_birth = await client.post(
        f"{API}/patients/lookup",
        headers=nurse,
        json={"nhs_number": known.nhs_number, "date_of_birth": "1990-01-03"},
    )
    unknown = await client.post(
        f"{API}/patients/lookup",
        headers=nurse,
        json={"nhs_number": next_nhs_number(), "date_of_birth": "1990-01-02"},
    )
    read = await client.get(f"{API}/patients/{known.id}", headers=nurse)

    assert found.status_code == 200
    assert found.json() == {"id": known.id, "sex": "female", "age": 36, "home_locality_code": "LDS"}
    assert wrong_birth.status_code == unknown.status_code == 404
    assert wrong_birth.json()["detail"] == unknown.json()["detail"]
    assert "Obi" not in wrong_birth.text + unknown.text + read.text
    assert read.status_code == 403  # finding it to admit is not reading the record
    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("patient.lookup%"))
            .order_by(AuditEntry.id)
        )
    )
    assert [(e.action, e.entity_id, e.after["found"]) for e in entries] == [
        ("patient.lookup", str(known.id), True),
        ("patient.lookup_failed", str(known.id), False),
        ("patient.lookup_failed", "", False),
    ]
    assert all(e.after["via"] == "api" and e.username == "nurse" for e in entries)


async def test_directors_cannot_look_people_up(client, world):
    known = await world.patient()
    r = await client.post(
        f"{API}/patients/lookup",
        headers=world.auth("director"),
        json={"nhs_number": known.nhs_number, "date_of_birth": "1990-01-02"},
    )
    assert r.status_code == 403


# --- issue 17 finding 9 (reads): who looked at this person --------------------------------


async def test_admin_sees_who_read_a_person_when_and_from_where(client, world):
    """Every read of a person's record (API, FHIR, pages) is one audit entry; the admin's
    access log answers who, when, how and from which address. Nobody else may see it."""
    admission = await world.admit()
    patient_id = admission.patient_id
    nurse = world.auth("nurse")
    assert (await client.get(f"{API}/patients/{patient_id}", headers=nurse)).status_code == 200
    assert (
        await client.get(f"{API}/admissions/{admission.id}", headers=world.auth("lead"))
    ).status_code == 200
    assert (await client.get(f"/fhir/r4/Patient/{patient_id}", headers=nurse)).status_code == 200
    refused = await client.get(f"{API}/patients/{patient_id}", headers=world.auth("birchnurse"))
    assert refused.status_code == 403

    log = await client.get(f"{API}/patients/{patient_id}/access-log", headers=world.auth())
    for username in ("nurse", "lead", "director", "beds"):
        other = await client.get(
            f"{API}/patients/{patient_id}/access-log", headers=world.auth(username)
        )
        assert other.status_code == 403, username

    assert log.status_code == 200
    reads = [e for e in log.json() if e["action"].endswith(".read")]
    assert [(e["username"], e["action"], e["via"]) for e in reads] == [
        ("nurse", "patient.read", "fhir"),
        ("lead", "admission.read", "api"),
        ("nurse", "patient.read", "api"),
    ]
    assert all(e["client"] == "127.0.0.1" for e in reads)
    assert all(e["at"].startswith("2026-03-10T12:00") for e in reads)
    # The refused read left nothing to answer for; the record's making is there too.
    assert "birchnurse" not in {e["username"] for e in log.json()}
    assert "patient.create" in {e["action"] for e in log.json()}
    missing = await client.get(f"{API}/patients/999999/access-log", headers=world.auth())
    assert missing.status_code == 404


async def test_the_audit_page_answers_who_looked_at_a_person(client, world, signed_in):
    admission = await world.admit()
    await client.get(f"{API}/patients/{admission.patient_id}", headers=world.auth("nurse"))
    admin = await signed_in("admin")

    page = await admin.get(f"/admin/audit?person={admission.patient_id}")

    assert page.status_code == 200
    assert "patient.read" in page.text and "by api from 127.0.0.1" in page.text
