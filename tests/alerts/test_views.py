"""The alerts queue, an alert's page, the rules page and the rule runs page, as people use them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert
from app.rules.models import RuleSetting
from tests.auth.helpers import Browser, parse
from tests.factories import World

API = "/api/v1"
H = timedelta(hours=1)


async def _breach(client, world: World, clock, ward: str = "ASH", bed: str = "A1") -> int:  # type: ignore[no-untyped-def]
    """A seclusion started 3 hours ago with nothing recorded: a first medical review missed."""
    patient = await world.patient(sex="female" if ward == "ASH" else "male")
    admission = await world.admit(patient, ward=ward, bed=bed, at=clock.now - 5 * H)
    r = await client.post(
        f"{API}/admissions/{admission.id}/seclusions",
        json={
            "started_at": (clock.now - 3 * H).isoformat(),
            "authorised_by_role": "nurse_in_charge",
            "reason": "Assault on staff",
        },
        headers=world.auth(),
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{API}/rules/run", json={}, headers=world.auth())
    assert r.status_code == 200, r.text
    return admission.id


async def _first_medical(session: AsyncSession, admission_id: int) -> Alert:
    alert = await session.scalar(
        select(Alert).where(Alert.admission_id == admission_id, Alert.rule == "SECL_MEDICAL_FIRST")
    )
    assert alert is not None
    return alert


async def test_the_queue_shows_the_breach_with_the_person_and_ward(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    admission_id = await _breach(client, world, clock)
    lead: Browser = await signed_in("lead")
    page = await lead.get("/alerts")
    assert page.status_code == 200
    alert = await _first_medical(session, admission_id)
    row = parse(page.text).by_id(f"alert-{alert.id}")
    assert "First medical review of seclusion" in row.text()
    assert "Jane SMITH" in row.text() and "Ash Ward" in row.text()
    # High severity first: every high row comes before any medium one.
    severities = [n.text().strip() for n in parse(page.text).find_all(class_="wf-severity")]
    assert severities == sorted(severities, key=["High", "Medium", "Low"].index)


async def test_acknowledge_in_place_swaps_the_row(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    admission_id = await _breach(client, world, clock)
    alert = await _first_medical(session, admission_id)
    lead: Browser = await signed_in("lead")
    r = await lead.post(f"/alerts/{alert.id}/acknowledge", {"note": "On it"}, htmx=True)
    assert r.status_code == 200
    assert parse(r.text).by_id(f"alert-{alert.id}") is not None
    assert "Acknowledged" in r.text
    await session.refresh(alert)
    assert alert.status == "acknowledged" and alert.acknowledged_by == "lead"


async def test_resolving_without_a_note_shows_the_error_beside_the_field(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    admission_id = await _breach(client, world, clock)
    alert = await _first_medical(session, admission_id)
    lead: Browser = await signed_in("lead")
    r = await lead.post(f"/alerts/{alert.id}/resolve", {"note": "  "}, htmx=True)
    assert r.status_code == 422
    assert "Enter a note" in parse(r.text).by_id(f"resolve-note-{alert.id}-error").text()
    await session.refresh(alert)
    assert alert.status == "open"
    r = await lead.post(f"/alerts/{alert.id}/resolve", {"note": "Doctor attended late"})
    assert r.status_code == 303
    await session.refresh(alert)
    assert alert.status == "resolved" and alert.resolve_note == "Doctor attended late"


async def test_bulk_acknowledge(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    admission_id = await _breach(client, world, clock)
    ids = list(
        await session.scalars(
            select(Alert.id).where(Alert.admission_id == admission_id, Alert.status == "open")
        )
    )
    assert len(ids) >= 2
    lead: Browser = await signed_in("lead")
    r = await lead.post("/alerts/acknowledge", {"ids": [str(i) for i in ids[:2]], "note": ""})
    assert r.status_code == 200
    assert "2 alerts acknowledged" in parse(r.text).by_id("queue-message").text()
    statuses = set(await session.scalars(select(Alert.status).where(Alert.id.in_(ids[:2]))))
    assert statuses == {"acknowledged"}


async def test_ward_staff_see_only_their_wards_alerts(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    ash = await _breach(client, world, clock, "ASH", "A1")
    birch = await _breach(client, world, clock, "BIRCH", "B1")
    nurse: Browser = await signed_in("nurse")
    page = await nurse.get("/alerts")
    ash_alert = await _first_medical(session, ash)
    birch_alert = await _first_medical(session, birch)
    assert parse(page.text).find(id=f"alert-{ash_alert.id}") is not None
    assert parse(page.text).find(id=f"alert-{birch_alert.id}") is None
    r = await nurse.get(f"/alerts/{birch_alert.id}")
    assert r.status_code == 403
    r = await nurse.post(f"/alerts/{birch_alert.id}/acknowledge", {"note": ""})
    assert r.status_code == 403
    await session.refresh(birch_alert)
    assert birch_alert.status == "open"


async def test_alert_page_shows_the_episode_timeline_and_the_rule_source(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    admission_id = await _breach(client, world, clock)
    alert = await _first_medical(session, admission_id)
    lead: Browser = await signed_in("lead")
    page = await lead.get(f"/alerts/{alert.id}")
    assert page.status_code == 200
    assert "26.116" in parse(page.text).by_id("rule-source").text()
    assert "missed" in parse(page.text).by_id("timeline").text().lower()
    assert "Raised" in parse(page.text).by_id("alert-history").text()


async def test_board_shows_alert_badges_per_card_and_per_ward(
    client, world: World, clock, nurse: Browser
) -> None:
    await _breach(client, world, clock)
    page = await nurse.get("/wards/ASH")
    bed = parse(page.text).by_id("bed-A1")
    assert "alert" in bed.find(class_="wf-alert-badge").text()
    assert "open alerts on this ward" in parse(page.text).by_id("ward-alerts").text()
    wards = await nurse.get("/wards")
    assert "alert" in parse(wards.text).by_id("ward-list").text()


async def test_rules_page_lists_every_rule_and_an_editor_changes_a_threshold(
    world: World, signed_in, session: AsyncSession
) -> None:
    lead: Browser = await signed_in("lead")
    page = await lead.get("/rules")
    assert parse(page.text).find(id="rule-SECL_NURSING_REVIEW") is not None
    r = await lead.post(
        "/rules/SECL_NURSING_REVIEW",
        {"param-every": "2 hours", "severity": "high", "enabled": "yes"},
    )
    assert r.status_code == 422
    assert parse(r.text).by_id("param-every-error") is not None
    assert await session.get(RuleSetting, "SECL_NURSING_REVIEW") is None
    r = await lead.post(
        "/rules/SECL_NURSING_REVIEW", {"param-every": "PT1H", "severity": "high", "enabled": "yes"}
    )
    assert r.status_code == 303
    setting = await session.get(RuleSetting, "SECL_NURSING_REVIEW")
    assert setting is not None and setting.parameters == {"every": "PT1H"}
    page = await lead.get("/rules")
    assert "PT1H" in parse(page.text).by_id("rule-SECL_NURSING_REVIEW").text()


async def test_ward_staff_cannot_change_rules(
    world: World, nurse: Browser, session: AsyncSession
) -> None:
    r = await nurse.post("/rules/SECL_NURSING_REVIEW", {"param-every": "PT1H", "severity": "high"})
    assert r.status_code == 403
    assert await session.get(RuleSetting, "SECL_NURSING_REVIEW") is None


async def test_rule_runs_page_records_a_run(world: World, signed_in) -> None:
    admin: Browser = await signed_in("admin")
    r = await admin.post("/admin/rule-runs", {})
    assert r.status_code == 303
    page = await admin.get("/admin/rule-runs")
    assert "page" in parse(page.text).by_id("runs").text()


async def test_a_withdrawn_alert_leaves_the_queue_and_its_page_says_why(
    client, world: World, clock, signed_in, session: AsyncSession
) -> None:
    admission_id = await _breach(client, world, clock)
    alert = await _first_medical(session, admission_id)
    seclusion_id = alert.subject_id
    clock.now += timedelta(minutes=5)
    r = await client.post(
        f"{API}/seclusions/{seclusion_id}/reviews",
        json={"kind": "medical", "at": (clock.now - 3 * H + timedelta(minutes=20)).isoformat(),
              "note": "Seen by the duty doctor"},
        headers=world.auth(),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.post(f"{API}/rules/run", json={}, headers=world.auth())
    assert r.status_code == 200, r.text
    lead: Browser = await signed_in("lead")
    queue = parse((await lead.get("/alerts")).text)
    assert queue.find(id=f"alert-{alert.id}") is None
    assert queue.by_id("filter-status-withdrawn") is not None
    withdrawn = parse((await lead.get("/alerts?status=withdrawn")).text)
    assert "recorded late" in withdrawn.by_id(f"alert-{alert.id}").text()
    page = await lead.get(f"/alerts/{alert.id}")
    assert page.status_code == 200
    reason = parse(page.text).by_id("withdrawn-reason").text()
    assert "medical review" in reason and "recorded late" in reason
    assert "Withdrawn" in parse(page.text).by_id("alert-history").text()
    assert "Resolve" not in parse(page.text).by_id("alert-summary").text()
