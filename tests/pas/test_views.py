"""The admin's PAS interface page: messages with their outcome, mappings, processing a
refused message again once its ward is mapped (issue 21)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.pas.models import PasLocation, PasMessage
from app.wards.models import Admission
from tests.auth.helpers import parse
from tests.factories import next_nhs_number
from tests.pas.helpers import adt, send

pytestmark = pytest.mark.asyncio


async def test_map_a_ward_and_process_the_refused_message_again(client, world, session, signed_in):
    ack = await send(client, world, adt("A01", nhs=next_nhs_number(), ward="ASHWD", bed="A1"))
    assert ack["code"] == "AE" and ack["error"].startswith("unmapped ward")
    admin = await signed_in("admin")
    page = await admin.get("/admin/interfaces?outcome=error")
    assert page.status_code == 200
    table = parse(page.text).by_id("pas-messages").text()
    assert "unmapped ward" in table
    r = await admin.post(
        "/admin/interfaces/locations",
        {"point_of_care": "ASHWD", "pas_bed": "", "ward_code": "ASH", "bed_label": ""},
    )
    assert r.status_code == 200, r.text
    assert await session.scalar(select(PasLocation.ward_id)) == world.wards["ASH"].id
    row = await session.scalar(select(PasMessage).where(PasMessage.outcome == "error"))
    r = await admin.post(f"/admin/interfaces/messages/{row.id}/reprocess")
    assert r.status_code == 200, r.text
    await session.refresh(row)
    assert row.outcome == "applied" and row.error is None
    assert row.ack_code == "AE"  # what was sent stays as it was


async def test_mapping_errors_are_shown_beside_the_field(world, signed_in):
    admin = await signed_in("admin")
    r = await admin.post(
        "/admin/interfaces/locations",
        {"point_of_care": "X", "pas_bed": "", "ward_code": "NOPE", "bed_label": ""},
    )
    assert r.status_code == 422
    assert "NOPE" in r.text


async def test_only_admins(world, signed_in):
    nurse = await signed_in("nurse")
    assert (await nurse.get("/admin/interfaces")).status_code == 403


async def test_the_ward_records_a_feed_admissions_purpose_on_its_page(
    client, world, session, nurse
):
    """The card offers the form; a blank field is refused beside it; recording both clears
    the warning (and is what clears ADM_PURPOSE_MISSING, tests/pas/test_rules.py)."""
    ack = await send(client, world, adt("A01", nhs=next_nhs_number(), pv1_44="202603100830"))
    assert ack["code"] == "AA", ack
    board = (await client.get("/api/v1/wards/ASH/board", headers=world.auth())).json()
    admission_id = next(b for b in board["beds"] if b["label"] == "A1")["occupant"]["admission_id"]
    page = await nurse.get("/wards/ASH")
    assert f'href="/admissions/{admission_id}#purpose">Record reason and benefit' in page.text
    page = await nurse.get(f"/admissions/{admission_id}")
    assert "Reason and benefit not recorded" in page.text
    assert "Not yet recorded" in page.text
    url = f"/admissions/{admission_id}/purpose"
    r = await nurse.post(url, {"reason": "Relapse of psychosis", "expected_benefit": " "})
    assert r.status_code == 422
    assert "Enter the expected benefit of admission" in r.text
    assert "Enter the reason for admission" not in r.text
    admission = await session.get(Admission, admission_id, populate_existing=True)
    assert admission is not None and admission.purpose_missing  # nothing half-saved
    r = await nurse.post(
        url, {"reason": "Relapse of psychosis", "expected_benefit": "Restart treatment safely"}
    )
    assert r.status_code == 303, r.text
    page = await nurse.get(f"/admissions/{admission_id}")
    assert "Reason and benefit not recorded" not in page.text
    assert "Relapse of psychosis" in page.text
    admission = await session.get(Admission, admission_id, populate_existing=True)
    assert admission is not None and admission.purpose_recorded_at is not None
    assert not admission.purpose_missing


async def test_the_bed_flow_page_says_when_the_feed_last_spoke(client, world, clock, signed_in):
    beds = await signed_in("beds")
    page = await beds.get("/flow")
    assert 'id="pas-feed"' not in page.text  # no feed, nothing to say
    await send(client, world, adt("A08", nhs=next_nhs_number()))
    clock.now += timedelta(minutes=10)
    table = parse((await beds.get("/flow")).text).by_id("pas-feed").text()
    assert "10 min ago" in table and "Not heard" not in table
    clock.now += timedelta(minutes=25)
    table = parse((await beds.get("/flow")).text).by_id("pas-feed").text()
    assert "Not heard for 35 min" in table
