"""Many people at once, against the real service: `wardflow serve` (four workers on
PostgreSQL, the single process on SQLite) with its scheduler on, requests fired together
through a barrier, and the database read afterwards.

The database's invariants decide every race: one bed, one admission; one open seclusion
per admission; and a refused request leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest

from tests.reliability.harness import (
    Database,
    Trust,
    admission,
    broken_admissions,
    is_problem,
    iso,
    now,
    recent,
    together,
)

pytestmark = pytest.mark.slow


def admission_audits(db: Database, patients: set[int]) -> list[tuple[str, int]]:
    """(admission id, patient id) of each admission.create entry for these patients."""
    found = []
    for entity_id, after in db.sql(
        "SELECT entity_id, after FROM audit_log WHERE action = 'admission.create'"
    ):
        after = json.loads(after) if isinstance(after, str) else after
        if after["patient_id"] in patients:
            found.append((entity_id, after["patient_id"]))
    return found


async def test_fifty_admissions_into_the_last_free_bed_admit_exactly_one(trust: Trust) -> None:
    beds = trust.api.ward("LAST", 3)
    patients = trust.api.patients(52)
    at = recent()
    for patient, bed in zip(patients, beds[:2], strict=False):
        trust.api.post("/admissions", admission(patient, "LAST", bed, at))
    contenders = patients[2:]

    responses = await together(
        trust, [("POST", "/admissions", admission(p, "LAST", beds[2], at)) for p in contenders]
    )

    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [201] + [409] * 49, statuses
    refused = [r for r in responses if r.status_code == 409]
    assert all(is_problem(r, 409) for r in refused)
    assert all("occupied" in r.json()["detail"] for r in refused)  # says why
    [winner] = [r.json() for r in responses if r.status_code == 201]

    # One admission among the fifty, in the bed, with one audit entry; nothing else written.
    db = trust.db
    admitted = db.sql(
        "SELECT id, patient_id FROM admissions WHERE patient_id IN ("
        + ",".join(map(str, contenders))
        + ")"
    )
    assert admitted == [(winner["id"], winner["patient_id"])]
    in_bed = db.sql(
        "SELECT s.admission_id FROM ward_stays s JOIN beds b ON b.id = s.bed_id "
        "JOIN wards w ON w.id = b.ward_id WHERE w.code = 'LAST' AND b.label = :bed "
        "AND s.ended_at IS NULL",
        bed=beds[2],
    )
    assert in_bed == [(winner["id"],)]
    assert admission_audits(db, set(contenders)) == [(str(winner["id"]), winner["patient_id"])]
    assert broken_admissions(db, "LAST") == []
    assert trust.api.get("/wards/LAST/board")["occupancy"]["occupied"] == 3


async def test_two_starts_of_one_seclusion_at_once_make_one(trust: Trust) -> None:
    """Pairs of staff pressing Start at the same moment, on six admissions at once."""
    beds = trust.api.ward("SECL", 6)
    at = recent(hours=3)
    admissions = [
        trust.api.post("/admissions", admission(patient, "SECL", bed, at))["id"]
        for patient, bed in zip(trust.api.patients(6), beds, strict=True)
    ]
    start = {
        "started_at": iso(at + timedelta(minutes=30)),
        "authorised_by_role": "nurse_in_charge",
        "reason": "Assaulted a member of staff; continuing risk to others",
    }

    responses = await together(
        trust, [("POST", f"/admissions/{a}/seclusions", start) for a in admissions for _ in (1, 2)]
    )

    for a, pair in zip(admissions, zip(responses[::2], responses[1::2], strict=True), strict=True):
        assert sorted(r.status_code for r in pair) == [201, 409], (a, [r.text for r in pair])
        refused = next(r for r in pair if r.status_code == 409)
        assert is_problem(refused, 409)
    ids = ",".join(map(str, admissions))
    rows = trust.db.sql(f"SELECT admission_id, id FROM seclusions WHERE admission_id IN ({ids})")
    assert sorted(a for a, _ in rows) == sorted(admissions)  # one each
    started = {r.json()["id"] for r in responses if r.status_code == 201}
    assert {s for _, s in rows} == started
    audits = trust.db.sql(
        "SELECT entity_id FROM audit_log WHERE action = 'seclusion.start' AND entity_id IN ("
        + ",".join(f"'{s}'" for s in started)
        + ")"
    )
    assert sorted(int(e) for (e,) in audits) == sorted(started)


async def test_writes_to_different_beds_at_once_all_succeed_while_the_board_is_read(
    trust: Trust,
) -> None:
    """No request is refused for being one of many: forty admissions and forty board reads
    at the same moment (with the scheduler's runs going on) all succeed; on SQLite, which
    has one writer at a time, the writers wait their turn rather than fail as busy."""
    beds = trust.api.ward("BUSY", 40)
    patients = trust.api.patients(40)
    at = recent()
    writes = [
        ("POST", "/admissions", admission(p, "BUSY", bed, at))
        for p, bed in zip(patients, beds, strict=True)
    ]
    reads = [("GET", "/wards/BUSY/board", None)] * 40
    mixed = [request for pair in zip(writes, reads, strict=True) for request in pair]

    responses = await together(trust, mixed)

    unexpected = [(r.request.method, r.status_code, r.text[:200]) for r in responses
                  if r.status_code not in (200, 201)]  # fmt: skip
    assert unexpected == []
    assert (
        trust.db.scalar(
            "SELECT count(*) FROM ward_stays s JOIN wards w ON w.id = s.ward_id "
            "WHERE w.code = 'BUSY'"
        )
        == 40
    )
    assert broken_admissions(trust.db, "BUSY") == []


async def test_every_workers_scheduler_raises_each_breach_once(trust: Trust) -> None:
    """Each worker runs the scheduler; with PostgreSQL only the one holding the lock runs
    the rules. A seclusion with missed reviews: each breach raised once, by one run, and
    the runs never overlap."""
    [bed] = trust.api.ward("SCHED", 1)
    [patient] = trust.api.patients(1)
    start = now() - timedelta(hours=3)
    admitted = trust.api.post("/admissions", admission(patient, "SCHED", bed, start))
    seclusion = trust.api.post(
        f"/admissions/{admitted['id']}/seclusions",
        {"started_at": iso(start), "authorised_by_role": "nurse_in_charge",
         "reason": "Assaulted a member of staff; continuing risk to others"},
    )["id"]  # fmt: skip

    deadline = time.monotonic() + 120  # a second's work on a quiet machine
    while time.monotonic() < deadline:
        raised = trust.db.scalar(
            "SELECT count(*) FROM alerts WHERE rule = 'SECL_MEDICAL_FIRST' "
            "AND subject_type = 'seclusion' AND subject_id = :s",
            s=seclusion,
        )
        if raised:
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail(f"no rule run raised the missed medical review:\n{trust.service.log()}")
    # Another whole run after the one that raised it: nothing may be raised again.
    last = trust.db.scalar("SELECT coalesce(max(id), 0) FROM rule_runs")
    while not trust.db.scalar(
        "SELECT count(*) FROM rule_runs WHERE id > :last AND finished_at IS NOT NULL", last=last
    ):
        if time.monotonic() > deadline + 120:
            pytest.fail(f"no rule run after the one that raised:\n{trust.service.log()}")
        await asyncio.sleep(0.5)

    runs = trust.db.sql(
        "SELECT id, started_at, finished_at, raised, runner FROM rule_runs ORDER BY started_at"
    )
    assert runs and all(finished is not None for _, _, finished, _, _ in runs)
    for before, after in zip(runs, runs[1:], strict=False):
        assert after[1] >= before[2], (before, after)  # one run at a time
    keys = trust.db.sql("SELECT rule, subject_type, subject_id, due_at FROM alerts")
    assert len(keys) == len(set(keys))
    assert sum(raised for _, _, _, raised, _ in runs) == len(keys)
    mine = trust.db.sql(
        "SELECT rule FROM alerts WHERE subject_type = 'seclusion' AND subject_id = :s", s=seclusion
    )
    assert ("SECL_MEDICAL_FIRST",) in mine and ("SECL_NURSING_REVIEW",) in mine
