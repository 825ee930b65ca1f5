"""Alerts through the JSON API (API.md "Rules and alerts" and "Conventions"; RULES.md 1.1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, RuleRun
from app.audit.models import AuditEntry
from app.rules.models import RuleSetting
from tests.alerts.scenario import run_via_api as run
from tests.alerts.scenario import start_seclusion

API = "/api/v1"
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
ALERT_FIELDS = {
    "id", "rule", "severity", "status", "subject_type", "subject_id", "admission_id",
    "ward_code", "due_at", "raised_at", "cleared_at", "parameters", "message",
}  # fmt: skip
SUBJECT_TYPES = {
    "admission", "seclusion", "segregation", "restrictive_intervention", "bed_request",
    "ready_for_discharge", "out_of_area_placement", "ward",
}  # fmt: skip
RANK = {"high": 0, "medium": 1, "low": 2}
PROBLEM = "application/problem+json"


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def due(alert: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(alert["due_at"])


async def seclude(client, world, admission_id: int, start: datetime, user: str = "admin") -> int:
    return int((await start_seclusion(client, world, admission_id, start, user))["id"])


async def listed(client, world, user: str = "admin", **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/alerts", headers=world.auth(user), params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


async def one(client, world, alert_id: int, user: str = "admin") -> dict[str, Any]:
    r = await client.get(f"{API}/alerts/{alert_id}", headers=world.auth(user))
    assert r.status_code == 200, r.text
    return dict(r.json())


def pick(alerts: list[dict[str, Any]], rule: str, ward: str | None = None) -> dict[str, Any]:
    found = [a for a in alerts if a["rule"] == rule and (ward is None or a["ward_code"] == ward)]
    assert found, f"no {rule} alert"
    return found[0]


async def acknowledge(client, world, alert_id: int, user: str = "admin", **body: Any):
    return await client.post(
        f"{API}/alerts/{alert_id}/acknowledge", headers=world.auth(user), json=body or None
    )


async def resolve(client, world, alert_id: int, user: str = "admin", **body: Any):
    return await client.post(
        f"{API}/alerts/{alert_id}/resolve", headers=world.auth(user), json=body
    )


async def fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """Everything a refused request must leave as it was."""
    counts = [
        await session.scalar(select(func.count()).select_from(model))
        for model in (Alert, AuditEntry, RuleRun, RuleSetting)
    ]
    alerts = (
        await session.execute(
            select(
                Alert.id,
                Alert.status,
                Alert.acknowledged_at,
                Alert.acknowledged_by,
                Alert.acknowledge_note,
                Alert.resolved_at,
                Alert.resolved_by,
                Alert.resolve_note,
            ).order_by(Alert.id)
        )
    ).all()
    return tuple(counts), tuple(alerts)


async def audit_rows(session: AsyncSession, action: str, alert_id: int) -> list[AuditEntry]:
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == action,
                AuditEntry.entity_type == "alerts",
                AuditEntry.entity_id == str(alert_id),
            )
            .order_by(AuditEntry.id)
        )
    )


# --- a small ward day: one seclusion on ASH, one on BIRCH, 3 and 4 hours in ---------------------


@pytest.fixture
async def ash(world, clock) -> int:
    return (await world.admit(ward="ASH", bed="A1")).id


@pytest.fixture
async def birch(world, clock) -> int:
    patient = await world.patient(sex="male", given_name="John")
    return (await world.admit(patient, ward="BIRCH", bed="B1")).id


@pytest.fixture
async def raised(client, world, clock, ash, birch) -> dict[str, Any]:
    """Both seclusions with nothing recorded: missed first medical review (high), missed
    nursing reviews (high) and missed observations (medium) on each ward."""
    ash_seclusion = await seclude(client, world, ash, clock.now - 3 * H, user="nurse")
    birch_seclusion = await seclude(client, world, birch, clock.now - 4 * H, user="birchnurse")
    body = await run(client, world)
    return {
        "run": body,
        "ash_seclusion": ash_seclusion,
        "birch_seclusion": birch_seclusion,
        "all": await listed(client, world),
    }


# --- what an alert looks like ---------------------------------------------------------------------


async def test_an_alert_has_the_contract_fields(client, world, clock, ash, raised):
    alerts = raised["all"]
    assert alerts
    for alert in alerts:
        assert set(alert) >= ALERT_FIELDS
        assert isinstance(alert["id"], int) and isinstance(alert["subject_id"], int)
        assert alert["severity"] in RANK
        assert alert["status"] in {"open", "acknowledged", "cleared", "resolved"}
        assert alert["subject_type"] in SUBJECT_TYPES
        assert isinstance(alert["parameters"], dict) and isinstance(alert["message"], str)
        due_at = when(alert["due_at"])
        assert due_at is not None and due_at.tzinfo is not None
        assert when(alert["raised_at"]) == clock.now

    first = pick(alerts, "SECL_MEDICAL_FIRST", "ASH")
    assert first["severity"] == "high" and first["status"] == "open"
    assert first["subject_type"] == "seclusion"
    assert first["subject_id"] == raised["ash_seclusion"]
    assert first["admission_id"] == ash and first["ward_code"] == "ASH"
    assert when(first["due_at"]) == clock.now - 2 * H  # an hour after the start
    assert first["cleared_at"] is None
    assert first["parameters"] == {"within": "PT1H"}
    assert first["message"].startswith("First medical review of seclusion")

    # One alert read alone is the same as in the list.
    assert await one(client, world, first["id"]) == first


async def test_the_run_returns_what_it_raised_and_never_raises_it_twice(
    client, world, clock, raised
):
    body = raised["run"]
    assert {"run_id", "as_of", "raised", "cleared"} <= set(body)
    assert when(body["as_of"]) == clock.now
    assert sorted(a["id"] for a in body["raised"]) == sorted(a["id"] for a in raised["all"])
    assert all(set(a) >= ALERT_FIELDS for a in body["raised"])
    assert body["cleared"] == []

    again = await run(client, world)
    assert again["raised"] == [] and again["cleared"] == []
    assert len(await listed(client, world)) == len(raised["all"])


async def test_every_raise_is_audited(client, world, session, raised):
    for alert in raised["all"]:
        [entry] = await audit_rows(session, "alert.raise", alert["id"])
        assert entry.username == "system" and entry.before is None
        assert entry.after is not None and entry.after["status"] == "open"


# --- the queue: order and filters -----------------------------------------------------------------


async def test_queue_is_highest_severity_first_then_oldest_due(client, world, raised):
    alerts = raised["all"]
    keys = [(RANK[a["severity"]], due(a), a["id"]) for a in alerts]
    assert keys == sorted(keys)
    severities = [a["severity"] for a in alerts]
    assert severities[0] == "high" and severities[-1] == "medium"
    # Severity wins over age: a medium alert older than every high one still comes after.
    high = [due(a) for a in alerts if a["severity"] == "high"]
    medium = [due(a) for a in alerts if a["severity"] == "medium"]
    assert min(medium) < min(high)
    # Both wards are interleaved by due time within a severity.
    high_wards = [a["ward_code"] for a in alerts if a["severity"] == "high"]
    assert high_wards[0] == "BIRCH" and "ASH" in high_wards


async def test_filter_by_rule(client, world, raised):
    nursing = await listed(client, world, rule="SECL_NURSING_REVIEW")
    assert nursing and {a["rule"] for a in nursing} == {"SECL_NURSING_REVIEW"}
    assert len(nursing) == sum(a["rule"] == "SECL_NURSING_REVIEW" for a in raised["all"])
    assert await listed(client, world, rule="LTS_AC_REVIEW") == []

    r = await client.get(f"{API}/alerts", headers=world.auth(), params={"rule": "NOT_A_RULE"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_filter_by_severity(client, world, raised):
    medium = await listed(client, world, severity="medium")
    assert medium and {a["severity"] for a in medium} == {"medium"}
    high = await listed(client, world, severity="high")
    assert high and {a["severity"] for a in high} == {"high"}
    assert len(medium) + len(high) == len(raised["all"])
    assert await listed(client, world, severity="low") == []

    r = await client.get(f"{API}/alerts", headers=world.auth(), params={"severity": "critical"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "severity"


async def test_filter_by_ward_and_admission(client, world, ash, birch, raised):
    on_birch = await listed(client, world, ward_code="BIRCH")
    assert on_birch and {a["ward_code"] for a in on_birch} == {"BIRCH"}
    on_ash = await listed(client, world, ward_code="ASH")
    assert on_ash and {a["ward_code"] for a in on_ash} == {"ASH"}
    assert len(on_ash) + len(on_birch) == len(raised["all"])
    assert await listed(client, world, ward_code="CEDAR") == []

    for_ash = await listed(client, world, admission_id=ash)
    assert [a["id"] for a in for_ash] == [a["id"] for a in on_ash]
    assert {a["admission_id"] for a in await listed(client, world, admission_id=birch)} == {birch}
    assert await listed(client, world, admission_id=ash, ward_code="BIRCH") == []

    r = await client.get(f"{API}/alerts", headers=world.auth(), params={"ward_code": "NOWARD"})
    assert r.status_code == 404
    r = await client.get(f"{API}/alerts", headers=world.auth(), params={"admission_id": "x"})
    assert r.status_code == 422


async def test_filter_since_is_due_at_or_after(client, world, clock, raised):
    since = clock.now - 2 * H  # ASH's first medical review fell due exactly then
    found = await listed(client, world, since=since.isoformat())
    expected = [a["id"] for a in raised["all"] if due(a) >= since]
    assert found and [a["id"] for a in found] == expected
    assert any(due(a) == since for a in found)
    assert await listed(client, world, since=clock.now.isoformat()) == []

    for bad in ("2026-03-10T10:00:00", "yesterday"):
        r = await client.get(f"{API}/alerts", headers=world.auth(), params={"since": bad})
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["errors"][0]["field"] == "since"


async def test_limit_and_offset_page_through_the_queue(client, world, raised):
    everything = [a["id"] for a in raised["all"]]
    assert len(everything) > 5
    first = await listed(client, world, limit=3)
    second = await listed(client, world, limit=3, offset=3)
    assert [a["id"] for a in first] == everything[:3]
    assert [a["id"] for a in second] == everything[3:6]
    assert await listed(client, world, offset=len(everything)) == []
    for params in ({"limit": 0}, {"limit": 100000}, {"offset": -1}, {"limit": "ten"}):
        r = await client.get(f"{API}/alerts", headers=world.auth(), params=params)
        assert r.status_code == 422, params


async def test_status_filter_is_repeatable_and_the_queue_leaves_out_resolved(client, world, raised):
    ids = [a["id"] for a in raised["all"]]
    acked, resolved_id = ids[0], ids[1]
    assert (await acknowledge(client, world, acked)).status_code == 200
    assert (await resolve(client, world, resolved_id, note="Reviewed late")).status_code == 200

    queue = [a["id"] for a in await listed(client, world)]
    assert resolved_id not in queue and acked in queue and len(queue) == len(ids) - 1

    only_open = await listed(client, world, status="open")
    assert {a["status"] for a in only_open} == {"open"} and len(only_open) == len(ids) - 2

    r = await client.get(
        f"{API}/alerts",
        headers=world.auth(),
        params=[("status", "acknowledged"), ("status", "resolved")],
    )
    assert r.status_code == 200
    assert {(a["id"], a["status"]) for a in r.json()} == {
        (acked, "acknowledged"),
        (resolved_id, "resolved"),
    }
    assert await listed(client, world, status="cleared") == []

    r = await client.get(f"{API}/alerts", headers=world.auth(), params={"status": "closed"})
    assert r.status_code == 422


# --- cleared alerts -------------------------------------------------------------------------------


async def test_a_late_review_raises_the_alert_already_cleared(client, world, clock, ash):
    start = clock.now - 3 * H
    seclusion = await seclude(client, world, ash, start)
    r = await client.post(
        f"{API}/seclusions/{seclusion}/reviews",
        headers=world.auth("nurse"),
        json={"kind": "medical", "at": (start + 90 * M).isoformat(), "note": "Seen late"},
    )
    assert r.status_code == 201, r.text
    body = await run(client, world)
    first = pick(body["raised"], "SECL_MEDICAL_FIRST")
    assert first["status"] == "cleared" and when(first["cleared_at"]) == start + 90 * M
    # Cleared alerts stay in the queue: a person still has to look at them.
    assert first["id"] in [a["id"] for a in await listed(client, world)]
    assert [a["id"] for a in await listed(client, world, status="cleared")] == [first["id"]]


async def test_an_open_alert_is_cleared_by_the_next_run_after_the_action(
    client, world, clock, session, raised
):
    first = pick(raised["all"], "SECL_MEDICAL_FIRST", "ASH")
    assert (await acknowledge(client, world, first["id"], note="Doctor called")).status_code == 200
    r = await client.post(
        f"{API}/seclusions/{raised['ash_seclusion']}/reviews",
        headers=world.auth("nurse"),
        json={"kind": "medical", "at": (clock.now - 10 * M).isoformat(), "note": "Seen"},
    )
    assert r.status_code == 201, r.text
    body = await run(client, world)
    assert [a["id"] for a in body["cleared"]] == [first["id"]]
    after = await one(client, world, first["id"])
    assert after["status"] == "cleared" and when(after["cleared_at"]) == clock.now - 10 * M
    [entry] = await audit_rows(session, "alert.clear", first["id"])
    assert entry.before is not None and entry.before["status"] == "acknowledged"
    assert entry.after is not None and entry.after["status"] == "cleared"


# --- acknowledge ----------------------------------------------------------------------------------


async def test_acknowledge_an_open_alert(client, world, clock, session, raised):
    alert = pick(raised["all"], "SECL_NURSING_REVIEW", "ASH")
    r = await acknowledge(client, world, alert["id"], user="nurse", note="  On it  ")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == alert["id"] and body["status"] == "acknowledged"
    assert body["acknowledged_by"] == "nurse" and when(body["acknowledged_at"]) == clock.now
    assert body["acknowledge_note"] == "On it"
    assert await one(client, world, alert["id"]) == body

    [entry] = await audit_rows(session, "alert.acknowledge", alert["id"])
    assert entry.username == "nurse"
    assert entry.before is not None and entry.before["status"] == "open"
    assert entry.after is not None and entry.after["status"] == "acknowledged"


async def test_acknowledge_needs_no_note(client, world, raised):
    alert = raised["all"][0]
    r = await client.post(f"{API}/alerts/{alert['id']}/acknowledge", headers=world.auth())
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged" and r.json()["acknowledge_note"] is None


async def test_acknowledge_only_an_open_alert(client, world, session, raised):
    acked, resolved_id = raised["all"][0]["id"], raised["all"][1]["id"]
    assert (await acknowledge(client, world, acked, note="first")).status_code == 200
    assert (await resolve(client, world, resolved_id, note="done")).status_code == 200
    before = await fingerprint(session)
    for alert_id in (acked, resolved_id):
        r = await acknowledge(client, world, alert_id, note="again")
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 409
    assert await fingerprint(session) == before
    assert (await one(client, world, acked))["acknowledge_note"] == "first"


async def test_acknowledge_a_cleared_alert_is_409(client, world, clock, ash):
    start = clock.now - 3 * H
    seclusion = await seclude(client, world, ash, start)
    r = await client.post(
        f"{API}/seclusions/{seclusion}/reviews",
        headers=world.auth("nurse"),
        json={"kind": "medical", "at": (start + 90 * M).isoformat(), "note": "Seen late"},
    )
    assert r.status_code == 201
    cleared = pick((await run(client, world))["raised"], "SECL_MEDICAL_FIRST")
    assert cleared["status"] == "cleared"
    assert (await acknowledge(client, world, cleared["id"])).status_code == 409
    # ...but a person can resolve it.
    r = await resolve(client, world, cleared["id"], note="Reviewed: seen 30 minutes late")
    assert r.status_code == 200 and r.json()["status"] == "resolved"


async def test_acknowledge_bad_bodies_are_422(client, world, session, raised):
    alert_id = raised["all"][0]["id"]
    before = await fingerprint(session)
    for body in ({"note": 5}, {"note": "x" * 4001}, {"comment": "hi"}, ["note"]):
        r = await client.post(
            f"{API}/alerts/{alert_id}/acknowledge", headers=world.auth(), json=body
        )
        assert r.status_code == 422, body
        assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


# --- resolve --------------------------------------------------------------------------------------


async def test_resolve_with_a_note(client, world, clock, session, raised):
    alert = pick(raised["all"], "SECL_MEDICAL_FIRST", "BIRCH")
    r = await resolve(client, world, alert["id"], user="lead", note=" Doctor attended at 10:40 ")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "resolved" and body["resolved_by"] == "lead"
    assert when(body["resolved_at"]) == clock.now
    assert body["resolve_note"] == "Doctor attended at 10:40"
    assert await one(client, world, alert["id"]) == body
    [entry] = await audit_rows(session, "alert.resolve", alert["id"])
    assert entry.username == "lead"
    assert entry.before is not None and entry.before["status"] == "open"
    assert entry.after is not None and entry.after["status"] == "resolved"


async def test_resolve_an_acknowledged_alert(client, world, raised):
    alert_id = raised["all"][0]["id"]
    assert (await acknowledge(client, world, alert_id, note="mine")).status_code == 200
    r = await resolve(client, world, alert_id, note="Done")
    assert r.status_code == 200
    assert r.json()["status"] == "resolved" and r.json()["acknowledge_note"] == "mine"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"note": None},
        {"note": ""},
        {"note": "   \n\t"},
        {"note": 7},
        {"note": "x" * 4001},
    ],
)
async def test_resolve_needs_a_note(client, world, session, raised, body):
    alert_id = raised["all"][0]["id"]
    before = await fingerprint(session)
    r = await client.post(f"{API}/alerts/{alert_id}/resolve", headers=world.auth(), json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["status"] == 422 and problem["errors"]
    if body:
        assert problem["errors"][0]["field"] == "note"
    assert await fingerprint(session) == before
    assert (await one(client, world, alert_id))["status"] == "open"


async def test_resolve_twice_is_409(client, world, session, raised):
    alert_id = raised["all"][0]["id"]
    assert (await resolve(client, world, alert_id, note="First")).status_code == 200
    before = await fingerprint(session)
    r = await resolve(client, world, alert_id, note="Second")
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before
    assert (await one(client, world, alert_id))["resolve_note"] == "First"


# --- bulk acknowledge: all or nothing -------------------------------------------------------------


async def test_bulk_acknowledge(client, world, clock, session, raised):
    ids = [a["id"] for a in raised["all"][:3]]
    r = await client.post(
        f"{API}/alerts/acknowledge",
        headers=world.auth("lead"),
        json={"ids": [*ids, ids[0]], "note": "Taken on by the lead"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(a["id"] for a in body) == sorted(ids)
    for alert in body:
        assert alert["status"] == "acknowledged" and alert["acknowledged_by"] == "lead"
        assert alert["acknowledge_note"] == "Taken on by the lead"
        assert when(alert["acknowledged_at"]) == clock.now
        assert len(await audit_rows(session, "alert.acknowledge", alert["id"])) == 1


async def test_bulk_acknowledge_is_all_or_nothing(client, world, session, raised):
    ids = [a["id"] for a in raised["all"]]
    assert (await acknowledge(client, world, ids[2])).status_code == 200
    ash_ids = [a["id"] for a in raised["all"] if a["ward_code"] == "ASH" and a["id"] != ids[2]]
    birch_id = next(a["id"] for a in raised["all"] if a["ward_code"] == "BIRCH")
    missing = max(ids) + 1000
    before = await fingerprint(session)
    refusals = [
        ("admin", [ids[0], ids[1], ids[2]], 409),  # one already acknowledged, last
        ("admin", [ids[2], ids[0]], 409),  # ...or first
        ("admin", [ids[0], missing], 404),
        ("nurse", [*ash_ids[:2], birch_id], 403),  # another ward's alert among them
        ("director", ids[:2], 403),
    ]
    for user, batch, status in refusals:
        r = await client.post(
            f"{API}/alerts/acknowledge", headers=world.auth(user), json={"ids": batch}
        )
        assert r.status_code == status, (user, batch, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert await fingerprint(session) == before, (user, batch)
    assert (await one(client, world, ids[0]))["status"] == "open"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": "1"},
        {"ids": ["one"]},
        {"ids": [1], "note": 3},
        {"ids": [1], "x": 1},
    ],
)
async def test_bulk_acknowledge_bad_bodies_are_422(client, world, session, raised, body):
    before = await fingerprint(session)
    r = await client.post(f"{API}/alerts/acknowledge", headers=world.auth(), json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


# --- who may see and work alerts ------------------------------------------------------------------


async def test_ward_staff_see_only_their_own_wards_alerts(client, world, raised):
    everything = raised["all"]
    mine = await listed(client, world, user="nurse")
    assert mine and {a["ward_code"] for a in mine} == {"ASH"}
    assert [a["id"] for a in mine] == [a["id"] for a in everything if a["ward_code"] == "ASH"]
    theirs = await listed(client, world, user="birchnurse")
    assert theirs and {a["ward_code"] for a in theirs} == {"BIRCH"}
    # Asking for another ward's alerts finds none of them.
    assert await listed(client, world, user="nurse", ward_code="BIRCH") == []
    birch_admission = theirs[0]["admission_id"]
    assert await listed(client, world, user="nurse", admission_id=birch_admission) == []
    # Everyone else who works alerts sees every ward.
    for user in ("admin", "lead", "beds"):
        assert len(await listed(client, world, user=user)) == len(everything)


async def test_ward_staff_cannot_read_or_work_another_wards_alert(client, world, session, raised):
    birch = pick(raised["all"], "SECL_NURSING_REVIEW", "BIRCH")
    before = await fingerprint(session)
    requests = [
        client.get(f"{API}/alerts/{birch['id']}", headers=world.auth("nurse")),
        acknowledge(client, world, birch["id"], user="nurse", note="not mine"),
        resolve(client, world, birch["id"], user="nurse", note="not mine"),
    ]
    for request in requests:
        r = await request
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 403
    assert await fingerprint(session) == before
    # Their own ward's staff may.
    r = await acknowledge(client, world, birch["id"], user="birchnurse")
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "birchnurse"


async def test_director_sees_no_individual_alerts(client, world, session, raised):
    alert_id = raised["all"][0]["id"]
    before = await fingerprint(session)
    auth = world.auth("director")
    for r in (
        await client.get(f"{API}/alerts", headers=auth),
        await client.get(f"{API}/alerts/{alert_id}", headers=auth),
        await client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=auth, json={}),
        await client.post(f"{API}/alerts/{alert_id}/resolve", headers=auth, json={"note": "x"}),
        await client.post(f"{API}/alerts/acknowledge", headers=auth, json={"ids": [alert_id]}),
    ):
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_no_or_bad_token_is_401(client, world, session, raised, headers):
    alert_id = raised["all"][0]["id"]
    before = await fingerprint(session)
    for r in (
        await client.get(f"{API}/alerts", headers=headers),
        await client.get(f"{API}/alerts/{alert_id}", headers=headers),
        await client.post(f"{API}/alerts/{alert_id}/acknowledge", headers=headers, json={}),
        await client.post(f"{API}/alerts/{alert_id}/resolve", headers=headers, json={"note": "x"}),
        await client.post(f"{API}/alerts/acknowledge", headers=headers, json={"ids": [alert_id]}),
    ):
        assert r.status_code == 401, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


async def test_unknown_alert_id_is_404(client, world, session, raised):
    missing = max(a["id"] for a in raised["all"]) + 1000
    before = await fingerprint(session)
    for user in ("admin", "nurse"):
        auth = world.auth(user)
        for r in (
            await client.get(f"{API}/alerts/{missing}", headers=auth),
            await client.post(f"{API}/alerts/{missing}/acknowledge", headers=auth, json={}),
            await client.post(f"{API}/alerts/{missing}/resolve", headers=auth, json={"note": "x"}),
        ):
            assert r.status_code == 404, r.text
            assert r.headers["content-type"].startswith(PROBLEM)
    for bad in ("abc", "1.5"):
        r = await client.get(f"{API}/alerts/{bad}", headers=world.auth())
        assert r.status_code == 422, (bad, r.text)
    # Ids too large for the database name nothing: 404, never a 500.
    for huge in (2**31, 2**63, 2**70):
        auth = world.auth()
        for r in (
            await client.get(f"{API}/alerts/{huge}", headers=auth),
            await client.post(f"{API}/alerts/{huge}/acknowledge", headers=auth, json={}),
            await client.post(f"{API}/alerts/{huge}/resolve", headers=auth, json={"note": "x"}),
            await client.post(f"{API}/alerts/acknowledge", headers=auth, json={"ids": [huge]}),
        ):
            assert r.status_code == 404, (huge, r.text)
        assert await listed(client, world, admission_id=huge) == []
    assert await fingerprint(session) == before


# --- the board's badges ---------------------------------------------------------------------------


async def board_counts(client, world, ward: str) -> dict[int, int]:
    r = await client.get(f"{API}/wards/{ward}/board", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    return {
        bed["occupant"]["admission_id"]: bed["occupant"]["open_alerts"]
        for bed in r.json()["beds"]
        if bed["occupant"] is not None
    }


async def test_board_counts_open_and_acknowledged_alerts_per_admission(
    client, world, clock, ash, birch, raised
):
    def active(admission_id: int, alerts: list[dict[str, Any]]) -> int:
        return sum(
            a["admission_id"] == admission_id and a["status"] in {"open", "acknowledged"}
            for a in alerts
        )

    other = (await world.admit(ward="ASH", bed="A2")).id  # no alerts of its own
    ash_alerts = [a for a in raised["all"] if a["admission_id"] == ash]
    assert await board_counts(client, world, "ASH") == {ash: len(ash_alerts), other: 0}
    assert await board_counts(client, world, "BIRCH") == {birch: active(birch, raised["all"])}

    # Acknowledged still counts; resolved and cleared do not.
    assert (await acknowledge(client, world, ash_alerts[0]["id"])).status_code == 200
    assert (await resolve(client, world, ash_alerts[1]["id"], note="Done")).status_code == 200
    assert (await board_counts(client, world, "ASH"))[ash] == len(ash_alerts) - 1

    r = await client.post(
        f"{API}/seclusions/{raised['ash_seclusion']}/reviews",
        headers=world.auth("nurse"),
        json={"kind": "medical", "at": (clock.now - 5 * M).isoformat(), "note": "Seen"},
    )
    assert r.status_code == 201, r.text
    await run(client, world)
    now_listed = await listed(client, world, status=["open", "acknowledged", "cleared"])
    assert any(a["status"] == "cleared" and a["admission_id"] == ash for a in now_listed)
    assert (await board_counts(client, world, "ASH"))[ash] == active(ash, now_listed)
    assert active(ash, now_listed) < len(ash_alerts) - 1


# --- withdrawn alerts (RULES.md 1.1) --------------------------------------------------------------


async def test_a_review_typed_late_withdraws_the_alert_out_of_the_queue(
    client, world, clock, session, ash
):
    """GET /alerts?status=withdrawn finds it, with the record that withdrew it; the queue
    and the run say so; a person cannot resolve it; the audit log has the change."""
    start = clock.now - 3 * H
    seclusion = await seclude(client, world, ash, start, user="nurse")
    await run(client, world)
    first = pick(await listed(client, world), "SECL_MEDICAL_FIRST")
    clock.now += timedelta(minutes=5)
    r = await client.post(
        f"{API}/seclusions/{seclusion}/reviews",
        headers=world.auth("nurse"),
        json={"kind": "medical", "at": (start + timedelta(minutes=30)).isoformat(), "note": "Dr"},
    )
    assert r.status_code == 201, r.text
    review_id = r.json()["id"]
    body = await run(client, world)
    assert first["id"] in [a["id"] for a in body["withdrawn"]]

    assert first["id"] not in [a["id"] for a in await listed(client, world)]
    withdrawn = await listed(client, world, status="withdrawn")
    assert {a["status"] for a in withdrawn} == {"withdrawn"}
    [shown] = [a for a in withdrawn if a["id"] == first["id"]]
    assert shown["withdrawn_by_type"] == "seclusion_reviews"
    assert shown["withdrawn_by_id"] == review_id
    assert "medical review" in shown["withdrawn_reason"]
    assert "recorded late" in shown["withdrawn_reason"]
    assert when(shown["withdrawn_at"]) == clock.now

    before = await fingerprint(session)
    r = await resolve(client, world, first["id"], note="Nothing to do")
    assert r.status_code == 409
    assert await fingerprint(session) == before
    [entry] = await audit_rows(session, "alert.withdraw", first["id"])
    assert entry.before["status"] == "open" and entry.after["status"] == "withdrawn"
