"""Request dependencies: the session, the clock, and who is asking."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.models import User
from app.clock import get_now
from app.db import commit as commit  # re-exported: handlers commit with deps.commit
from app.db import get_session
from app.errors import Forbidden, Unauthorised

SESSION_COOKIE = "wardflow_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

SessionDep = Annotated[AsyncSession, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as pages show it. A plain copy: a refused request rolls its
    session back (expiring every record), and the error page must still say who you are."""

    username: str
    role: str


def client_address(request: Request) -> str:
    """Who is calling, as far as the server can tell: the connecting address, or the one
    the trusted reverse proxy (WARDFLOW_FORWARDED_ALLOW_IPS) put in X-Forwarded-For, which
    uvicorn has already made the client's."""
    return request.client.host if request.client else auth_service.UNKNOWN_CLIENT


def _remember(request: Request, user: User) -> None:
    request.state.user = user
    request.state.viewer = Viewer(user.username, user.role)


class LoginRequired(Exception):
    """A page needs a signed-in person; answered with a redirect to /login."""


async def _keep_touch(session: AsyncSession) -> None:
    """Commit what finding the caller wrote (a session's or token's last use, an idle
    session ended) so it stands whatever the request does next. Most requests write
    nothing here, and then no commit is sent (a commit and a new transaction are two
    round trips, on every request)."""
    if session.dirty or session.new or session.deleted:
        await session.commit()


async def _user_from_cookie(request: Request, session: AsyncSession, now: datetime) -> User | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    # The board's own refresh is not a person using Wardflow: it must not keep an
    # unattended ward PC signed in past the idle limit.
    touch = request.query_params.get("refresh") != "1"
    resolved = await auth_service.resolve_session(session, cookie, now, touch=touch)
    if resolved is None:
        return None
    user, user_session = resolved
    request.state.csrf_token = user_session.csrf_token
    return user


async def _check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    expected = getattr(request.state, "csrf_token", None)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)  # type: ignore[assignment]
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise Forbidden(
            "The form had expired or did not come from Wardflow. Reload the page and try again."
        )


async def api_user(request: Request, session: SessionDep, now: NowDep) -> User:
    """API callers: a bearer token, or a browser session (which must also send its CSRF token)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = await auth_service.resolve_api_token(
            session, header[7:].strip(), now, client=client_address(request)
        )
        if user is None:
            raise Unauthorised("The API token is not valid.")
        await _keep_touch(session)
        _remember(request, user)
        return user
    user = await _user_from_cookie(request, session, now)
    if user is None:
        raise Unauthorised("Sign in, or send Authorization: Bearer <token>.")
    await _check_csrf(request)
    await _keep_touch(session)
    _remember(request, user)
    return user


async def account_user(request: Request, session: SessionDep, now: NowDep) -> User:
    """Anyone signed in, integration (service) accounts included: for their own account
    page (their tokens) and signing out. Admins are also told of any account that still
    has the demo password."""
    user = await _user_from_cookie(request, session, now)
    await _keep_touch(session)
    if user is None:
        raise LoginRequired()
    await _check_csrf(request)
    _remember(request, user)
    if user.role == "admin":
        request.state.demo_accounts = await auth_service.demo_accounts(session)
    return user


async def page_user(request: Request, session: SessionDep, now: NowDep) -> User:
    """A person using the pages. An integration (service) account reads through the API
    only: its pages are its account page and signing out."""
    user = await account_user(request, session, now)
    if user.role == "service":
        raise Forbidden(
            "This is an integration account: it uses the API with a token, not these pages."
        )
    return user


ApiUser = Annotated[User, Depends(api_user)]
AccountUser = Annotated[User, Depends(account_user)]
PageUser = Annotated[User, Depends(page_user)]
