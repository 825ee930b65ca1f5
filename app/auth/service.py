"""Accounts, sign-in with throttling, browser sessions and API tokens."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.audit import service as audit
from app.auth import passwords
from app.auth.models import ROLES, ApiToken, SignInFailure, User, UserSession
from app.auth.security import check_password, hash_password, new_token, token_digest
from app.config import get_settings
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.wards.models import Ward

log = logging.getLogger("wardflow.auth")
# The audit log's username column holds 64 characters; a typed name may be longer.
NAME_LIMIT = 64
UNKNOWN_CLIENT = "unknown"
# The one password of every account the demo seed makes (app.demo), public by design: kept
# here, where accounts still holding it are flagged. Demo data only: never production.
DEMO_PASSWORD = "wardflow-demo"  # noqa: S105 (documented demo password, not a secret)


async def get_user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(
        select(User).where(User.username == username).options(selectinload(User.wards))
    )
    if user is None:
        raise NotFound(f"There is no user called {username!r}.")
    return user


async def get_user_by_id(session: AsyncSession, user_id: int) -> User:
    user = await session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.wards))
    )
    if user is None:
        raise NotFound("There is no such user.")
    return user


def _password_error(password: str, username: str) -> FieldError | None:
    why = passwords.problem(password, username=username)
    return FieldError("password", why) if why else None


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    password: str,
    ward_codes: list[str],
    now: datetime,
    actor: User | None = None,
    demo: bool = False,
) -> User:
    """Add a person. `demo` is for the demo seed's known accounts only: their shared
    password is allowed past the breached/guessable check, and they are flagged (at
    start-up and to admins) until it is changed."""
    errors = []
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    if demo:
        if len(password) < passwords.MIN_LENGTH:
            errors.append(
                FieldError("password", f"must be at least {passwords.MIN_LENGTH} characters")
            )
    elif error := _password_error(password, username.strip()):
        errors.append(error)
    if not username.strip():
        errors.append(FieldError("username", "must not be blank"))
    elif len(username.strip()) > NAME_LIMIT:
        errors.append(FieldError("username", f"must be at most {NAME_LIMIT} characters"))
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
        demo_password=demo,
        wards=wards,
    )
    session.add(user)
    await audit.record(session, actor=actor, action="user.create", entity=user, at=now)
    return user


# --- account management -------------------------------------------------------------------


async def _end_access(session: AsyncSession, user: User, now: datetime) -> None:
    """End every browser session and revoke every token of this person, at once: the next
    request with any of them is refused (401)."""
    await session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def _active_admins(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    )
    return int(count or 0)


async def disable_user(
    session: AsyncSession, *, user: User, now: datetime, actor: User | None
) -> None:
    """Nobody signs in as this person any more; their sessions and tokens end now. The
    account stays (the audit log and clinical records name it)."""
    if user.role == "admin" and user.active and await _active_admins(session) <= 1:
        raise Conflict("This is the only active admin; enable or make another admin first.")
    before = audit.snapshot(user)
    user.active = False
    await _end_access(session, user, now)
    await audit.record(
        session, actor=actor, action="user.disable", entity=user, before=before, at=now
    )


async def enable_user(
    session: AsyncSession, *, user: User, now: datetime, actor: User | None
) -> None:
    before = audit.snapshot(user)
    user.active = True
    await audit.record(
        session, actor=actor, action="user.enable", entity=user, before=before, at=now
    )


async def set_password(
    session: AsyncSession, *, user: User, password: str, now: datetime, actor: User | None
) -> None:
    """A new password by the rule; every session and token of the person ends now (a
    password is changed because someone else may know it)."""
    if error := _password_error(password, user.username):
        raise Invalid([error])
    before = audit.snapshot(user)
    user.password_hash = hash_password(password)
    user.demo_password = False
    await _end_access(session, user, now)
    await audit.record(
        session, actor=actor, action="user.password", entity=user, before=before, at=now
    )


async def revoke_all_tokens(
    session: AsyncSession, *, user: User, now: datetime, actor: User | None
) -> int:
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    revoked = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await audit.record_event(
        session,
        actor=actor,
        action="api_token.revoke_all",
        entity_type="users",
        entity_id=user.id,
        details={"username": user.username, "revoked": revoked},
        at=now,
    )
    return revoked


@dataclass
class Account:
    user: User
    live_tokens: int


async def list_users(session: AsyncSession, now: datetime) -> list[Account]:
    """Everyone who can (or could) sign in, with how many live tokens each holds."""
    live = (
        select(ApiToken.user_id, func.count().label("n"))
        .where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .group_by(ApiToken.user_id)
        .subquery()
    )
    rows = await session.execute(
        select(User, func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .options(selectinload(User.wards))
        .order_by(User.username)
    )
    return [Account(user, int(n)) for user, n in rows.all()]


async def demo_accounts(session: AsyncSession) -> list[str]:
    """Active accounts still flagged as holding the demo seed's shared password."""
    names = await session.scalars(
        select(User.username)
        .where(User.demo_password.is_(True), User.active.is_(True))
        .order_by(User.username)
    )
    return list(names)


async def check_demo_passwords(session: AsyncSession) -> list[str]:
    """At start-up: which flagged accounts really still have the demo password (one argon2
    check each, for the few flagged); a flag whose password changed is cleared. Logs a
    warning naming those that still have it."""
    users = list(
        await session.scalars(
            select(User).where(User.demo_password.is_(True), User.active.is_(True))
        )
    )
    still = []
    for user in users:
        if await check_password(user.password_hash, DEMO_PASSWORD):
            still.append(user.username)
        else:
            user.demo_password = False
    if still:
        log.warning(
            "These accounts still have the demo password %r: change it (wardflow users passwd "
            "NAME --password-stdin) or disable them before real use: %s",
            DEMO_PASSWORD,
            ", ".join(still),
        )
    return still


# --- API tokens ------------------------------------------------------------------------------


async def live_token_count(session: AsyncSession, user: User, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    )
    return int(count or 0)


async def make_api_token(
    session: AsyncSession,
    *,
    user: User,
    now: datetime,
    actor: User | None = None,
    name: str = "API token",
    days: int | None = None,
) -> str:
    """Make a token; only its hash is kept, so the caller must show it now or never. It ends
    after `days` (default api_token_days), and a person holds at most api_tokens_per_user
    live ones. Who may make one is the caller's rule (the account page: admin and service
    roles, with their password; the command line: an admin at the server, for anyone)."""
    settings = get_settings()
    days = settings.api_token_days if days is None else days
    errors = []
    name = name.strip()
    if not name:
        errors.append(FieldError("name", "give the token a name, to know it by later"))
    elif len(name) > NAME_LIMIT:
        errors.append(FieldError("name", f"must be at most {NAME_LIMIT} characters"))
    if not 1 <= days <= 366:
        errors.append(FieldError("days", "must be between 1 and 366"))
    if errors:
        raise Invalid(errors)
    held = await live_token_count(session, user, now)
    if held >= settings.api_tokens_per_user:
        raise Conflict(
            f"{user.username} already holds {held} live API tokens, the most one person may; "
            "revoke one first."
        )
    token = new_token()
    row = ApiToken(
        token_hash=token_digest(token),
        user_id=user.id,
        name=name,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    await audit.record(session, actor=actor or user, action="api_token.create", entity=row, at=now)
    return token


async def list_tokens(session: AsyncSession, user: User) -> list[ApiToken]:
    """A person's tokens, newest first (the latest 50: live, expired and revoked)."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        .limit(50)
    )
    return list(rows)


async def revoke_token(
    session: AsyncSession, *, user: User, token_id: int, now: datetime
) -> ApiToken:
    """Revoke one of the person's own tokens; anyone else's is "not found"."""
    row = await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if row is None:
        raise NotFound("You have no such token.")
    if row.revoked_at is None:
        before = audit.snapshot(row)
        row.revoked_at = now
        await audit.record(
            session, actor=user, action="api_token.revoke", entity=row, before=before, at=now
        )
    return row


# --- signing in --------------------------------------------------------------------------


@dataclass
class SignInResult:
    user: User | None
    cookie_value: str | None = None
    error: str | None = None


GENERIC_FAILURE = "The username or password is not right."
THROTTLED = (
    "There have been too many failed sign-ins from this computer. "
    "Wait {minutes} minutes and try again, or ask an administrator."
)


async def sign_in(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    now: datetime,
    client: str = UNKNOWN_CLIENT,
) -> SignInResult:
    """Sign a person in, answering every failure alike whatever name was typed.

    Failures are counted by client address, not by account, so guessing from one address
    is slowed without anyone being able to lock a real person out of their own PC: after
    max_failed_logins for one name from one address, that name is refused there; after
    sign_in_address_limit for any names, the address is refused. Both are decided before
    the password is looked at, by counts that are the same for a real and a made-up name.
    The password is always checked with argon2 (against a dummy hash when the name is
    unknown or the account disabled), so the time taken does not tell either."""
    settings = get_settings()
    typed = username.strip()
    key = typed[:NAME_LIMIT]
    address = (client or UNKNOWN_CLIENT)[:NAME_LIMIT]
    window = timedelta(minutes=settings.lockout_minutes)
    from_address, for_name = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(SignInFailure.username == key),
            ).where(SignInFailure.address == address, SignInFailure.at > now - window)
        )
    ).one()
    user = await session.scalar(select(User).where(User.username == typed))
    if from_address >= settings.sign_in_address_limit or for_name >= settings.max_failed_logins:
        await _audit_failure(session, user, key, address, now, throttled=True)
        return SignInResult(None, error=THROTTLED.format(minutes=settings.lockout_minutes))
    known = user is not None and user.active
    # Always one argon2 verify: against the dummy hash when there is no such active account.
    good = await check_password(
        user.password_hash if user is not None and known else None, password
    )
    if user is None or not known or not good:
        # Old rows are of no use past the window: cleared as new ones come (index on at).
        await session.execute(delete(SignInFailure).where(SignInFailure.at <= now - window))
        session.add(SignInFailure(at=now, address=address, username=key))
        await _audit_failure(session, user, key, address, now, throttled=False)
        return SignInResult(None, error=GENERIC_FAILURE)
    # A good sign-in forgives this name's failures from this address (a mistyped password),
    # not the address's others: an attacker's own account cannot reset their count.
    await session.execute(
        delete(SignInFailure).where(SignInFailure.address == address, SignInFailure.username == key)
    )
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
        after={"username": user.username, "client": address},
    )
    return SignInResult(user, cookie_value=cookie_value)


async def _audit_failure(
    session: AsyncSession,
    user: User | None,
    typed: str,
    address: str,
    now: datetime,
    *,
    throttled: bool,
) -> None:
    """A failed sign-in in the audit log: the name as typed (truncated), the account it
    named if any, the client address. Never the password."""
    await audit.record_event(
        session,
        actor=None,
        username=typed or "(blank)",
        action="user.sign_in_failed",
        entity_type="users",
        entity_id=user.id if user is not None else "",
        details={"client": address, "throttled": throttled},
        at=now,
    )


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


async def end_session(
    session: AsyncSession,
    cookie_value: str,
    now: datetime,
    *,
    user: User | None = None,
    client: str = UNKNOWN_CLIENT,
) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.token_hash == token_digest(cookie_value))
        .values(ended_at=now)
    )
    if user is not None:
        await audit.record_event(
            session,
            actor=user,
            action="user.sign_out",
            entity_type="users",
            entity_id=user.id,
            details={"client": client[:NAME_LIMIT]},
            at=now,
        )


async def resolve_api_token(
    session: AsyncSession, token: str, now: datetime, *, client: str | None = None
) -> User | None:
    """The (active) user of a live bearer token, in one statement: the token is found by its
    SHA-256 (a unique index), never verified with a slow hash, since it is 256 random bits.
    A use from another client address than the last is audited (one insert)."""
    found = (
        (
            await session.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(
                    ApiToken.token_hash == token_digest(token),
                    ApiToken.revoked_at.is_(None),
                    ApiToken.expires_at > now,
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
    if client is not None and row.last_client != client[:NAME_LIMIT]:
        await audit.record_event(
            session,
            actor=user,
            action="api_token.new_client",
            entity_type="api_tokens",
            entity_id=row.id,
            details={"client": client[:NAME_LIMIT], "previous": row.last_client, "name": row.name},
            at=now,
        )
        row.last_client = client[:NAME_LIMIT]
        row.last_used_at = now
    return user
