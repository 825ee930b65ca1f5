"""Templates, rendering helpers and security headers for the HTML pages."""

from __future__ import annotations

import math
import secrets
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from app.config import PROJECT_ROOT, get_settings
from app.segregation import codes as segregation_codes
from app.segregation import force_checks
from app.wards import codes

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
NHSUK = "/static/vendor/nhsuk-frontend"


def _local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(get_settings().timezone))


def format_datetime(value: datetime | None) -> str:
    """People read Europe/London: '3 Mar 2026, 14:05'."""
    local = _local(value)
    return "" if local is None else f"{local.day} {local:%b %Y, %H:%M}"


def format_date(value: date | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y}"


def input_datetime(value: datetime | None) -> str:
    """The value of a datetime-local input, in local time."""
    local = _local(value)
    return "" if local is None else f"{local:%Y-%m-%dT%H:%M}"


def format_time(value: datetime | None) -> str:
    local = _local(value)
    return "" if local is None else f"{local:%H:%M}"


def format_duration(minutes: int | None) -> str:
    """'45 min', '3 h 20 min', '2 days 4 h': how long someone has been secluded."""
    if minutes is None:
        return ""
    days, rest = divmod(max(0, minutes), 24 * 60)
    hours_, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours_} h" if hours_ else "")
    if hours_:
        return f"{hours_} h" + (f" {mins} min" if mins else "")
    return f"{mins} min"


def relative(due: datetime | None, now: datetime) -> str:
    """'in 25 min', 'due now' or '10 min overdue', to the minute, for countdowns."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    if seconds > 0:
        return f"in {format_duration(math.ceil(seconds / 60))}"
    minutes = int(-seconds // 60)
    return "due now" if minutes == 0 else f"{format_duration(minutes)} overdue"


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(TEMPLATES_DIR)), PackageLoader("nhsuk_frontend_jinja")]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        datetime=format_datetime,
        date=format_date,
        time=format_time,
        duration=format_duration,
        input_datetime=input_datetime,
    )
    env.globals.update(
        LEGAL_STATUSES=codes.LEGAL_STATUSES,
        WARD_TYPES=codes.WARD_TYPES,
        WARD_SEXES=codes.WARD_SEXES,
        PATIENT_SEXES=codes.PATIENT_SEXES,
        ETHNIC_CATEGORIES=codes.ETHNIC_CATEGORIES,
        DISCHARGE_DESTINATIONS=codes.DISCHARGE_DESTINATIONS,
        SECLUSION_REVIEW_KINDS=segregation_codes.SECLUSION_REVIEW_KINDS,
        SEGREGATION_REVIEW_KINDS=segregation_codes.SEGREGATION_REVIEW_KINDS,
        AUTHORISED_BY_ROLES=segregation_codes.AUTHORISED_BY_ROLES,
        DUE_LABELS=segregation_codes.DUE_LABELS,
        RULE_TITLES=segregation_codes.RULE_TITLES,
        INTERVENTION_TYPES=segregation_codes.INTERVENTION_TYPES,
        INTERVENTION_REASONS=segregation_codes.INTERVENTION_REASONS,
        INTERVENTION_TYPE_GROUPS=segregation_codes.INTERVENTION_TYPE_GROUPS,
        FORCE_MISSING_LABELS=force_checks.MISSING_LABELS,
        force_missing_items=force_checks.missing_items,
        relative=relative,
        assetPath=f"{NHSUK}/assets",
    )
    return env


templates = Jinja2Templates(env=_environment())


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = {
        "request": request,
        "user": getattr(request.state, "viewer", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "cspNonce": getattr(request.state, "csp_nonce", ""),
        # Forms submit in place (htmx) only when shown inside the board's panel.
        "htmx": is_htmx(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=headers
    )
    # One URL serves a page or, for htmx, its fragment: caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


def page_or_fragment(
    request: Request,
    page: str,
    fragment: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        fragment if is_htmx(request) else page,
        context,
        status_code=status_code,
        headers=headers,
    )


def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    if is_htmx(request):
        return render(
            request,
            "_error.html",
            {"title": title, "detail": detail, "status": status},
            status_code=status,
        )
    return render(
        request,
        "error.html",
        {"title": title, "detail": detail, "status": status},
        status_code=status,
    )


class SecurityHeaders(BaseHTTPMiddleware):
    """CSP with a per-request nonce (the NHS.UK page template's one inline script), no framing."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        nonce = secrets.token_urlsafe(16)
        request.state.csp_nonce = nonce
        response = await call_next(request)
        if request.url.path in ("/docs", "/redoc"):
            # FastAPI's API docs load their own scripts; they hold no patient data.
            return response
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
