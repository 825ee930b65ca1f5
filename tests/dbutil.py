"""Which database the tests run on, and making a fresh one with the migrations."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.cli import alembic_config

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def test_database_url(tmp_dir: Path) -> str:
    return os.environ.get("WARDFLOW_TEST_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tmp_dir / 'wardflow-test.db'}"
    )


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


async def _reachable(url: str) -> str | None:
    from app.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means "not reachable"
        return str(exc)
    finally:
        await engine.dispose()


def reset_database(url: str) -> None:
    """Empty the database (PostgreSQL: the public schema; SQLite: the file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return

    async def drop() -> None:
        from app.db import make_engine

        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(drop())


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    command.upgrade(config, revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    config = alembic_config(url)
    config.attributes["configure_logging"] = False
    command.downgrade(config, revision)


def reachable_or_reason(url: str) -> str | None:
    return asyncio.run(_reachable(url))
