"""A rule run: every enabled rule at ``as_of``, breaches stored as alerts exactly once.

The run is a pure function of the records and as_of (RULES.md 1): a breach found again is
the same alert (the unique key is in the database), a breach whose action happened later
is raised already cleared, and catch-up after downtime needs nothing special because each
run reads the history. One failing check is recorded and the others still run.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import notify, withdraw
from app.alerts.breaches import Breach, CheckSpec, Key, RunContext
from app.alerts.checks import CHECKS
from app.alerts.models import Alert, RuleRun
from app.audit.models import AuditEntry
from app.audit.service import SYSTEM, snapshot
from app.clock import local_tz
from app.rules import catalogue, settings
from app.rules.models import RuleSetting
from app.sql import among

log = logging.getLogger(__name__)

ACTIVE = ("open", "acknowledged")
# Records are stamped when their request began; one committed a little after a run
# started may be invisible to it, so the next run looks back this far for new records.
RECORDING_MARGIN = timedelta(minutes=10)
# Any PostgreSQL session holding this lock is the one running rules (see jobs.py); the
# scheduler's leader holds another (app.scheduler.LEADER_LOCK).
ADVISORY_LOCK = 7_305_173_001
# Alerts are inserted through Core: a run may raise tens of thousands.
ALERTS = cast(Table, Alert.__table__)
RUNNER = f"{socket.gethostname()}:{os.getpid()}"[:120]


@dataclass
class RunResult:
    run: RuleRun
    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    skipped: bool = False
    # Withdrawn by records typed in late (RULES.md 1.1), and withdrawn ones a breach again.
    withdrawn: list[Alert] = field(default_factory=list)
    reinstated: list[Alert] = field(default_factory=list)


async def try_lock(session: AsyncSession, *, wait: bool) -> bool:
    """On PostgreSQL, one run at a time across processes, for this transaction."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        await session.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"))
        return True
    return bool(await session.scalar(text(f"SELECT pg_try_advisory_xact_lock({ADVISORY_LOCK})")))


async def _context(
    session: AsyncSession, as_of: datetime, rules: dict[str, settings.RuleInForce]
) -> tuple[RunContext, frozenset[str], dict[Key, int]]:
    """The run's context; the rules that failed in the previous run: those look at
    everything again (their breaches since may be missing), the others only at what the
    previous run had not settled (a run cut off before it finished is not a previous run);
    and the alerts still open or acknowledged, by key, which most breaches a run finds are."""
    enabled = frozenset(code for code, rule in rules.items() if rule.enabled)
    previous = await session.scalar(
        select(RuleRun).where(RuleRun.finished_at.is_not(None)).order_by(RuleRun.id.desc()).limit(1)
    )
    window_start = recorded_since = None
    failed: frozenset[str] = frozenset()
    if previous is not None and previous.as_of <= as_of:
        failed = frozenset(previous.errors or {})
        # A rule switched on or changed since then looks at everything once more.
        changed = await session.scalar(
            select(RuleSetting.code).where(RuleSetting.updated_at >= previous.started_at).limit(1)
        )
        if changed is None:
            window_start = previous.as_of
            recorded_since = previous.started_at - RECORDING_MARGIN
    pending: dict[str, list[tuple[int, datetime]]] = {}
    active: dict[Key, int] = {}
    for alert_id, rule, subject_type, subject_id, due_at in await session.execute(
        select(Alert.id, Alert.rule, Alert.subject_type, Alert.subject_id, Alert.due_at).where(
            Alert.status.in_(ACTIVE)
        )
    ):
        pending.setdefault(rule, []).append((subject_id, due_at))
        active[(rule, subject_type, subject_id, due_at)] = alert_id
    context = RunContext(
        as_of=as_of,
        parameters={code: rule.parameters for code, rule in rules.items()},
        enabled=enabled,
        window_start=window_start,
        recorded_since=recorded_since,
        pending=pending,
    )
    return context, failed, active


def message(rule: catalogue.Rule, breach: Breach) -> str:
    due = breach.due_at.astimezone(local_tz())
    text_ = f"{rule.title}: due {due:%a %d %b %Y %H:%M}"
    return f"{text_} ({breach.detail})" if breach.detail else text_


async def _raised_before(session: AsyncSession, breaches: Iterable[Breach]) -> set[Key]:
    """Which of these breaches (none of them open or acknowledged) already have an alert:
    cleared or resolved ones, found again. Plain rows, one query per rule."""
    by_rule: dict[str, set[int]] = {}
    for breach in breaches:
        by_rule.setdefault(breach.rule, set()).add(breach.subject_id)
    found: set[Key] = set()
    for rule, ids in by_rule.items():
        for subject_type, subject_id, due_at in await session.execute(
            select(Alert.subject_type, Alert.subject_id, Alert.due_at).where(
                Alert.rule == rule, among(Alert.subject_id, ids)
            )
        ):
            found.add((rule, subject_type, subject_id, due_at))
    return found


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(ALERTS)


async def _store(
    session: AsyncSession,
    breaches: list[Breach],
    rules: dict[str, settings.RuleInForce],
    run: RuleRun,
    now: datetime,
    active: dict[Key, int],
) -> tuple[list[int], list[Alert]]:
    """New breaches become alerts; open ones whose action has now happened are cleared.
    Most breaches a run finds are alerts already open, known from the run's start without
    loading them: a steady run's cost is what changed, not what is open."""
    to_clear: dict[int, Breach] = {}
    unknown: dict[Key, Breach] = {}
    for breach in breaches:
        alert_id = active.get(breach.key)
        if alert_id is None:
            unknown.setdefault(breach.key, breach)
        elif breach.cleared_at is not None:
            to_clear.setdefault(alert_id, breach)
    known = await _raised_before(session, unknown.values()) if unknown else set()
    rows = [
        _row(breach, rules[breach.rule], run, now)
        for key, breach in unknown.items()
        if key not in known
    ]
    cleared = await _clear(session, to_clear, now)
    raised: list[int] = []
    if rows:
        # executemany: SQLAlchemy batches it into multi-row INSERT ... RETURNING.
        statement = (
            _insert(session)
            .on_conflict_do_nothing(index_elements=["rule", "subject_type", "subject_id", "due_at"])
            .returning(ALERTS.c.id)
        )
        connection = await session.connection()
        raised = list((await connection.execute(statement, rows)).scalars())
    return raised, cleared


def _row(breach: Breach, rule: settings.RuleInForce, run: RuleRun, now: datetime) -> dict[str, Any]:
    return {
        "rule": breach.rule,
        "severity": breach.severity or rule.severity,
        "status": "cleared" if breach.cleared_at else "open",
        "subject_type": breach.subject_type,
        "subject_id": breach.subject_id,
        "admission_id": breach.admission_id,
        "ward_id": breach.ward_id,
        "due_at": breach.due_at,
        "raised_at": now,
        "cleared_at": breach.cleared_at,
        "parameters": dict(rule.parameters),
        "message": message(rule.rule, breach),
        "run_id": run.id,
    }


async def _clear(session: AsyncSession, to_clear: dict[int, Breach], now: datetime) -> list[Alert]:
    """Clear these open or acknowledged alerts, each audited; one resolved by someone since
    the run began is left as they left it."""
    if not to_clear:
        return []
    cleared = []
    # Locked in id order, as bulk acknowledge locks them (service.acknowledge_many).
    for alert in await session.scalars(
        select(Alert)
        .where(among(Alert.id, to_clear))
        .order_by(Alert.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ):
        if alert.status not in ACTIVE:
            continue
        before = snapshot(alert)
        alert.status, alert.cleared_at = "cleared", to_clear[alert.id].cleared_at
        session.add(_audit("alert.clear", alert.id, before, snapshot(alert), now))
        cleared.append(alert)
    return cleared


def _audit(
    action: str,
    alert_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
) -> AuditEntry:
    return AuditEntry(
        at=now, user_id=None, username=SYSTEM, action=action, entity_type="alerts",
        entity_id=str(alert_id), before=before, after=after,
    )  # fmt: skip


async def _check(
    session: AsyncSession,
    spec: CheckSpec,
    ctx: RunContext,
    rules: dict[str, settings.RuleInForce],
    run: RuleRun,
    now: datetime,
    active: dict[Key, int],
) -> tuple[list[int], list[Alert], withdraw.Followed]:
    # Each check in its own savepoint, so a failing one leaves the run's transaction usable
    # and writes nothing of its own.
    async with session.begin_nested():
        ctx.examined.clear()
        breaches = await spec.run(session, ctx)
        wanted = [b for b in breaches if b.rule in ctx.enabled and b.rule in spec.codes]
        raised, cleared = await _store(session, wanted, rules, run, now, active)
        followed = await withdraw.follow(session, ctx, wanted, rules, now)
        return raised, cleared, followed


async def run_rules(
    session: AsyncSession,
    *,
    as_of: datetime,
    now: datetime,
    trigger: str,
    wait_for_lock: bool = True,
    everything: bool = False,
) -> RunResult:
    """One run of the catalogue at ``as_of``. The caller commits. ``everything``: every rule
    looks at the whole history, not only at what changed since the previous run (after a
    restore or a correction made in the database by hand)."""
    started = time.monotonic()
    run = RuleRun(
        as_of=as_of,
        started_at=now,
        trigger=trigger,
        runner=RUNNER,
        raised=0,
        cleared=0,
        errors={},
    )
    if not await try_lock(session, wait=wait_for_lock):
        return RunResult(run, skipped=True)
    rules = await settings.rules_in_force(session)
    ctx, failed, active = await _context(session, as_of, rules)
    # One rule failing (a bug, a bad record) must not make every later run a full one.
    whole = replace(ctx, window_start=None, recorded_since=None)
    session.add(run)
    await session.flush()
    errors: dict[str, str] = {}
    raised_ids: list[int] = []
    cleared: list[Alert] = []
    followed = withdraw.Followed()
    for spec in CHECKS:
        if not ctx.enabled & set(spec.codes):
            continue
        try:
            spec_ctx = whole if everything or failed & set(spec.codes) else ctx
            ids, done, moved = await _check(session, spec, spec_ctx, rules, run, now, active)
        except Exception as exc:  # one rule's failure must not stop the others
            log.exception("rule check %s failed", ",".join(spec.codes))
            for code in spec.codes:
                if code in ctx.enabled:
                    errors[code] = f"{type(exc).__name__}: {exc}"[:500]
            continue
        raised_ids += ids
        cleared += done
        followed += moved
    raised = await _load(session, raised_ids)
    for alert in raised:
        session.add(_audit("alert.raise", alert.id, None, snapshot(alert), now))
    await notify.queue(session, raised, now)
    await notify.queue_withdrawn(session, followed.withdrawn, now)
    await session.execute(
        update(RuleRun)
        .where(RuleRun.id == run.id)
        .values(
            raised=len(raised),
            cleared=len(cleared),
            errors=errors,
            finished_at=now + timedelta(seconds=time.monotonic() - started),
        )
    )
    await session.refresh(run)
    return RunResult(
        run, raised, cleared, withdrawn=followed.withdrawn, reinstated=followed.reinstated
    )


async def _load(session: AsyncSession, ids: list[int]) -> list[Alert]:
    if not ids:
        return []
    return list(
        await session.scalars(
            select(Alert).where(among(Alert.id, ids)).order_by(Alert.due_at, Alert.id)
        )
    )
