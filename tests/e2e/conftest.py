"""Browser tests: a real uvicorn server on a fresh SQLite file, driven by headless Chromium.

These fixtures are independent of tests/conftest.py's database fixtures (which change
os.environ): the server gets its own environment, its own database and its own data.

The sync Playwright API is used from plain (sync) tests and fixtures: pytest-asyncio only
runs its loop inside async tests and fixtures, so no loop is running here. The database is
prepared in a worker thread so that asyncio.run() never touches this thread's event loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests import dbutil

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous: a busy machine (CI, two `make test` at once) starts and answers slowly, and a
# passing test never waits these out.
SERVER_START_TIMEOUT = 120.0
SETUP_TIMEOUT = 120.0
# Every Playwright action and expectation is bounded by these (milliseconds).
ACTION_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 60_000


@dataclass
class Server:
    base_url: str
    database_url: str
    tokens: dict[str, str]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _in_ci() -> bool:
    return os.environ.get("CI", "") == "true"


def _chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare_database(url: str) -> dict[str, str]:
    """Migrate a fresh database and build the test trust; returns API tokens by username."""
    dbutil.create_migrated(url)  # a copy of the run's template when there is one

    async def build() -> dict[str, str]:
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.db import make_engine
        from tests.factories import World

        engine = make_engine(url)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                world = await World.build(session, datetime.now(UTC))
                return dict(world.tokens)
        finally:
            await engine.dispose()

    return asyncio.run(build())


def require_chromium() -> str:
    """Chromium's path; without it, skip (or fail under CI=true, where these tests must run)."""
    path = _chromium_path()
    if path is None:
        message = (
            "Chromium not found: apt-get install chromium (Debian's package, at "
            "/usr/bin/chromium) to run the browser tests"
        )
        if _in_ci():
            pytest.fail(f"{message}. CI=true: the browser tests must run in CI.", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="package")
def chromium_executable() -> str:
    return require_chromium()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real Wardflow server (uvicorn subprocess) on a fresh SQLite database."""
    directory = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite+aiosqlite:///{directory / 'wardflow-e2e.db'}"
    # In a worker thread: asyncio.run() there cannot disturb pytest-asyncio's loop here.
    with ThreadPoolExecutor(max_workers=1) as pool:
        tokens = pool.submit(_prepare_database, database_url).result(timeout=SETUP_TIMEOUT)

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "WARDFLOW_DATABASE_URL": database_url,
        "WARDFLOW_SECRET_KEY": "e2e-secret-key-not-for-production",
        "WARDFLOW_SCHEDULER_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = directory / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    info = Server(base_url, database_url, tokens, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"The Wardflow server exited with code {process.returncode} before it "
                    f"was ready:\n{info.log_tail()}"
                )
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The Wardflow server was not ready within {SERVER_START_TIMEOUT:.0f} s:\n"
                    f"{info.log_tail()}"
                )
            time.sleep(0.2)
        yield info
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="package")
def browser(chromium_executable: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleLog:
    """Console messages and uncaught page errors from every page it watches."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Requests to other hosts, refused by the harness so the tests never leave this machine.
    blocked: set[str] = field(default_factory=set)
    # (status, URL ending) of error responses a test provokes on purpose, such as a 422 for a
    # form with a missing field: Chromium logs each as "Failed to load resource".
    expected_http_errors: set[tuple[int, str]] = field(default_factory=set)

    def expect_http_error(self, status: int, url_ending: str) -> None:
        self.expected_http_errors.add((status, url_ending))

    def _expected(self, text: str, where: str) -> bool:
        return any(
            f"the server responded with a status of {status} " in text and where.endswith(ending)
            for status, ending in self.expected_http_errors
        )

    def watch(self, page) -> None:  # type: ignore[no-untyped-def]
        def on_console(message) -> None:  # type: ignore[no-untyped-def]
            where = message.location.get("url", "")
            text = f"[{message.type}] {message.text} ({where})"
            self.messages.append(text)
            if (
                message.type == "error"
                and where not in self.blocked
                and not self._expected(message.text, where)
            ):
                self.errors.append(text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"[pageerror] {exc}"))

    @property
    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e]


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def new_context(browser: Browser, server: Server, console: ConsoleLog):  # type: ignore[no-untyped-def]
    """Make browser contexts (separate cookie jars) whose pages are watched and bounded."""
    contexts = []

    def make(**options):  # type: ignore[no-untyped-def]
        options = {
            "viewport": {"width": 1280, "height": 900},
            "locale": "en-GB",
            "timezone_id": "Europe/London",
            **options,
        }
        context = browser.new_context(base_url=server.base_url, **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.on("page", console.watch)

        def refuse(route) -> None:  # type: ignore[no-untyped-def]
            console.blocked.add(route.request.url)
            route.abort()

        context.route(lambda url: not url.startswith(f"{server.base_url}/"), refuse)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """When a browser test fails, show the end of the server's log beside the failure."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        server = item.funcargs.get("server")
        if isinstance(server, Server):
            report.sections.append(("Wardflow server log (end)", server.log_tail(60)))
