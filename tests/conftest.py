"""Test fixtures: a migrated database, a rolled-back transaction per test, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import NullPool
from starlette.requests import Request

from tests import dbutil
from tests.auth.helpers import Browser

# Tests must never touch the developer's own database or secret.
os.environ.setdefault("WARDFLOW_SECRET_KEY", "test-secret-key-not-for-production")
# Rule runs in tests are called with the time they need, never by a background scheduler.
os.environ["WARDFLOW_SCHEDULER_ENABLED"] = "false"


@pytest.fixture(scope="session", autouse=True)
def wired() -> None:
    """The hooks between domains, as every entry point sets them (app/extensions.py): tests
    that call services without the app see what the app would."""
    from app import extensions

    extensions.register_all()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This run's own database, migrated (a copy of the run's template; see tests/dbutil.py).

    On PostgreSQL the configured name is a prefix: this run works in `<name>_<pid>_<hex>`
    and databases named after it, all dropped at the end, so runs side by side never meet.
    """
    configured = dbutil.test_database_url(tmp_path_factory.mktemp("db"))
    if configured.startswith("postgresql"):
        reason = dbutil.reachable_or_reason(configured)
        if reason is not None:
            message = f"PostgreSQL at {configured} is not reachable: {reason}"
            if dbutil.in_ci():
                pytest.exit(f"{message} (CI=true: PostgreSQL is required)", returncode=1)
            pytest.skip(f"{message}; skipping the PostgreSQL run")
    dbutil.reap_abandoned_runs(configured)
    url = dbutil.run_database_url(configured)
    try:
        dbutil.build_template(url)
        dbutil.create_migrated(url)
        os.environ["WARDFLOW_DATABASE_URL"] = url
        from app.config import get_settings

        get_settings.cache_clear()
        yield url
    finally:
        dbutil.drop_run_databases(url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    from app.db import make_engine

    engine = make_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
def dialect(engine: AsyncEngine) -> str:
    return engine.dialect.name


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test.

    Code under test may commit: with create_savepoint, its commits release savepoints
    inside our outer transaction, so nothing outlives the test.
    """
    async with engine.connect() as conn:
        outer = await conn.begin()
        session = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            if outer.is_active:
                await outer.rollback()


class Clock:
    """The time the app believes it is; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(session: AsyncSession, clock: Clock):  # type: ignore[no-untyped-def]
    """The app on the test's session and clock. A request that flushed and never
    committed fails (production's get_session rolls it back), and so does the test."""
    from app.clock import get_now
    from app.db import get_session
    from app.main import create_app

    application = create_app()
    unsaved: list[str] = []
    application.state.unsaved_requests = unsaved  # tests/test_transaction_owner.py reads it

    async def test_session(request: Request) -> AsyncIterator[AsyncSession]:
        # As get_session does: a refused request is rolled back (here, to its savepoint),
        # so a test sees exactly what production would have kept.
        if session.new or session.dirty or session.deleted:
            # The test's own set-up, not yet flushed: not the handler's writes.
            await session.flush()
        with FlushWatch(session) as watch:
            try:
                yield session
            except BaseException:
                await session.rollback()
                # Production's session ends here; the test's lives on and holds records the
                # rollback expired, so load them again (what the database really kept).
                for record in list(session.identity_map.values()):
                    await session.refresh(record)
                raise
            if watch.pending:
                # Production rolls this back (get_session commits nothing): the handler
                # wrote and forgot `await deps.commit(session)`.
                unsaved.append(f"{request.method} {request.url.path}")
                await session.rollback()
                raise AssertionError(
                    f"{request.method} {request.url.path} flushed changes and never "
                    "committed them: get_session rolls back on exit, so they are lost"
                )

    application.dependency_overrides[get_session] = test_session
    application.dependency_overrides[get_now] = clock
    yield application
    assert not unsaved, f"requests that flushed and never committed: {unsaved}"


class FlushWatch:
    """Whether the session flushed something that is neither committed nor rolled back
    (a flush inside a savepoint that was rolled back does not count), while in the block."""

    def __init__(self, session: AsyncSession) -> None:
        self.sync = session.sync_session
        # The innermost transaction of each flush not yet committed or rolled back.
        self.flushed: list[SessionTransaction] = []

    @property
    def pending(self) -> bool:
        return bool(self.flushed)

    def _after_flush(self, session: Session, _context: object) -> None:
        transaction = session.get_nested_transaction() or session.get_transaction()
        if transaction is not None:
            self.flushed.append(transaction)

    def _after_commit(self, _session: Session) -> None:
        self.flushed.clear()

    def _after_soft_rollback(self, _session: Session, previous: SessionTransaction) -> None:
        def undone(transaction: SessionTransaction | None) -> bool:
            while transaction is not None:
                if transaction is previous:
                    return True
                transaction = transaction.parent
            return False

        self.flushed = [t for t in self.flushed if not undone(t)]

    def __enter__(self) -> FlushWatch:
        event.listen(self.sync, "after_flush", self._after_flush)
        event.listen(self.sync, "after_commit", self._after_commit)
        event.listen(self.sync, "after_soft_rollback", self._after_soft_rollback)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.sync, "after_flush", self._after_flush)
        event.remove(self.sync, "after_commit", self._after_commit)
        event.remove(self.sync, "after_soft_rollback", self._after_soft_rollback)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def query_counter(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement sent while the test runs (to prove a page's query count is fixed)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    yield statements
    event.remove(engine.sync_engine, "before_cursor_execute", before)


@pytest.fixture
async def world(session: AsyncSession, clock: Clock):  # type: ignore[no-untyped-def]
    """A small trust: two wards on one site, beds, and one user of each role."""
    from tests.factories import World

    return await World.build(session, clock.now)


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path


# --- signed-in browsers for page tests -------------------------------------------------


@pytest.fixture
async def browser(app) -> AsyncIterator[Callable[..., Browser]]:  # type: ignore[no-untyped-def]
    """Make browsers (each with its own cookies, and a client address: 127.0.0.1 unless
    given); closed after the test."""
    opened: list[Browser] = []

    def make(address: str = "127.0.0.1") -> Browser:
        opened.append(Browser(app, address))
        return opened[-1]

    yield make
    for b in opened:
        await b.aclose()


@pytest.fixture
def signed_in(browser) -> Callable[[str], Awaitable[Browser]]:  # type: ignore[no-untyped-def]
    async def sign_in(username: str) -> Browser:
        return await browser().sign_in(username)

    return sign_in


@pytest.fixture
async def nurse(world, signed_in) -> Browser:  # type: ignore[no-untyped-def]
    """The ASH ward nurse, signed in."""
    return await signed_in("nurse")
