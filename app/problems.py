"""Errors as application/problem+json (RFC 9457) for the API, and as pages for people."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.deps import LoginRequired
from app.errors import (
    RETRY_BUSY,
    RETRY_UNREACHABLE,
    Busy,
    DomainError,
    FieldError,
    Invalid,
    database_unavailable,
    field_errors,
    problem,
)
from app.web import render_error

log = logging.getLogger("wardflow")

_INVALID = "Some details need correcting"
_NO_SUCH_ID = "No record has that id."


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/fhir/"))


# What every refusal looks like, for /openapi.json (RFC 9457, with our "errors" for 422).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "status", "title", "detail"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEMS = {
    "401": "No or bad credentials",
    "403": "Your role or ward is not allowed",
    "404": "Unknown id or code",
    "422": "A field is missing, blank, malformed or out of range",
    "503": "The database cannot be reached, or heavy work is at its limit (Retry-After)",
}
CONFLICT = {"409": "The request conflicts with what is recorded"}


def document_problems(app: FastAPI) -> None:
    """Every operation's refusals in the schema, as problem+json (the API's contract), in
    place of FastAPI's own 422 body, which this API never sends."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = make_schema()
        problem = {"$ref": "#/components/schemas/Problem"}
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                statuses = {**PROBLEMS, **(CONFLICT if method != "get" else {})}
                for status, description in statuses.items():
                    responses[status] = {
                        "description": description,
                        "content": {"application/problem+json": {"schema": problem}},
                    }
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _answer(
    request: Request,
    status: int,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    *,
    page: bool | None = None,
) -> Response:
    """A page for a person, problem+json for a program (by path, unless ``page`` says)."""
    if page is None:
        page = _wants_page(request)
    if page:
        return render_error(request, status, title, detail)
    return problem(status, title, detail, errors)


def install(app: FastAPI) -> None:
    document_problems(app)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        from urllib.parse import quote

        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?next={quote(here, safe='/')}"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        errors = exc.errors if isinstance(exc, Invalid) else None
        if isinstance(exc, Busy):
            # A person who followed a download link gets a page, a program problem+json.
            page = _wants_page(request) or "text/html" in request.headers.get("accept", "")
            response = _answer(request, exc.status, exc.title, exc.detail, page=page)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return _answer(request, exc.status, exc.title, exc.detail, errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = field_errors(list(exc.errors()))
        detail = "; ".join(f"{e.field} {e.message}" for e in errors)
        return _answer(request, 422, _INVALID, detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # A body that is not even text is malformed input like any other: 422.
            detail = "body is not valid JSON"
            return _answer(request, 422, _INVALID, detail, [FieldError("body", detail[5:])])
        title = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(
            exc.status_code, "Error"
        )
        detail = str(exc.detail) if exc.detail else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        return _answer(request, exc.status_code, title, detail)

    async def _unavailable(request: Request, exc: Exception, reason: str) -> Response:
        log.error("database unavailable: %s", exc)
        busy = reason == "busy"
        # Not "nothing was saved": the failure may come after the request's commit (reading
        # the record back), and retrying a note or review that was saved would record it twice.
        check = "if you were saving something, check whether it was recorded first."
        detail = (
            f"The database is busy. Try again in a moment; {check}"
            if busy
            else f"The database cannot be reached. Try again shortly; {check}"
        )
        response = _answer(request, 503, "Service unavailable", detail)
        response.headers["Retry-After"] = str(RETRY_BUSY if busy else RETRY_UNREACHABLE)
        return response

    @app.exception_handler(OSError)
    @app.exception_handler(SATimeoutError)
    @app.exception_handler(asyncpg.PostgresError)
    async def _connection(request: Request, exc: Exception) -> Response:
        reason = database_unavailable(exc)
        if reason is None:
            return await _unexpected(request, exc)
        return await _unavailable(request, exc, reason)

    @app.exception_handler(OverflowError)
    async def _too_large(request: Request, exc: OverflowError) -> Response:
        """SQLite's integers are 64-bit: a larger id in a path is an unknown id."""
        if "too large to convert to SQLite" in str(exc):
            return _answer(request, 404, "Not found", _NO_SUCH_ID)
        return await _unexpected(request, exc)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        """A number no row can have (PostgreSQL ids are 32-bit; the driver refuses 2**31)
        is an unknown id, not a server error; a database that cannot be used just now is a
        503. Anything else still is a server error."""
        if "out of int32 range" in str(exc) or "out of range for type integer" in str(exc):
            return _answer(request, 404, "Not found", _NO_SUCH_ID)
        reason = database_unavailable(exc)
        if reason is not None:
            return await _unavailable(request, exc, reason)
        if isinstance(
            exc.orig,
            asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError,
        ) or "invalid byte sequence" in str(exc):
            # Text the database cannot keep that reached it by a path with no schema (the
            # schemas refuse it first): bad input, and the write was rolled back.
            detail = "Text cannot contain a NUL or an unpaired surrogate character."
            return _answer(request, 422, _INVALID, detail)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Something went wrong", "The error has been logged. Nothing was saved.")
