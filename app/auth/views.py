"""Sign-in, sign-out and the account page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import service
from app.auth.models import ROLES, TOKEN_ROLES, User
from app.auth.security import check_password
from app.config import get_settings
from app.deps import SESSION_COOKIE, AccountUser, NowDep, SessionDep, client_address, commit
from app.errors import Conflict, Forbidden, Invalid
from app.forms import errors_from
from app.web import render

router = APIRouter()
LOGIN_CSRF_COOKIE = "wardflow_login_csrf"


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when the request came over HTTPS: directly, or through the
    reverse proxy uvicorn trusts (`forwarded_allow_ips`), whose X-Forwarded-Proto sets the
    scheme. WARDFLOW_COOKIE_SECURE=true makes them Secure always."""
    return get_settings().cookie_secure or request.url.scheme == "https"


def _safe_next(target: str | None, home: str = "/wards") -> str:
    # Only paths on this site: never send someone to another site after signing in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return home


def _home(role: str) -> str:
    """Where signing in lands when no page was asked for: bed managers work the whole
    trust's beds, an integration (service) account has only its account page, everyone
    else starts from the wards."""
    if role == "service":
        return "/account"
    return "/flow" if role == "bed_manager" else "/wards"


def _login_page(
    request: Request, *, next_: str, values: dict[str, str], error: str | None, status: int
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "auth/login.html",
        {"login_csrf": token, "next": next_, "values": values, "error": error},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next_=_safe_next(next, ""), values={}, error=None, status=200)


@router.post("/login")
async def login(
    request: Request,
    session: SessionDep,
    now: NowDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise Forbidden("The sign-in form had expired. Reload the page and try again.")
    result = await service.sign_in(
        session, username=username, password=password, now=now, client=client_address(request)
    )
    await commit(session)
    if result.user is None or result.cookie_value is None:
        return _login_page(
            request,
            next_=_safe_next(next, ""),
            values={"username": username},
            error=result.error,
            status=401,
        )
    response = RedirectResponse(_safe_next(next, _home(result.user.role)), status_code=303)
    secure = secure_cookies(request)
    response.set_cookie(
        SESSION_COOKIE,
        result.cookie_value,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.delete_cookie(
        LOGIN_CSRF_COOKIE, path="/login", secure=secure, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout")
async def logout(request: Request, user: AccountUser, session: SessionDep, now: NowDep) -> Response:
    await service.end_session(
        session,
        request.cookies.get(SESSION_COOKIE, ""),
        now,
        user=user,
        client=client_address(request),
    )
    await commit(session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=secure_cookies(request), httponly=True, samesite="lax"
    )
    return response


@router.get("/account", response_class=HTMLResponse)
async def account(
    request: Request, user: AccountUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    return await _account_page(request, session, user, now)


async def _account_page(
    request: Request,
    session: SessionDep,
    user: User,
    now: NowDep,
    *,
    token: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    settings = get_settings()
    response = render(
        request,
        "auth/account.html",
        {
            "role_name": ROLES.get(user.role, user.role),
            "wards": [w.code for w in user.wards] if user.role == "ward_staff" else [],
            "token": token,
            "tokens": await service.list_tokens(session, user),
            "may_make_tokens": user.role in TOKEN_ROLES,
            "token_days": settings.api_token_days,
            "token_cap": settings.api_tokens_per_user,
            "now": now,
            "values": values or {},
            "errors": errors or {},
            "message": message,
        },
        status_code=status,
    )
    # A new token is shown once: no cache may keep the page that shows it.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens", response_class=HTMLResponse)
async def make_token(
    request: Request,
    user: AccountUser,
    session: SessionDep,
    now: NowDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Admins and integration accounts make their own tokens, giving their password again
    (a session left open on a shared PC is not enough to make a key that outlives it)."""
    if user.role not in TOKEN_ROLES:
        raise Forbidden(
            "Only administrators and integration accounts make API tokens; "
            "ask an administrator if a system needs one."
        )
    values = {"name": name}
    errors: dict[str, str] = {}
    if not await check_password(user.password_hash, password):
        errors["password"] = "Your password is not right"  # noqa: S105 (a message)
    else:
        try:
            token = await service.make_api_token(session, user=user, now=now, name=name)
            await commit(session)
            return await _account_page(request, session, user, now, token=token)
        except Invalid as exc:
            errors.update(errors_from(exc))
        except Conflict as exc:
            errors["name"] = exc.detail
    # Nothing was written: the checks come before the token is added.
    return await _account_page(
        request, session, user, now, values=values, errors=errors, status=422
    )


@router.post("/account/tokens/{token_id}/revoke", response_class=HTMLResponse)
async def revoke_token(
    request: Request, token_id: int, user: AccountUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    row = await service.revoke_token(session, user=user, token_id=token_id, now=now)
    name = row.name
    await commit(session)
    return await _account_page(request, session, user, now, message=f"Token {name!r} revoked.")
