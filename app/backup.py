"""`wardflow backup` and `wardflow restore`: the whole database to one file and back.

SQLite: the online backup API of Python's sqlite3 module (a consistent copy while the
service runs). PostgreSQL: `pg_dump --format=custom` and `pg_restore`, found on PATH (the
client's major version must be at least the server's). The password, if the URL has one,
goes to them in PGPASSWORD, never on a command line.

A restore refuses a database that holds data unless forced: it replaces everything.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from app.config import VAR_DIR


class BackupError(Exception):
    """Backup or restore could not be done; the message says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    head_seq: int
    head_hash: str


def default_path(url: str, now: datetime) -> Path:
    suffix = "sqlite3" if make_url(url).get_backend_name() == "sqlite" else "pgdump"
    return VAR_DIR / "backups" / f"wardflow-{now:%Y%m%dT%H%M%SZ}.{suffix}"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) at the server's major version or later."
        )
    return found


def _pg_target(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI (no password) and the environment carrying the password."""
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return libpq, env


async def _run(*args: str, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, errors = await process.communicate()
    if process.returncode != 0:
        message = errors.decode(errors="replace").strip() or f"exit status {process.returncode}"
        raise BackupError(f"{Path(args[0]).name} failed: {message}")
    return out.decode(errors="replace")


async def holds_data(url: str) -> bool:
    """Whether any table but Alembic's own has a row (a migrated, empty database does not)."""
    from app.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            for name in names:
                if name == "alembic_version":
                    continue
                quoted = conn.dialect.identifier_preparer.quote(name)
                # A table name the database itself listed, quoted: not user input.
                exists = text(f"SELECT EXISTS (SELECT 1 FROM {quoted})")  # noqa: S608
                if await conn.scalar(exists):
                    return True
        return False
    finally:
        await engine.dispose()


async def _seal(url: str, now: datetime) -> tuple[int, str]:
    """Seal the audit log so the backup holds a chain whose head can be noted beside it."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app.audit import chain
    from app.db import make_engine

    engine = make_engine(url)
    try:
        result = await chain.seal_pending(async_sessionmaker(engine, expire_on_commit=False), now)
        if result is None:
            raise BackupError("the audit log stayed busy; try the backup again")
        return result.head_seq, result.head_hash
    finally:
        await engine.dispose()


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


async def backup(url: str, out: Path, *, now: datetime) -> BackupResult:
    """Seal the audit log, then write the whole database to `out` (never over a file)."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if not sqlite:
        _pg_tool("pg_dump")  # say it is missing before doing anything
    if out.exists():  # noqa: ASYNC240 (one stat of a local file)
        raise BackupError(f"{out} already exists; choose another file")
    out.parent.mkdir(parents=True, exist_ok=True)
    head_seq, head_hash = await _seal(url, now)
    if sqlite:
        source = _sqlite_path(parsed)
        if not source.exists():
            raise BackupError(f"there is no database at {source}")
        partial = out.with_name(out.name + ".partial")
        partial.unlink(missing_ok=True)
        await asyncio.to_thread(_sqlite_copy, source, partial)
        partial.rename(out)
    else:
        target, env = _pg_target(parsed)
        partial = out.with_name(out.name + ".partial")
        try:
            await _run(
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={partial}",
                f"--dbname={target}",
                env=env,
            )
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(out)
    out.chmod(0o600)  # noqa: ASYNC240 (patient records: readable by this account only)
    return BackupResult(out, head_seq, head_hash)


def _check_sqlite_backup(path: Path) -> None:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = db.execute("PRAGMA quick_check").fetchone()
            has_version = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a Wardflow SQLite backup: {exc}") from exc
    if not ok or ok[0] != "ok" or not has_version:
        raise BackupError(f"{path} is not a sound Wardflow SQLite backup")


async def restore(url: str, file: Path, *, force: bool = False) -> None:
    """Replace the database named by `url` with the backup in `file`.

    Refuses when the database holds data, unless `force`. The backup is checked before
    anything is touched.
    """
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    if not file.is_file():  # noqa: ASYNC240 (one stat of a local file)
        raise BackupError(f"there is no backup file at {file}")
    if sqlite:
        _check_sqlite_backup(file)
    else:
        await _run(_pg_tool("pg_restore"), "--list", str(file))
    exists = not sqlite or _sqlite_path(parsed).exists()
    if exists and not force and await holds_data(url):
        raise BackupError(
            "the database already holds data; restoring replaces all of it. "
            "Give --force to do that (back it up first)."
        )
    if sqlite:
        path = _sqlite_path(parsed)
        path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(_sqlite_copy, file, path)
        return
    from app.db import make_engine

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    target, env = _pg_target(parsed)
    await _run(
        _pg_tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={target}",
        str(file),
        env=env,
    )
