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
