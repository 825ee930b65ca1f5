"""The PAS feed over HTTP: every ADT event with its ACK, idempotency, each AE reason, AR for
garbage, out-of-order hold and apply, the audit actor (issue 21)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.pas import service
from app.pas.models import PasHeldMessage, PasLocation, PasMessage
from app.wards.models import Admission, Patient, WardStay
from tests.factories import invalid_nhs_number, next_nhs_number
from tests.pas.helpers import HL7, adt, send

pytestmark = pytest.mark.asyncio


async def admission_of(session, nhs: str) -> Admission | None:  # type: ignore[no-untyped-def]
    session.expire_all()
    return await session.scalar(
        select(Admission)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(Patient.nhs_number == nhs)
        .order_by(Admission.id.desc())
    )


async def stays_of(session, admission_id: int) -> list[tuple[str, datetime | None]]:  # type: ignore[no-untyped-def]
    from app.wards.models import Bed

    rows = await session.execute(
        select(Bed.label, WardStay.ended_at)
        .join(Bed, Bed.id == WardStay.bed_id)
        .where(WardStay.admission_id == admission_id)
        .order_by(WardStay.started_at, WardStay.id)
    )
    return [(label, ended) for label, ended in rows]


async def test_a01_admits_a_new_person_with_the_purpose_to_be_recorded(client, world, session):
    nhs = next_nhs_number()
    ack = await send(client, world, adt("A01", nhs=nhs, local="P100", pv1_44="202603100830"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    assert admission is not None and admission.discharged_at is None
    assert admission.admitted_at == datetime(2026, 3, 10, 8, 30, tzinfo=UTC)  # PV1-44
    assert service.purpose_missing(admission)
    assert admission.legal_status == "other"
    patient = await session.get(Patient, admission.patient_id)
    assert (patient.given_name, patient.family_name) == ("JANE", "SMITH")
    assert (patient.sex, patient.ethnic_category) == ("female", "A")
    assert await stays_of(session, admission.id) == [("A1", None)]
    # The board shows what the feed says.
    board = (await client.get("/api/v1/wards/ASH/board", headers=world.auth())).json()
    occupant = next(b for b in board["beds"] if b["label"] == "A1")["occupant"]
    assert occupant["patient_id"] == patient.id
    assert "purpose_missing" in occupant["flags"]
    # The ward records them (PATCH), and the card no longer says so.
    r = await client.patch(
        f"/api/v1/admissions/{admission.id}",
        json={"reason": "Relapse of psychosis", "expected_benefit": "Restart treatment safely"},
        headers=world.auth("nurse"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["reason"] == "Relapse of psychosis"
    board = (await client.get("/api/v1/wards/ASH/board", headers=world.auth())).json()
    occupant = next(b for b in board["beds"] if b["label"] == "A1")["occupant"]
    assert "purpose_missing" not in occupant["flags"]


async def test_audit_names_the_pas_feed(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs))
    entries = list(
        await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action.in_(["patient.create", "admission.create"]),
                AuditEntry.username == service.FEED_USERNAME,
            )
        )
    )
    assert {e.action for e in entries} == {"patient.create", "admission.create"}
    assert all(e.user_id is not None for e in entries)


async def test_resend_gets_the_same_ack_and_changes_nothing(client, world, session):
    nhs = next_nhs_number()
    message = adt("A01", nhs=nhs, control_id="SAME-1")
    first = await send(client, world, message)
    counts = (
        await session.scalar(select(func.count()).select_from(AuditEntry)),
        await session.scalar(select(func.count()).select_from(PasMessage)),
    )
    again = await send(client, world, message)
    assert again["raw"] == first["raw"]
    assert counts == (
        await session.scalar(select(func.count()).select_from(AuditEntry)),
        await session.scalar(select(func.count()).select_from(PasMessage)),
    )
    # A refused one too: the same AE again.
    bad = adt("A01", nhs=next_nhs_number(), ward="NOWHERE", control_id="SAME-2")
    assert (await send(client, world, bad))["raw"] == (await send(client, world, bad))["raw"]


async def test_a02_transfers_and_a12_cancels_it(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs, evn="202603100800"))
    ack = await send(client, world, adt("A02", nhs=nhs, bed="A2", evn="202603101000"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    stays = await stays_of(session, admission.id)
    assert [label for label, _ in stays] == ["A1", "A2"]
    assert stays[0][1] == datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
    ack = await send(client, world, adt("A12", nhs=nhs, bed="A2", evn="202603101015"))
    assert ack["code"] == "AA", ack
    assert [label for label, _ in await stays_of(session, admission.id)] == ["A1", "A2", "A1"]


async def test_transfer_typed_on_the_board_is_not_recorded_twice(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs, evn="202603100800"))
    admission = await admission_of(session, nhs)
    r = await client.post(
        f"/api/v1/admissions/{admission.id}/transfer",
        json={"ward_code": "ASH", "bed_label": "A3", "at": "2026-03-10T10:00:00Z", "reason": "x"},
        headers=world.auth(),
    )
    assert r.status_code == 200, r.text
    ack = await send(client, world, adt("A02", nhs=nhs, bed="A3", evn="202603101005"))
    assert ack["code"] == "AA" and "already recorded" in ack["text"]
    assert [label for label, _ in await stays_of(session, admission.id)] == ["A1", "A3"]


async def test_a03_discharges_and_a13_cancels_it(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs, evn="202603100800"))
    ack = await send(client, world, adt("A03", nhs=nhs, evn="202603101100", pv1_45="202603101050"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    assert admission.discharged_at == datetime(2026, 3, 10, 10, 50, tzinfo=UTC)
    assert admission.discharge_destination == "not_known"
    ack = await send(client, world, adt("A13", nhs=nhs, evn="202603101130"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    assert admission.discharged_at is None
    assert await stays_of(session, admission.id) == [("A1", None)]
    actions = set(await session.scalars(select(AuditEntry.action)))
    assert {"admission.discharge", "admission.discharge_cancelled"} <= actions


async def test_a11_cancels_an_admission_without_deleting_it(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs, evn="202603100800"))
    ack = await send(client, world, adt("A11", nhs=nhs, evn="202603100900"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    assert admission is not None  # kept
    assert admission.discharged_at == admission.admitted_at  # closed at its start
    # The bed is free again.
    ack = await send(client, world, adt("A01", nhs=next_nhs_number(), evn="202603100930"))
    assert ack["code"] == "AA", ack


async def test_a08_a28_a31_add_and_update_the_person(client, world, session):
    nhs = next_nhs_number()
    ack = await send(client, world, adt("A28", nhs=nhs, family="JONES", local="P7"))
    assert ack["code"] == "AA", ack
    patient = await session.scalar(select(Patient).where(Patient.nhs_number == nhs))
    assert patient.family_name == "JONES"
    ack = await send(client, world, adt("A31", nhs=nhs, family="JONES-SMITH", ethnic="N"))
    assert ack["code"] == "AA", ack
    ack = await send(client, world, adt("A08", nhs=None, local="P7", given="JAN", family="JONES"))
    assert ack["code"] == "AA", ack
    await session.refresh(patient)
    assert (patient.family_name, patient.given_name, patient.ethnic_category) == (
        "JONES",  # found by the PAS number alone
        "JAN",
        "A",
    )
    entries = await session.scalar(
        select(func.count()).where(
            AuditEntry.action == "patient.update", AuditEntry.entity_id == str(patient.id)
        )
    )
    assert entries == 2


async def test_a21_a22_are_kept_and_acknowledged(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs))
    for event in ("A21", "A22"):
        ack = await send(client, world, adt(event, nhs=nhs))
        assert ack["code"] == "AA", ack
        row = await session.scalar(select(PasMessage).order_by(PasMessage.id.desc()))
        assert (row.event, row.outcome) == (event, "ignored")
        assert "no leave record" in row.changes["actions"][0]


async def test_a40_merges_keeping_every_record(client, world, session):
    survivor, prior = next_nhs_number(), next_nhs_number()
    await send(client, world, adt("A28", nhs=survivor))
    await send(client, world, adt("A01", nhs=prior, bed="A4"))
    prior_admission_id = (await admission_of(session, prior)).id
    merge = adt("A40", nhs=survivor, extra=f"MRG|{prior}^^^NHS^NH")
    ack = await send(client, world, merge)
    assert ack["code"] == "AA", ack
    session.expire_all()
    moved = await session.get(Admission, prior_admission_id)
    surviving = await session.scalar(select(Patient).where(Patient.nhs_number == survivor))
    assert moved.patient_id == surviving.id
    # The prior record is kept (empty), not deleted.
    assert await session.scalar(select(Patient).where(Patient.nhs_number == prior)) is not None


async def test_other_messages_are_acknowledged_and_ignored(client, world, session):
    message = adt("A60", nhs=next_nhs_number())
    ack = await send(client, world, message)
    assert ack["code"] == "AA"
    row = await session.scalar(select(PasMessage).order_by(PasMessage.id.desc()))
    assert row.outcome == "ignored"
    ack = await send(client, world, message.replace("ADT^A60", "ORU^R01"))
    assert ack["code"] == "AA"


# --- AE reasons --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"ward": "NOWHERE"}, "unmapped ward"),
        ({"bed": "Z9"}, "unknown bed"),
        ({"nhs": "1234567890"}, "invalid NHS number"),
    ],
)
async def test_ae_with_err_for_a_bad_place_or_number(client, world, session, overrides, reason):
    counts = await session.scalar(select(func.count()).select_from(Admission))
    ack = await send(client, world, adt("A01", **{"nhs": next_nhs_number(), **overrides}))
    assert ack["code"] == "AE"
    assert ack["error"].startswith(reason), ack
    assert ack["err"][3].split("^")[2] == "HL70357"
    # Nothing half-written: no person, no admission; the log row says why.
    assert counts == await session.scalar(select(func.count()).select_from(Admission))
    row = await session.scalar(select(PasMessage).order_by(PasMessage.id.desc()))
    assert row.outcome == "error" and row.error.startswith(reason)
    assert await session.scalar(select(func.count()).select_from(Patient)) == 0


async def test_ae_occupied_bed(client, world, session):
    await send(client, world, adt("A01", nhs=next_nhs_number()))
    ack = await send(client, world, adt("A01", nhs=next_nhs_number()))
    assert ack["code"] == "AE" and ack["error"].startswith("occupied bed"), ack


async def test_ae_dob_mismatch_is_never_merged(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A28", nhs=nhs, dob="19900102"))
    ack = await send(client, world, adt("A01", nhs=nhs, dob="19910102"))
    assert ack["code"] == "AE" and ack["error"].startswith("DOB mismatch"), ack
    assert await admission_of(session, nhs) is None


async def test_ae_discharge_before_admission(client, world, session):
    nhs = next_nhs_number()
    await send(client, world, adt("A01", nhs=nhs, evn="202603100900"))
    ack = await send(client, world, adt("A03", nhs=nhs, evn="202603100800"))
    assert ack["code"] == "AE" and ack["error"].startswith("discharge before admission"), ack
    assert (await admission_of(session, nhs)).discharged_at is None


async def test_location_mapping_is_used(client, world, session):
    session.add(
        PasLocation(
            point_of_care="ASHW",
            pas_bed="BED 01",
            ward_id=world.wards["ASH"].id,
            bed_label="A5",
            created_at=world.now,
        )
    )
    await session.commit()
    nhs = next_nhs_number()
    ack = await send(client, world, adt("A01", nhs=nhs, ward="ASHW", bed="BED 01"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    assert await stays_of(session, admission.id) == [("A5", None)]


# --- AR ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    ["hello", "\x00\x01\x02binary", "PID|1||123", "MSH|^~\\&|PAS|RXX|||20260310||ADT^A01||P|2.4"],
)
async def test_ar_when_it_cannot_be_parsed(client, world, session, garbage):
    ack = await send(client, world, garbage)
    assert ack["code"] == "AR", ack
    row = await session.scalar(select(PasMessage).order_by(PasMessage.id.desc()))
    assert row.outcome == "rejected"


async def test_wrong_media_type_is_415(client, world):
    r = await client.post(
        "/api/v1/hl7/v2",
        json={"x": 1},
        headers={**world.auth(), "Content-Type": "application/json"},
    )
    assert r.status_code == 415


async def test_only_integrating_roles(client, world):
    message = adt("A28", nhs=next_nhs_number())
    for user in ("nurse", "beds", "lead", "director"):
        r = await client.post(
            "/api/v1/hl7/v2", content=message, headers={**HL7, **world.auth(user)}
        )
        assert r.status_code == 403, user
    r = await client.post("/api/v1/hl7/v2", content=message, headers=HL7)
    assert r.status_code == 401


# --- out of order --------------------------------------------------------------------------


async def test_transfer_before_its_admission_is_held_then_applied(client, world, session):
    nhs = next_nhs_number()
    ack = await send(client, world, adt("A02", nhs=nhs, bed="A2", evn="202603101000"))
    assert ack["code"] == "AA" and ack["text"].startswith("held"), ack
    held = await session.scalar(select(PasHeldMessage))
    assert held is not None and held.resolved_at is None
    ack = await send(client, world, adt("A01", nhs=nhs, evn="202603100800"))
    assert ack["code"] == "AA", ack
    admission = await admission_of(session, nhs)
    assert [label for label, _ in await stays_of(session, admission.id)] == ["A1", "A2"]
    await session.refresh(held)
    assert held.resolution == "applied"
    row = await session.get(PasMessage, held.message_id)
    assert row.outcome == "applied"


async def test_a_held_message_never_applied_is_reported(client, world, session, clock):
    nhs = next_nhs_number()
    await send(client, world, adt("A03", nhs=nhs, evn="202603101000"))
    clock.now += timedelta(hours=2)
    await send(client, world, adt("A28", nhs=next_nhs_number()))
    held = await session.scalar(select(PasHeldMessage))
    await session.refresh(held)
    assert held.resolution == "expired"
    row = await session.get(PasMessage, held.message_id)
    await session.refresh(row)
    assert row.outcome == "error" and "never applied" in row.error
    assert await session.scalar(select(func.count()).where(AuditEntry.action == "pas.held_expired"))


async def test_nhs_number_invalid_checksum_uses_the_apps_check(client, world):
    ack = await send(client, world, adt("A28", nhs=invalid_nhs_number()))
    assert ack["code"] == "AE" and "check digit" in ack["error"]


async def test_event_from_evn_1_when_msh_9_has_only_the_type(client, world, session):
    nhs = next_nhs_number()
    ack = await send(client, world, adt("A01", nhs=nhs).replace("ADT^A01^ADT_A01", "ADT"))
    assert ack["code"] == "AA", ack
    assert await admission_of(session, nhs) is not None


async def test_versions_2_3_and_2_5(client, world, session):
    for version in ("2.3", "2.5"):
        ack = await send(client, world, adt("A28", nhs=next_nhs_number(), version=version))
        assert ack["code"] == "AA", ack
        assert f"|P|{version}" in ack["raw"].split("\r")[0]
