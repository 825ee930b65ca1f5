"""The scheduler's jobs: a rule run every minute, then the notices it queued.

Each job is a plain idempotent function with its own session and transaction. APScheduler
3.x runs them with coalescing and at most one instance at a time in a process; across
processes (several web workers, or a web worker and `wardflow scheduler`), PostgreSQL's
advisory lock makes one of them run and the others skip that minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.alerts import engine, notify
from app.clock import utcnow
from app.config import get_settings

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


class Leadership:
    """On PostgreSQL, the one process that runs the rules is the one holding a session
    advisory lock on a connection of its own; if it dies its connection closes, the lock
    goes, and another process takes over at its next tick. SQLite: a single process."""

    def __init__(self, db: AsyncEngine) -> None:
        self.engine = db
        self.connection: AsyncConnection | None = None

    async def held(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        try:
            if self.connection is None:
                self.connection = await self.engine.connect()
                got = await self.connection.scalar(
                    text(f"SELECT pg_try_advisory_lock({engine.LEADER_LOCK})")
                )
                await self.connection.commit()
                if not got:
                    await self.release()
                    return False
            else:
                await self.connection.scalar(text("SELECT 1"))
                await self.connection.commit()
            return True
        except Exception:  # the database went away: lead again once it is back
            log.warning("lost the scheduler's database connection", exc_info=True)
            self.connection = None
            return False

    async def release(self) -> None:
        if self.connection is not None:
            try:
                await self.connection.close()
            finally:
                self.connection = None


async def tick(sessions: async_sessionmaker[AsyncSession], leader: Leadership) -> None:
    """The minute's work: rules, then notices (even if the rules failed)."""
    if not await leader.held():
        return
    try:
        await rule_run_job(sessions)
    except Exception:  # reported, and the next minute tries again
        log.exception("rule run failed")
    try:
        await notify_job(sessions)
    except Exception:
        log.exception("sending alert notices failed")


def make_scheduler(
    sessions: async_sessionmaker[AsyncSession], leader: Leadership
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        seconds=get_settings().rules_interval_seconds,
        args=[sessions, leader],
        id="rules",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=utcnow(),
    )
    return scheduler


async def run_forever() -> None:
    """`wardflow scheduler`: the jobs alone, until interrupted."""
    import asyncio

    from app.db import dispose_engine, get_engine, get_sessionmaker

    leader = Leadership(get_engine())
    scheduler = make_scheduler(get_sessionmaker(), leader)
    scheduler.start()
    try:
        await asyncio.Event().wait()
    finally:
        scheduler.shutdown(wait=False)
        await leader.release()
        await dispose_engine()
