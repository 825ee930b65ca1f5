"""The scheduler (the issue: APScheduler 3.x, a run every 60 s or as configured, coalescing,
never two runs at once; with PostgreSQL one leader among several processes; each run
recorded; one failing rule does not stop the others, nor the notices)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy.pool import NullPool

from app import scheduler as scheduling
from app.alerts import engine as rules_engine
from app.alerts import jobs
from app.alerts.breaches import CheckSpec
from app.alerts.models import Alert, AlertNotification, RuleRun
from app.clock import utcnow
from app.config import get_settings
from tests import dbutil
from tests.alerts import test_notify
from tests.alerts.scenario import start_seclusion
from tests.alerts.test_notify import Receiver
from tests.conftest import Clock
from tests.factories import World

# The notice tests' local HTTP receiver and notification settings.
receiver = test_notify.receiver
configure = test_notify.configure

WARDFLOW = str(Path(sys.executable).parent / "wardflow")
API = "/api/v1"
# How long to wait for something that happens within seconds on a quiet machine: generous,
# because a busy one (CI, two `make test` at once) is many times slower, and a passing
# test never waits it out.
DEADLINE = 120.0


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Yield to the loop until `check()` holds; fail after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {DEADLINE} s waiting for {what}")
        await asyncio.sleep(0.02)


S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
# Advisory locks held in this database (the server may hold others' in other databases).
ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.fixture
def clock() -> Clock:
    """The scheduler's jobs read the real clock, so the records are made at the real time."""
    c = Clock()
    c.now = utcnow().replace(microsecond=0) - S
    return c


@pytest.fixture
def sessions(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """Sessions as the jobs make them, on the test's connection (their commits release
    savepoints of the test's transaction)."""
    return async_sessionmaker(
        bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


async def seclusion_since(client, world: World, start: datetime, bed: str = "A1") -> int:  # type: ignore[no-untyped-def]
    admission = await world.admit(bed=bed, at=start - 2 * H)
    return int((await start_seclusion(client, world, admission.id, start, "nurse"))["id"])


# --- in one process ----------------------------------------------------------------------


async def test_the_job_coalesces_runs_alone_and_takes_its_interval_from_the_settings(
    engine: AsyncEngine, sessions
) -> None:
    os.environ["WARDFLOW_RULES_INTERVAL_SECONDS"] = "17"
    get_settings.cache_clear()
    try:
        scheduler = scheduling.make_scheduler(sessions, scheduling.Leadership(engine))
    finally:
        del os.environ["WARDFLOW_RULES_INTERVAL_SECONDS"]
        get_settings.cache_clear()
    [job] = [j for j in scheduler.get_jobs() if j.id == "rules"]
    assert job.func is scheduling.tick
    assert job.trigger.interval == timedelta(seconds=17)
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.misfire_grace_time is None  # a late run still runs (once: coalesced)
    assert str(job.trigger.timezone) == "UTC"


async def test_the_interval_is_a_minute_by_default(engine: AsyncEngine, sessions) -> None:
    assert "WARDFLOW_RULES_INTERVAL_SECONDS" not in os.environ
    assert get_settings().rules_interval_seconds == 60
    scheduler = scheduling.make_scheduler(sessions, scheduling.Leadership(engine))
    [job] = [j for j in scheduler.get_jobs() if j.id == "rules"]
    assert job.trigger.interval == timedelta(seconds=60)


async def test_a_tick_runs_the_rules_and_then_sends_the_notices(
    client, world: World, clock, session: AsyncSession, sessions, engine, receiver, configure
) -> None:
    configure(alert_webhook_url=receiver.url)
    sid = await seclusion_since(client, world, clock.now - 75 * M)
    leader = scheduling.Leadership(engine)
    before = utcnow()
    try:
        await scheduling.tick(sessions, leader)
    finally:
        await leader.release()
    [run] = (await session.scalars(select(RuleRun))).all()
    assert run.trigger == "scheduler" and run.runner == rules_engine.RUNNER
    assert before <= run.as_of <= utcnow() and run.started_at == run.as_of
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.errors == {} and run.raised >= 1
    first = await session.scalar(
        select(Alert).where(Alert.rule == "SECL_MEDICAL_FIRST", Alert.subject_id == sid)
    )
    assert first is not None and first.run_id == run.id
    [notice] = (await session.scalars(select(AlertNotification))).all()
    await session.refresh(notice)
    assert notice.alert_id == first.id and notice.sent_at is not None
    assert [p["json"]["id"] for p in receiver.posts] == [first.id]


async def test_a_failing_rule_is_recorded_and_the_others_and_the_notices_still_run(
    client,
    world: World,
    clock,
    session: AsyncSession,
    sessions,
    engine,
    receiver,
    configure,
    monkeypatch,
) -> None:
    configure(alert_webhook_url=receiver.url)
    await seclusion_since(client, world, clock.now - 75 * M)

    async def broken(session: AsyncSession, ctx: Any) -> list[Any]:
        raise RuntimeError("the purpose-review check is broken")

    checks = tuple(
        CheckSpec(spec.codes, broken) if spec.codes == ("ADM_PURPOSE_REVIEW",) else spec
        for spec in rules_engine.CHECKS
    )
    assert checks != rules_engine.CHECKS
    monkeypatch.setattr(rules_engine, "CHECKS", checks)
    leader = scheduling.Leadership(engine)
    try:
        await scheduling.tick(sessions, leader)
    finally:
        await leader.release()
    [run] = (await session.scalars(select(RuleRun))).all()
    assert run.errors == {"ADM_PURPOSE_REVIEW": "RuntimeError: the purpose-review check is broken"}
    rules = set(await session.scalars(select(Alert.rule)))
    assert {"SECL_MEDICAL_FIRST", "SECL_OBSERVATION"} <= rules
    assert len(receiver.posts) == 1


async def test_a_rule_run_that_fails_does_not_stop_the_notices(
    engine: AsyncEngine, sessions, monkeypatch
) -> None:
    calls: list[str] = []

    async def failing_run(_sessions: Any) -> None:
        calls.append("rules")
        raise ConnectionError("database went away mid-run")

    async def notices(_sessions: Any) -> int:
        calls.append("notices")
        return 0

    monkeypatch.setattr(jobs, "rule_run_job", failing_run)
    monkeypatch.setattr(jobs, "notify_job", notices)
    leader = scheduling.Leadership(engine)
    try:
        await scheduling.tick(sessions, leader)  # does not raise: the next tick tries again
        assert calls == ["rules", "notices"]

        async def failing_notices(_sessions: Any) -> int:
            calls.append("notices")
            raise OSError("mail server down")

        monkeypatch.setattr(jobs, "notify_job", failing_notices)
        await scheduling.tick(sessions, leader)
        assert calls == ["rules", "notices"] * 2
    finally:
        await leader.release()


async def test_a_process_that_is_not_the_leader_does_nothing(sessions, monkeypatch) -> None:
    calls: list[str] = []

    class Follower:
        busy = asyncio.Lock()

        async def held(self) -> bool:
            return False

    async def record(_sessions: Any) -> None:
        calls.append("ran")

    monkeypatch.setattr(jobs, "rule_run_job", record)
    monkeypatch.setattr(jobs, "notify_job", record)
    await scheduling.tick(sessions, Follower())  # type: ignore[arg-type]
    assert calls == []


async def test_stopping_lets_the_tick_under_way_finish(
    engine: AsyncEngine, sessions, monkeypatch
) -> None:
    """A notice being sent when the process stops is finished and marked, not cut off
    halfway (and then sent again by the next leader)."""
    events: list[str] = []

    async def rules(_sessions: Any) -> None:
        events.append("rules")

    async def slow_notices(_sessions: Any) -> int:
        events.append("sending")
        await asyncio.sleep(0.5)
        events.append("sent")
        return 1

    monkeypatch.setattr(jobs, "rule_run_job", rules)
    monkeypatch.setattr(jobs, "notify_job", slow_notices)
    leader = scheduling.Leadership(engine)
    scheduler = scheduling.make_scheduler(sessions, leader)
    scheduler.start()
    try:
        await eventually(lambda: "sending" in events, "the tick to start sending")
        await scheduling.stop(scheduler, leader)
        assert events == ["rules", "sending", "sent"]
        assert not scheduler.running and leader.connection is None
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await leader.release()


async def test_a_tick_that_will_not_finish_is_cut_off_after_the_grace(
    engine: AsyncEngine, sessions, monkeypatch
) -> None:
    events: list[str] = []

    async def stuck(_sessions: Any) -> None:
        events.append("started")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    monkeypatch.setattr(jobs, "rule_run_job", stuck)
    leader = scheduling.Leadership(engine)
    scheduler = scheduling.make_scheduler(sessions, leader)
    scheduler.start()
    try:
        await eventually(lambda: bool(events), "the stuck tick to start")
        began = time.monotonic()
        await scheduling.stop(scheduler, leader, grace=0.2)
        await asyncio.sleep(0.05)
        # Well under the 30 s the tick would take: it was cut off (room for a busy machine).
        assert time.monotonic() - began < 20
        assert events == ["started", "cancelled"]
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        await leader.release()


async def test_a_skipped_run_records_nothing(
    session: AsyncSession, sessions, dialect: str, engine: AsyncEngine
) -> None:
    """Another process in the middle of a run (it holds the run lock): this one skips."""
    if dialect != "postgresql":
        pytest.skip("the run lock is PostgreSQL's advisory lock")
    async with engine.connect() as other:
        await other.execute(text(f"SELECT pg_advisory_lock({rules_engine.ADVISORY_LOCK})"))
        try:
            result = await jobs.rule_run_job(sessions)
        finally:
            await other.execute(text(f"SELECT pg_advisory_unlock({rules_engine.ADVISORY_LOCK})"))
    assert result.skipped
    assert (await session.scalars(select(RuleRun))).all() == []


async def test_leadership_is_held_by_one_and_passes_on_when_it_goes(
    engine: AsyncEngine, dialect: str
) -> None:
    a, b = scheduling.Leadership(engine), scheduling.Leadership(engine)
    try:
        if dialect != "postgresql":
            assert await a.held() and await b.held()  # SQLite: one process, always leads
            return
        assert await a.held()
        assert not await b.held()
        assert await a.held()  # keeps it
        assert not await b.held()
        # The leader's connection dies (a crash, a network cut): the lock goes with it.
        assert a.connection is not None
        pid = await a.connection.scalar(text("SELECT pg_backend_pid()"))
        await a.connection.commit()
        async with engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await admin.commit()
        deadline = time.monotonic() + DEADLINE
        while not await b.held():
            if time.monotonic() > deadline:
                pytest.fail(f"the lock did not pass on within {DEADLINE} s")
            await asyncio.sleep(0.1)
        assert not await a.held()  # the old leader notices and follows
        assert a.connection is None
        await b.release()
        assert await a.held()  # a released lock is taken at the next tick
    finally:
        await a.release()
        await b.release()
    async with engine.connect() as check:
        held = await check.scalar(text(ADVISORY_LOCKS))
    assert held == 0


async def test_a_released_lock_does_not_stay_behind_in_the_connection_pool(
    database_url: str, engine: AsyncEngine, dialect: str
) -> None:
    """The web process and `wardflow scheduler` use a pooled engine: giving up the lead
    must really give it up, not park a connection holding the lock in the pool."""
    if dialect != "postgresql":
        pytest.skip("the leader's lock is PostgreSQL's")
    from app.db import make_engine

    pooled = make_engine(database_url)
    a, b = scheduling.Leadership(pooled), scheduling.Leadership(engine)
    try:
        assert await a.held()
        assert not await b.held()
        await a.release()
        assert await b.held()
        assert not await a.held()
    finally:
        await a.release()
        await b.release()
        await pooled.dispose()


# --- two `wardflow scheduler` processes on one PostgreSQL database -------------------------


def _run(work: Callable[[AsyncSession], Any], url: str) -> Any:
    async def main() -> Any:
        from app.db import make_engine

        db = make_engine(url, poolclass=NullPool)
        try:
            async with AsyncSession(db, expire_on_commit=False) as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(main())


def _admin(url: str, *statements: str) -> None:
    async def main() -> None:
        from app.db import make_engine

        db = make_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with db.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await db.dispose()

    asyncio.run(main())


@pytest.fixture
def scheduler_db(database_url: str) -> Iterator[str]:
    """A database of the test's own (named after the test database), migrated and empty."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several scheduler processes share a PostgreSQL database")
    url = make_url(database_url)
    name = f"{url.database}_scheduler"
    target = url.set(database=name).render_as_string(hide_password=False)
    dbutil.create_migrated(target)  # a copy of the run's migrated template
    yield target
    _admin(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Schedulers:
    def __init__(self, url: str, webhook: str, logs: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
        self.env.update(
            WARDFLOW_DATABASE_URL=url,
            WARDFLOW_SECRET_KEY="scheduler-test-secret",
            WARDFLOW_RULES_INTERVAL_SECONDS="1",
            WARDFLOW_ALERT_WEBHOOK_URL=webhook,
            PYTHONUNBUFFERED="1",
        )
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        n = len(self.processes)
        process = subprocess.Popen(  # noqa: S603
            [WARDFLOW, "scheduler"],
            env=self.env,
            cwd=self.logs,
            stdout=(self.logs / f"scheduler-{n}.out").open("wb"),
            stderr=(self.logs / f"scheduler-{n}.err").open("wb"),
        )
        self.processes.append(process)
        return process

    def output(self, process: subprocess.Popen[bytes]) -> str:
        n = self.processes.index(process)
        return "".join(
            (self.logs / f"scheduler-{n}.{kind}").read_text(errors="replace")
            for kind in ("out", "err")
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(DEADLINE)


@pytest.fixture
def schedulers(scheduler_db: str, receiver: Receiver, tmp_path: Path) -> Iterator[Schedulers]:
    group = Schedulers(scheduler_db, receiver.url, tmp_path)
    try:
        yield group
    finally:
        group.stop_all()


async def _seed(session: AsyncSession, start: datetime, bed: str) -> int:
    """An admission and a seclusion started at `start`, through the services, committed
    (the trust itself, users and wards, made the first time)."""
    from app.auth.models import User
    from app.segregation import schemas, service

    now = utcnow()
    users = {
        u.username: u for u in await session.scalars(select(User).options(selectinload(User.wards)))
    }
    if users:
        world = World(session, now, users=users)
    else:
        world = await World.build(session, now)
    admission = await world.admit(bed=bed, at=start - H)
    seclusion = await service.start_seclusion(
        session,
        actor=world.users["nurse"],
        admission_id=admission.id,
        data=schemas.SeclusionIn(
            started_at=start, authorised_by_role="nurse_in_charge", reason="Assault on staff"
        ),
        now=now,
    )
    await session.commit()
    return seclusion.id


async def _runs(session: AsyncSession) -> list[RuleRun]:
    return list(await session.scalars(select(RuleRun).order_by(RuleRun.id)))


async def _alerts(session: AsyncSession) -> list[Alert]:
    return list(await session.scalars(select(Alert).order_by(Alert.id)))


async def _pending(session: AsyncSession) -> int:
    return len(list(await session.scalars(select(AlertNotification.id).where(
        AlertNotification.sent_at.is_(None)))))  # fmt: skip


def wait_until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    """Poll `check` until it is truthy; fail after `seconds` (a generous bound: on a busy
    machine processes start and tick slowly, and a pass costs no more than it takes)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def check_runs(runs: list[RuleRun]) -> None:
    """One run at a time: each starts after the last one finished, and no more runs than
    ticks of one process (two leaders would make about twice as many); every run complete
    and without errors."""
    for run in runs:
        assert run.trigger == "scheduler" and run.finished_at is not None and run.errors == {}
    for before, after in zip(runs, runs[1:], strict=False):
        assert before.finished_at is not None
        assert after.started_at >= before.finished_at, (before.id, after.id)
    span = (runs[-1].started_at - runs[0].started_at).total_seconds()
    assert len(runs) <= span + 2, (len(runs), span)


def test_two_deliverers_at_once_send_each_notice_once(
    scheduler_db: str, receiver: Receiver, configure
) -> None:
    """Notices are claimed with SKIP LOCKED: two processes delivering at the same moment
    (a slow receiver keeps each claim open) share the queue and never both send one."""
    from app.alerts import engine as rules_engine
    from app.alerts import notify
    from app.db import make_engine

    url = scheduler_db
    configure(alert_webhook_url=receiver.url)
    receiver.delay = 0.3
    start = utcnow().replace(microsecond=0) - 75 * M
    for bed in ("A1", "A2", "A3", "A4"):
        _run(lambda s, bed=bed: _seed(s, start, bed), url)

    async def main() -> list[int]:
        db = make_engine(url, poolclass=NullPool)
        try:
            now = utcnow()
            async with AsyncSession(db, expire_on_commit=False) as session:
                await rules_engine.run_rules(session, as_of=now, now=now, trigger="api")
                await session.commit()
            sessions = [AsyncSession(db, expire_on_commit=False) for _ in range(2)]
            try:
                return list(await asyncio.gather(*(notify.deliver(s, now) for s in sessions)))
            finally:
                for s in sessions:
                    await s.close()
        finally:
            await db.dispose()

    sent = asyncio.run(main())
    assert sum(sent) == 4 and all(n > 0 for n in sent), sent  # both worked, none twice
    posted = [p["json"]["id"] for p in receiver.posts]
    assert len(posted) == len(set(posted)) == 4
    assert _run(_pending, url) == 0


def test_two_scheduler_processes_make_one_run_a_tick_and_one_takes_over_from_the_other(
    scheduler_db: str, schedulers: Schedulers, receiver: Receiver
) -> None:
    url = scheduler_db
    start = utcnow().replace(microsecond=0) - 3 * H
    first = _run(lambda s: _seed(s, start, "A1"), url)

    a, b = schedulers.start(), schedulers.start()
    runner_of = {f"{socket.gethostname()}:{p.pid}"[:120]: p for p in (a, b)}
    # Both processes up (however slowly a busy machine starts them), then four ticks of a
    # second each (WARDFLOW_RULES_INTERVAL_SECONDS=1) in which both try to lead.
    wait_until(
        lambda: all("Scheduler running" in schedulers.output(p) for p in (a, b)),
        DEADLINE,
        "both schedulers to start",
    )
    both_up = utcnow()
    wait_until(
        lambda: sum(r.started_at >= both_up for r in _run(_runs, url)) >= 4,
        DEADLINE,
        "four scheduled runs with both schedulers up",
    )
    assert a.poll() is None and b.poll() is None, schedulers.output(a) + schedulers.output(b)

    runs = _run(_runs, url)
    leaders = {run.runner for run in runs}
    assert len(leaders) == 1, leaders  # one process ran every run
    [leader_runner] = leaders
    leader = runner_of[leader_runner]
    follower = b if leader is a else a
    assert len(runs) >= 4, [(r.id, r.started_at) for r in runs]
    check_runs(runs)

    # Each breach once: the seclusion's missed reviews and observations, one alert each,
    # all raised by the leader's runs, each raised by exactly one run.
    alerts = _run(_alerts, url)
    keys = [(a.rule, a.subject_type, a.subject_id, a.due_at) for a in alerts]
    assert len(keys) == len(set(keys))
    mine = sorted((a.rule, a.due_at) for a in alerts if a.subject_id == first)
    observations = [(("SECL_OBSERVATION", start + k * 15 * M)) for k in range(1, 13)]
    assert mine == sorted(
        [("SECL_MEDICAL_FIRST", start + H), ("SECL_NURSING_REVIEW", start + 2 * H), *observations]
    )
    assert sum(run.raised for run in runs) == len(alerts)
    assert {a.run_id for a in alerts} <= {run.id for run in runs}

    # And each high-severity alert posted once (by the leader, after its run).
    wait_until(lambda: _run(_pending, url) == 0, DEADLINE, "the notices to be sent")
    high = sorted(a.id for a in alerts if a.severity == "high" and a.status == "open")
    assert len(high) == 2
    assert sorted(p["json"]["id"] for p in receiver.posts) == high

    # The leader dies: the other process takes over at its next tick.
    leader.send_signal(signal.SIGKILL)
    leader.wait(DEADLINE)
    killed_at = utcnow()
    follower_runner = next(r for r, p in runner_of.items() if p is follower)
    wait_until(
        lambda: any(r.runner == follower_runner for r in _run(_runs, url)),
        DEADLINE,
        "the other scheduler to take over",
    )
    # A new breach after the takeover: raised once and notified once, by the new leader.
    second = _run(lambda s: _seed(s, utcnow().replace(microsecond=0) - 75 * M, "A2"), url)
    wait_until(
        lambda: _run(
            lambda s: s.scalar(
                select(Alert.id).where(
                    Alert.rule == "SECL_MEDICAL_FIRST", Alert.subject_id == second
                )
            ),
            url,
        ),
        DEADLINE,
        "the new breach to be raised",
    )
    wait_until(lambda: _run(_pending, url) == 0, DEADLINE, "the new notice to be sent")
    time.sleep(2)
    assert follower.poll() is None, schedulers.output(follower)

    runs = _run(_runs, url)
    after = [r for r in runs if r.started_at > killed_at]
    assert after and {r.runner for r in after} == {follower_runner}
    assert {r.runner for r in runs} == {leader_runner, follower_runner}
    check_runs(after)
    alerts = _run(_alerts, url)
    keys = [(a.rule, a.subject_type, a.subject_id, a.due_at) for a in alerts]
    assert len(keys) == len(set(keys))
    assert sum(run.raised for run in runs) == len(alerts)
    high = sorted(a.id for a in alerts if a.severity == "high" and a.status == "open")
    assert len(high) == 3
    assert sorted(p["json"]["id"] for p in receiver.posts) == high

    # Interrupted (Ctrl+C), the scheduler stops cleanly and lets go of its lock.
    follower.send_signal(signal.SIGINT)
    assert follower.wait(DEADLINE) == 0, schedulers.output(follower)
    assert "Traceback" not in schedulers.output(follower), schedulers.output(follower)
    locks = _run(lambda s: s.scalar(text(ADVISORY_LOCKS)), url)
    assert locks == 0
