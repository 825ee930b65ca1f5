"""The admin's PAS interface page: messages with their outcome, mappings, processing a
refused message again once its ward is mapped (issue 21)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.pas.models import PasLocation, PasMessage
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
