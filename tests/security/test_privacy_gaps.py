"""Issue 17, gaps a review found after the first pass: admitting by a bare patient id, what
a ward sees of an admission once the person has moved on, writes after a stay ended,
alerts of another stay, and forms that showed a person without an audit entry. Each test
failed before its fix."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.factories import World
from tests.security.test_route_access import (
    API,
    _admit_at,
    _call,
    _force,
    _person,
    _secluded,
    force_body,
    iso,
)

WEEK = timedelta(days=7)


def _admission_body(ward: str, bed: str, at: datetime, **whom: Any) -> dict[str, Any]:
    return {
        **whom,
        "ward_code": ward,
        "bed_label": bed,
        "admitted_at": iso(at),
        "legal_status": "s2",
        "reason": "Crisis",
        "expected_benefit": "Safety",
    }


async def _admissions_of(client: httpx.AsyncClient, world: World, patient_id: int) -> list[Any]:
    every = (await client.get(f"{API}/admissions", headers=world.auth("admin"))).json()
    return [a for a in every if a["patient_id"] == patient_id]


async def _access_log(client: httpx.AsyncClient, world: World, patient_id: int) -> list[Any]:
    log = await client.get(f"{API}/patients/{patient_id}/access-log", headers=world.auth("admin"))
    assert log.status_code == 200, log.text
    return list(log.json())


async def _transfer(
    client: httpx.AsyncClient, world: World, admission_id: int, ward: str, bed: str, at: datetime
) -> None:
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission_id}/transfer",
        {"ward_code": ward, "bed_label": bed, "at": iso(at), "reason": "Needs another ward"},
    )


# --- 1. admitting a registered person: knowing them, not a sequential id ------------------


async def test_ward_staff_cannot_admit_by_a_bare_id_someone_they_may_not_read(client, world):
    """Registered by someone else, never on ASH: the nurse naming them by patient id alone
    is refused (the id is sequential, a guess), and no admission is made."""
    person = await _person(client, world, "Guessedid")

    answer = await client.post(
        f"{API}/admissions",
        json=_admission_body("ASH", "A1", world.now - timedelta(hours=1), patient_id=person["id"]),
        headers=world.auth("nurse"),
    )

    assert answer.status_code == 403, answer.text
    assert "Guessedid" not in answer.text
    assert await _admissions_of(client, world, person["id"]) == []


async def test_ward_staff_admit_someone_they_know_by_nhs_number_and_date_of_birth(client, world):
    """The NHS number (as typed, with spaces) and the matching date of birth find the
    registered person; the lookup is in the audit log under them."""
    person = await _person(client, world, "Knownby")
    typed = f"{person['nhs_number'][:3]} {person['nhs_number'][3:6]} {person['nhs_number'][6:]}"

    answer = await client.post(
        f"{API}/admissions",
        json=_admission_body(
            "ASH",
            "A1",
            world.now - timedelta(hours=1),
            nhs_number=typed,
            date_of_birth=person["date_of_birth"],
        ),
        headers=world.auth("nurse"),
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["patient_id"] == person["id"]
    lookups = [
        e for e in await _access_log(client, world, person["id"]) if e["username"] == "nurse"
    ]
    assert "patient.lookup" in {e["action"] for e in lookups}


@pytest.mark.parametrize(
    ("given", "missing"), [("nhs_number", "date_of_birth"), ("date_of_birth", "nhs_number")]
)
async def test_nhs_number_and_date_of_birth_come_together(client, world, given, missing):
    person = await _person(client, world, "Halfgiven")
    body = _admission_body("ASH", "A1", world.now - timedelta(hours=1), patient_id=person["id"])
    body[given] = person[given]

    answer = await client.post(f"{API}/admissions", json=body, headers=world.auth("admin"))

    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [missing]


async def test_a_date_of_birth_that_does_not_match_is_a_409_that_reveals_nothing(client, world):
    """The stored date of birth is never said back; the failed try is audited under the
    person it reached, and nothing is admitted."""
    person = await _person(client, world, "Wrongborn")

    answer = await client.post(
        f"{API}/admissions",
        json=_admission_body(
            "ASH",
            "A1",
            world.now - timedelta(hours=1),
            nhs_number=person["nhs_number"],
            date_of_birth="1970-01-01",
        ),
        headers=world.auth("nurse"),
    )

    assert answer.status_code == 409, answer.text
    assert "date of birth" in answer.json()["detail"]
    assert person["date_of_birth"] not in answer.text
    assert "Wrongborn" not in answer.text
    assert await _admissions_of(client, world, person["id"]) == []
    actions = {e["action"] for e in await _access_log(client, world, person["id"])}
    assert "patient.lookup_failed" in actions


async def test_an_unknown_nhs_number_is_a_404(client, world):
    unknown = await client.post(
        f"{API}/admissions",
        json=_admission_body(
            "ASH",
            "A1",
            world.now - timedelta(hours=1),
            nhs_number="943 476 5919",
            date_of_birth="1985-06-15",
        ),
        headers=world.auth("nurse"),
    )
    assert unknown.status_code == 404, unknown.text


async def test_ward_staff_readmit_by_id_someone_they_may_still_read(client, world):
    """Discharged from ASH two days ago: ASH may still read them, so the id is enough."""
    person = await _person(client, world, "Backagain")
    first = await _admit_at(client, world, person["id"], "ASH", "A1", world.now - WEEK)
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{first['id']}/discharge",
        {"at": iso(world.now - timedelta(days=2)), "destination": "usual_residence"},
    )
    answer = await client.post(
        f"{API}/admissions",
        json=_admission_body("ASH", "A2", world.now - timedelta(hours=1), patient_id=person["id"]),
        headers=world.auth("nurse"),
    )
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize("username", ["beds", "admin"])
async def test_bed_managers_and_admins_still_admit_by_patient_id(client, world, username):
    person = await _person(client, world, "Placedby")
    answer = await client.post(
        f"{API}/admissions",
        json=_admission_body("ASH", "A1", world.now - timedelta(hours=1), patient_id=person["id"]),
        headers=world.auth(username),
    )
    assert answer.status_code == 201, answer.text


# --- 2. a ward the person left sees the admission as it stood when its stay ended ---------


async def test_the_old_ward_does_not_see_the_later_discharge_or_legal_status(
    client, world, signed_in
):
    """ASH to BIRCH, then BIRCH changes the legal status and discharges: ASH (within its
    7 days) sees an open admission under the old status, on every read path."""
    person = await _person(client, world, "Movedon")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=5)
    )
    await _transfer(client, world, admission["id"], "BIRCH", "B1", world.now - timedelta(days=3))
    await _call(
        client,
        world,
        "PATCH",
        f"/admissions/{admission['id']}",
        {"legal_status": "s3", "at": iso(world.now - timedelta(days=2))},
    )
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission['id']}/discharge",
        {"at": iso(world.now - timedelta(days=1)), "destination": "usual_residence"},
    )
    auth = world.auth("nurse")

    detail = (await client.get(f"{API}/admissions/{admission['id']}", headers=auth)).json()
    listed = [
        a
        for a in (await client.get(f"{API}/admissions", headers=auth)).json()
        if a["id"] == admission["id"]
    ]
    encounter = (await client.get(f"/fhir/r4/Encounter/{admission['id']}", headers=auth)).json()
    page = await (await signed_in("nurse")).get(f"/admissions/{admission['id']}")

    for seen in (detail, *listed):
        assert seen["status"] == "open"
        assert seen["discharged_at"] is None and seen["discharge_destination"] is None
        assert seen["legal_status"] == "s2"
        assert [c["legal_status"] for c in seen["legal_status_history"]] == ["s2"]
        # Where ASH sent them, as ASH did.
        assert (seen["ward_code"], seen["bed_label"]) == ("BIRCH", "B1")
    assert encounter["status"] == "in-progress"
    assert "end" not in encounter["period"]
    assert "dischargeDisposition" not in encounter["hospitalization"]
    assert len(encounter["extension"]) == 2  # the status at admission, and its period
    assert page.status_code == 200
    assert "Discharged" not in page.text
    assert "Section 3" not in page.text
    assert "Moved to Birch Ward, bed B1" in page.text
    # The admin (and BIRCH) still see the discharge.
    whole = (
        await client.get(f"{API}/admissions/{admission['id']}", headers=world.auth("birchnurse"))
    ).json()
    assert whole["status"] == "discharged" and whole["legal_status"] == "s3"


# --- 3. writes follow the read window -----------------------------------------------------


async def test_no_purpose_review_on_a_stay_that_ended_more_than_7_days_ago(client, world):
    """Discharged from ASH 8 days ago: ASH may no longer add to the admission, even a
    record dated inside its stay."""
    person = await _person(client, world, "Longgone")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=20)
    )
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission['id']}/discharge",
        {"at": iso(world.now - timedelta(days=8)), "destination": "usual_residence"},
    )

    answer = await client.post(
        f"{API}/admissions/{admission['id']}/purpose-reviews",
        json={"at": iso(world.now - timedelta(days=15)), "still_needed": True, "note": "Late"},
        headers=world.auth("nurse"),
    )

    assert answer.status_code == 403, answer.text
    whole = await _call(client, world, "GET", f"/admissions/{admission['id']}")
    assert whole["purpose_reviews"] == []


async def test_no_use_of_force_recorded_on_a_stay_left_more_than_7_days_ago(client, world):
    """Moved from ASH to BIRCH 8 days ago: ASH records nothing more for its stay; within 7
    days of the move it still may (completing the records)."""
    late = await _person(client, world, "Lateforce")
    moved_long_ago = await _admit_at(
        client, world, late["id"], "ASH", "A1", world.now - timedelta(days=20)
    )
    await _transfer(
        client, world, moved_long_ago["id"], "BIRCH", "B1", world.now - timedelta(days=8)
    )
    recent = await _person(client, world, "Recentforce")
    moved_lately = await _admit_at(
        client, world, recent["id"], "ASH", "A2", world.now - timedelta(days=6)
    )
    await _transfer(client, world, moved_lately["id"], "BIRCH", "B2", world.now - timedelta(days=2))

    refused = await client.post(
        f"{API}/admissions/{moved_long_ago['id']}/restrictive-interventions",
        json=force_body(world.now - timedelta(days=10)),
        headers=world.auth("nurse"),
    )
    allowed = await client.post(
        f"{API}/admissions/{moved_lately['id']}/restrictive-interventions",
        json=force_body(world.now - timedelta(days=4)),
        headers=world.auth("nurse"),
    )

    assert refused.status_code == 403, refused.text
    assert allowed.status_code == 201, allowed.text


async def test_the_old_ward_completes_its_own_seclusion_within_the_window(client, world):
    """A seclusion on ASH, then the move to BIRCH: ASH may still record the review it held
    during that seclusion (its own stay, within 7 days), as it may the use of force."""
    person = await _person(client, world, "Reviewlate")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=5)
    )
    seclusion = await _secluded(client, world, admission["id"], world.now - timedelta(days=4))
    await _transfer(client, world, admission["id"], "BIRCH", "B1", world.now - timedelta(days=3))

    answer = await client.post(
        f"{API}/seclusions/{seclusion['id']}/reviews",
        json={
            "kind": "nursing",
            "at": iso(world.now - timedelta(days=4) + timedelta(minutes=30)),
            "note": "Written up late",
        },
        headers=world.auth("nurse"),
    )

    assert answer.status_code == 201, answer.text


# --- 4. alerts follow the stay their subject belongs to --------------------------------------


async def test_back_on_a_ward_its_staff_do_not_see_alerts_of_an_old_stay(client, world):
    """ASH, BIRCH, then ASH again: alerts about the first ASH stay (ended 12 days ago) are
    not ASH's to see now; alerts of the BIRCH stay are BIRCH's, not ASH's."""
    person = await _person(client, world, "Roundtrip")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=20)
    )
    await _transfer(client, world, admission["id"], "BIRCH", "B1", world.now - timedelta(days=12))
    await _transfer(client, world, admission["id"], "ASH", "A2", world.now - timedelta(days=2))
    await _call(client, world, "POST", "/rules/run", {})
    every = "&".join(f"status={s}" for s in ("open", "acknowledged", "cleared"))
    alerts = (
        await client.get(
            f"{API}/alerts?admission_id={admission['id']}&{every}", headers=world.auth("admin")
        )
    ).json()
    first_stay_ended = world.now - timedelta(days=12)
    old = [a for a in alerts if datetime.fromisoformat(a["due_at"]) < first_stay_ended]
    assert old, alerts  # the purpose review owed 72 h after admission was missed

    seen = {
        a["id"]
        for a in (
            await client.get(
                f"{API}/alerts?admission_id={admission['id']}&{every}", headers=world.auth("nurse")
            )
        ).json()
    }
    for alert in old:
        assert alert["id"] not in seen
        one = await client.get(f"{API}/alerts/{alert['id']}", headers=world.auth("nurse"))
        assert one.status_code == 403, alert


async def test_an_alert_of_a_seclusion_is_seen_by_the_ward_it_happened_on(client, world):
    """A seclusion on ASH whose first medical review was missed, then the move to BIRCH:
    ASH (within its 7 days) sees the alert, BIRCH does not."""
    person = await _person(client, world, "Alertmove")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=3)
    )
    seclusion = await _secluded(client, world, admission["id"], world.now - timedelta(days=2))
    await _transfer(client, world, admission["id"], "BIRCH", "B1", world.now - timedelta(days=1))
    await _call(client, world, "POST", "/rules/run", {})
    every = "&".join(f"status={s}" for s in ("open", "acknowledged", "cleared"))
    alerts = (
        await client.get(
            f"{API}/alerts?admission_id={admission['id']}&{every}", headers=world.auth("admin")
        )
    ).json()
    about = [
        a for a in alerts if a["subject_type"] == "seclusion" and a["subject_id"] == seclusion["id"]
    ]
    assert about, alerts

    for alert in about:
        ash = await client.get(f"{API}/alerts/{alert['id']}", headers=world.auth("nurse"))
        birch = await client.get(f"{API}/alerts/{alert['id']}", headers=world.auth("birchnurse"))
        assert ash.status_code == 200, ash.text
        assert birch.status_code == 403, birch.text


# --- 5. every read of a person is audited ---------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "/admissions/{admission}/seclusions/new",
        "/admissions/{admission}/segregations/new",
        "/admissions/{admission}/use-of-force/new",
        "/admissions/{admission}/discharge",
        "/admissions/{admission}/ready-for-discharge",
        "/admissions/{admission}/transfer",
        "/seclusions/{seclusion}/review",
        "/use-of-force/{force}/edit",
    ],
)
async def test_forms_that_show_a_person_are_audited_reads(client, world, signed_in, form):
    person = await _person(client, world, "Formread")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=3)
    )
    seclusion = await _secluded(client, world, admission["id"], world.now - timedelta(days=2))
    force = await _force(client, world, admission["id"], world.now - timedelta(days=2))
    url = form.format(admission=admission["id"], seclusion=seclusion["id"], force=force["id"])
    nurse = await signed_in("nurse")

    page = await nurse.get(url)

    assert page.status_code == 200, page.text
    reads = [
        e
        for e in await _access_log(client, world, person["id"])
        if e["username"] == "nurse" and e["via"] == "page"
    ]
    assert reads, url
    assert reads[0]["details"]["path"] == url


async def test_reading_an_alert_about_a_person_is_audited(client, world, signed_in):
    person = await _person(client, world, "Alertread")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", world.now - timedelta(days=5)
    )
    await _call(client, world, "POST", "/rules/run", {})
    every = "&".join(f"status={s}" for s in ("open", "acknowledged", "cleared"))
    [alert, *_] = (
        await client.get(
            f"{API}/alerts?admission_id={admission['id']}&{every}", headers=world.auth("admin")
        )
    ).json()
    nurse = await signed_in("nurse")

    assert (await client.get(f"{API}/alerts/{alert['id']}", headers=world.auth("nurse"))).is_success
    assert (await nurse.get(f"/alerts/{alert['id']}")).is_success

    reads = [
        e
        for e in await _access_log(client, world, person["id"])
        if e["username"] == "nurse" and e["action"] == "alert.read"
    ]
    assert {e["via"] for e in reads} == {"api", "page"}
