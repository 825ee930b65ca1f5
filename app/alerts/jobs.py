"""The alerts' periodic jobs: a rule run every interval, then the notices it queued.

Plain idempotent functions, each with its own session and transaction, listed and run by
the scheduler (app/scheduler.py) under its leadership. A rule run also skips itself when
another process holds the rule run's lock (app/alerts/engine.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts import engine, notify
from app.clock import utcnow

log = logging.getLogger(__name__)


async def rule_run_job(
    sessions: async_sessionmaker[AsyncSession], now: Callable[[], datetime] = utcnow
) -> engine.RunResult:
    """One scheduled run at as_of = now; skipped when another process holds the lock."""
    moment = now()
    async with sessions() as session:
        result = await engine.run_rules(
            session, as_of=moment, now=moment, trigger="scheduler", wait_for_lock=False
        )
        await session.commit()
    if result.skipped:
        log.debug("rule run skipped: another process is running the rules")
    else:
        log.info(
            "rule run as of %s: %d raised, %d cleared, %d errors",
            moment.isoformat(), len(result.raised), len(result.cleared), len(result.run.errors),
        )  # fmt: skip
    return result


async def notify_job(
    sessions: async_sessionmaker[AsyncSession], now: Callable[[], datetime] = utcnow
) -> int:
    async with sessions() as session:
        return await notify.deliver(session, now())
