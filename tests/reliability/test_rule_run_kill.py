"""A rule run killed in the middle of writing its alerts (SIGKILL: no chance to clean up),
then the next run: in the end the alerts are exactly those of one uninterrupted run on a
copy of the same records. Nothing of the killed run is kept, so the next run cannot take
it for a finished one and read only what came after it.

On PostgreSQL the kill is placed exactly: the test holds a lock on the audit log, which a
run writes only after its alerts, so the run is caught with its alerts written and not yet
committed. (Watching for its INSERT went by too fast once inserts were batched.) On
SQLite, whose run takes the one write lock at its start, it is killed while holding it: a
pause to let it reach its writes was a guess, and the run now often ends within it."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from app.alerts.models import RuleRun
from tests.reliability.conftest import Databases
from tests.reliability.harness import (
    WARDFLOW,
    Database,
    environment,
    in_thread,
    iso,
    now,
    wardflow,
)

pytestmark = pytest.mark.slow

ALERT = (
    "SELECT rule, subject_type, subject_id, admission_id, ward_id, due_at, status, "
    "cleared_at, severity, message, parameters FROM alerts"
)


def rules_run(db: Database, as_of: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [WARDFLOW, "rules", "run", "--as-of", as_of],
        env=environment(db.url),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def run_rules(db: Database, as_of: datetime) -> RuleRun:
    """One run as `wardflow rules run` makes it, in this process (no table printed)."""
    from app.alerts import engine
    from app.db import make_engine

    database = make_engine(db.url, poolclass=NullPool)
    try:
        async with AsyncSession(database, expire_on_commit=False) as session:
            result = await engine.run_rules(session, as_of=as_of, now=now(), trigger="cli")
            await session.commit()
            return result.run
    finally:
        await database.dispose()


@contextmanager
def audit_log_held(db: Database) -> Iterator[None]:
    """On PostgreSQL, a transaction of the test's own holding the audit log against inserts
    until the block ends (nothing on SQLite, whose run holds the one write lock from its
    start)."""
    if db.dialect != "postgresql":
        yield
        return
    held, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        from app.db import make_engine

        engine = make_engine(db.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
                held.set()
                await asyncio.to_thread(release.wait, 600)
                await conn.rollback()
        finally:
            await engine.dispose()

    def main() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failure.append(exc)
            held.set()

    holder = threading.Thread(target=main, daemon=True)
    holder.start()
    if not held.wait(120):
        pytest.fail("the audit log was not locked within 120 s")
    if failure:
        raise failure[0]
    try:
        yield
    finally:
        release.set()
        holder.join(60)


def writing(db: Database) -> bool:
    """Whether a rule run is under way and has written its alerts: on PostgreSQL, its
    transaction waiting to write the audit log behind `audit_log_held`; on SQLite, the
    write lock held."""
    if db.dialect == "postgresql":
        return bool(
            db.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_xid IS NOT NULL AND wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO audit_log%'"
            )
        )
    probe = sqlite3.connect(str(make_url(db.url).database), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        probe.close()


def test_a_rule_run_killed_mid_write_is_followed_by_one_that_misses_nothing(
    databases: Databases, tmp_path: Path
) -> None:
    # A year of a 100-bed trust's records: a first run over all of it takes a while.
    source = databases.new("rel_rules")
    built = now() - timedelta(hours=1)
    wardflow(source.url, "seed", "synthetic", "--beds", "100", "--years", "1", "--now", iso(built))
    copy = databases.copy(source, "copy")
    as_of = iso(built)

    with audit_log_held(source):
        killed = rules_run(source, as_of, tmp_path / "killed.log")
        deadline = time.monotonic() + 120
        while not writing(source):
            if killed.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the rule run ended before it was seen writing:\n"
                            + (tmp_path / "killed.log").read_text())  # fmt: skip
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait(60)

    # Nothing of it was kept: no run, no alert, no notice queued, no audit entry.
    assert source.scalar("SELECT count(*) FROM rule_runs") == 0
    assert source.scalar("SELECT count(*) FROM alerts") == 0
    assert source.scalar("SELECT count(*) FROM alert_notifications") == 0
    assert source.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'alert.%'") == 0

    # The next run where it was killed, and meanwhile one uninterrupted run on the copy.
    again = rules_run(source, as_of, tmp_path / "again.log")
    whole = in_thread(lambda: asyncio.run(run_rules(copy, built)))
    assert again.wait(300) == 0, (tmp_path / "again.log").read_text()
    assert whole.errors == {} and whole.finished_at is not None

    alerts = sorted(map(tuple, source.sql(ALERT)))
    expected = sorted(map(tuple, copy.sql(ALERT)))
    assert len(expected) > 800  # a run with plenty to write
    assert alerts == expected
    runs = "SELECT raised, cleared, errors, finished_at IS NOT NULL FROM rule_runs"
    assert source.sql(runs) == copy.sql(runs)
    assert [tuple(r) for r in source.sql(runs)][0][3]
    for table in ("alert_notifications", "audit_log WHERE action LIKE 'alert.%'"):
        query = f"SELECT count(*) FROM {table}"
        assert source.scalar(query) == copy.scalar(query)
