"""The rules must be seen to be checked: a stopped scheduler or a rule that keeps failing
raises no alert of its own (hazard log H02, H09), so monitoring gets /healthz/rules and
the safeguarding lead a warning on the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.alerts import engine
from app.alerts.models import RuleRun
from tests.alerts.scenario import utc

NOW = utc(2026, 3, 9, 8)


async def _run(session, finished_at, errors=None) -> None:  # type: ignore[no-untyped-def]
    session.add(
        RuleRun(
            as_of=finished_at, started_at=finished_at, finished_at=finished_at, trigger="test",
            runner="test", raised=0, cleared=0, errors=errors or {},
        )
    )  # fmt: skip
    await session.commit()


async def test_no_run_yet_is_failing(client, clock) -> None:
    clock.now = NOW
    r = await client.get("/healthz/rules")
    assert r.status_code == 503
    assert r.json() == {
        "status": "failing", "last_finished_at": None, "stale": True, "failing_rules": []
    }  # fmt: skip


@pytest.mark.parametrize(
    ("age", "status"),
    [(timedelta(minutes=5), 200), (timedelta(minutes=5, seconds=1), 503)],
    ids=["5 min old", "5 min 1 s old"],
)
async def test_a_run_older_than_five_ticks_is_stale(session, client, clock, age, status) -> None:
    clock.now = NOW
    await _run(session, NOW - age)
    r = await client.get("/healthz/rules")
    assert r.status_code == status
    assert r.json()["stale"] is (status == 503)
    assert r.json()["last_finished_at"] == (NOW - age).isoformat()


async def test_a_rule_that_failed_in_the_last_run_is_named(session, client, clock) -> None:
    clock.now = NOW
    await _run(session, NOW - timedelta(minutes=2), {"ADM_WAIT": "RuntimeError: boom"})
    await _run(session, NOW - timedelta(minutes=1), {"LOS_LONG": "RuntimeError: boom"})
    r = await client.get("/healthz/rules")
    assert r.status_code == 503
    assert r.json()["failing_rules"] == ["LOS_LONG"]  # the last run's, not history's


async def test_a_real_run_makes_it_healthy(session, client, clock) -> None:
    clock.now = NOW
    await engine.run_rules(session, as_of=NOW, now=NOW, trigger="test")
    await session.commit()
    r = await client.get("/healthz/rules")
    assert (r.status_code, r.json()["status"]) == (200, "ok")


async def test_the_queue_warns_the_lead_when_rules_are_not_checked(
    session, world, signed_in, clock
) -> None:
    clock.now = NOW
    lead = await signed_in("lead")
    page = await lead.get("/alerts")
    assert "No rule run has finished yet" in page.text
    await _run(session, NOW - timedelta(hours=2))
    page = await lead.get("/alerts")
    assert "Rules may not be checked" in page.text and "last checked" in page.text
    await _run(session, NOW - timedelta(minutes=1), {"SECL_MEDICAL_REVIEW": "boom"})
    page = await lead.get("/alerts")
    assert "could not check SECL_MEDICAL_REVIEW" in page.text
    await _run(session, NOW)
    page = await lead.get("/alerts")
    assert "Rules may not be checked" not in page.text
