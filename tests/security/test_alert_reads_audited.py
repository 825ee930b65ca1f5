"""Lists of alerts name the people they are about: the queue, the API list and FHIR Flags
are reads of those people's records, audited like any other (issue 17, finding 9)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from tests.alerts.scenario import run_via_api, start_seclusion

API = "/api/v1"


async def _entries(session, action: str) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(
        (await session.scalars(select(AuditEntry).where(AuditEntry.action == action))).all()
    )


async def _alert_about_a_person(client, world, clock):  # type: ignore[no-untyped-def]
    admission = await world.admit(at=clock.now - timedelta(days=1))
    await start_seclusion(client, world, admission.id, clock.now - timedelta(hours=3))
    result = await run_via_api(client, world)
    assert any(a["rule"] == "SECL_MEDICAL_FIRST" for a in result["raised"])
    return admission


async def test_the_api_list_and_the_queue_audit_who_they_name(client, world, clock, session, nurse):
    admission = await _alert_about_a_person(client, world, clock)
    r = await client.get(f"{API}/alerts", headers=world.auth("lead"))
    assert r.status_code == 200 and r.json()
    [entry] = await _entries(session, "alert.list")
    assert (entry.username, entry.entity_id) == ("lead", str(admission.patient_id))
    page = await nurse.get("/alerts")
    assert page.status_code == 200
    assert {e.username for e in await _entries(session, "alert.list")} == {"lead", "nurse"}


async def test_fhir_flags_audit_the_person_they_are_about(client, world, clock, session):
    admission = await _alert_about_a_person(client, world, clock)
    bundle = await client.get("/fhir/r4/Flag", headers=world.auth("lead"))
    assert bundle.status_code == 200
    [searched] = await _entries(session, "flag.search")
    assert searched.entity_id == str(admission.patient_id)
    flag_id = bundle.json()["entry"][0]["resource"]["id"]
    read = await client.get(f"/fhir/r4/Flag/{flag_id}", headers=world.auth("lead"))
    assert read.status_code == 200
    [entry] = await _entries(session, "flag.read")
    assert entry.entity_id == str(admission.patient_id)
