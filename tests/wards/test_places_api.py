"""Places and beds through the JSON API (API.md: Places and beds)."""

import pytest

API = "/api/v1"


async def test_admin_builds_a_ward_with_beds(client, world):
    h = world.auth()
    r = await client.post(
        f"{API}/localities",
        headers=h,
        json={"code": "HFX", "name": "Halifax", "latitude": 53.72, "longitude": -1.86},
    )
    assert r.status_code == 201 and r.json()["id"]
    r = await client.post(
        f"{API}/sites",
        headers=h,
        json={"code": "CAL", "name": "Calderdale", "locality_code": "HFX"},
    )
    assert r.status_code == 201
    r = await client.post(
        f"{API}/wards",
        headers=h,
        json={
            "code": "OAK",
            "name": "Oak Ward",
            "site_code": "CAL",
            "ward_type": "picu",
            "sex": "male",
            "min_age": 18,
            "max_age": 65,
        },
    )
    assert r.status_code == 201
    assert r.json()["ward_type"] == "picu" and r.json()["site_code"] == "CAL"
    for label in ("O1", "O2"):
        r = await client.post(f"{API}/wards/OAK/beds", headers=h, json={"label": label})
        assert r.status_code == 201 and r.json()["status"] == "open"
    r = await client.get(f"{API}/wards/OAK", headers=h)
    assert r.json()["beds"] == 2 and r.json()["open_beds"] == 2
    codes = [w["code"] for w in (await client.get(f"{API}/wards", headers=h)).json()]
    assert "OAK" in codes and "ASH" in codes


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90.01, 0), (-90.01, 0), (0, 180.5), (0, -181)]
)
async def test_coordinates_out_of_range_are_refused(client, world, latitude, longitude):
    r = await client.post(
        f"{API}/localities",
        headers=world.auth(),
        json={"code": "BAD", "name": "Nowhere", "latitude": latitude, "longitude": longitude},
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in r.json()["errors"]} <= {"latitude", "longitude"}


async def test_coordinates_at_the_limits_are_accepted(client, world):
    r = await client.post(
        f"{API}/localities",
        headers=world.auth(),
        json={"code": "POLE", "name": "Edge", "latitude": 90, "longitude": -180},
    )
    assert r.status_code == 201


async def test_duplicate_codes_conflict(client, world):
    h = world.auth()
    r = await client.post(
        f"{API}/localities",
        headers=h,
        json={"code": "LDS", "name": "Leeds again", "latitude": 53.8, "longitude": -1.5},
    )
    assert r.status_code == 409
    r = await client.post(f"{API}/wards/ASH/beds", headers=h, json={"label": "A1"})
    assert r.status_code == 409


async def test_unknown_references_are_404(client, world):
    h = world.auth()
    r = await client.post(
        f"{API}/sites", headers=h, json={"code": "X", "name": "X", "locality_code": "NOPE"}
    )
    assert r.status_code == 404
    r = await client.post(
        f"{API}/wards",
        headers=h,
        json={
            "code": "W",
            "name": "W",
            "site_code": "NOPE",
            "ward_type": "picu",
            "sex": "male",
            "min_age": 18,
            "max_age": 65,
        },
    )
    assert r.status_code == 404
    assert (await client.get(f"{API}/wards/NOPE", headers=h)).status_code == 404
    assert (await client.get(f"{API}/wards/NOPE/board", headers=h)).status_code == 404
    r = await client.patch(f"{API}/wards/ASH/beds/ZZ", headers=h, json={"status": "open"})
    assert r.status_code == 404


async def test_ward_with_inverted_age_range_or_unknown_type_is_refused(client, world):
    h = world.auth()
    base = {
        "code": "W",
        "name": "W",
        "site_code": "STJ",
        "ward_type": "picu",
        "sex": "male",
        "min_age": 65,
        "max_age": 18,
    }
    r = await client.post(f"{API}/wards", headers=h, json=base)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "max_age"
    r = await client.post(
        f"{API}/wards",
        headers=h,
        json={**base, "min_age": 18, "max_age": 65, "ward_type": "general"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ward_type"


async def test_close_and_reopen_a_bed(client, world):
    h = world.auth()
    r = await client.patch(f"{API}/wards/ASH/beds/A6", headers=h, json={"status": "closed"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await client.patch(
        f"{API}/wards/ASH/beds/A6", headers=h, json={"status": "closed", "reason": "Ligature works"}
    )
    assert r.status_code == 200 and r.json() == {
        "id": r.json()["id"],
        "ward_code": "ASH",
        "label": "A6",
        "status": "closed",
        "reason": "Ligature works",
    }
    board = (await client.get(f"{API}/wards/ASH/board", headers=h)).json()
    assert board["occupancy"]["open"] == 5 and board["occupancy"]["beds"] == 6
    r = await client.patch(f"{API}/wards/ASH/beds/A6", headers=h, json={"status": "open"})
    assert r.status_code == 200 and r.json()["reason"] is None


async def test_an_occupied_bed_cannot_be_closed(client, world):
    await world.admit(bed="A1")
    r = await client.patch(
        f"{API}/wards/ASH/beds/A1",
        headers=world.auth(),
        json={"status": "closed", "reason": "Repairs"},
    )
    assert r.status_code == 409
    board = (await client.get(f"{API}/wards/ASH/board", headers=world.auth())).json()
    assert board["beds"][0]["status"] == "open"


async def test_board_shape_and_occupancy(client, world, clock):
    from datetime import date, timedelta

    await world.admit(
        bed="A2",
        at=clock.now - timedelta(days=3, hours=1),
        expected_discharge_date=date(2026, 3, 20),
    )
    await world.admit(
        world_patient := await world.patient(date_of_birth=date(2009, 3, 11)), bed="A3"
    )
    r = await client.get(f"{API}/wards/ASH/board", headers=world.auth())
    assert r.status_code == 200
    body = r.json()
    # The contract's three, and the ward's own alert count (an extension).
    assert set(body) == {"ward", "beds", "occupancy", "open_alerts"}
    assert body["occupancy"] == {"beds": 6, "open": 6, "occupied": 2, "rate": round(2 / 6, 4)}
    beds = {b["label"]: b for b in body["beds"]}
    assert beds["A1"]["occupant"] is None and beds["A1"]["status"] == "open"
    a2 = beds["A2"]["occupant"]
    assert set(a2) >= {
        "admission_id",
        "patient_id",
        "display_name",
        "age",
        "legal_status",
        "admitted_at",
        "days_on_ward",
        "expected_discharge_date",
        "flags",
        "open_alerts",
    }
    assert a2["display_name"] == "Jane SMITH" and a2["age"] == 36
    assert a2["days_on_ward"] == 3 and a2["expected_discharge_date"] == "2026-03-20"
    assert a2["flags"] == [] and a2["legal_status"] == "s2"
    # Born 11 March 2009: 16 on 10 March 2026, so flagged as under 18 on an adult ward.
    a3 = beds["A3"]["occupant"]
    assert a3["patient_id"] == world_patient.id and a3["age"] == 16
    assert "under_18" in a3["flags"]


async def test_under_18_flag_ends_on_the_18th_birthday(client, world, clock):
    from datetime import date

    patient = await world.patient(date_of_birth=date(2008, 3, 10))  # 18 today
    await world.admit(patient, bed="A4")
    board = (await client.get(f"{API}/wards/ASH/board", headers=world.auth())).json()
    occupant = board["beds"][3]["occupant"]
    assert occupant["age"] == 18 and "under_18" not in occupant["flags"]
