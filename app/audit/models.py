"""The append-only audit log: every write, who, when, what, before and after.

Entries are written without any lock; a seal step (`app/audit/chain.py`) later gives each,
in id order, its place in a hash chain (`seq`, `hash`), and records each seal in
`audit_seals`. The database refuses any change to an entry except that one sealing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

UNSEALED = text("seq IS NULL")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("uq_audit_log_seq", "seq", unique=True),
        # The seal reads the unsealed entries; they are few, so a partial index stays small.
        Index(
            "ix_audit_log_unsealed",
            "id",
            sqlite_where=UNSEALED,
            postgresql_where=UNSEALED,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Kept as text too, so the entry reads the same if the account is renamed.
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Set once by the seal: the place in the chain and sha256(previous hash + this entry).
    seq: Mapped[int | None] = mapped_column(BigInteger)
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditSeal(Base):
    """One seal run that sealed something: the chain's head after it. Append-only, so that
    removing the newest entries (which leaves the rest of the chain intact) is still seen."""

    __tablename__ = "audit_seals"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    last_hash: Mapped[str] = mapped_column(String(64))
