"""Places of safety (s.135, s.136): 24 hours from arrival, one extension of at most 12
hours authorised in time, never a child in a police station; kept by bed managers, the
safeguarding lead and admins."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.mha.models import PlaceOfSafetyEpisode
from tests.flow.helpers import API, iso


async def start(client, world, patient_id, arrived_at, user="beds", place="hospital"):
    return await client.post(
        f"{API}/place-of-safety-episodes",
        headers=world.auth(user),
        json={
            "patient_id": patient_id,
            "section": "s136",
            "place_type": place,
            "arrived_at": iso(arrived_at),
        },
    )


async def test_a_place_of_safety_has_24_hours_and_an_extension_in_time(client, world, clock):
    patient = await world.patient()
    arrived = clock.now - timedelta(hours=23)
    r = await start(client, world, patient.id, arrived)
    assert r.status_code == 201, r.text
    episode = r.json()
    assert episode["limit_at"] == iso(arrived + timedelta(hours=24))
    assert episode["over_limit"] is False
    # Authorised a minute before the 24 hours ran out (typed in a little later): 12 more.
    clock.now = arrived + timedelta(hours=24, minutes=5)
    r = await client.post(
        f"{API}/place-of-safety-episodes/{episode['id']}/extension",
        headers=world.auth("beds"),
        json={
            "authorised_at": iso(arrived + timedelta(hours=23, minutes=59)),
            "hours": 12,
            "reason": "Awaiting an AMHP",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["limit_at"] == iso(arrived + timedelta(hours=36))
    again = await client.post(
        f"{API}/place-of-safety-episodes/{episode['id']}/extension",
        headers=world.auth("beds"),
        json={"authorised_at": iso(clock.now), "hours": 1, "reason": "More time"},
    )
    assert again.status_code == 409
    clock.now = arrived + timedelta(hours=37)
    late = await client.get(
        f"{API}/place-of-safety-episodes/{episode['id']}", headers=world.auth("lead")
    )
    assert late.json()["over_limit"] is True
    r = await client.post(
        f"{API}/place-of-safety-episodes/{episode['id']}/end",
        headers=world.auth("beds"),
        json={"at": iso(arrived + timedelta(hours=30)), "outcome": "detained"},
    )
    assert r.status_code == 200
    assert r.json()["over_limit"] is False and r.json()["outcome"] == "detained"


async def test_an_extension_too_late_or_too_long_is_refused_and_changes_nothing(
    client, world, clock, session
):
    patient = await world.patient()
    arrived = clock.now - timedelta(hours=25)
    episode = (await start(client, world, patient.id, arrived)).json()
    url = f"{API}/place-of-safety-episodes/{episode['id']}/extension"
    at_limit = await client.post(
        url,
        headers=world.auth("beds"),
        json={"authorised_at": iso(arrived + timedelta(hours=24)), "hours": 6, "reason": "x"},
    )
    assert at_limit.status_code == 422
    assert "already run out" in at_limit.text
    too_long = await client.post(
        url,
        headers=world.auth("beds"),
        json={"authorised_at": iso(arrived + timedelta(hours=20)), "hours": 12.5, "reason": "x"},
    )
    assert too_long.status_code == 422
    assert "at most 12 hours" in too_long.text
    stored = await session.scalar(
        select(PlaceOfSafetyEpisode.extension_hours).where(PlaceOfSafetyEpisode.id == episode["id"])
    )
    assert stored is None


async def test_a_child_in_a_police_station_is_flagged(client, world, clock):
    child = await world.patient(date_of_birth=date(2010, 6, 1))
    r = await start(client, world, child.id, clock.now - timedelta(hours=1), place="police_station")
    assert r.status_code == 201
    assert r.json()["under_18_in_police_station"] is True
    adult = await world.patient()
    r = await start(client, world, adult.id, clock.now - timedelta(hours=1), place="police_station")
    assert r.json()["under_18_in_police_station"] is False


async def test_one_open_episode_per_person_and_the_open_list(client, world, clock, session):
    patient = await world.patient()
    first = await start(client, world, patient.id, clock.now - timedelta(hours=2))
    assert first.status_code == 201
    second = await start(client, world, patient.id, clock.now - timedelta(hours=1))
    assert second.status_code == 409
    listed = await client.get(f"{API}/place-of-safety-episodes", headers=world.auth("admin"))
    assert [e["id"] for e in listed.json()] == [first.json()["id"]]
    assert await session.scalar(select(func.count()).select_from(PlaceOfSafetyEpisode)) == 1


async def test_ward_staff_and_directors_do_not_keep_places_of_safety(client, world, clock):
    patient = await world.patient()
    for user in ("nurse", "director"):
        r = await start(client, world, patient.id, clock.now - timedelta(hours=1), user=user)
        assert r.status_code == 403
        listed = await client.get(f"{API}/place-of-safety-episodes", headers=world.auth(user))
        assert listed.status_code == 403


async def test_bad_times_are_refused(client, world, clock):
    patient = await world.patient()
    future = await start(client, world, patient.id, clock.now + timedelta(hours=2))
    assert future.status_code == 422
    episode = (await start(client, world, patient.id, clock.now - timedelta(hours=2))).json()
    before = await client.post(
        f"{API}/place-of-safety-episodes/{episode['id']}/end",
        headers=world.auth("beds"),
        json={"at": iso(clock.now - timedelta(hours=3)), "outcome": "released"},
    )
    assert before.status_code == 422
