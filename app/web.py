"""Templates, rendering helpers and security headers for the HTML pages."""

from __future__ import annotations

import base64
import hashlib
import math
import re
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.clock import local_tz
from app.config import PROJECT_ROOT, get_settings
from app.errors import problem

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
NHSUK = "/static/vendor/nhsuk-frontend"


def _local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(local_tz())


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
    # Only what every page shares: each domain adds its own code lists from its views
    # module (`templates.env.globals.update`), so this layer depends on no domain.
    env.globals.update(relative=relative, assetPath=f"{NHSUK}/assets")
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
        # For admins: accounts that still have the demo password (a banner on every page).
        "demo_accounts": getattr(request.state, "demo_accounts", ()),
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


# htmx events a saved form sends (HX-Trigger): pages showing what changed listen and refresh.
BOARD_CHANGED = "board-changed"  # a ward's board (templates/wards/_board.html)
FLOW_CHANGED = "flow-changed"  # bed flow's state and waiting list (templates/flow/_state.html)


def done(request: Request, message: str, *, trigger: str, redirect: str) -> Response:
    """After a saved form: htmx gets a notice for the panel and ``trigger`` fires (the board
    refreshes); without JavaScript, a 303 to ``redirect``."""
    if is_htmx(request):
        return render(
            request, "wards/_done.html", {"message": message}, headers={"HX-Trigger": trigger}
        )
    return RedirectResponse(redirect, status_code=303)


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


# The pages' policy: scripts, styles and everything else from this site only. No inline
# script at all (the NHS.UK template's one inline script is static/js-enabled.js), so no
# nonce and never 'unsafe-inline'; htmx runs with allowEval false (templates/base.html).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The API documentation (/docs) is Swagger UI served from static/vendor/swagger-ui
# (pinned; no CDN), started by an inline script allowed by its hash (worked out from the
# page itself), never by 'unsafe-inline'. It shows the API's shape, never patient data.
# Swagger UI sets inline styles, hence 'unsafe-inline' for styles on these pages only.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect")
DOCS_CSP = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


class BodyTooLarge(StarletteHTTPException):
    """Raised while reading a body past the limit: FastAPI lets HTTP errors through its body
    parsing, so the app's own 413 (problem+json or an error page) answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


def _script_hashes(body: bytes) -> str:
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body)
    )


class SecurityHeaders:
    """Headers on every response, and the request body limit (pure ASGI: cheap per request).

    Every response — pages, fragments, JSON, problems, redirects, static files, and the
    500 answer of an unexpected error — carries the CSP, nosniff, a referrer policy and no
    framing; over HTTPS, HSTS. Pages and API answers are `no-store` (a shared ward PC's
    back button must not show patient details after signing out); static files keep
    their caching.

    A body over `max_body_bytes` gets 413 before it is read whole: at once from its
    Content-Length, or, sent chunked without one, as soon as what has arrived passes the
    limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"
        static = path.startswith("/static/")
        docs = path in DOCS_PATHS
        started = False
        held: Message | None = None  # the docs' start, kept until the body is seen

        def decorate(message: Message, csp: str) -> None:
            headers = MutableHeaders(scope=message)
            headers.setdefault("content-security-policy", csp)
            for name, value in COMMON_HEADERS:
                headers.setdefault(name.decode(), value.decode())
            if https:
                headers.setdefault(HSTS[0].decode(), HSTS[1].decode())
            if not static:
                headers.setdefault("cache-control", "no-store")

        async def send_with_headers(message: Message) -> None:
            nonlocal started, held
            if message["type"] == "http.response.start":
                started = True
                if docs:
                    held = message
                    return
                decorate(message, CSP)
            elif held is not None and message["type"] == "http.response.body":
                # The docs pages are small and sent in one piece.
                decorate(held, DOCS_CSP.format(hashes=_script_hashes(message.get("body", b""))))
                await send(held)
                held = None
            await send(message)

        limit = get_settings().max_body_bytes
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._too_large(scope, receive, send_with_headers, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            # Read by something outside FastAPI's body parsing (or past its handlers).
            if started:
                raise
            await self._too_large(scope, receive, send_with_headers, limit)
        except Exception as exc:
            # Starlette answers an unexpected error outside every middleware, so without
            # this its 500 would go without the headers. Answer it here, with the app's
            # own handler (which logs it).
            if started:
                raise
            await self._unexpected(scope, receive, send_with_headers, exc)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """As the app answers its other errors: problem+json for the API, a page for people."""
        title, detail = "Request too large", f"The request body is larger than {limit} bytes."
        response: Response
        if scope["path"].startswith(("/api/", "/fhir/")):
            response = problem(413, title, detail)
        else:
            response = render_error(Request(scope, receive), 413, title, detail)
        await response(scope, receive, send)

    @staticmethod
    async def _unexpected(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        app = scope.get("app")
        handlers = getattr(app, "exception_handlers", {})
        handler = handlers.get(Exception) or handlers.get(500)
        if handler is None:
            response: Response = problem(500, "Something went wrong", "Nothing was saved.")
        else:
            response = await handler(Request(scope, receive), exc)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
