"""Mental Health Act pages: the legal panel on the admission page, recording rights given
from it (page and panel), and the diary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.mha.clocks import ENGLAND
from app.mha.models import RightsGiven
from tests.auth.helpers import field_error, parse

HTMX = [pytest.param(False, id="plain"), pytest.param(True, id="htmx")]


def london(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=ENGLAND).astimezone(UTC)


def rights_form(**overrides: str) -> dict[str, str]:
    return {
        "kind": "s132",
        "given_at": "2026-03-10T11:00",
        "oral": "on",
        "written": "on",
        "understood": "yes",
        **overrides,
    }


async def test_the_admission_page_shows_the_legal_panel(world, nurse):
    admission = await world.admit(legal_status="s3", at=london(2026, 3, 10, 9))
    page = parse((await nurse.get(f"/admissions/{admission.id}")).text)
    periods = page.by_id("mha-periods").text()
    assert "Section 3" in periods
    # Expires at the end of 9 September; the window opens on 10 July (England's day).
    assert "10 Sep 2026, 00:00" in periods
    assert "renewal window from 10 Jul 2026" in periods
    due = page.by_id("mha-deadlines").text()
    assert "Rights to be given" in due and "Renewal due" in due
    assert page.find("a", href=f"/admissions/{admission.id}/rights/new") is not None


async def test_readers_who_may_not_record_are_not_offered_the_form(world, signed_in):
    admission = await world.admit(legal_status="s3")
    beds = await signed_in("beds")
    page = parse((await beds.get(f"/admissions/{admission.id}")).text)
    assert page.by_id("mha-periods") is not None
    assert page.find("a", href=f"/admissions/{admission.id}/rights/new") is None
    assert (await beds.get(f"/admissions/{admission.id}/rights/new")).status_code == 403


@pytest.mark.parametrize("htmx", HTMX)
async def test_recording_rights_meets_the_deadline(world, nurse, session, htmx):
    admission = await world.admit(legal_status="s2", at=london(2026, 3, 10, 9))
    form = await nurse.get(f"/admissions/{admission.id}/rights/new", htmx=htmx)
    assert form.status_code == 200
    assert ("<html" in form.text) is not htmx
    response = await nurse.post(f"/admissions/{admission.id}/rights", rights_form(), htmx=htmx)
    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "board-changed"
    else:
        assert response.status_code == 303
    page = parse((await nurse.get(f"/admissions/{admission.id}")).text)
    assert "Rights to be given" not in page.by_id("mha-deadlines").text()
    assert "orally and in writing; understood" in page.by_id("mha-rights").text()


async def test_a_refused_rights_record_shows_each_error_beside_its_field(world, nurse, session):
    admission = await world.admit(legal_status="s2")
    response = await nurse.post(
        f"/admissions/{admission.id}/rights",
        {"kind": "s132", "given_at": "", "understood": ""},
    )
    assert response.status_code == 422
    page = parse(response.text)
    assert field_error(page, "rights-oral") is not None
    assert field_error(page, "rights-given_at") is not None
    assert await session.scalar(select(func.count()).select_from(RightsGiven)) == 0


async def test_the_diary_page_lists_deadlines_soonest_first(world, signed_in, clock):
    soon = await world.admit(legal_status="s4", at=clock.now - timedelta(hours=10))
    later = await world.admit(
        await world.patient(), bed="A2", legal_status="s2", at=london(2026, 3, 1, 10)
    )
    lead = await signed_in("lead")
    page = parse((await lead.get("/mha/diary?days=30")).text)
    links = [a.attrs["href"] for a in page.by_id("diary").find_all("a")]
    assert links == [
        f"/admissions/{soon.id}#mental-health-act",
        f"/admissions/{soon.id}#mental-health-act",
        f"/admissions/{later.id}#mental-health-act",
    ]
    empty = await lead.get("/mha/diary?days=1&ward_code=BIRCH")
    assert 'id="diary"' not in empty.text
    assert "Nothing falls due in the next 1 day." in empty.text
