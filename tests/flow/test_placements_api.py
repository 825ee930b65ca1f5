"""Out-of-area placements through the API: distance from home, the inappropriate flag,
reviews, ending, bed days and cost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.flow.models import OutOfAreaPlacement, PlacementReview
from tests.flow.helpers import API, LEEDS, hours, iso, new_patient, reference_km, waiting

LONDON = (51.5074, -0.1278)


def placement_body(patient_id: int, started_at: str, **overrides):
    return {
        "patient_id": patient_id,
        "provider_name": "Priory Hospital Roehampton",
        "latitude": LONDON[0],
        "longitude": LONDON[1],
        "bed_type": "200",
        "reason_code": "10",
        "started_at": started_at,
        "daily_cost": "750.00",
        **overrides,
    }


async def place(client, world, patient_id, started_at, user="beds", **overrides):
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth(user),
        json=placement_body(patient_id, started_at, **overrides),
    )
    assert r.status_code == 201, r.text
    return r.json()


async def count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


async def test_a_placement_has_its_distance_from_home_and_is_inappropriate_for_no_bed(
    client, world, clock
):
    patient = await new_patient(client, world)
    body = await place(client, world, patient["id"], iso(clock.now - timedelta(days=3, hours=2)))
    assert body["distance_km"] == pytest.approx(reference_km(LEEDS, LONDON), abs=0.1)
    assert 270 < body["distance_km"] < 275
    assert body["inappropriate"] is True and body["reason"] == "No bed available locally"
    # Three midnights have passed (Europe/London): 3 bed days at £750.
    assert body["bed_days"] == 3 and body["cost_so_far"] == "2250.00"
    assert body["ended_at"] is None and body["outcome"] is None and body["reviews"] == []
    assert body["person"]["initials"] == "AK"


@pytest.mark.parametrize("reason", ["11", "12", "13", "14", "99"])
async def test_other_reasons_are_not_inappropriate(client, world, clock, reason):
    patient = await new_patient(client, world)
    body = await place(client, world, patient["id"], iso(clock.now), reason_code=reason)
    assert body["inappropriate"] is False


async def test_a_placement_without_a_cost_has_no_cost_so_far(client, world, clock):
    patient = await new_patient(client, world)
    body = await place(client, world, patient["id"], iso(clock.now), daily_cost=None)
    assert body["daily_cost"] is None and body["cost_so_far"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": 90.5}, "latitude"),
        ({"latitude": -91}, "latitude"),
        ({"longitude": 181}, "longitude"),
        ({"longitude": -180.1}, "longitude"),
        ({"reason_code": "15"}, "reason_code"),
        ({"bed_type": "203"}, "bed_type"),
        ({"daily_cost": "-1"}, "daily_cost"),
        ({"provider_name": "  "}, "provider_name"),
        ({"started_at": "2026-03-10T12:30:00Z"}, "started_at"),
        ({"started_at": "2026-03-10T09:00:00"}, "started_at"),
    ],
)
async def test_bad_placements_are_422_and_write_nothing(
    client, world, clock, session, change, field
):
    patient = await new_patient(client, world)
    before = await count(session, OutOfAreaPlacement)
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json={**placement_body(patient["id"], iso(clock.now)), **change},
    )
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await count(session, OutOfAreaPlacement) == before


async def test_conflicts_and_unknowns(client, world, clock, session):
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json=placement_body(999999, iso(clock.now)),
    )
    assert r.status_code == 404
    patient = await new_patient(client, world)
    await place(client, world, patient["id"], iso(clock.now - hours(5)))
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json=placement_body(patient["id"], iso(clock.now)),
    )
    assert r.status_code == 409
    admitted = await world.admit()
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json=placement_body(admitted.patient_id, iso(clock.now)),
    )
    assert r.status_code == 409
    assert await count(session, OutOfAreaPlacement) == 1


async def test_bed_managers_and_admins_record_placements_others_do_not(client, world, clock):
    patient = await new_patient(client, world)
    for user in ("nurse", "lead", "director"):
        r = await client.post(
            f"{API}/out-of-area-placements",
            headers=world.auth(user),
            json=placement_body(patient["id"], iso(clock.now)),
        )
        assert r.status_code == 403, user
    assert (
        await client.get(f"{API}/out-of-area-placements", headers=world.auth("director"))
    ).status_code == 403
    assert (
        await client.get(f"{API}/out-of-area-placements", headers=world.auth("lead"))
    ).status_code == 200


async def test_reviews_and_the_end(client, world, clock, session):
    patient = await new_patient(client, world)
    placement = await place(client, world, patient["id"], iso(clock.now - timedelta(days=40)))
    url = f"{API}/out-of-area-placements/{placement['id']}"
    r = await client.post(
        f"{url}/reviews",
        headers=world.auth("beds"),
        json={"at": iso(clock.now - timedelta(days=10)), "note": "Still no local PICU bed"},
    )
    assert r.status_code == 201 and r.json()["note"] == "Still no local PICU bed"
    got = (await client.get(url, headers=world.auth("beds"))).json()
    assert got["last_reviewed_at"] == iso(clock.now - timedelta(days=10))
    assert [x["note"] for x in got["reviews"]] == ["Still no local PICU bed"]

    before_review = await client.post(
        f"{url}/end",
        headers=world.auth("beds"),
        json={"at": iso(clock.now - timedelta(days=11)), "outcome": "repatriated"},
    )
    assert before_review.status_code == 422
    bad_outcome = await client.post(
        f"{url}/end",
        headers=world.auth("beds"),
        json={"at": iso(clock.now), "outcome": "lost"},
    )
    assert bad_outcome.status_code == 422
    r = await client.post(
        f"{url}/end",
        headers=world.auth("beds"),
        json={"at": iso(clock.now - timedelta(days=2)), "outcome": "repatriated"},
    )
    assert r.status_code == 200
    ended = r.json()
    assert ended["outcome"] == "repatriated" and ended["ended_at"] == iso(
        clock.now - timedelta(days=2)
    )
    assert ended["bed_days"] == 38 and ended["cost_so_far"] == "28500.00"
    again = await client.post(
        f"{url}/end", headers=world.auth("beds"), json={"at": iso(clock.now), "outcome": "other"}
    )
    assert again.status_code == 409
    after_end = await client.post(
        f"{url}/reviews", headers=world.auth("beds"), json={"at": iso(clock.now), "note": "x"}
    )
    assert after_end.status_code == 422
    assert await count(session, PlacementReview) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"at": "2026-03-01T00:00:00Z", "note": "before the start"}, "at"),
        ({"at": "2026-03-10T12:30:00Z", "note": "future"}, "at"),
        ({"at": "2026-03-10T11:00:00Z", "note": " "}, "note"),
    ],
)
async def test_bad_reviews_are_422(client, world, clock, session, body, field):
    patient = await new_patient(client, world)
    placement = await place(client, world, patient["id"], iso(clock.now - timedelta(days=2)))
    r = await client.post(
        f"{API}/out-of-area-placements/{placement['id']}/reviews",
        headers=world.auth("beds"),
        json=body,
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await count(session, PlacementReview) == 0


async def test_unknown_placements_are_404(client, world, clock):
    url = f"{API}/out-of-area-placements/999999"
    assert (await client.get(url, headers=world.auth())).status_code == 404
    r = await client.post(
        f"{url}/reviews", headers=world.auth("beds"), json={"at": iso(clock.now), "note": "x"}
    )
    assert r.status_code == 404
    r = await client.post(
        f"{url}/end", headers=world.auth("beds"), json={"at": iso(clock.now), "outcome": "other"}
    )
    assert r.status_code == 404


async def test_the_open_list_has_bed_days_and_distance(client, world, clock):
    first = await place(
        client, world, (await new_patient(client, world))["id"], iso(clock.now - timedelta(days=9))
    )
    second = await place(
        client,
        world,
        (await new_patient(client, world))["id"],
        iso(clock.now - timedelta(days=1)),
        latitude=53.96,
        longitude=-1.08,
        reason_code="11",
    )
    ended = await place(
        client, world, (await new_patient(client, world))["id"], iso(clock.now - timedelta(days=5))
    )
    await client.post(
        f"{API}/out-of-area-placements/{ended['id']}/end",
        headers=world.auth("beds"),
        json={"at": iso(clock.now), "outcome": "discharged"},
    )
    r = await client.get(f"{API}/out-of-area-placements?open=true", headers=world.auth("beds"))
    rows = r.json()
    assert [(x["id"], x["bed_days"]) for x in rows] == [(first["id"], 9), (second["id"], 1)]
    assert rows[1]["distance_km"] == pytest.approx(reference_km(LEEDS, (53.96, -1.08)), abs=0.1)
    closed = await client.get(f"{API}/out-of-area-placements?open=false", headers=world.auth())
    assert [x["id"] for x in closed.json()] == [ended["id"]]


async def test_placing_a_waiting_person_closes_their_request(client, world, clock):
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(20))
    placement = await place(
        client, world, patient["id"], iso(clock.now - hours(2)), bed_request_id=request["id"]
    )
    assert placement["bed_request_id"] == request["id"]
    got = (await client.get(f"{API}/bed-requests/{request['id']}", headers=world.auth())).json()
    assert got["status"] == "placed_out_of_area"
    assert got["out_of_area_placement_id"] == placement["id"]
    assert got["closed_at"] == iso(clock.now - hours(2)) and got["waiting_minutes"] == 18 * 60


async def test_a_placement_naming_someone_else_s_request_is_refused(client, world, clock, session):
    patient = await new_patient(client, world)
    other = await new_patient(client, world)
    request = await waiting(client, world, other["id"], clock.now - hours(3))
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json=placement_body(patient["id"], iso(clock.now), bed_request_id=request["id"]),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["bed_request_id"]
    assert await count(session, OutOfAreaPlacement) == 0
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json=placement_body(patient["id"], iso(clock.now), bed_request_id=999999),
    )
    assert r.status_code == 404
    assert await count(session, OutOfAreaPlacement) == 0
