"""The admin's page of accounts: list, disable, enable, set a password, revoke tokens.

The same service functions as `wardflow users ...`, so the page and the command line
agree. Disabling and a new password end the person's sessions and tokens at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from app.auth import service
from app.auth.access import require_admin
from app.auth.models import ROLES, User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Conflict, Invalid
from app.forms import errors_from
from app.web import render

router = APIRouter()


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    require_admin(user, "manage accounts")
    accounts = await service.list_users(session, now)
    return render(
        request,
        "admin/users.html",
        {"accounts": accounts, "roles": ROLES, "active": "users"},
    )


async def _user_page(
    request: Request,
    session: SessionDep,
    now: NowDep,
    person: User,
    *,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/user.html",
        {
            "person": person,
            "role_name": ROLES.get(person.role, person.role),
            "live_tokens": await service.live_token_count(session, person, now),
            "message": message,
            "errors": errors or {},
            "active": "users",
        },
        status_code=status,
    )


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
async def user_page(
    request: Request, user_id: int, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    require_admin(user, "manage accounts")
    person = await service.get_user_by_id(session, user_id)
    return await _user_page(request, session, now, person)


@router.post("/admin/users/{user_id}/disable", response_class=HTMLResponse)
async def disable(
    request: Request, user_id: int, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    require_admin(user, "manage accounts")
    person = await service.get_user_by_id(session, user_id)
    try:
        await service.disable_user(session, user=person, now=now, actor=user)
    except Conflict as exc:
        return await _user_page(
            request, session, now, person, errors={"active": exc.detail}, status=409
        )
    await commit(session)
    message = f"{person.username} is disabled; their sessions and tokens have ended."
    return await _user_page(request, session, now, person, message=message)


@router.post("/admin/users/{user_id}/enable", response_class=HTMLResponse)
async def enable(
    request: Request, user_id: int, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    require_admin(user, "manage accounts")
    person = await service.get_user_by_id(session, user_id)
    await service.enable_user(session, user=person, now=now, actor=user)
    await commit(session)
    return await _user_page(
        request, session, now, person, message=f"{person.username} can sign in again."
    )


@router.post("/admin/users/{user_id}/revoke-tokens", response_class=HTMLResponse)
async def revoke_tokens(
    request: Request, user_id: int, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    require_admin(user, "manage accounts")
    person = await service.get_user_by_id(session, user_id)
    revoked = await service.revoke_all_tokens(session, user=person, now=now, actor=user)
    await commit(session)
    message = f"{revoked} token{'s' if revoked != 1 else ''} of {person.username} revoked."
    return await _user_page(request, session, now, person, message=message)


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
async def set_password(
    request: Request,
    user_id: int,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
    password: Annotated[str, Form()] = "",
) -> HTMLResponse:
    require_admin(user, "manage accounts")
    person = await service.get_user_by_id(session, user_id)
    try:
        await service.set_password(session, user=person, password=password, now=now, actor=user)
    except Invalid as exc:
        return await _user_page(request, session, now, person, errors=errors_from(exc), status=422)
    await commit(session)
    message = f"{person.username} has a new password; their sessions and tokens have ended."
    return await _user_page(request, session, now, person, message=message)
