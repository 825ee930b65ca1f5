"""The scheduler: the periodic work of every domain, run by one process at a time.

Each domain contributes its jobs as plain idempotent functions of a sessionmaker, each with
its own session and transaction: the alerts' rule run and notices (app/alerts/jobs.py), the
audit log's seal (app/audit/jobs.py) and the weekly report (app/reports/jobs.py). This
module lists them explicitly and decides when and where they run.

APScheduler 3.x runs them with coalescing and at most one instance at a time in a process;
across processes (several web workers, or a web worker and `wardflow scheduler`),
PostgreSQL's advisory lock (`Leadership`) makes one of them run and the others skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app import extensions
from app.alerts import jobs as alerts_jobs
from app.audit import jobs as audit_jobs
from app.clock import utcnow
from app.config import get_settings
from app.reports import jobs as reports_jobs

log = logging.getLogger(__name__)
# How long a stop waits for the tick under way before cutting it short.
STOP_GRACE_SECONDS = 30.0
# Held for its lifetime by the process that leads the scheduling (distinct from the rule
# run's own lock, app.alerts.engine.ADVISORY_LOCK).
LEADER_LOCK = 7_305_173_002

Sessions = async_sessionmaker[AsyncSession]
Job = Callable[[Sessions], Awaitable[object]]


def minute_jobs() -> tuple[tuple[str, Job], ...]:
    """Every interval, in this order, each tried even if one before it failed: the rules,
    then the notices they queued, then the minute's audit entries into the hash chain.
    Looked up at each tick, so a test may replace a domain's job."""
    return (
        ("rule run", alerts_jobs.rule_run_job),
        ("sending alert notices", alerts_jobs.notify_job),
        ("sealing the audit log", audit_jobs.seal_job),
    )


def report_jobs() -> tuple[tuple[str, Job], ...]:
    """The directors' weekly report (made, or caught up, and emailed)."""
    return (("the weekly report job", reports_jobs.weekly_report_job),)


class Leadership:
    """On PostgreSQL, the one process that runs the jobs is the one holding a session
    advisory lock on a connection of its own; if it dies its connection closes, the lock
    goes, and another process takes over at its next tick. SQLite: a single process."""

    def __init__(self, db: AsyncEngine) -> None:
        self.engine = db
        self.connection: AsyncConnection | None = None
        # Held while a tick works, so that stop() can let it finish.
        self.busy = asyncio.Lock()

    async def held(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        try:
            if self.connection is None:
                connection = await self.engine.connect()
                self.connection = connection  # dropped below if anything goes wrong
                got = await connection.scalar(text(f"SELECT pg_try_advisory_lock({LEADER_LOCK})"))
                await connection.commit()
                if not got:
                    self.connection = None
                    await connection.close()
                    return False
            else:
                await self.connection.scalar(text("SELECT 1"))
                await self.connection.commit()
            return True
        except Exception:  # the database went away: lead again once it is back
            log.warning("lost the scheduler's database connection", exc_info=True)
            await self._discard()
            return False

    async def release(self) -> None:
        """Let go of the lock (explicitly: a pooled connection's reset does not release a
        session lock, so a connection merely closed would carry it back into the pool)."""
        if self.connection is None:
            return
        try:
            await self.connection.scalar(text(f"SELECT pg_advisory_unlock({LEADER_LOCK})"))
            await self.connection.commit()
            await self.connection.close()
            self.connection = None
        except Exception:
            await self._discard()

    async def _discard(self) -> None:
        """Close the connection for good, never back into the pool: if it still works it may
        still hold the lock, and no process (this one included) could lead again."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()


async def _lead(sessions: Sessions, leader: Leadership, jobs: tuple[tuple[str, Job], ...]) -> None:
    """Run the jobs in order, by the leader alone; a job that fails is reported and the
    next run tries again, and the jobs after it still run."""
    extensions.register_all()  # the jobs call services: the same hooks as the web app
    async with leader.busy:
        if not await leader.held():
            return
        for what, job in jobs:
            try:
                await job(sessions)
            except Exception:
                log.exception("%s failed", what)


async def tick(sessions: Sessions, leader: Leadership) -> None:
    """The minute's work: rules, then notices (even if the rules failed), then the seal."""
    await _lead(sessions, leader, minute_jobs())


async def report_tick(sessions: Sessions, leader: Leadership) -> None:
    """The weekly report's work, by the leader alone (as the rule runs)."""
    await _lead(sessions, leader, report_jobs())


def make_scheduler(sessions: Sessions, leader: Leadership) -> AsyncIOScheduler:
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
    # The directors' weekly report, Monday 07:00 UK time; every 5 minutes the same job makes
    # one missed while the service was down (a single query when it exists) and retries its
    # email (app/reports/jobs.py).
    for job_id, trigger in (
        ("weekly_report", CronTrigger(day_of_week="mon", hour=7, timezone=get_settings().timezone)),
        ("weekly_report_catch_up", IntervalTrigger(minutes=5)),
    ):
        scheduler.add_job(
            report_tick,
            trigger,
            args=[sessions, leader],
            id=job_id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    return scheduler


async def stop(
    scheduler: AsyncIOScheduler, leader: Leadership, grace: float = STOP_GRACE_SECONDS
) -> None:
    """Stop without cutting a tick short: no new tick starts, the one under way finishes
    (cancelled only after `grace` seconds), then the lock goes. APScheduler's shutdown
    cancels a running coroutine job, and a notice cancelled between being sent and being
    marked sent would be sent again by the next leader. The leader is spent afterwards
    (its busy lock stays taken, so a tick submitted just before the pause never starts)."""
    if scheduler.running:
        scheduler.pause()
    try:
        await asyncio.wait_for(leader.busy.acquire(), grace)
    except TimeoutError:
        log.warning("the scheduler's tick did not finish within %s s; cancelling it", grace)
    if scheduler.running:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a callback of the loop
    await leader.release()


async def run_forever() -> None:
    """`wardflow scheduler`: the jobs alone, until interrupted."""
    from app.db import dispose_engine, get_engine, get_sessionmaker

    leader = Leadership(get_engine())
    scheduler = make_scheduler(get_sessionmaker(), leader)
    scheduler.start()
    try:
        await asyncio.Event().wait()
    finally:
        await stop(scheduler, leader)
        await dispose_engine()
