"""Users, their wards, browser sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.wards.models import Ward

ROLES: dict[str, str] = {
    "admin": "Administrator",
    "ward_staff": "Ward staff",
    "bed_manager": "Bed manager",
    "safeguarding_lead": "Rights and safeguarding lead",
    "director": "Director",
    # An integration's account: reads through the API with a token, never the pages.
    "service": "Integration (API only)",
}

# Roles that may make API tokens for themselves at /account: the ones that integrate.
# Ward staff on a shared PC must not be able to leave a never-ending key behind them.
TOKEN_ROLES = frozenset({"admin", "service"})

user_wards = Table(
    "user_wards",
    Base.metadata,
    Column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("ward_id", ForeignKey("wards.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'ward_staff', 'bed_manager', 'safeguarding_lead', 'director',"
            " 'service')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Unused since 0009 (an account lock let anyone lock anyone out): sign-in failures are
    # counted in sign_in_failures by client address. Kept so older code and data still load.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The demo seed's shared password is still set: flagged at start-up and to admins, and
    # cleared by any change of password.
    demo_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    wards: Mapped[list[Ward]] = relationship(secondary=user_wards, lazy="raise")


class UserSession(Base):
    """A signed-in browser. Server-side so it can end when idle and on sign-out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the random cookie value: a stolen database gives no live sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for the API: named, ending by itself, revocable by its holder."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Tokens are 256-bit random values, so a fast hash is enough (unlike passwords).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # What the holder calls it ("bed-state feed"), so they know which one to revoke.
    name: Mapped[str] = mapped_column(String(64), server_default="API token")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The address it was last used from: a use from another one is audited.
    last_client: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(Base):
    """One failed sign-in: by client address, and by the name typed there (known or not).

    Kept in the database, not in a worker's memory: with several workers each would count
    only its own share, and an attacker would get workers x the limit. Rows older than the
    window are of no use and are deleted as new ones come (nothing clinical here; the audit
    log keeps the failures)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    address: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
