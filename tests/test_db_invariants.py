"""The invariants hold in the database itself, whatever code (or hand-written SQL) writes.

Each test goes around the services and writes directly, expecting the database to refuse.
"""

from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.audit.models import AuditEntry
from app.wards.models import Admission, Bed, WardStay

REFUSED = (IntegrityError, DBAPIError)


async def refused(session, statement, params=None) -> bool:
    try:
        async with session.begin_nested():
            await session.execute(statement, params or {})
    except REFUSED:
        return True
    return False


async def test_a_bed_holds_one_open_stay(world, session, clock):
    first = await world.admit(bed="A1")
    other = await world.admit(bed="A2")
    stmt = text(
        "INSERT INTO ward_stays (admission_id, ward_id, bed_id, started_at) "
        "SELECT :admission, ward_id, bed_id, started_at FROM ward_stays WHERE admission_id = :first"
    )
    # Even with A2's admission's own stay ended, A1 cannot take a second open stay.
    await session.execute(
        update(WardStay).where(WardStay.admission_id == other.id).values(ended_at=clock.now)
    )
    assert await refused(session, stmt, {"admission": other.id, "first": first.id})


async def test_a_patient_has_one_open_admission(world, session):
    admission = await world.admit()
    stmt = text(
        "INSERT INTO admissions (patient_id, admitted_at, reason, expected_benefit, "
        "legal_status, created_at) SELECT patient_id, admitted_at, reason, "
        "expected_benefit, legal_status, created_at FROM admissions WHERE id = :id"
    )
    assert await refused(session, stmt, {"id": admission.id})


async def test_blank_reason_or_benefit_is_refused(world, session):
    admission = await world.admit()
    for column in ("reason", "expected_benefit"):
        stmt = update(Admission).where(Admission.id == admission.id).values({column: "   "})
        assert await refused(session, stmt)


async def test_intervals_end_after_they_start(world, session, clock):
    admission = await world.admit(at=clock.now - timedelta(days=1))
    early = clock.now - timedelta(days=2)
    assert await refused(
        session,
        update(WardStay).where(WardStay.admission_id == admission.id).values(ended_at=early),
    )
    assert await refused(
        session,
        update(Admission)
        .where(Admission.id == admission.id)
        .values(discharged_at=early, discharge_destination="other"),
    )


async def test_closed_beds_take_no_one_and_occupied_beds_stay_open(world, session, clock):
    admission = await world.admit(bed="A1")
    assert await refused(
        session,
        update(Bed).where(Bed.label == "A1").values(status="closed", closed_reason="Repairs"),
    )
    await session.execute(
        update(Bed).where(Bed.label == "A6").values(status="closed", closed_reason="Repairs")
    )
    a6 = await session.scalar(text("SELECT id FROM beds WHERE label = 'A6'"))
    await session.execute(
        update(WardStay).where(WardStay.admission_id == admission.id).values(ended_at=clock.now)
    )
    stmt = text(
        "INSERT INTO ward_stays (admission_id, ward_id, bed_id, started_at) "
        "SELECT admission_id, ward_id, :bed, :at FROM ward_stays WHERE admission_id = :a"
    )
    assert await refused(session, stmt, {"bed": a6, "at": clock.now, "a": admission.id})


async def test_a_closed_bed_must_say_why(world, session):
    assert await refused(session, update(Bed).where(Bed.label == "A5").values(status="closed"))
    assert await refused(session, update(Bed).where(Bed.label == "A5").values(status="shut"))


async def test_the_audit_log_is_append_only(world, session):
    await world.admit()
    assert await refused(session, update(AuditEntry).values(action="tampered"))
    assert await refused(session, text("DELETE FROM audit_log"))


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("wards", "ward_type", "general"),
        ("wards", "sex", "any"),
        ("patients", "ethnic_category", "Q"),
        ("patients", "sex", "x"),
        ("admissions", "legal_status", "s99"),
    ],
)
async def test_codes_are_checked_by_the_database(world, session, table, column, value):
    await world.admit()
    assert await refused(session, text(f"UPDATE {table} SET {column} = :v"), {"v": value})  # noqa: S608
