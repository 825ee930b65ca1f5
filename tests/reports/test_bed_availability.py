"""Available bed days from bed history kept as data (issue 18, change 8): a ward and its
beds are open from the earlier of their creation and the first stay recorded on the ward
(unless an admin says when they opened), and closed inside their closures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.factories import patient_body
from tests.reports.scenario import iso, post

pytestmark = pytest.mark.usefixtures("no_suppression")

API = "/api/v1"
TODAY = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


def t(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def new_ward(client, world, code: str, beds: int, **extra: Any) -> None:  # type: ignore[no-untyped-def]
    body = {"code": code, "name": f"{code.title()} Ward", "site_code": "STJ",
            "ward_type": "adult_acute", "sex": "mixed", "min_age": 18, "max_age": 64,
            **extra}  # fmt: skip
    await post(client, world, "/wards", body)
    for i in range(1, beds + 1):
        await post(client, world, f"/wards/{code}/beds", {"label": f"{code[0]}{i}"})


async def stay(client, world, ward: str, bed: str, start: datetime, end: datetime | None) -> None:  # type: ignore[no-untyped-def]
    patient = await post(client, world, "/patients", patient_body())
    body = {"patient_id": patient["id"], "ward_code": ward, "bed_label": bed,
            "admitted_at": iso(start), "legal_status": "informal", "reason": "Unwell at home",
            "expected_benefit": "Recover and go home"}  # fmt: skip
    admission = await post(client, world, "/admissions", body)
    if end is not None:
        await post(client, world, f"/admissions/{admission['id']}/discharge",
                   {"at": iso(end), "destination": "usual_residence"})  # fmt: skip


async def week(client, world, ward: str, ending: str = "2026-03-29") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(
        f"{API}/reports/weekly",
        headers=world.auth("director"),
        params={"week_ending": ending, "ward_code": ward},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_ward_made_after_its_history_counts_all_its_beds_open_then(
    client, world, clock
) -> None:
    """The issue's case: a ward created today, with people admitted to it last month (history
    typed in later), counts all its beds open last month, not only the occupied one."""
    clock.now = world.now = TODAY
    await new_ward(client, world, "ELM", 4)
    await stay(client, world, "ELM", "E1", t(3, 1), t(3, 5))  # its first recorded stay
    await stay(client, world, "ELM", "E2", t(3, 24, 14), None)
    r = await week(client, world, "ELM")
    # 4 beds x 7 midnights (Tue 24 to Mon 30): open since 1 March.
    assert r["available_bed_days"] == 28
    assert [n["open"] for n in r["occupancy_nights"]] == [4] * 7
    assert r["occupied_bed_days"] == 6  # E2 from Wed 25 to Mon 30
    # Before its first stay it was not open: the week of 22 February has no beds.
    assert (await week(client, world, "ELM", "2026-02-22"))["available_bed_days"] == 0


async def test_a_ward_counts_from_its_first_stay_inside_the_week(client, world, clock) -> None:
    clock.now = world.now = TODAY
    await new_ward(client, world, "ELM", 3)
    await stay(client, world, "ELM", "E1", t(3, 25), t(3, 27))
    r = await week(client, world, "ELM")
    # Open from Wed 25 10:00: the midnights Thu 26 to Mon 30, all 3 beds.
    assert [n["open"] for n in r["occupancy_nights"]] == [0, 0, 3, 3, 3, 3, 3]


async def test_an_admin_says_when_a_ward_opened(client, world, clock) -> None:
    clock.now = world.now = TODAY
    await new_ward(client, world, "ELM", 2, opened_at=iso(t(3, 27, 12)))
    r = await week(client, world, "ELM")
    assert [n["open"] for n in r["occupancy_nights"]] == [0, 0, 0, 0, 2, 2, 2]


async def test_a_bed_added_later_does_not_raise_past_capacity(client, world, clock) -> None:
    """ASH had 6 beds in March; a seventh added in April counts from April (or from an
    opening an admin gives it)."""
    clock.now = world.now = TODAY
    await post(client, world, "/wards/ASH/beds", {"label": "A7"})
    await post(client, world, "/wards/ASH/beds", {"label": "A8", "opened_at": iso(t(3, 27))})
    r = await week(client, world, "ASH")
    assert [n["open"] for n in r["occupancy_nights"]] == [6, 6, 6, 6, 7, 7, 7]


async def test_an_opening_in_the_future_is_refused(client, world) -> None:
    h = world.auth()
    body = {"code": "ELM", "name": "Elm Ward", "site_code": "STJ", "ward_type": "picu",
            "sex": "male", "min_age": 18, "max_age": 64,
            "opened_at": "2030-01-01T00:00:00Z"}  # fmt: skip
    r = await client.post(f"{API}/wards", headers=h, json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "opened_at"
    r = await client.post(
        f"{API}/wards/ASH/beds",
        headers=h,
        json={"label": "A9", "opened_at": "2030-01-01T00:00:00Z"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "opened_at"


async def test_available_bed_days_do_not_read_the_audit_log(
    client, world, clock, session, query_counter
) -> None:
    """The issue's done-when: bed history is data. A closure held only in bed_closures (no
    audit entry says it) closes the bed, and the report reads nothing from the audit log."""
    from sqlalchemy import select

    from app.wards.models import Bed, BedClosure

    clock.now = world.now = TODAY
    await new_ward(client, world, "ELM", 2)
    await stay(client, world, "ELM", "E1", t(3, 1), None)
    e2 = await session.scalar(select(Bed.id).where(Bed.label == "E2"))
    # Closed Thu 26 12:00 to Sat 28 12:00: the midnights of Fri 27 and Sat 28.
    session.add(BedClosure(bed_id=e2, closed_at=t(3, 26, 12), reopened_at=t(3, 28, 12),
                           reason="Ligature point repair"))  # fmt: skip
    await session.commit()
    query_counter.clear()
    r = await week(client, world, "ELM")
    assert [n["open"] for n in r["occupancy_nights"]] == [2, 2, 2, 1, 1, 2, 2]
    assert r["available_bed_days"] == 12
    beds_reads = [s for s in query_counter if "bed_closures" in s or "FROM beds" in s]
    assert beds_reads
    assert not [s for s in query_counter if "audit_log" in s]
