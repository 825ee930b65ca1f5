"""What a client is told when the database cannot be used just now: 503, try again (with
Retry-After), as problem+json for the API and as a page for people; and what is still a
bug (500). The errors are the ones the drivers really raise (seen with the service cut
off from PostgreSQL in test_faults.py, and SQLite's lock)."""

from __future__ import annotations

import sqlite3

import asyncpg
import httpx
import pytest
from sqlalchemy import exc as sa

from app.errors import RETRY_BUSY, RETRY_UNREACHABLE, database_unavailable

UNREACHABLE = "The database cannot be reached"
BUSY = "The database is busy"


def _wrapped(cls: type[sa.DBAPIError], orig: Exception, invalidated: bool = False) -> Exception:
    return cls("SELECT 1", {}, orig, connection_invalidated=invalidated)


def _chained(outer: Exception, cause: BaseException) -> Exception:
    outer.__cause__ = cause
    return outer


CASES: list[tuple[str, Exception, str | None]] = [
    ("refused", ConnectionRefusedError(111, "Connection refused"), "unreachable"),
    ("all addresses refused", OSError("Multiple exceptions: [Errno 111] ..."), "unreachable"),
    ("connect timeout", TimeoutError(), "unreachable"),
    ("reset", ConnectionResetError(104, "Connection reset by peer"), "unreachable"),
    (
        "starting up",
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        "unreachable",
    ),
    (
        "shutting down",
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        "unreachable",
    ),
    (
        "cut mid-query",
        _wrapped(
            sa.DBAPIError,
            asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
            invalidated=True,
        ),
        "unreachable",
    ),
    (
        "closed connection",
        _wrapped(sa.InterfaceError, Exception("connection is closed"), invalidated=True),
        "unreachable",
    ),
    (
        "driver error around a refused socket",
        _chained(
            _wrapped(sa.DBAPIError, Exception("connect failed")),
            ConnectionRefusedError(111, "Connection refused"),
        ),
        "unreachable",
    ),
    (
        "too many connections",
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        "busy",
    ),
    (
        "sqlite locked",
        _wrapped(sa.OperationalError, sqlite3.OperationalError("database is locked")),
        "busy",
    ),
    ("pool exhausted", sa.TimeoutError("QueuePool limit of size 5 overflow 10 reached"), "busy"),
    # Bugs stay bugs: a 500, logged, not "try again".
    ("bad SQL", _wrapped(sa.ProgrammingError, Exception('column "x" does not exist')), None),
    ("misused driver", _wrapped(sa.InterfaceError, Exception("another operation")), None),
    ("missing file", FileNotFoundError(2, "No such file", "templates/x.html"), None),
    ("statement cancelled", asyncpg.exceptions.QueryCanceledError("canceling statement"), None),
]


@pytest.mark.parametrize(("error", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_errors_mean_try_again(error: Exception, expected: str | None) -> None:
    assert database_unavailable(error) == expected


@pytest.fixture
def failing(app):  # type: ignore[no-untyped-def]
    """The app with an API route and a page that raise the error a test sets."""
    raised: dict[str, Exception] = {}

    async def fail() -> None:
        raise raised["error"]

    app.add_api_route("/api/v1/_fail", fail)
    app.add_api_route("/_fail", fail)
    return raised


@pytest.fixture
async def client_no_raise(app):  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.mark.parametrize(("error", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_the_api_answers_503_problem_with_retry_after_or_500_for_a_bug(
    failing: dict[str, Exception],
    client_no_raise: httpx.AsyncClient,
    error: Exception,
    expected: str | None,
) -> None:
    failing["error"] = error
    r = await client_no_raise.get("/api/v1/_fail")
    assert r.headers["content-type"].startswith("application/problem+json")
    if expected is None:
        assert r.status_code == 500 and "Retry-After" not in r.headers
        return
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == 503 and body["title"] == "Service unavailable"
    if expected == "busy":
        assert body["detail"].startswith(BUSY) and r.headers["Retry-After"] == str(RETRY_BUSY)
    else:
        assert body["detail"].startswith(UNREACHABLE)
        assert r.headers["Retry-After"] == str(RETRY_UNREACHABLE)


async def test_a_page_says_so_as_a_page(
    failing: dict[str, Exception], client_no_raise: httpx.AsyncClient
) -> None:
    failing["error"] = ConnectionRefusedError(111, "Connection refused")
    r = await client_no_raise.get("/_fail")
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert r.headers["Retry-After"] == str(RETRY_UNREACHABLE)
    assert UNREACHABLE in r.text and "Service unavailable" in r.text
