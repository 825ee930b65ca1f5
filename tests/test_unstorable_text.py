"""Text PostgreSQL cannot keep (a NUL character, an unpaired surrogate) is bad input: 422
beside the field, nothing written, on both databases (schemathesis found a 500 on
PostgreSQL for a locality name holding a NUL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.wards.models import Admission, Locality
from tests.wards.test_views import admit_form

# As JSON carries them: escapes (a client cannot encode a lone surrogate as UTF-8).
BAD = {"NUL": "Lee\\u0000ds", "surrogate": "Lee\\ud800ds"}


@pytest.mark.parametrize("text", BAD.values(), ids=BAD.keys())
async def test_the_api_refuses_it_and_writes_nothing(client, world, session, text) -> None:
    audit = await session.scalar(select(func.count()).select_from(AuditEntry))
    r = await client.post(
        "/api/v1/localities",
        headers={**world.auth("admin"), "content-type": "application/json"},
        content=f'{{"code": "HGT", "name": "{text}", "latitude": 54.0, "longitude": -1.54}}',
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "name"
    # ours for a NUL; pydantic's own JSON parser refuses a lone surrogate first
    assert r.json()["errors"][0]["message"] in (
        "cannot contain a NUL character",
        "Input should be a valid string, unable to parse raw data as a unicode string",
    )
    assert await session.scalar(select(func.count()).where(Locality.code == "HGT")) == 0
    assert await session.scalar(select(func.count()).select_from(AuditEntry)) == audit


async def test_a_form_refuses_a_nul_beside_the_field(world, nurse, session) -> None:
    before = await session.scalar(select(func.count()).select_from(Admission))
    form = admit_form(reason="Relapse\u0000, not safe at home")
    response = await nurse.post("/wards/ASH/beds/A2/admit", form)
    assert response.status_code in (200, 422)
    assert "cannot contain" in response.text
    assert await session.scalar(select(func.count()).select_from(Admission)) == before
