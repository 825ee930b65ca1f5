"""Which database the tests run on, and making a fresh one with the migrations.

Each test run works in databases of its own: on PostgreSQL the configured database name
(`test`) is only a prefix, the run's databases are `<name>_<pid>_<hex>` and everything
derived from it (`<name>_<pid>_<hex>_scheduler`, ...), all dropped when the run ends, so
two `make test` runs beside each other on one server never touch each other's data. The
migrations run once per run, into a template (PostgreSQL: a database no one connects to;
SQLite: a file); every other migrated database of the run is a copy of it
(`create_migrated`), which is much faster than migrating again.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
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


def run_database_url(url: str) -> str:
    """This run's own database beside the configured one: PostgreSQL `<name>_<pid>_<hex>`
    (63 characters at most); SQLite URLs are already per run (a pytest temporary file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    name = f"{parsed.database}_{os.getpid()}_{secrets.token_hex(3)}"
    # PostgreSQL truncates names at 63 bytes; keep room for the suffixes tests add.
    if len(name) > 40:
        raise ValueError(f"test database name {parsed.database!r} is too long for per-run names")
    return parsed.set(database=name).render_as_string(hide_password=False)


def _admin(url: str, *statements: str) -> list[str]:
    """CREATE / DROP DATABASE, outside a transaction, from the server's postgres database;
    the names a SELECT among `statements` returned."""
    from sqlalchemy.pool import NullPool

    from app.db import make_engine

    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)

    async def main() -> list[str]:
        engine = make_engine(admin, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        found: list[str] = []
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    result = await conn.execute(text(statement))
                    if result.returns_rows:
                        found.extend(str(row[0]) for row in result)
        finally:
            await engine.dispose()
        return found

    return asyncio.run(main())


# The run's migrated template (set by tests/conftest.py's `database_url` fixture).
_template_url: str | None = None


def template_url_for(run_url: str) -> str:
    parsed = make_url(run_url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(database=f"{parsed.database}_tpl").render_as_string(False)
    return f"sqlite+aiosqlite:///{Path(str(parsed.database)).with_name('template.db')}"


def build_template(run_url: str) -> str:
    """Migrate this run's template once; later `create_migrated` calls copy it."""
    global _template_url
    template = template_url_for(run_url)
    if make_url(template).get_backend_name() == "postgresql":
        name = make_url(template).database
        _admin(
            template, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
        )
    else:
        reset_database(template)
    migrate(template)
    if make_url(template).get_backend_name() == "postgresql":
        # Nobody may connect to a template while it is copied; say so to the server too.
        _admin(
            template, f'ALTER DATABASE "{make_url(template).database}" WITH ALLOW_CONNECTIONS false'
        )
    _template_url = template
    return template


def create_migrated(url: str) -> str:
    """A migrated, empty database at `url` (replacing what was there): a copy of the run's
    template when there is one (same dialect), else migrated from scratch."""
    parsed = make_url(url)
    template = _template_url
    same = (
        template is not None and make_url(template).get_backend_name() == parsed.get_backend_name()
    )
    if parsed.get_backend_name() == "postgresql":
        drop = f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'
        if same:
            assert template is not None
            _admin(
                url,
                drop,
                f'CREATE DATABASE "{parsed.database}" TEMPLATE "{make_url(template).database}"',
            )
            return url
        _admin(url, drop, f'CREATE DATABASE "{parsed.database}"')
    elif same:
        assert template is not None
        reset_database(url)
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        source = str(make_url(template).database)
        for ending in ("", "-wal"):  # what is committed lives in both
            if Path(source + ending).exists():
                shutil.copyfile(source + ending, f"{parsed.database}{ending}")
        return url
    else:
        reset_database(url)
    migrate(url)
    return url


def reap_abandoned_runs(configured_url: str) -> None:
    """Drop the databases of runs that were killed before they could (SIGKILL, a machine
    reset): `<name>_<pid>_<hex>...` whose process is gone. Only for a server on this
    machine (where a missing pid means the run is over), never a shared remote one."""
    parsed = make_url(configured_url)
    if parsed.get_backend_name() != "postgresql" or parsed.host not in {
        "127.0.0.1",
        "localhost",
        "::1",
        None,
    }:
        return
    prefix = str(parsed.database)
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d+)_[0-9a-f]{{6}}(_.*)?$")
    names = _admin(configured_url, "SELECT datname FROM pg_database")
    abandoned = []
    for name in names:
        found = pattern.match(name)
        if found and not Path(f"/proc/{found.group(1)}").exists():
            abandoned.append(name)
    if abandoned:
        _admin(configured_url, *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in abandoned))


def drop_run_databases(run_url: str) -> None:
    """Drop every database of this run (its own, the template, those tests derived)."""
    global _template_url
    _template_url = None
    parsed = make_url(run_url)
    if parsed.get_backend_name() != "postgresql":
        return
    prefix = str(parsed.database)
    names = _admin(
        run_url,
        f"SELECT datname FROM pg_database WHERE datname = '{prefix}' "
        f"OR starts_with(datname, '{prefix}_')",
    )
    _admin(run_url, *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


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
