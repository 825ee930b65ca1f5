"""The real service under test: `wardflow` commands and `wardflow serve` as subprocesses on a
database of their own, a trust built through the JSON API, a TCP proxy to cut PostgreSQL
off, and reading the database afterwards.

Everything here talks to the service as a client would (HTTP, the command line); only the
checks afterwards read the database directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests import dbutil
from tests.factories import patient_body

WARDFLOW = str(Path(sys.executable).parent / "wardflow")
API = "/api/v1"
START_TIMEOUT = 120.0  # seconds on a quiet machine; a busy one is many times slower


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- the database ------------------------------------------------------------------------


def in_thread(work: Callable[[], Any]) -> Any:
    """Run blocking set-up (asyncio.run inside) away from pytest-asyncio's running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result(timeout=300)


def run_sql(url: str, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
    """One statement on its own connection, committed; the rows it returned."""

    async def main() -> list[Any]:
        from app.db import make_engine

        engine = make_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params or {})
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return in_thread(lambda: asyncio.run(main()))


def _admin(url: str, statement: str) -> None:
    """CREATE / DROP DATABASE, outside a transaction, from the server's postgres database."""

    async def main() -> None:
        from app.db import make_engine

        admin_url = make_url(url).set(database="postgres").render_as_string(hide_password=False)
        engine = make_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    in_thread(lambda: asyncio.run(main()))


@dataclass
class Database:
    """A database of a test's own: on PostgreSQL one named after the test database (so
    engineers and CI runs sharing a server keep apart), on SQLite a file."""

    url: str

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()

    @property
    def name(self) -> str:
        return str(make_url(self.url).database)

    @classmethod
    def create(cls, test_url: str, suffix: str, tmp: Path, migrate: bool = True) -> Database:
        parsed = make_url(test_url)
        if parsed.get_backend_name() == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp / f'{suffix}.db'}"
        else:
            url = parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(False)
        if migrate:
            # A copy of the run's migrated template (tests/dbutil.py).
            in_thread(lambda: dbutil.create_migrated(url))
        elif parsed.get_backend_name() != "sqlite":
            name = make_url(url).database
            _admin(test_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _admin(test_url, f'CREATE DATABASE "{name}"')
        return cls(url)

    def copy(self, suffix: str, tmp: Path) -> Database:
        """The same data in another database (nothing may be connected to this one)."""
        if self.dialect == "sqlite":
            source = str(make_url(self.url).database)
            target = tmp / f"{suffix}.db"
            for ending in ("", "-wal"):  # what is committed lives in both
                if Path(source + ending).exists():
                    Path(f"{target}{ending}").write_bytes(Path(source + ending).read_bytes())
            return Database(f"sqlite+aiosqlite:///{target}")
        name = f"{self.name}_{suffix}"
        _admin(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(self.url, f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return Database(make_url(self.url).set(database=name).render_as_string(False))

    def drop(self) -> None:
        if self.dialect == "sqlite":
            return
        with contextlib.suppress(Exception):
            _admin(self.url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def sql(self, statement: str, **params: Any) -> list[Any]:
        return run_sql(self.url, statement, params)

    def scalar(self, statement: str, **params: Any) -> Any:
        rows = self.sql(statement, **params)
        return rows[0][0] if rows else None


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """The process environment for a command or server: ours, not the test run's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env.update(
        WARDFLOW_DATABASE_URL=database_url,
        WARDFLOW_SECRET_KEY="reliability-test-secret",
        WARDFLOW_SCHEDULER_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"WARDFLOW_{k.upper()}": v for k, v in settings.items()})
    return env


def wardflow(
    database_url: str, *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603
        [WARDFLOW, *args],
        env=environment(database_url),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"wardflow {' '.join(args)}:\n{result.stderr}{result.stdout}"
    return result


def make_token(database_url: str, username: str, role: str = "admin") -> str:
    """A user and an API token, made with the command line as an operator would."""
    wardflow(
        database_url, "users", "create", username, "--role", role, "--password-stdin",
        stdin="a-long-test-password\n",
    )  # fmt: skip
    return wardflow(database_url, "users", "token", username).stdout.strip().splitlines()[-1]


# --- the service -------------------------------------------------------------------------


@dataclass
class Service:
    """`wardflow serve` on a free port, its output in a log file."""

    database_url: str
    log_dir: Path
    workers: int = 1
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"serve-{self.port}-{self.starts}.log"

    def start(self, wait: bool = True) -> Service:
        """Start the server; with wait, return once it is ready (else call wait_ready)."""
        self.starts += 1
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [WARDFLOW, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            env=environment(self.database_url, **self.settings),
            cwd=self.log_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the test can kill it all
        )  # fmt: skip
        log.close()
        if wait:
            self.wait_ready()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Up when /healthz answers and every worker has started its application."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"wardflow serve exited ({self.process.returncode}):\n{self.log()}")
            with contextlib.suppress(httpx.TransportError):
                up = httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
                if up and self.log().count("Application startup complete") >= self.workers:
                    return
            time.sleep(0.2)
        pytest.fail(f"wardflow serve was not ready in {START_TIMEOUT} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """The worker processes under uvicorn's supervisor (none with a single worker)."""
        assert self.process is not None
        workers = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (proc / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.process.pid and b"spawn_main" in cmdline:
                workers.append(int(proc.name))
        return sorted(workers)

    def kill(self) -> None:
        """SIGKILL the whole service, supervisor and workers, at once."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(60)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
        # Workers left behind by a supervisor that died first.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def serving(service: Service) -> Iterator[Service]:
    try:
        yield service.start()
    finally:
        service.stop()


# --- a trust built through the API -------------------------------------------------------


class Api:
    """A client with the admin's token, and the calls that build a trust."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.client = httpx.Client(base_url=base_url, headers=self.headers, timeout=30)

    def close(self) -> None:
        self.client.close()

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.client.post(f"{API}{path}", json=body)
        assert r.status_code == 201, f"POST {path}: {r.status_code} {r.text}"
        return dict(r.json())

    def get(self, path: str) -> Any:
        r = self.client.get(f"{API}{path}")
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
        return r.json()

    def place(self, code: str = "REL") -> None:
        self.post(
            "/localities", {"code": code, "name": "Leeds", "latitude": 53.8, "longitude": -1.55}
        )
        self.post("/sites", {"code": f"S{code}", "name": "Becklin Centre", "locality_code": code})

    def ward(self, code: str, beds: int, site: str = "SREL") -> list[str]:
        self.post(
            "/wards",
            {"code": code, "name": f"{code.title()} Ward", "site_code": site,
             "ward_type": "adult_acute", "sex": "mixed", "min_age": 18, "max_age": 120},
        )  # fmt: skip
        labels = [f"{code}{i}" for i in range(1, beds + 1)]
        self.many([(f"/wards/{code}/beds", {"label": label}) for label in labels])
        return labels

    def patients(self, count: int, locality: str = "REL") -> list[int]:
        bodies = [("/patients", patient_body(home_locality_code=locality)) for _ in range(count)]
        return [made["id"] for made in self.many(bodies)]

    def many(self, posts: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Several POSTs, a few at a time (set-up, not the race under test), in order."""
        with ThreadPoolExecutor(max_workers=6) as pool:
            return list(pool.map(lambda post: self.post(*post), posts))


@dataclass
class Trust:
    """A running service on a database of its own, and an admin's API token for it."""

    db: Database
    service: Service
    api: Api
    token: str


async def together(trust: Trust, requests: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    """Send every request at the same moment: one connection each, opened beforehand, and
    a barrier that lets them all go at once."""
    n = len(requests)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    headers = {"Authorization": f"Bearer {trust.token}"}
    async with httpx.AsyncClient(
        base_url=trust.service.base_url, headers=headers, limits=limits, timeout=60
    ) as client:
        warm = await asyncio.gather(*(client.get("/healthz") for _ in range(n)))
        assert {r.status_code for r in warm} == {200}
        barrier = asyncio.Barrier(n)

        async def one(method: str, path: str, body: Any) -> httpx.Response:
            await barrier.wait()
            return await client.request(method, f"{API}{path}", json=body)

        return list(await asyncio.gather(*(one(*request) for request in requests)))


def admission(patient_id: int, ward: str, bed: str, at: datetime) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "ward_code": ward,
        "bed_label": bed,
        "admitted_at": iso(at),
        "legal_status": "s2",
        "reason": "Psychotic relapse, not safe at home",
        "expected_benefit": "Restart medication and stabilise",
    }


def is_problem(response: httpx.Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers.get("content-type", "").startswith("application/problem+json")
        and response.json().get("status") == status
    )


# --- whole records -----------------------------------------------------------------------


def broken_admissions(db: Database, ward: str) -> list[str]:
    """Every admission on the ward that is not whole: each must have its first ward stay,
    its legal status from admission and its audit entry, and each audit entry of an
    admission must name one that exists. Empty when all is well."""
    problems = []
    rows = db.sql(
        """
        SELECT a.id,
               (SELECT count(*) FROM ward_stays s WHERE s.admission_id = a.id),
               (SELECT count(*) FROM legal_status_changes l WHERE l.admission_id = a.id),
               (SELECT count(*) FROM audit_log e WHERE e.entity_type = 'admissions'
                   AND e.action = 'admission.create' AND e.entity_id = CAST(a.id AS VARCHAR(64)))
        FROM admissions a
        WHERE a.id IN (SELECT s.admission_id FROM ward_stays s JOIN wards w ON w.id = s.ward_id
                       WHERE w.code = :ward)
        """,
        ward=ward,
    )
    for admission_id, stays, statuses, audits in rows:
        if (stays, statuses, audits) != (1, 1, 1):
            problems.append(f"admission {admission_id}: {stays} stays, {statuses} legal "
                            f"statuses, {audits} audit entries")  # fmt: skip
    orphans = db.sql(
        """
        SELECT e.entity_id FROM audit_log e
        WHERE e.action = 'admission.create'
          AND NOT EXISTS (SELECT 1 FROM admissions a WHERE CAST(a.id AS VARCHAR(64)) = e.entity_id)
        """
    )
    problems += [f"audit entry for admission {row[0]}, which does not exist" for row in orphans]
    return problems


def recent(hours: float = 2) -> datetime:
    return now() - timedelta(hours=hours)


# --- a network between the service and PostgreSQL that the test can cut -----------------


class Proxy:
    """A TCP proxy in a thread of its own: the service connects to PostgreSQL through it.
    `cut()` is PostgreSQL going away (every connection dropped, new ones refused), as in a
    restart or failover; `restore()` brings it back on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.Server | None = None
        self.transports: set[asyncio.BaseTransport] = set()

    def __enter__(self) -> Proxy:
        self.thread.start()
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def restore(self) -> None:
        async def listen() -> None:
            self.server = await asyncio.start_server(self._connection, "127.0.0.1", self.port)

        self._call(listen())

    def cut(self) -> None:
        async def close() -> None:
            if self.server is not None:
                self.server.close()
            for transport in list(self.transports):
                transport.abort()
            self.transports.clear()
            if self.server is not None:
                await self.server.wait_closed()
                self.server = None

        self._call(close())

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer.transport, up_writer.transport)
        self.transports.update(pair)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.transports.difference_update(pair)
