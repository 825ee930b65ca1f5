"""Errors as application/problem+json (RFC 9457) for the API, and as pages for people."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.deps import LoginRequired
from app.errors import DomainError, FieldError, Invalid

log = logging.getLogger("wardflow")

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


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/fhir/"))


def install(app: FastAPI) -> None:
    from app.web import render_error

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
        if _wants_page(request):
            return render_error(request, exc.status, exc.title, exc.detail)
        return problem(exc.status, exc.title, exc.detail, errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = field_errors(list(exc.errors()))
        detail = "; ".join(f"{e.field} {e.message}" for e in errors)
        if _wants_page(request):
            return render_error(request, 422, "Some details need correcting", detail)
        return problem(422, "Some details need correcting", detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(
            exc.status_code, "Error"
        )
        detail = str(exc.detail) if exc.detail else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        if _wants_page(request):
            return render_error(request, exc.status_code, title, detail)
        return problem(exc.status_code, title, detail)

    @app.exception_handler(OperationalError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(OSError)
    async def _unavailable(request: Request, exc: Exception) -> Response:
        log.error("database unavailable: %s", exc)
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated and "locked" in str(exc):
            detail = "The database is busy. Try again in a moment."
        else:
            detail = "The database cannot be reached. Nothing was saved; try again shortly."
        return problem(503, "Service unavailable", detail)

    @app.exception_handler(DBAPIError)
    async def _refused_value(request: Request, exc: DBAPIError) -> Response:
        """A number no row can have (PostgreSQL ids are 32-bit; the driver refuses 2**31)
        is an unknown id, not a server error. Anything else still is one."""
        if "out of int32 range" in str(exc) or "out of range for type integer" in str(exc):
            detail = "No record has that id."
            if _wants_page(request):
                return render_error(request, 404, "Not found", detail)
            return problem(404, "Not found", detail)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Something went wrong", "The error has been logged. Nothing was saved.")
