"""The synthetic nation (`wardflow seed synthetic`): realistic, within every invariant the
database keeps, usable by the service, and the same for the same seed."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import nhs_number
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from app.auth.service import get_user, make_api_token
from app.clock import age_on
from app.demo import synthetic
from app.demo.synthetic.writer import ORDER
from app.segregation.force.models import RestrictiveIntervention
from app.segregation.force.service import snapshot
from app.wards.codes import WARD_TYPES
from app.wards.models import Admission, Patient, Ward, WardStay

BEDS, YEARS, SEED = 40, 1.0, 5
WARDFLOW = str(Path(sys.executable).parent / "wardflow")


async def _build(session, clock, seed=SEED):
    return await synthetic.build(session, beds=BEDS, years=YEARS, seed=seed, now=clock.now)


async def _digest(session) -> str:
    """Every generated row, in id order, as one hash. Who recorded a row is named by
    username: user ids come from a sequence, which a rollback does not wind back."""
    names = dict((await session.execute(text("SELECT id, username FROM users"))).all())
    digest = hashlib.sha256()
    for table in ORDER:
        for row in await session.execute(text(f"SELECT * FROM {table} ORDER BY id")):  # noqa: S608
            values = dict(row._mapping)
            if isinstance(values.get("data"), dict):  # a use-of-force version's snapshot
                values.update(values.pop("data"))
            named = {k: names.get(v) if k.endswith("_by_id") else v for k, v in values.items()}
            digest.update(repr(named).encode())
    return digest.hexdigest()


async def _count(session, sql: str) -> int:
    return int(await session.scalar(text(sql)) or 0)


async def test_a_small_trust_is_realistic_and_keeps_every_invariant(session, clock):
    summary = await _build(session, clock)

    for table in ORDER:
        assert await _count(session, f"SELECT count(*) FROM {table}") > 0, table  # noqa: S608
    assert summary.beds == BEDS
    assert summary.rows["beds"] == BEDS and summary.rows["admissions"] > 300
    assert summary.large_ward is not None

    # About nine beds in ten are occupied now, as the summary says.
    occupied = await _count(session, "SELECT count(*) FROM ward_stays WHERE ended_at IS NULL")
    open_beds = await _count(session, "SELECT count(*) FROM beds WHERE status = 'open'")
    assert occupied == summary.open_admissions
    assert 0.8 <= occupied / open_beds <= 1.0
    # Each closed bed has its closure since it closed (the weekly report counts from
    # bed_closures), and no stay in it ran past that.
    closed = await _count(session, "SELECT count(*) FROM beds WHERE status = 'closed'")
    assert summary.closed_beds == closed
    assert closed == await _count(
        session, "SELECT count(*) FROM bed_closures WHERE reopened_at IS NULL"
    )
    assert not await _count(
        session,
        "SELECT count(*) FROM ward_stays s JOIN bed_closures c ON c.bed_id = s.bed_id"
        " AND COALESCE(s.ended_at, '9999-01-01') > c.closed_at",
    )

    # No bed ever held two people at once, and nobody was in hospital twice at once.
    assert not await _count(
        session,
        "SELECT count(*) FROM ward_stays a JOIN ward_stays b ON a.bed_id = b.bed_id"
        " AND a.id < b.id AND a.started_at < COALESCE(b.ended_at, '9999-01-01')"
        " AND b.started_at < COALESCE(a.ended_at, '9999-01-01')",
    )
    assert not await _count(
        session,
        "SELECT count(*) FROM admissions a JOIN admissions b ON a.patient_id = b.patient_id"
        " AND a.id < b.id AND a.admitted_at < COALESCE(b.discharged_at, '9999-01-01')"
        " AND b.admitted_at < COALESCE(a.discharged_at, '9999-01-01')",
    )
    # An admission's stays run from admission to discharge without a gap.
    assert not await _count(
        session,
        "SELECT count(*) FROM admissions a WHERE a.admitted_at <> (SELECT min(started_at)"
        " FROM ward_stays s WHERE s.admission_id = a.id) OR (a.discharged_at IS NULL) <>"
        " EXISTS (SELECT 1 FROM ward_stays s WHERE s.admission_id = a.id AND s.ended_at IS NULL)",
    )
    # Single-sex wards hold their own sex; everyone is within the ward's ages on arrival.
    stays = await session.execute(
        select(Ward.sex, Ward.min_age, Ward.max_age, Patient.sex, Patient.date_of_birth)
        .add_columns(WardStay.started_at)
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Admission, Admission.id == WardStay.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
    )
    for ward_sex, low, high, sex, born, started in stays:
        assert ward_sex in ("mixed", sex)
        assert low <= age_on(born, started.date()) <= high

    numbers = (await session.scalars(text("SELECT nhs_number FROM patients"))).all()
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("999") and nhs_number.is_valid(n) for n in numbers)

    # The waiting list and out-of-area placements are live now.
    assert await _count(session, "SELECT count(*) FROM bed_requests WHERE status = 'open'") > 0
    assert (
        await _count(session, "SELECT count(*) FROM ready_for_discharge WHERE ended_at IS NULL") > 0
    )

    # A use-of-force record's first version is what the service itself would have kept.
    records = await session.scalars(
        select(RestrictiveIntervention)
        .options(
            selectinload(RestrictiveIntervention.types),
            selectinload(RestrictiveIntervention.staff),
            selectinload(RestrictiveIntervention.versions),
        )
        .order_by(RestrictiveIntervention.id)
        .limit(25)
    )
    for record in records:
        assert record.versions[0].data == snapshot(record)


async def test_the_service_works_on_it(session, clock, client):
    summary = await _build(session, clock)
    nurse = await get_user(session, "nurse")
    headers = {
        "Authorization": f"Bearer {await make_api_token(session, user=nurse, now=clock.now)}"
    }

    board = await client.get(f"/api/v1/wards/{summary.large_ward}/board", headers=headers)
    assert board.status_code == 200
    assert len(board.json()["beds"]) == synthetic.LARGE_WARD

    # A new admission into an empty bed gets a fresh id after the generated ones.
    free = next(b for b in board.json()["beds"] if b["occupant"] is None and b["status"] == "open")
    patient, nhs_number, date_of_birth = (
        await session.execute(
            text(
                "SELECT p.id, p.nhs_number, p.date_of_birth FROM patients p"
                " WHERE p.sex = 'male' AND NOT EXISTS (SELECT 1 FROM"
                " admissions a WHERE a.patient_id = p.id AND a.discharged_at IS NULL) AND"
                " p.date_of_birth < :adult LIMIT 1"
            ),
            {"adult": (clock.now - timedelta(days=25 * 365)).date()},
        )
    ).one()
    ward = board.json()["ward"]
    assert ward["sex"] in ("male", "mixed")
    response = await client.post(
        "/api/v1/admissions",
        headers=headers,
        json={
            "patient_id": patient,
            # Ward staff name a registered person by NHS number and date of birth.
            "nhs_number": nhs_number,
            "date_of_birth": str(date_of_birth),
            "ward_code": summary.large_ward,
            "bed_label": free["label"],
            "admitted_at": clock.now.isoformat(),
            "legal_status": "informal",
            "reason": "Benchmark check",
            "expected_benefit": "Benchmark check",
        },
    )
    assert response.status_code == 201, response.text
    highest = await session.scalar(select(func.max(text("id"))).select_from(text("admissions")))
    assert response.json()["id"] == highest > summary.rows["admissions"]


async def test_the_same_seed_gives_the_same_nation(session, clock):
    async with session.begin_nested() as first:
        await _build(session, clock)
        once = await _digest(session)
        await first.rollback()
    async with session.begin_nested() as second:
        await _build(session, clock)
        again = await _digest(session)
        await second.rollback()
    await _build(session, clock, seed=SEED + 1)
    assert once == again
    assert await _digest(session) != once


def test_a_nation_has_englands_mix_of_wards_spread_over_england():
    places = synthetic.plan_places(random.Random("any"), 20_000)
    beds: Counter[str] = Counter()
    for ward in places.wards:
        beds[ward.ward_type] += ward.beds
    assert sum(beds.values()) == 20_000
    assert set(beds) == set(WARD_TYPES)
    assert beds.most_common(1)[0][0] == "adult_acute"
    assert 0.38 <= beds["adult_acute"] / 20_000 <= 0.52
    assert 15 <= 20_000 / len(places.wards) <= 22  # about 20 beds a ward
    assert any(w.beds == synthetic.LARGE_WARD for w in places.wards)
    # Hospitals from the south coast to the north east.
    latitudes = [site.town.latitude for site in places.sites]
    assert max(latitudes) - min(latitudes) > 4
    assert len({site.code for site in places.sites}) == len(places.sites)
    assert len({w.code for w in places.wards}) == len(places.wards)
    # Children's wards take children only; every other ward takes adults only.
    for ward in places.wards:
        assert ward.max_age < 18 if ward.ward_type == "camhs" else ward.min_age >= 18


def test_the_command_builds_a_set_once_and_says_what_it_made(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env["WARDFLOW_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'synthetic.db'}"
    env["WARDFLOW_SECRET_KEY"] = "cli-test-secret"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [WARDFLOW, *args], env=env, capture_output=True, text=True, timeout=300
        )

    assert run("db", "upgrade").returncode == 0
    neither = run("seed", "synthetic", "--beds", "12")
    assert neither.returncode != 0 and "--years or --admissions" in neither.stderr
    made = run("seed", "synthetic", "--beds", "12", "--years", "0.3", "--now", "2026-03-10T12:00Z")
    assert made.returncode == 0, made.stderr
    assert "12 beds" in made.stdout and "wardflow-demo" in made.stdout
    again = run("seed", "synthetic", "--beds", "12", "--years", "0.3")
    assert again.returncode == 1 and "needs it empty" in again.stderr
