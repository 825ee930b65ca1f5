"""The data sets: built once with `wardflow seed synthetic` into a base (a PostgreSQL
template database, or an SQLite file), then copied afresh for every measurement, since
measuring writes (rule runs raise alerts, the write test admits people).

A base is reused while its fingerprint (the sizes, the seed, the generator's and the
migrations' source) matches and it is younger than BENCH_MAX_AGE_HOURS: a set is built
as of the moment it is built, and an old one has open episodes long overdue.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from bench.config import ROOT, WORK, Config, DataSet

WARDFLOW = str(Path(sys.executable).parent / "wardflow")
SOURCES = (
    "app/demo/*.py",
    "app/demo/restrictive/*.py",
    "app/demo/synthetic/*.py",
    "alembic/versions/*.py",
)


@dataclass
class Prepared:
    url: str  # the copy to measure
    built_at: datetime
    build_seconds: float  # `wardflow seed synthetic`, wall clock, when it was built
    reused: bool


def fingerprint(data: DataSet, seed: int) -> str:
    digest = hashlib.sha256(f"{data.engine}:{data.beds}:{data.admissions}:{seed}".encode())
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env["WARDFLOW_DATABASE_URL"] = url
    env["WARDFLOW_SECRET_KEY"] = "bench-not-secret"  # noqa: S105 (a throwaway database)
    env["WARDFLOW_SCHEDULER_ENABLED"] = "false"
    return env


def _seed(url: str, data: DataSet, seed: int) -> float:
    """Migrate and build; the build's wall-clock time (its progress bar shows here)."""
    subprocess.run(  # noqa: S603
        [WARDFLOW, "db", "upgrade"], env=_env(url), check=True, capture_output=True, cwd=ROOT
    )
    started = time.monotonic()
    subprocess.run(  # noqa: S603
        [
            WARDFLOW, "seed", "synthetic", "--beds", str(data.beds),
            "--admissions", str(data.admissions), "--seed", str(seed),
        ],
        env=_env(url),
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return time.monotonic() - started


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(server: str, *statements: str, args: tuple[str, ...] = ()) -> list[asyncpg.Record]:
    """Statements on the server's maintenance database (CREATE DATABASE cannot run in a
    transaction); the last one's rows. Database names are the benchmark's own."""
    conn = await asyncpg.connect(_dsn(f"{server}/postgres"))
    try:
        rows: list[asyncpg.Record] = []
        for statement in statements:
            rows = await conn.fetch(statement, *args)
        return rows
    finally:
        await conn.close()


def prepare(config: Config, data: DataSet) -> Prepared:
    if data.engine == "sqlite":
        return _prepare_sqlite(config, data)
    return _prepare_postgres(config, data)


def _stale(meta: dict[str, object] | None, config: Config, wanted: str) -> bool:
    if config.rebuild or meta is None or meta.get("fingerprint") != wanted:
        return True
    built = datetime.fromisoformat(str(meta["built_at"]))
    return (datetime.now(UTC) - built).total_seconds() > config.max_age_hours * 3600


def _prepare_postgres(config: Config, data: DataSet) -> Prepared:
    base, work = f"wardflow_bench_{data.admissions}_base", f"wardflow_bench_{data.admissions}"
    wanted = fingerprint(data, config.seed)
    rows = asyncio.run(
        _admin(
            config.pg_server,
            "SELECT shobj_description(oid, 'pg_database') AS meta FROM pg_database"
            " WHERE datname = $1",
            args=(base,),
        )
    )
    meta = json.loads(rows[0]["meta"]) if rows and rows[0]["meta"] else None
    reused = not _stale(meta, config, wanted)
    if not reused:
        asyncio.run(
            _admin(
                config.pg_server,
                f"DROP DATABASE IF EXISTS {work} WITH (FORCE)",
                f"DROP DATABASE IF EXISTS {base} WITH (FORCE)",
                f"CREATE DATABASE {base}",
            )
        )
        seconds = _seed(f"{config.pg_server}/{base}", data, config.seed)
        asyncio.run(_vacuum(f"{config.pg_server}/{base}"))
        meta = {
            "fingerprint": wanted,
            "built_at": datetime.now(UTC).isoformat(),
            "build_seconds": round(seconds, 1),
        }
        comment = json.dumps(meta).replace("'", "''")
        asyncio.run(_admin(config.pg_server, f"COMMENT ON DATABASE {base} IS '{comment}'"))
    assert meta is not None
    asyncio.run(
        _admin(
            config.pg_server,
            f"DROP DATABASE IF EXISTS {work} WITH (FORCE)",
            f"CREATE DATABASE {work} TEMPLATE {base}",
        )
    )
    return Prepared(
        f"{config.pg_server}/{work}",
        datetime.fromisoformat(str(meta["built_at"])),
        float(str(meta["build_seconds"])),
        reused,
    )


async def _vacuum(url: str) -> None:
    """What autovacuum would have done to a database in use: visibility maps (index-only
    scans) and fresh statistics."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


def _prepare_sqlite(config: Config, data: DataSet) -> Prepared:
    WORK.mkdir(parents=True, exist_ok=True)
    base, work = WORK / f"{data.name}.db", WORK / f"{data.name}.work.db"
    meta_path = base.with_suffix(".json")
    wanted = fingerprint(data, config.seed)
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and base.exists() else None
    reused = not _stale(meta, config, wanted)
    if not reused:
        for path in (base, meta_path):
            path.unlink(missing_ok=True)
        seconds = _seed(f"sqlite+aiosqlite:///{base}", data, config.seed)
        with sqlite3.connect(base) as conn:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        meta = {
            "fingerprint": wanted,
            "built_at": datetime.now(UTC).isoformat(),
            "build_seconds": round(seconds, 1),
        }
        meta_path.write_text(json.dumps(meta))
    assert meta is not None
    drop_sqlite(work)
    shutil.copyfile(base, work)
    return Prepared(
        f"sqlite+aiosqlite:///{work}",
        datetime.fromisoformat(str(meta["built_at"])),
        float(str(meta["build_seconds"])),
        reused,
    )


def drop_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def discard(config: Config, data: DataSet, prepared: Prepared) -> None:
    """Drop the measured copy (the base stays for the next run)."""
    if config.keep:
        return
    if data.engine == "sqlite":
        drop_sqlite(Path(prepared.url.removeprefix("sqlite+aiosqlite:///")))
    else:
        work = prepared.url.rsplit("/", 1)[1]
        asyncio.run(_admin(config.pg_server, f"DROP DATABASE IF EXISTS {work} WITH (FORCE)"))
