"""Domain errors, raised by services and turned into problem+json (API) or form errors (pages).

Also what an error says, apart from the web layer (app/problems.py answers with it, and
app/web.py and app/forms.py use it): the problem+json body, field errors from a schema's
validation errors, and whether an error means the database cannot be used just now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.responses import JSONResponse

from app.schemas import CODE_MESSAGE


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict with what is recorded"


class Forbidden(DomainError):
    status = 403
    title = "Not allowed"


class Unauthorised(DomainError):
    status = 401
    title = "Sign in required"


class Invalid(DomainError):
    """One or more fields are wrong; each error names its field so forms can show it there."""

    status = 422
    title = "Some details need correcting"

    def __init__(self, errors: list[FieldError] | FieldError | str, field: str | None = None):
        if isinstance(errors, str):
            errors = [FieldError(field or "body", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class Busy(DomainError):
    """Heavy work (a PDF being laid out) is at its limit just now: try again shortly. Sent
    to the one asking for the heavy thing, never to the ward board (503, Retry-After)."""

    status = 503
    title = "Busy: try again shortly"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


_MESSAGES = {
    "missing": "is required",
    "string_too_short": "must not be blank",
    "timezone_aware": "must include a UTC offset, for example 2026-03-02T14:05:00Z",
    "datetime_parsing": "must be a date and time like 2026-03-02T14:05:00Z",
    "datetime_from_date_parsing": "must be a date and time like 2026-03-02T14:05:00Z",
    "datetime_type": "must be a date and time like 2026-03-02T14:05:00Z",
    "date_parsing": "must be a date like 2026-03-02",
    "date_from_datetime_parsing": "must be a date like 2026-03-02",
    "date_type": "must be a date like 2026-03-02",
    "extra_forbidden": "is not a field this accepts",
    "int_parsing": "must be a whole number",
    "bool_parsing": "must be true or false",
    "json_invalid": "is not valid JSON",
    # The only constrained pattern is a code's (app/schemas.py).
    "string_pattern_mismatch": CODE_MESSAGE,
}


def field_errors(errors: list[dict[str, Any]]) -> list[FieldError]:
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        kind = error.get("type", "")
        if kind == "literal_error":
            message = "must be one of " + error.get("ctx", {}).get("expected", "the listed values")
        elif kind == "value_error":
            message = str(error.get("ctx", {}).get("error", error.get("msg", "")))
        else:
            message = _MESSAGES.get(kind, error.get("msg", "is not valid"))
        result.append(FieldError(field, message))
    return result


def problem(
    status: int, title: str, detail: str, errors: list[FieldError] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "status": status,
        "title": title,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


# Seconds a client should wait before trying again (the Retry-After of a 503).
RETRY_BUSY = 2
RETRY_UNREACHABLE = 5
# The driver's own errors for a connection that failed, was refused or was cut, and for
# a server shutting down, starting up or out of connections (some reach us unwrapped,
# from connecting).
_ASYNCPG_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # class 08: cannot connect, connection gone
    asyncpg.exceptions.AdminShutdownError,  # 57P01: shutting down, restarting
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
)

_FILE_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError,
                PermissionError)  # fmt: skip


def database_unavailable(exc: BaseException) -> str | None:
    """Whether an error means the database cannot be used just now (a 503: try again):
    "busy" or "unreachable"; None when it is anything else (a bug: a 500).

    Looks through the chain of causes: SQLAlchemy wraps the driver's error, which may wrap
    the socket's."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, SATimeoutError):  # no free connection in the pool
            return "busy"
        if isinstance(error, DBAPIError):
            if error.connection_invalidated:
                return "unreachable"
            if isinstance(error, OperationalError):
                text = str(error.orig)
                busy = "locked" in text or "busy" in text
                return "busy" if busy else "unreachable"
        if isinstance(error, asyncpg.exceptions.InsufficientResourcesError):
            return "busy"
        if isinstance(error, _FILE_ERRORS):  # a bug of ours, not the database
            return None
        if isinstance(error, (OSError, *_ASYNCPG_UNAVAILABLE)):
            return "unreachable"
        pending += [getattr(error, "orig", None), error.__cause__]
    return None
