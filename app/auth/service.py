"""Accounts, sign-in with lockout, browser sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.audit import service as audit
from app.auth.models import ROLES, ApiToken, User, UserSession
from app.auth.security import hash_password, new_token, token_digest, verify_password
from app.config import get_settings
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.wards.models import Ward

MIN_PASSWORD_LENGTH = 10


async def get_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(
        select(User).where(User.username == username).options(selectinload(User.wards))
    )
    if user is None:
        raise NotFound(f"There is no user called {username!r}.")
    return user


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    password: str,
    ward_codes: list[str],
    now: datetime,
    actor: User | None = None,
) -> User:
    errors = []
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if not username.strip():
        errors.append(FieldError("username", "must not be blank"))
    if role == "ward_staff" and not ward_codes:
        errors.append(FieldError("ward", "ward staff need at least one ward (--ward CODE)"))
    if errors:
        raise Invalid(errors)
    if await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"A user called {username!r} already exists.")
    wards = list(await session.scalars(select(Ward).where(Ward.code.in_(ward_codes))))
    missing = set(ward_codes) - {w.code for w in wards}
    if missing:
        raise NotFound(f"No ward with code {', '.join(sorted(missing))}.")
    user = User(
        username=username.strip(),
        role=role,
        password_hash=hash_password(password),
        created_at=now,
        active=True,
        failed_logins=0,
        wards=wards,
    )
    session.add(user)
    await audit.record(session, actor=actor, action="user.create", entity=user, at=now)
    return user


async def make_api_token(
    session: AsyncSession, *, user: User, now: datetime, actor: User | None = None
) -> str:
    """Make a token; only its hash is kept, so the caller must show it now or never."""
    token = new_token()
    row = ApiToken(token_hash=token_digest(token), user_id=user.id, created_at=now)
    session.add(row)
    await audit.record(session, actor=actor or user, action="api_token.create", entity=row, at=now)
    return token


@dataclass
class SignInResult:
    user: User | None
    cookie_value: str | None = None
    error: str | None = None


GENERIC_FAILURE = "The username or password is not right."


async def sign_in(
    session: AsyncSession, *, username: str, password: str, now: datetime
) -> SignInResult:
    settings = get_settings()
    user = await session.scalar(select(User).where(User.username == username.strip()))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        # Verify anyway so a locked account answers as slowly as any other.
        verify_password(user.password_hash, password)
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return SignInResult(
            None,
            error=(
                f"Too many failed attempts. This account is locked; try again in {minutes} minutes."
            ),
        )
    if (
        user is None
        or not user.active
        or not verify_password(user.password_hash if user else None, password)
    ):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= settings.max_failed_logins:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                await audit.record(session, actor=None, action="user.locked", entity=user, at=now)
        return SignInResult(None, error=GENERIC_FAILURE)
    user.failed_logins = 0
    user.locked_until = None
    cookie_value = new_token()
    session.add(
        UserSession(
            token_hash=token_digest(cookie_value),
            csrf_token=new_token(),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
        )
    )
    await audit.record(
        session,
        actor=user,
        action="user.sign_in",
        entity=user,
        at=now,
        after={"username": user.username},
    )
    return SignInResult(user, cookie_value=cookie_value)


async def resolve_session(
    session: AsyncSession, cookie_value: str, now: datetime, *, touch: bool = True
) -> tuple[User, UserSession] | None:
    """The signed-in user for a session cookie, or None if unknown, ended or idle too long.

    One statement: the session row with its (active) user and the user's wards, since
    every page asks this first."""
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    found = (
        (
            await session.execute(
                select(UserSession, User)
                .outerjoin(User, and_(User.id == UserSession.user_id, User.active.is_(True)))
                .where(
                    UserSession.token_hash == token_digest(cookie_value),
                    UserSession.ended_at.is_(None),
                )
                .options(joinedload(User.wards))
            )
        )
        .unique()
        .first()
    )
    if found is None:
        return None
    row, user = found
    if now - row.last_seen_at > idle:
        row.ended_at = now
        return None
    if user is None:
        return None
    # Touch at most once a minute: a board polling every few seconds need not write each time.
    if touch and now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
    return user, row


async def end_session(session: AsyncSession, cookie_value: str, now: datetime) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_digest(cookie_value))
        .values(ended_at=now)
    )


async def resolve_api_token(session: AsyncSession, token: str, now: datetime) -> User | None:
    """The (active) user of a bearer token, in one statement: the token is found by its
    SHA-256 (a unique index), never verified with a slow hash, since it is 256 random bits."""
    found = (
        (
            await session.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(
                    ApiToken.token_hash == token_digest(token),
                    ApiToken.revoked_at.is_(None),
                    User.active.is_(True),
                )
                .options(joinedload(User.wards))
            )
        )
        .unique()
        .first()
    )
    if found is None:
        return None
    row, user = found
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now
    return user
