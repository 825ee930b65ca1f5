"""Bed closures are written with the bed's status, in the same transaction (issue 18,
change 8), and the database keeps one open closure per bed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.wards.models import Bed, BedClosure

API = "/api/v1"


async def closures(session, label: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    rows = await session.execute(
        select(BedClosure.closed_at, BedClosure.reopened_at, BedClosure.reason)
        .join(Bed, Bed.id == BedClosure.bed_id)
        .where(Bed.label == label)
        .order_by(BedClosure.id)
    )
    return [tuple(r) for r in rows]


async def patch(client, world, label: str, body: dict) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(f"{API}/wards/ASH/beds/{label}", headers=world.auth(), json=body)
    assert r.status_code == 200, r.text


async def test_closing_and_reopening_writes_a_closure(client, world, clock, session) -> None:
    start = clock.now
    await patch(client, world, "A3", {"status": "closed", "reason": "Broken window"})
    assert await closures(session, "A3") == [(start, None, "Broken window")]
    # Closing again while closed says the new reason; no second closure.
    clock.now = start + timedelta(hours=1)
    await patch(client, world, "A3", {"status": "closed", "reason": "Window and door"})
    clock.now = start + timedelta(days=2)
    await patch(client, world, "A3", {"status": "open"})
    assert await closures(session, "A3") == [(start, start + timedelta(days=2), "Window and door")]
    clock.now = start + timedelta(days=3)
    await patch(client, world, "A3", {"status": "closed", "reason": "Deep clean"})
    assert (await closures(session, "A3"))[1] == (clock.now, None, "Deep clean")


async def test_a_bed_reopened_the_moment_it_closed_keeps_no_closure(client, world, session) -> None:
    await patch(client, world, "A4", {"status": "closed", "reason": "Wrong bed"})
    await patch(client, world, "A4", {"status": "open"})
    assert await closures(session, "A4") == []


async def test_a_refused_closure_writes_nothing(client, world, session) -> None:
    await world.admit(ward="ASH", bed="A5")
    r = await client.patch(
        f"{API}/wards/ASH/beds/A5", headers=world.auth(), json={"status": "closed", "reason": "X"}
    )
    assert r.status_code == 409
    assert await closures(session, "A5") == []


async def test_the_database_refuses_two_open_closures_of_one_bed(world, session) -> None:
    bed = await session.scalar(select(Bed).where(Bed.label == "A6"))
    session.add(BedClosure(bed_id=bed.id, closed_at=world.now, reason="Leak"))
    await session.flush()
    session.add(BedClosure(bed_id=bed.id, closed_at=world.now + timedelta(hours=1), reason="Again"))
    with pytest.raises(IntegrityError, match="(?i)uq_bed_closures_one_open_per_bed|unique"):
        await session.flush()


async def test_the_database_refuses_a_reopening_before_the_closure(world, session) -> None:
    bed = await session.scalar(select(Bed).where(Bed.label == "A6"))
    session.add(
        BedClosure(bed_id=bed.id, closed_at=world.now, reopened_at=world.now, reason="Zero length")
    )
    with pytest.raises(IntegrityError, match="reopened_after_closed"):
        await session.flush()
