"""Clinically ready for discharge through the API: reasons by MHSDS v6 code, agency, days
delayed, one open period at a time, and discharge ending it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.discharge.models import ReadyForDischarge
from tests.flow.helpers import API, hours, iso


def ready_body(started_at: str, **overrides):
    return {
        "started_at": started_at,
        "reason_code": "15",
        "attributable_to": "social_care",
        **overrides,
    }


async def mark_ready(client, world, admission_id, started_at, user="nurse", **overrides):
    return await client.post(
        f"{API}/admissions/{admission_id}/ready-for-discharge",
        headers=world.auth(user),
        json=ready_body(started_at, **overrides),
    )


async def count(session) -> int:
    return await session.scalar(select(func.count()).select_from(ReadyForDischarge))


@pytest.fixture
async def admission(world, clock):
    return await world.admit(at=clock.now - timedelta(days=20))


async def test_a_period_starts_with_its_reason_agency_and_days_delayed(
    client, world, clock, admission
):
    r = await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=8, hours=3)))
    assert r.status_code == 201
    body = r.json()
    assert body["reason_code"] == "15"
    assert body["reason"] == "Housing: awaiting social rented accommodation"
    assert body["attributable_to"] == "social_care"
    assert body["ended_at"] is None and body["days_delayed"] == 8
    got = (await client.get(f"{API}/admissions/{admission.id}", headers=world.auth("nurse"))).json()
    assert got["ready_for_discharge_periods"] == [body]
    clock.now += timedelta(days=1)
    again = await client.get(f"{API}/ready-for-discharge/{body['id']}", headers=world.auth("nurse"))
    assert again.json()["days_delayed"] == 9


async def test_the_board_flags_a_person_ready_for_discharge(client, world, clock, admission):
    await mark_ready(client, world, admission.id, iso(clock.now - hours(2)))
    board = (await client.get(f"{API}/wards/ASH/board", headers=world.auth("nurse"))).json()
    occupant = next(b["occupant"] for b in board["beds"] if b["label"] == "A1")
    assert "ready_for_discharge" in occupant["flags"]


async def test_a_second_open_period_is_409_and_an_overlap_too(
    client, world, clock, session, admission
):
    first = await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=5)))
    assert first.status_code == 201
    r = await mark_ready(client, world, admission.id, iso(clock.now - hours(1)))
    assert r.status_code == 409
    await client.post(
        f"{API}/ready-for-discharge/{first.json()['id']}/end",
        headers=world.auth("nurse"),
        json={"at": iso(clock.now - timedelta(days=2))},
    )
    overlapping = await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=3)))
    assert overlapping.status_code == 409
    after = await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=1)))
    assert after.status_code == 201
    assert await count(session) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason_code": "38"}, "reason_code"),
        ({"reason_code": "00"}, "reason_code"),
        ({"reason_code": "99"}, "reason_code"),
        ({"reason_code": 15}, "reason_code"),
        ({"attributable_to": "council"}, "attributable_to"),
        ({"started_at": "2026-03-10T12:30:00Z"}, "started_at"),
        ({"started_at": "2026-01-01T00:00:00Z"}, "started_at"),  # before the admission
        ({"started_at": "2026-03-10T09:00:00"}, "started_at"),
    ],
)
async def test_bad_periods_are_422_naming_the_field(
    client, world, clock, session, admission, change, field
):
    r = await client.post(
        f"{API}/admissions/{admission.id}/ready-for-discharge",
        headers=world.auth("nurse"),
        json={**ready_body(iso(clock.now)), **change},
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await count(session) == 0


@pytest.mark.parametrize("code", ["01", "09", "14", "19", "20", "23", "37", "98"])
async def test_every_kind_of_code_is_accepted(client, world, clock, admission, code):
    r = await mark_ready(client, world, admission.id, iso(clock.now), reason_code=code)
    assert r.status_code == 201


async def test_only_the_ward_s_staff_and_admins_mark_people_ready(client, world, clock, admission):
    for user in ("birchnurse", "beds", "lead", "director"):
        r = await mark_ready(client, world, admission.id, iso(clock.now), user=user)
        assert r.status_code == 403, user
    assert (
        await mark_ready(client, world, admission.id, iso(clock.now), user="admin")
    ).status_code == 201


async def test_ending_a_period(client, world, clock, session, admission):
    period = (
        await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=4)))
    ).json()
    url = f"{API}/ready-for-discharge/{period['id']}/end"
    before_start = await client.post(
        url, headers=world.auth("nurse"), json={"at": iso(clock.now - timedelta(days=5))}
    )
    assert before_start.status_code == 422
    future = await client.post(
        url, headers=world.auth("nurse"), json={"at": iso(clock.now + hours(1))}
    )
    assert future.status_code == 422
    r = await client.post(
        url, headers=world.auth("nurse"), json={"at": iso(clock.now - timedelta(days=1))}
    )
    assert r.status_code == 200
    assert (
        r.json()["ended_at"] == iso(clock.now - timedelta(days=1)) and r.json()["days_delayed"] == 3
    )
    again = await client.post(url, headers=world.auth("nurse"), json={"at": iso(clock.now)})
    assert again.status_code == 409
    missing = await client.post(
        f"{API}/ready-for-discharge/999999/end",
        headers=world.auth("nurse"),
        json={"at": iso(clock.now)},
    )
    assert missing.status_code == 404
    other_ward = await client.post(
        url, headers=world.auth("birchnurse"), json={"at": iso(clock.now)}
    )
    assert other_ward.status_code == 403


async def test_discharge_ends_the_open_period_at_the_moment_of_discharge(
    client, world, clock, admission
):
    period = (
        await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=9)))
    ).json()
    r = await client.post(
        f"{API}/admissions/{admission.id}/discharge",
        headers=world.auth("nurse"),
        json={"at": iso(clock.now - hours(1)), "destination": "supported_accommodation"},
    )
    assert r.status_code == 200, r.text
    [ended] = r.json()["ready_for_discharge_periods"]
    assert ended["id"] == period["id"] and ended["ended_at"] == iso(clock.now - hours(1))
    assert ended["days_delayed"] == 9
    board = (await client.get(f"{API}/wards/ASH/board", headers=world.auth("nurse"))).json()
    assert all(b["occupant"] is None for b in board["beds"])
    late = await mark_ready(client, world, admission.id, iso(clock.now - hours(2)))
    assert late.status_code == 409


async def test_a_discharge_before_the_person_was_ready_is_refused(client, world, clock, admission):
    await mark_ready(client, world, admission.id, iso(clock.now - hours(2)))
    r = await client.post(
        f"{API}/admissions/{admission.id}/discharge",
        headers=world.auth("nurse"),
        json={"at": iso(clock.now - hours(3)), "destination": "usual_residence"},
    )
    assert r.status_code == 422
    got = (await client.get(f"{API}/admissions/{admission.id}", headers=world.auth("nurse"))).json()
    assert got["status"] == "open" and got["ready_for_discharge_periods"][0]["ended_at"] is None


# --- the database keeps the invariants even against hand-written SQL ----------------------


async def _refused(session, statement: str, **params) -> None:
    with pytest.raises((IntegrityError, DBAPIError)):
        async with session.begin_nested():
            await session.execute(text(statement), params)


async def test_the_database_refuses_what_the_service_refuses(
    client, world, clock, session, admission
):
    period = (
        await mark_ready(client, world, admission.id, iso(clock.now - timedelta(days=2)))
    ).json()
    values = dict(a=admission.id, t=clock.now)
    insert = (
        "INSERT INTO ready_for_discharge (admission_id, started_at, reason_code, attributable_to,"
        " created_at, updated_at) VALUES (:a, :t, :code, 'nhs', :t, :t)"
    )
    await _refused(session, insert, code="04", **values)  # a second open period
    # A closed period (so not a second open one) starting before the admission.
    await _refused(
        session,
        "INSERT INTO ready_for_discharge (admission_id, started_at, ended_at, reason_code,"
        " attributable_to, created_at, updated_at) VALUES (:a, :early, :t, '04', 'nhs', :t, :t)",
        early=clock.now - timedelta(days=30),
        **values,
    )
    # The same, inside the admission, is accepted: the refusal above is the admission's bounds.
    async with session.begin_nested():
        await session.execute(
            text(
                "INSERT INTO ready_for_discharge (admission_id, started_at, ended_at,"
                " reason_code, attributable_to, created_at, updated_at)"
                " VALUES (:a, :early, :early, '04', 'nhs', :t, :t)"
            ),
            {**values, "early": clock.now - timedelta(days=10)},
        )
    await _refused(
        session,
        "UPDATE ready_for_discharge SET reason_code = '99' WHERE id = :id",
        id=period["id"],
    )
    await _refused(session, "DELETE FROM ready_for_discharge WHERE id = :id", id=period["id"])
    # A discharge that would leave the period open.
    await _refused(
        session,
        "UPDATE admissions SET discharged_at = :t, discharge_destination = 'other' WHERE id = :a",
        **values,
    )
    assert await count(session) == 2
