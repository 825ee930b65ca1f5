"""Stored weekly reports: each an immutable snapshot of what was known when it was made, and
the email that carries it to the directors (retried until sent, so it may change)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

SCOPE_TYPES = ("trust", "site", "ward")


class ReportSnapshot(Base):
    """One week's report for one scope, as made then. The database refuses to change or
    delete it; the week's figures, trends and equality tables are in `data`, the PDF as sent."""

    __tablename__ = "report_snapshots"
    __table_args__ = (
        # One snapshot per week and scope: a rerun of the Monday job, or two schedulers,
        # cannot make a second. The trust's scope code is '' (NULLs would not collide).
        UniqueConstraint(
            "week_ending", "scope_type", "scope_code", name="uq_report_snapshots_week"
        ),
        CheckConstraint("scope_type IN ('trust', 'site', 'ward')", name="scope_type"),
        CheckConstraint("(scope_type = 'trust') = (scope_code = '')", name="scope_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    week_ending: Mapped[date] = mapped_column(Date, index=True)
    scope_type: Mapped[str] = mapped_column(String(8))
    scope_code: Mapped[str] = mapped_column(String(32), default="")
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # scheduler, cli or api
    trigger: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class ReportEmail(Base):
    """The email of one snapshot to the configured list: sent once, retried until it is."""

    __tablename__ = "report_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("report_snapshots.id"), unique=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
