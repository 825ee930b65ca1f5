"""Databases of a test's own (beside the test database), for the commands that commit:
`wardflow audit verify`, `backup` and `restore` run as the real command against them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from tests import dbutil

WARDFLOW = str(Path(sys.executable).parent / "wardflow")


def scratch_url(database_url: str, tmp_path: Path, name: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)


def _admin(url: str, statement: str) -> None:
    from app.db import make_engine

    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)

    async def main() -> None:
        engine = make_engine(admin, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(main())


def create_empty(url: str) -> None:
    """A database with nothing in it (PostgreSQL: created if need be, its schema emptied)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        _admin(url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        _admin(url, f'CREATE DATABASE "{parsed.database}"')
    else:
        dbutil.reset_database(url)


def drop(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        _admin(url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    else:
        dbutil.reset_database(url)


def migrated(url: str) -> str:
    return dbutil.create_migrated(url)


def cli_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env["WARDFLOW_DATABASE_URL"] = url
    env["WARDFLOW_SECRET_KEY"] = "security-test-secret"
    env["WARDFLOW_SCHEDULER_ENABLED"] = "false"
    return env


def wardflow(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [WARDFLOW, *args],
        # Wide enough that rich never folds a long path in a message a test reads.
        env={**cli_env(url), "COLUMNS": "1000", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def with_session(url: str, work: Any) -> Any:
    """Run `work(session)` on the database at `url` and commit."""
    from sqlalchemy.pool import NullPool

    from app.db import make_engine

    engine = make_engine(url, poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def seed(url: str, now: datetime) -> None:
    """A small trust with two people admitted, through the services (audited), committed."""
    from tests.factories import World

    async def work(session: AsyncSession) -> None:
        world = await World.build(session, now)
        await world.admit(bed="A1")
        await world.admit(bed="A2")

    await with_session(url, work)


async def execute(url: str, *statements: str) -> None:
    """Raw SQL, committed: what someone with direct database access could do."""

    async def work(session: AsyncSession) -> None:
        for statement in statements:
            await session.execute(text(statement))

    await with_session(url, work)
