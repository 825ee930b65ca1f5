"""The migrations are the only way the schema is made: upgrade, check, downgrade, upgrade."""

import asyncio

from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app.cli import alembic_config
from tests import dbutil


def _scratch_url(database_url: str, tmp_path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    return url.set(database=f"{url.database}_migrations").render_as_string(hide_password=False)


def _ensure_pg_database(url: str) -> None:
    from app.db import make_engine

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)

    async def create() -> None:
        engine = make_engine(admin, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        await engine.dispose()

    asyncio.run(create())


def _tables(url: str) -> set[str]:
    from app.db import make_engine

    async def read() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names - {"alembic_version"}

    return asyncio.run(read())


def test_upgrade_check_downgrade_upgrade(database_url, tmp_path):
    url = _scratch_url(database_url, tmp_path)
    if url.startswith("postgresql"):
        _ensure_pg_database(url)
    dbutil.reset_database(url)
    config = alembic_config(url)
    config.attributes["configure_logging"] = False

    command.upgrade(config, "head")
    assert {"admissions", "ward_stays", "beds", "patients", "audit_log", "users"} <= _tables(url)
    # The models and the migrations agree: autogenerate finds nothing to add.
    try:
        command.check(config)
    except CommandError as exc:  # pragma: no cover - the failure message is the point
        raise AssertionError(f"models and migrations differ: {exc}") from exc
    command.downgrade(config, "base")
    assert _tables(url) == set()
    command.upgrade(config, "head")
    assert "admissions" in _tables(url)
    dbutil.reset_database(url)
