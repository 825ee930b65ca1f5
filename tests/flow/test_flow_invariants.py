"""The database keeps bed flow's invariants even against hand-written SQL: one open request
and one active placement per person, reviews inside their placement, codes and coordinates
in range, closed requests saying how, and nothing deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.flow.helpers import API, hours, iso, new_patient, waiting


async def refused(session, statement: str, **params) -> None:
    with pytest.raises((IntegrityError, DBAPIError)):
        async with session.begin_nested():
            await session.execute(text(statement), params)


async def accepted(session, statement: str, **params) -> None:
    async with session.begin_nested():
        await session.execute(text(statement), params)


REQUEST = (
    "INSERT INTO bed_requests (patient_id, decision_to_admit_at, ward_type, status, closed_at,"
    " cancel_reason, admission_id, created_at, updated_at)"
    " VALUES (:p, :t, :ward_type, :status, :closed, :why, NULL, :t, :t)"
)


async def test_bed_requests(client, world, clock, session):
    patient = await new_patient(client, world)
    request = await waiting(client, world, patient["id"], clock.now - hours(2))
    base = dict(p=patient["id"], t=clock.now, ward_type="picu", closed=None, why=None)
    await refused(session, REQUEST, status="open", **base)  # a second open request
    other = (await new_patient(client, world))["id"]
    base["p"] = other
    await refused(session, REQUEST, status="waiting", **base)
    await refused(session, REQUEST, **{**base, "ward_type": "surgical"}, status="open")
    await refused(session, REQUEST, **{**base, "closed": clock.now}, status="open")
    await refused(session, REQUEST, status="cancelled", **{**base, "closed": clock.now})  # no why
    await refused(
        session, REQUEST, status="admitted", **{**base, "closed": clock.now}
    )  # no admission
    await refused(
        session,
        REQUEST,
        status="cancelled",
        **{**base, "closed": clock.now - timedelta(days=1), "why": "x"},
    )  # closed before the decision
    await accepted(
        session, REQUEST, status="cancelled", **{**base, "closed": clock.now, "why": "x"}
    )
    await refused(session, "DELETE FROM bed_requests WHERE id = :id", id=request["id"])


PLACEMENT = (
    "INSERT INTO out_of_area_placements (patient_id, provider_name, latitude, longitude,"
    " distance_km, bed_type, reason_code, daily_cost, started_at, ended_at, outcome,"
    " created_at, updated_at) VALUES (:p, 'Elsewhere', :lat, :lon, 10, :bed, :reason, NULL,"
    " :t, :ended, :outcome, :t, :t)"
)


async def test_placements_and_reviews(client, world, clock, session):
    patient = await new_patient(client, world)
    r = await client.post(
        f"{API}/out-of-area-placements",
        headers=world.auth("beds"),
        json={
            "patient_id": patient["id"],
            "provider_name": "Cygnet Hospital Bury",
            "latitude": 53.59,
            "longitude": -2.29,
            "bed_type": "202",
            "reason_code": "10",
            "started_at": iso(clock.now - timedelta(days=3)),
        },
    )
    placement = r.json()
    good = dict(
        p=(await new_patient(client, world))["id"],
        lat=52.0,
        lon=-1.0,
        bed="200",
        reason="10",
        t=clock.now,
        ended=None,
        outcome=None,
    )
    await refused(session, PLACEMENT, **{**good, "p": patient["id"]})  # a second active one
    await refused(session, PLACEMENT, **{**good, "lat": 91.0})
    await refused(session, PLACEMENT, **{**good, "lon": -181.0})
    await refused(session, PLACEMENT, **{**good, "bed": "999"})
    await refused(session, PLACEMENT, **{**good, "reason": "15"})
    await refused(session, PLACEMENT, **{**good, "ended": clock.now})  # ended without outcome
    await refused(
        session, PLACEMENT, **{**good, "ended": clock.now - hours(1), "outcome": "repatriated"}
    )  # ends before it started
    await accepted(session, PLACEMENT, **good)

    review = (
        "INSERT INTO out_of_area_reviews (placement_id, at, note, recorded_at)"
        " VALUES (:id, :at, 'Reviewed', :at)"
    )
    await refused(session, review, id=placement["id"], at=clock.now - timedelta(days=4))
    await accepted(session, review, id=placement["id"], at=clock.now - timedelta(days=1))
    # The placement cannot end before the review recorded in it.
    await refused(
        session,
        "UPDATE out_of_area_placements SET ended_at = :at, outcome = 'other' WHERE id = :id",
        id=placement["id"],
        at=clock.now - timedelta(days=2),
    )
    await refused(
        session, "DELETE FROM out_of_area_reviews WHERE placement_id = :id", id=placement["id"]
    )
    await refused(session, "DELETE FROM out_of_area_placements WHERE id = :id", id=placement["id"])
