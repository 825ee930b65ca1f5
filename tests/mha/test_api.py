"""The Mental Health Act API: an admission's legal record, renewals, rights and the diary
(MHA.md §4), with the clock of the tests at 12:00 on 10 March 2026 (GMT)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.mha.clocks import ENGLAND
from tests.factories import admission_body
from tests.flow.helpers import API, iso


def london(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ENGLAND).astimezone(UTC)


async def legal(client, world, admission_id, user="admin", **params):
    r = await client.get(
        f"{API}/admissions/{admission_id}/mha", headers=world.auth(user), params=params
    )
    assert r.status_code == 200, r.text
    return r.json()


def rules(record) -> dict[str, str]:
    return {d["rule"]: d["due_at"] for d in record["deadlines"]}


async def test_a_section_3_has_its_expiry_renewal_window_and_deadlines(client, world, clock):
    admission = await world.admit(legal_status="s3", at=london(2026, 3, 10, 9))
    record = await legal(client, world, admission.id)
    [period] = record["periods"]
    assert period["legal_status"] == "s3"
    assert period["clock_start_day"] == "2026-03-10"
    # Six months beginning with 10 March: the last day is 9 September (summer time).
    assert period["expires_at"] == iso(london(2026, 9, 10))
    assert period["renewal_window_opens_at"] == iso(london(2026, 7, 10))
    assert period["ended_at"] is None
    assert rules(record) == {
        "MHA_S132_RIGHTS": iso(london(2026, 3, 11, 9)),
        "MHA_S3_RENEWAL": iso(london(2026, 9, 10)),
        "MHA_TRIBUNAL_REFERRAL": iso(london(2026, 9, 10)),
    }
    assert [d["due_at"] for d in record["deadlines"]] == sorted(
        d["due_at"] for d in record["deadlines"]
    )


async def test_rights_given_orally_and_in_writing_meet_the_s132_deadline(client, world, clock):
    admission = await world.admit(legal_status="s2", at=clock.now - timedelta(hours=5))
    body = {
        "kind": "s132",
        "given_at": iso(clock.now - timedelta(hours=4)),
        "oral": True,
        "written": False,
        "understood": "partly",
    }
    r = await client.post(
        f"{API}/admissions/{admission.id}/rights", headers=world.auth("nurse"), json=body
    )
    assert r.status_code == 201, r.text
    assert r.json()["understood"] == "partly"
    # Told, not yet given it in writing: still due.
    assert "MHA_S132_RIGHTS" in rules(await legal(client, world, admission.id))
    r = await client.post(
        f"{API}/admissions/{admission.id}/rights",
        headers=world.auth("nurse"),
        json={**body, "oral": False, "written": True, "understood": "yes"},
    )
    assert r.status_code == 201
    record = await legal(client, world, admission.id)
    assert "MHA_S132_RIGHTS" not in rules(record)
    assert len(record["rights"]) == 2
    assert rules(record)["MHA_S2_EXPIRY"] == iso(london(2026, 4, 7))


async def test_rights_neither_oral_nor_written_and_future_times_are_refused(client, world, clock):
    admission = await world.admit(legal_status="s2")
    base = {
        "kind": "s132",
        "given_at": iso(clock.now),
        "oral": False,
        "written": False,
        "understood": "yes",
    }
    r = await client.post(
        f"{API}/admissions/{admission.id}/rights", headers=world.auth(), json=base
    )
    assert r.status_code == 422
    r = await client.post(
        f"{API}/admissions/{admission.id}/rights",
        headers=world.auth(),
        json={**base, "oral": True, "given_at": iso(clock.now + timedelta(hours=2))},
    )
    assert r.status_code == 422
    assert "future" in r.text


async def test_a_renewal_in_its_window_extends_the_period_by_six_months(client, world, clock):
    admission = await world.admit(legal_status="s3", at=london(2026, 3, 10, 9))
    period_id = (await legal(client, world, admission.id))["periods"][0]["id"]
    clock.now = london(2026, 8, 1, 12)
    body = {
        "examined_at": iso(london(2026, 7, 20, 10)),
        "agreed_at": iso(london(2026, 7, 21, 10)),
        "furnished_at": iso(london(2026, 7, 22, 10)),
    }
    r = await client.post(
        f"{API}/mha-periods/{period_id}/renewals", headers=world.auth("nurse"), json=body
    )
    assert r.status_code == 201, r.text
    [period] = r.json()["periods"]
    # From the expiration: 10 September 2026 for six months, last day 9 March 2027.
    assert period["expires_at"] == iso(london(2027, 3, 10))
    assert period["renewals"][0]["extended"] is True
    assert period["renewal_window_opens_at"] == iso(london(2027, 1, 10))
    # As it stood before the renewal was furnished, the old expiry.
    before = await legal(client, world, admission.id, as_of=iso(london(2026, 7, 21)))
    assert before["periods"][0]["expires_at"] == iso(london(2026, 9, 10))


async def test_an_examination_outside_the_window_is_refused_and_says_which(client, world, clock):
    admission = await world.admit(legal_status="s3", at=london(2026, 3, 10, 9))
    period_id = (await legal(client, world, admission.id))["periods"][0]["id"]
    clock.now = london(2026, 8, 1, 12)
    just_before = london(2026, 7, 10) - timedelta(seconds=1)
    r = await client.post(
        f"{API}/mha-periods/{period_id}/renewals",
        headers=world.auth(),
        json={
            "examined_at": iso(just_before),
            "agreed_at": iso(london(2026, 7, 21)),
            "furnished_at": iso(london(2026, 7, 22)),
        },
    )
    assert r.status_code == 422
    assert "10 Jul 2026 to 09 Sep 2026" in r.text
    # At the window's first instant it is accepted.
    r = await client.post(
        f"{API}/mha-periods/{period_id}/renewals",
        headers=world.auth(),
        json={
            "examined_at": iso(london(2026, 7, 10)),
            "agreed_at": iso(london(2026, 7, 21)),
            "furnished_at": iso(london(2026, 7, 22)),
        },
    )
    assert r.status_code == 201, r.text


async def test_a_section_2_is_not_renewed(client, world, clock):
    admission = await world.admit(legal_status="s2", at=clock.now - timedelta(days=1))
    period_id = (await legal(client, world, admission.id))["periods"][0]["id"]
    moment = iso(clock.now - timedelta(hours=1))
    r = await client.post(
        f"{API}/mha-periods/{period_id}/renewals",
        headers=world.auth(),
        json={"examined_at": moment, "agreed_at": moment, "furnished_at": moment},
    )
    assert r.status_code == 422
    assert "not renewed" in r.text
    r = await client.post(
        f"{API}/mha-periods/999999/renewals",
        headers=world.auth(),
        json={"examined_at": moment, "agreed_at": moment, "furnished_at": moment},
    )
    assert r.status_code == 404


async def test_a_section_3_after_section_2_regrades_and_counts_the_referral_from_the_s2_day(
    client, world, clock
):
    admission = await world.admit(legal_status="s2", at=london(2026, 3, 1, 22))
    r = await client.patch(
        f"{API}/admissions/{admission.id}",
        headers=world.auth("nurse"),
        json={
            "legal_status": "s3",
            "at": iso(london(2026, 3, 9, 15)),
            "clock_start_day": "2026-03-08",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["legal_status"] == "s3"
    record = await legal(client, world, admission.id)
    s2, s3 = record["periods"]
    assert s2["end_reason"] == "regraded" and s2["ended_at"] == iso(london(2026, 3, 9, 15))
    assert s3["clock_start_day"] == "2026-03-08"
    assert s3["expires_at"] == iso(london(2026, 9, 8))
    # s.68(5)(b)(ii): the referral runs from the original s.2 admission day, 1 March.
    assert rules(record)["MHA_TRIBUNAL_REFERRAL"] == iso(london(2026, 9, 1))
    assert "MHA_S2_EXPIRY" not in rules(record)


async def test_a_clock_start_after_the_change_or_long_before_it_is_refused(client, world, clock):
    patient = await world.patient()
    for day, words in (("2026-03-11", "after"), ("2026-02-09", "28 days before")):
        r = await client.post(
            f"{API}/admissions",
            headers=world.auth(),
            json=admission_body(
                patient.id,
                legal_status="s37",
                admitted_at=iso(london(2026, 3, 10, 9)),
                clock_start_day=day,
            ),
        )
        assert r.status_code == 422, r.text
        assert words in r.text
    r = await client.post(
        f"{API}/admissions",
        headers=world.auth(),
        json=admission_body(
            patient.id,
            legal_status="s37",
            admitted_at=iso(london(2026, 3, 10, 9)),
            clock_start_day="2026-02-20",
        ),
    )
    assert r.status_code == 201, r.text
    record = await legal(client, world, r.json()["id"])
    # A hospital order runs from the court's order, 20 February: six months to 19 August.
    assert record["periods"][0]["expires_at"] == iso(london(2026, 8, 20))


async def test_the_diary_lists_what_falls_due_soonest_first_by_ward_and_scope(client, world, clock):
    on_ash = await world.admit(legal_status="s2", at=london(2026, 3, 1, 10))
    on_birch = await world.admit(
        await world.patient(sex="male"),
        ward="BIRCH",
        bed="B1",
        legal_status="s4",
        at=clock.now - timedelta(hours=10),
    )
    await world.admit(await world.patient(), bed="A2", legal_status="informal")
    r = await client.get(f"{API}/mha/diary", headers=world.auth("lead"), params={"days": 30})
    assert r.status_code == 200
    diary = r.json()
    assert [(e["admission_id"], e["rule"]) for e in diary] == [
        (on_birch.id, "MHA_S132_RIGHTS"),
        (on_birch.id, "MHA_HOLDING_EXPIRY"),
        (on_ash.id, "MHA_S2_EXPIRY"),
    ]
    # The s.132 deadline on ASH (1 March + 24 h) has passed: an alert's business, not the diary's.
    assert diary[2]["ward_code"] == "ASH" and diary[2]["due_at"] == iso(london(2026, 3, 29))
    nurse = await client.get(f"{API}/mha/diary", headers=world.auth("nurse"), params={"days": 30})
    assert {e["admission_id"] for e in nurse.json()} == {on_ash.id}
    ash = await client.get(
        f"{API}/mha/diary", headers=world.auth("lead"), params={"days": 30, "ward_code": "ASH"}
    )
    assert {e["ward_code"] for e in ash.json()} == {"ASH"}
    soon = await client.get(f"{API}/mha/diary", headers=world.auth("lead"), params={"days": 1})
    assert {e["admission_id"] for e in soon.json()} == {on_birch.id}
    bad = await client.get(f"{API}/mha/diary", headers=world.auth("lead"), params={"days": 0})
    assert bad.status_code == 422


async def test_another_wards_staff_cannot_read_the_legal_record_and_reads_are_audited(
    client, world, session, clock
):
    admission = await world.admit(legal_status="s3")
    r = await client.get(f"{API}/admissions/{admission.id}/mha", headers=world.auth("birchnurse"))
    assert r.status_code == 403
    await legal(client, world, admission.id, user="nurse")
    reads = (
        await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "mha.read", AuditEntry.username == "nurse"
            )
        )
    ).all()
    assert [e.entity_id for e in reads] == [str(admission.patient_id)]


# --- tribunal, consent to treatment -----------------------------------------------------


async def post(client, world, path, body, user="admin"):
    return await client.post(f"{API}{path}", headers=world.auth(user), json=body)


async def test_a_reference_or_an_application_off_section_2_meets_the_referral(client, world, clock):
    admission = await world.admit(legal_status="s2", at=london(2026, 3, 1, 10))
    await client.patch(
        f"{API}/admissions/{admission.id}",
        headers=world.auth(),
        json={"legal_status": "s3", "at": iso(london(2026, 3, 8, 10))},
    )
    # An application made while on s.2 does not count (s.68(2)(a)).
    r = await post(
        client,
        world,
        f"/admissions/{admission.id}/tribunal-events",
        {"kind": "application", "at": iso(london(2026, 3, 5, 10))},
    )
    assert r.status_code == 201, r.text
    assert "MHA_TRIBUNAL_REFERRAL" in rules(await legal(client, world, admission.id))
    # One made on s.3 and then withdrawn counts as never made (s.68(4)).
    r = await post(
        client,
        world,
        f"/admissions/{admission.id}/tribunal-events",
        {
            "kind": "application",
            "at": iso(london(2026, 3, 9, 10)),
            "withdrawn_at": iso(london(2026, 3, 9, 11)),
        },
    )
    assert r.status_code == 201, r.text
    assert "MHA_TRIBUNAL_REFERRAL" in rules(await legal(client, world, admission.id))
    r = await post(
        client,
        world,
        f"/admissions/{admission.id}/tribunal-events",
        {"kind": "reference", "at": iso(london(2026, 3, 10, 9))},
    )
    assert r.status_code == 201
    record = await legal(client, world, admission.id)
    assert "MHA_TRIBUNAL_REFERRAL" not in rules(record)
    assert [e["kind"] for e in record["tribunal"]] == ["application", "application", "reference"]


async def test_only_an_application_is_withdrawn(client, world, clock):
    admission = await world.admit(legal_status="s3")
    r = await post(
        client,
        world,
        f"/admissions/{admission.id}/tribunal-events",
        {
            "kind": "hearing",
            "at": iso(clock.now - timedelta(hours=2)),
            "withdrawn_at": iso(clock.now),
        },
    )
    assert r.status_code == 422


async def test_the_three_month_point_and_certificates(client, world, clock):
    admission = await world.admit(legal_status="s3", at=london(2026, 3, 1, 10))
    r = await post(
        client,
        world,
        f"/admissions/{admission.id}/medicine-started",
        {"at": iso(london(2026, 3, 2, 14))},
    )
    assert r.status_code == 201, r.text
    assert r.json()["three_month_point_at"] == iso(london(2026, 6, 2))
    assert rules(await legal(client, world, admission.id))["MHA_CONSENT_3_MONTH"] == iso(
        london(2026, 6, 2)
    )
    r = await post(
        client,
        world,
        f"/admissions/{admission.id}/certificates",
        {"form": "T2", "issued_at": iso(london(2026, 3, 9, 10)), "covers": "Olanzapine, oral"},
    )
    assert r.status_code == 201, r.text
    certificate_id = r.json()["id"]
    assert "MHA_CONSENT_3_MONTH" not in rules(await legal(client, world, admission.id))
    # Consent withdrawn: the certificate falls, and a new one is needed from then.
    fell = iso(london(2026, 3, 10, 11))
    r = await client.patch(
        f"{API}/certificates/{certificate_id}",
        headers=world.auth("nurse"),
        json={"fallen_at": fell},
    )
    assert r.status_code == 200, r.text
    record = await legal(client, world, admission.id)
    assert rules(record)["MHA_CONSENT_3_MONTH"] == iso(london(2026, 6, 2))
    assert record["consent"]["certificates"][0]["fallen_at"] == fell
    again = await client.patch(
        f"{API}/certificates/{certificate_id}", headers=world.auth(), json={"fallen_at": fell}
    )
    assert again.status_code == 409
    # Before it fell, it held.
    then = await legal(client, world, admission.id, as_of=iso(london(2026, 3, 10, 10)))
    assert "MHA_CONSENT_3_MONTH" not in rules(then)


async def test_no_three_month_rule_on_a_holding_power(client, world, clock):
    admission = await world.admit(legal_status="s5_2", at=clock.now - timedelta(hours=3))
    await post(
        client,
        world,
        f"/admissions/{admission.id}/medicine-started",
        {"at": iso(clock.now - timedelta(hours=2))},
    )
    assert "MHA_CONSENT_3_MONTH" not in rules(await legal(client, world, admission.id))


async def test_another_wards_staff_cannot_record_and_nothing_changes(client, world, session, clock):
    admission = await world.admit(legal_status="s3")
    for path, body in (
        ("tribunal-events", {"kind": "reference", "at": iso(clock.now)}),
        ("medicine-started", {"at": iso(clock.now)}),
        ("certificates", {"form": "T3", "issued_at": iso(clock.now), "covers": "Depot"}),
        (
            "rights",
            {
                "kind": "s132",
                "given_at": iso(clock.now),
                "oral": True,
                "written": True,
                "understood": "yes",
            },
        ),
    ):
        r = await post(client, world, f"/admissions/{admission.id}/{path}", body, user="birchnurse")
        assert r.status_code == 403, path
    record = await legal(client, world, admission.id)
    assert record["tribunal"] == [] and record["rights"] == []
    assert record["consent"]["certificates"] == []


async def test_rights_given_before_the_provision_started_are_refused(client, world, clock):
    admission = await world.admit(legal_status="informal", at=clock.now - timedelta(days=3))
    await client.patch(
        f"{API}/admissions/{admission.id}",
        headers=world.auth(),
        json={"legal_status": "s3", "at": iso(clock.now - timedelta(days=1))},
    )
    body = {"kind": "s132", "oral": True, "written": True, "understood": "yes"}
    early = await post(
        client,
        world,
        f"/admissions/{admission.id}/rights",
        {**body, "given_at": iso(clock.now - timedelta(days=1, seconds=1))},
    )
    assert early.status_code == 422
    assert "before the detaining provision started" in early.text
    at_start = await post(
        client,
        world,
        f"/admissions/{admission.id}/rights",
        {**body, "given_at": iso(clock.now - timedelta(days=1))},
    )
    assert at_start.status_code == 201
