"""Database plumbing: the declarative base, a UTC datetime type, engines and sessions, and
the one place a refusal by the database's own invariants becomes a 409."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.config import VAR_DIR, get_settings
from app.errors import Conflict

# Named constraints from the first migration, so later migrations can drop or alter them
# by name on both SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    PostgreSQL stores timestamptz; SQLite has no time zones, so values are stored as
    naive UTC and given their zone back when read. Naive values are refused on the way
    in: a time without an offset is a bug, never something to guess about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times must carry a UTC offset")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is UTC:  # asyncpg's timestamptz: already right (a rule run reads 100k)
            return moment
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


# Constraint (and trigger) names the database may refuse a write with, and what to tell the
# person. Each domain adds its own next to its models (`register_constraint_messages`);
# these few are raised by tables of several domains.
CONSTRAINT_MESSAGES: dict[str, str] = {
    "never_deleted": "Clinical records are never deleted.",
    "record_after_end": "An episode cannot end before what was recorded in it.",
    "outside_parent": "That time falls outside what it belongs to.",
}


def register_constraint_messages(messages: dict[str, str]) -> None:
    """Declare what a refusal by one of these constraints tells the person."""
    CONSTRAINT_MESSAGES.update(messages)


def conflict_from_integrity_error(error: IntegrityError) -> Conflict:
    text = str(error.orig)
    for name, message in CONSTRAINT_MESSAGES.items():
        if name in text:
            return Conflict(message)
    return Conflict("The change conflicts with what is recorded; nothing was saved.")


async def commit(session: AsyncSession) -> None:
    """The request's one commit (handlers reach it as `deps.commit`); a late refusal by the
    database is still a 409, not a 500."""
    try:
        await session.commit()
    except IntegrityError as error:
        await session.rollback()
        raise conflict_from_integrity_error(error) from error


async def flush(session: AsyncSession) -> None:
    """Flush, turning a refusal by the database's own invariants into a 409."""
    try:
        await session.flush()
    except IntegrityError as error:
        raise conflict_from_integrity_error(error) from error


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Real transactions and foreign keys on SQLite.

    pysqlite's own transaction handling breaks SAVEPOINT (which tests and nested
    writes rely on), so we take it over as the SQLAlchemy documentation recommends.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE: take SQLite's one write lock at the start, queueing for it (busy_timeout)
        # behind another writer. A deferred transaction that reads and then writes cannot
        # queue: if another connection wrote in between, SQLite refuses it at once
        # (SQLITE_BUSY_SNAPSHOT, whatever the timeout), and requests failed as "busy" (an API
        # token's last-used stamp beside the scheduler's rule run). Reads queue too, which
        # costs milliseconds at a trust's scale; PostgreSQL is for more than that.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


CONNECT_TIMEOUT_SECONDS = 10


def make_engine(url: str | None = None, **kwargs: Any) -> AsyncEngine:
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        VAR_DIR.mkdir(exist_ok=True)
    if url.startswith("postgresql"):
        # A connection PostgreSQL dropped (a restart, a failover, a network cut) is found
        # and replaced when taken from the pool, not handed to a request; and a server
        # that does not answer fails a request in seconds (503), rather than a minute.
        kwargs.setdefault("pool_pre_ping", True)
        kwargs["connect_args"] = {
            "timeout": CONNECT_TIMEOUT_SECONDS,
            **kwargs.get("connect_args", {}),
        }
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def get_engine() -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        _engine = make_engine()
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False)
    return _engine


def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


async def dispose_engine() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = None
    _sessionmaker = None


_MEMO = "wardflow_memo"


@contextmanager
def memo_scope(session: AsyncSession) -> Iterator[None]:
    """Within the block, reads that several parts of one page need (the rule settings a
    board's providers each ask for) are made once: see `memo`. Only for the block, never
    for the session's life, so a change made later in the same session is always seen."""
    if _MEMO in session.info:
        yield
        return
    session.info[_MEMO] = {}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


def memo(session: AsyncSession) -> dict[str, Any] | None:
    """The current memo_scope's store, or None outside one."""
    found: dict[str, Any] | None = session.info.get(_MEMO)
    return found


async def get_session() -> AsyncIterator[AsyncSession]:
    """The request's session. Handlers commit with `deps.commit`; services flush; jobs
    own their sessions. On exit whatever was not committed is rolled back: nothing is
    committed after the response (a dependency's exit runs after it is sent), so a handler
    that forgets to commit loses its work visibly instead of saving it behind the reply.
    The tests' session fails a request that flushed and never committed."""
    async with get_sessionmaker()() as session:
        try:
            yield session
        finally:
            await session.rollback()
