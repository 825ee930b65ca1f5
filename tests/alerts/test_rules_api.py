"""Rules and rule runs through the JSON API (API.md "Rules and alerts"; RULES.md 1 and 3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, RuleRun
from app.audit.models import AuditEntry
from app.deadlines import Interval
from app.rules import catalogue
from app.rules.models import RuleSetting
from tests.alerts.scenario import run_via_api as run
from tests.alerts.scenario import start_seclusion

API = "/api/v1"
M = timedelta(minutes=1)
H = timedelta(hours=1)
RULE_FIELDS = {"code", "title", "parameters", "severity", "enabled", "source"}
PROBLEM = "application/problem+json"


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def due(alert: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(alert["due_at"])


async def get_rule(client, world, code: str, user: str = "admin") -> dict[str, Any]:
    r = await client.get(f"{API}/rules/{code}", headers=world.auth(user))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def patch(client, world, code: str, body: Any, user: str = "admin"):
    return await client.patch(f"{API}/rules/{code}", headers=world.auth(user), json=body)


async def seclude(client, world, admission_id: int, start: datetime) -> int:
    return int((await start_seclusion(client, world, admission_id, start))["id"])


async def alerts(client, world, **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"{API}/alerts", headers=world.auth(), params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


async def fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """What a refused request must leave as it was: stored rule settings, runs, alerts, audit."""
    counts = [
        await session.scalar(select(func.count()).select_from(model))
        for model in (Alert, AuditEntry, RuleRun)
    ]
    settings = (
        await session.execute(
            select(
                RuleSetting.code,
                RuleSetting.parameters,
                RuleSetting.severity,
                RuleSetting.enabled,
                RuleSetting.updated_at,
                RuleSetting.updated_by,
            ).order_by(RuleSetting.code)
        )
    ).all()
    return tuple(counts), tuple(tuple(row) for row in settings)


async def rule_changes(session: AsyncSession, code: str) -> list[AuditEntry]:
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "rule.change", AuditEntry.entity_id == code)
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
async def ash(world) -> int:
    return (await world.admit(ward="ASH", bed="A1")).id


# --- GET /rules -----------------------------------------------------------------------------------


async def test_rules_list_the_whole_catalogue_in_order(client, world):
    r = await client.get(f"{API}/rules", headers=world.auth())
    assert r.status_code == 200
    rules = r.json()
    assert [rule["code"] for rule in rules] == [rule.code for rule in catalogue.RULES]
    for rule, defined in zip(rules, catalogue.RULES, strict=True):
        assert set(rule) >= RULE_FIELDS
        assert rule["title"] == defined.title and rule["source"] == defined.source
        assert rule["severity"] == defined.severity and rule["enabled"] is True
        assert set(rule["parameters"]) == set(defined.parameters)
        for name, value in rule["parameters"].items():
            if defined.parameters[name].kind == "duration":
                assert isinstance(value, str), (rule["code"], name)
                Interval.parse(value)  # an ISO 8601 duration
            else:
                assert isinstance(value, int | float) and not isinstance(value, bool)
        assert rule["open_alerts"] == 0


async def test_rule_parameters_as_the_contract_shows_them(client, world):
    by_code = {
        r["code"]: r for r in (await client.get(f"{API}/rules", headers=world.auth())).json()
    }
    assert by_code["SECL_NURSING_REVIEW"]["parameters"] == {"every": "PT2H"}
    assert by_code["LTS_MDT_REVIEW"]["parameters"] == {"every": "P7D"}
    assert by_code["LTS_EXTERNAL_REVIEW"]["parameters"] == {"every": "P3M"}
    assert by_code["SECL_INDEPENDENT_MDT"]["parameters"] == {
        "single": "PT8H",
        "total": "PT12H",
        "window": "PT48H",
    }
    assert by_code["WARD_OCCUPANCY"]["parameters"] == {"threshold": 85}
    assert by_code["OAP_DISTANCE"]["parameters"] == {"km": 50}
    assert by_code["ADM_MIXED_SEX"]["parameters"] == {}
    assert by_code["RI_DEBRIEF"]["severity"] == "low"


async def test_one_rule_is_the_same_as_in_the_list(client, world):
    listed = (await client.get(f"{API}/rules", headers=world.auth())).json()
    for rule in listed[:3] + listed[-3:]:
        assert await get_rule(client, world, rule["code"]) == rule


async def test_every_role_reads_the_rules(client, world):
    for user in ("admin", "nurse", "birchnurse", "beds", "lead", "director"):
        r = await client.get(f"{API}/rules", headers=world.auth(user))
        assert r.status_code == 200, user
        assert (await get_rule(client, world, "WARD_OCCUPANCY", user))["code"] == "WARD_OCCUPANCY"


async def test_unknown_rule_code_is_404(client, world, session):
    before = await fingerprint(session)
    for r in (
        await client.get(f"{API}/rules/NOT_A_RULE", headers=world.auth()),
        await client.get(f"{API}/rules/secl_medical_first", headers=world.auth()),
        await patch(client, world, "NOT_A_RULE", {"severity": "low"}),
        await patch(client, world, "NOT_A_RULE", {"parameters": {"every": "PT1H"}}, user="lead"),
    ):
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["status"] == 404
    assert await fingerprint(session) == before


async def test_rules_need_a_token(client, world, session):
    before = await fingerprint(session)
    for headers in ({}, {"Authorization": "Bearer nope"}):
        for r in (
            await client.get(f"{API}/rules", headers=headers),
            await client.get(f"{API}/rules/SECL_OBSERVATION", headers=headers),
            await client.patch(
                f"{API}/rules/SECL_OBSERVATION", headers=headers, json={"severity": "low"}
            ),
            await client.post(f"{API}/rules/run", headers=headers, json={}),
            await client.get(f"{API}/rule-runs", headers=headers),
        ):
            assert r.status_code == 401, r.text
            assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


async def test_open_alerts_per_rule(client, world, clock, ash):
    await seclude(client, world, ash, clock.now - 3 * H)
    await run(client, world)
    observations = await alerts(client, world, rule="SECL_OBSERVATION")
    assert (await get_rule(client, world, "SECL_OBSERVATION"))["open_alerts"] == len(observations)
    first, second = observations[0]["id"], observations[1]["id"]
    r = await client.post(f"{API}/alerts/{first}/acknowledge", headers=world.auth(), json={})
    assert r.status_code == 200
    r = await client.post(
        f"{API}/alerts/{second}/resolve", headers=world.auth(), json={"note": "Seen"}
    )
    assert r.status_code == 200
    # Acknowledged alerts are still open work; a resolved one is not.
    rule = await get_rule(client, world, "SECL_OBSERVATION")
    assert rule["open_alerts"] == len(observations) - 1
    assert (await get_rule(client, world, "LTS_AC_REVIEW"))["open_alerts"] == 0


# --- PATCH /rules/{code} --------------------------------------------------------------------------


async def test_admin_changes_a_subset_of_parameters(client, world, clock, session):
    r = await patch(client, world, "SECL_MEDICAL_REVIEW", {"parameters": {"before_mdt": "PT3H"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["parameters"] == {"before_mdt": "PT3H", "after_mdt": "PT12H"}
    assert body["severity"] == "high" and body["enabled"] is True
    assert body["changed_by"] == "admin" and when(body["changed_at"]) == clock.now
    assert await get_rule(client, world, "SECL_MEDICAL_REVIEW") == body

    # A second change keeps the first.
    r = await patch(client, world, "SECL_MEDICAL_REVIEW", {"parameters": {"after_mdt": "PT8H"}})
    assert r.status_code == 200, r.text
    assert r.json()["parameters"] == {"before_mdt": "PT3H", "after_mdt": "PT8H"}


async def test_rule_changes_are_audited(client, world, session):
    r = await patch(client, world, "WARD_OCCUPANCY", {"parameters": {"threshold": 90}})
    assert r.status_code == 200, r.text
    assert r.json()["parameters"] == {"threshold": 90}
    r = await patch(
        client, world, "WARD_OCCUPANCY", {"severity": "high", "enabled": False}, user="lead"
    )
    assert r.status_code == 200, r.text
    first, second = await rule_changes(session, "WARD_OCCUPANCY")
    assert first.username == "admin" and first.entity_type == "rule_settings"
    assert first.before is None
    assert first.after is not None and first.after["parameters"] == {"threshold": 90}
    assert second.username == "lead"
    assert second.before is not None and second.before["parameters"] == {"threshold": 90}
    assert second.before["enabled"] is True
    assert second.after is not None
    assert second.after["severity"] == "high" and second.after["enabled"] is False


async def test_safeguarding_lead_changes_severity_and_switches_off(client, world):
    r = await patch(client, world, "RI_DEBRIEF", {"severity": "medium"}, user="lead")
    assert r.status_code == 200, r.text
    assert r.json()["severity"] == "medium" and r.json()["changed_by"] == "lead"
    r = await patch(client, world, "RI_DEBRIEF", {"enabled": False}, user="lead")
    assert r.status_code == 200
    rule = await get_rule(client, world, "RI_DEBRIEF", user="nurse")
    assert rule["enabled"] is False and rule["severity"] == "medium"
    assert rule["parameters"] == {"within": "PT72H"}
    # Back to the default.
    r = await patch(client, world, "RI_DEBRIEF", {"severity": "low", "enabled": True})
    assert r.status_code == 200
    assert r.json()["severity"] == "low" and r.json()["enabled"] is True


async def test_valid_values_at_the_edges(client, world):
    for code, parameters in (
        ("WARD_OCCUPANCY", {"threshold": 1}),
        ("WARD_OCCUPANCY", {"threshold": 100}),
        ("WARD_OCCUPANCY", {"threshold": 92.5}),
        ("OAP_DISTANCE", {"km": 2000}),
        ("SECL_INDEPENDENT_MDT", {"single": "PT6H", "window": "P2D"}),
        ("SECL_OBSERVATION", {"every": "PT1M"}),
        ("LTS_EXTERNAL_REVIEW", {"every": "P2M"}),
        ("LTS_ICETR", {"within": "P1Y"}),
    ):
        r = await patch(client, world, code, {"parameters": parameters})
        assert r.status_code == 200, (code, parameters, r.text)
        for name, value in parameters.items():
            assert r.json()["parameters"][name] == value


@pytest.mark.parametrize(
    ("code", "body", "field", "words"),
    [
        ("SECL_OBSERVATION", {"parameters": {"often": "PT5M"}}, "parameters.often", "no parameter"),
        ("ADM_MIXED_SEX", {"parameters": {"every": "PT1H"}}, "parameters.every", "no parameter"),
        ("SECL_OBSERVATION", {"parameters": {"every": "2 hours"}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": "pt2h"}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": ""}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": "PT0S"}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": "-PT1H"}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": 15}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": None}}, "parameters.every", "ISO 8601"),
        ("SECL_OBSERVATION", {"parameters": {"every": "PT30S"}}, "parameters.every", "minute"),
        ("LTS_ICETR", {"parameters": {"within": "P11Y"}}, "parameters.within", "ten years"),
        ("LTS_ICETR", {"parameters": {"within": "P9999999999Y"}}, "parameters.within", "years"),
        ("LTS_ICETR", {"parameters": {"within": "PT99999999999H"}}, "parameters.within", "years"),
        ("SECL_INDEPENDENT_MDT", {"parameters": {"single": "P1M"}}, "parameters.single", "months"),
        ("SECL_INDEPENDENT_MDT", {"parameters": {"window": "P1Y"}}, "parameters.window", "months"),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": 0}}, "parameters.threshold", "between"),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": 101}}, "parameters.threshold", "between"),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": -85}}, "parameters.threshold", "between"),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": "90"}}, "parameters.threshold", "number"),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": True}}, "parameters.threshold", "number"),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": "PT1H"}}, "parameters.threshold", "number"),
        ("OAP_DISTANCE", {"parameters": {"km": 2001}}, "parameters.km", "between"),
        ("SECL_OBSERVATION", {"severity": "critical"}, "severity", "high"),
        ("SECL_OBSERVATION", {"severity": "HIGH"}, "severity", "high"),
        ("SECL_OBSERVATION", {"severity": 1}, "severity", "high"),
        ("SECL_OBSERVATION", {"enabled": "maybe"}, "enabled", "true or false"),
        ("SECL_OBSERVATION", {"parameters": "PT5M"}, "parameters", ""),
        ("SECL_OBSERVATION", {"parameters": ["every"]}, "parameters", ""),
        ("SECL_OBSERVATION", {"colour": "red"}, "colour", "not a field"),
    ],
)
async def test_bad_rule_changes_are_422_and_change_nothing(
    client, world, session, code, body, field, words
):
    before = await fingerprint(session)
    shown = await get_rule(client, world, code)
    r = await patch(client, world, code, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["status"] == 422
    errors = {e["field"]: e["message"] for e in problem["errors"]}
    assert field in errors, errors
    assert words.lower() in errors[field].lower(), errors
    assert await fingerprint(session) == before
    assert await get_rule(client, world, code) == shown


async def test_one_bad_value_refuses_the_whole_change(client, world, session):
    before = await fingerprint(session)
    r = await patch(
        client,
        world,
        "SECL_INDEPENDENT_MDT",
        {"parameters": {"single": "PT6H", "total": "P1M", "bogus": 1}, "severity": "medium"},
    )
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"parameters.total", "parameters.bogus"}
    assert await fingerprint(session) == before
    rule = await get_rule(client, world, "SECL_INDEPENDENT_MDT")
    assert rule["parameters"]["single"] == "PT8H" and rule["severity"] == "high"


@pytest.mark.parametrize("body", [[], "low", None])
async def test_a_body_that_is_not_an_object_is_422(client, world, session, body):
    before = await fingerprint(session)
    r = await client.patch(
        f"{API}/rules/SECL_OBSERVATION",
        headers={**world.auth(), "Content-Type": "application/json"},
        content=b"null" if body is None else None,
        json=None if body is None else body,
    )
    assert r.status_code == 422, r.text
    assert await fingerprint(session) == before


@pytest.mark.parametrize("user", ["nurse", "birchnurse", "beds", "director"])
async def test_only_admin_or_lead_change_rules(client, world, session, user):
    before = await fingerprint(session)
    for code, body in (
        ("SECL_OBSERVATION", {"severity": "low"}),
        ("WARD_OCCUPANCY", {"parameters": {"threshold": 90}}),
        ("RI_DEBRIEF", {"enabled": False}),
        ("NOT_A_RULE", {"enabled": False}),
    ):
        r = await patch(client, world, code, body, user=user)
        assert r.status_code == 403, (user, code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


# --- a change applies from the next run; old alerts keep their parameters ------------------------


async def test_a_change_applies_from_the_next_run_and_old_alerts_keep_theirs(
    client, world, clock, ash
):
    start = clock.now - 3 * H
    await seclude(client, world, ash, start)
    first_run = await run(client, world)
    [old_first] = [a for a in first_run["raised"] if a["rule"] == "SECL_MEDICAL_FIRST"]
    assert old_first["parameters"] == {"within": "PT1H"}
    assert when(old_first["due_at"]) == start + H
    old_observations = [a for a in first_run["raised"] if a["rule"] == "SECL_OBSERVATION"]
    assert old_observations and {a["severity"] for a in old_observations} == {"medium"}
    assert {a["parameters"]["every"] for a in old_observations} == {"PT15M"}

    r = await patch(client, world, "SECL_MEDICAL_FIRST", {"parameters": {"within": "PT30M"}})
    assert r.status_code == 200, r.text
    r = await patch(client, world, "SECL_OBSERVATION", {"severity": "low"}, user="lead")
    assert r.status_code == 200, r.text

    # Nothing already raised changes.
    unchanged = {a["id"]: a for a in await alerts(client, world)}
    assert unchanged[old_first["id"]] == old_first
    for alert in old_observations:
        assert unchanged[alert["id"]] == alert

    clock.now += 30 * M
    second_run = await run(client, world)
    [new_first] = [a for a in second_run["raised"] if a["rule"] == "SECL_MEDICAL_FIRST"]
    assert new_first["parameters"] == {"within": "PT30M"}
    assert when(new_first["due_at"]) == start + 30 * M
    new_observations = [a for a in second_run["raised"] if a["rule"] == "SECL_OBSERVATION"]
    assert [due(a) for a in new_observations] == [
        start + 180 * M,
        start + 195 * M,
    ]
    assert {a["severity"] for a in new_observations} == {"low"}

    everything = {a["id"]: a for a in await alerts(client, world, rule="SECL_MEDICAL_FIRST")}
    assert everything[old_first["id"]]["parameters"] == {"within": "PT1H"}
    assert everything[new_first["id"]]["parameters"] == {"within": "PT30M"}
    for alert in await alerts(client, world, rule="SECL_OBSERVATION"):
        expected = "low" if alert["id"] in {a["id"] for a in new_observations} else "medium"
        assert alert["severity"] == expected


async def test_a_switched_off_rule_raises_nothing_new(client, world, clock, ash):
    r = await patch(client, world, "SECL_OBSERVATION", {"enabled": False})
    assert r.status_code == 200, r.text
    await seclude(client, world, ash, clock.now - 3 * H)
    body = await run(client, world)
    rules = {a["rule"] for a in body["raised"]}
    assert "SECL_OBSERVATION" not in rules and "SECL_MEDICAL_FIRST" in rules
    r = await patch(client, world, "SECL_OBSERVATION", {"enabled": True})
    assert r.status_code == 200
    body = await run(client, world)
    assert {a["rule"] for a in body["raised"]} == {"SECL_OBSERVATION"}


# --- POST /rules/run and GET /rule-runs -----------------------------------------------------------


async def test_run_as_of_a_past_time(client, world, clock, ash):
    start = clock.now - 3 * H
    await seclude(client, world, ash, start)
    as_of = start + 90 * M
    body = await run(client, world, as_of=as_of.isoformat())
    assert when(body["as_of"]) == as_of and isinstance(body["run_id"], int)
    raised = sorted((a["rule"], due(a)) for a in body["raised"])
    assert raised == sorted(
        [("SECL_MEDICAL_FIRST", start + H)]
        + [("SECL_OBSERVATION", start + n * 15 * M) for n in range(1, 6)]
    )
    # The same instant in another offset is the same as_of.
    local = (start + 90 * M).astimezone().isoformat()
    again = await run(client, world, as_of=local)
    assert again["raised"] == [] and when(again["as_of"]) == as_of


async def test_run_without_a_body(client, world, clock):
    r = await client.post(f"{API}/rules/run", headers=world.auth())
    assert r.status_code == 200, r.text
    assert when(r.json()["as_of"]) == clock.now
    assert r.json()["raised"] == [] and r.json()["cleared"] == []


async def test_run_up_to_five_minutes_ahead_is_allowed(client, world, clock):
    body = await run(client, world, as_of=(clock.now + 5 * M).isoformat())
    assert when(body["as_of"]) == clock.now + 5 * M


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as_of": "2026-03-10T12:05:01Z"}, "as_of"),
        ({"as_of": "2026-03-11T12:00:00+00:00"}, "as_of"),
        ({"as_of": "2026-03-10T12:00:00"}, "as_of"),
        ({"as_of": "2026-03-10"}, "as_of"),
        ({"as_of": "now"}, "as_of"),
        ({"as_at": "2026-03-10T12:00:00Z"}, "as_at"),
    ],
)
async def test_bad_run_requests_are_422_and_run_nothing(client, world, session, body, field):
    before = await fingerprint(session)
    r = await client.post(f"{API}/rules/run", headers=world.auth(), json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert field in {e["field"] for e in r.json()["errors"]}
    assert await fingerprint(session) == before


@pytest.mark.parametrize("user", ["lead", "nurse", "beds", "director"])
async def test_only_admin_runs_the_rules(client, world, session, clock, ash, user):
    await seclude(client, world, ash, clock.now - 3 * H)
    before = await fingerprint(session)
    r = await client.post(f"{API}/rules/run", headers=world.auth(user), json={})
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert await fingerprint(session) == before


async def test_rule_runs_are_listed_newest_first(client, world, clock, ash):
    await seclude(client, world, ash, clock.now - 3 * H)
    first = await run(client, world, as_of=(clock.now - H).isoformat())
    second = await run(client, world)
    for user in ("admin", "lead"):
        r = await client.get(f"{API}/rule-runs", headers=world.auth(user))
        assert r.status_code == 200, r.text
        runs = r.json()
        assert [x["id"] for x in runs] == [second["run_id"], first["run_id"]]
        latest = runs[0]
        assert when(latest["as_of"]) == clock.now and latest["trigger"] == "api"
        assert latest["raised"] == len(second["raised"]) and latest["errors"] == {}
        assert runs[1]["raised"] == len(first["raised"])
    for user in ("nurse", "beds", "director"):
        r = await client.get(f"{API}/rule-runs", headers=world.auth(user))
        assert r.status_code == 403, user
