"""Clinically ready for discharge: periods when a person no longer needs hospital but
cannot leave yet, each with its MHSDS v6 reason and the agency the delay is down to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, register_constraint_messages
from app.discharge.codes import ATTRIBUTABLE_TO, DELAY_REASONS
from app.sql import sql_in

OPEN = text("ended_at IS NULL")

register_constraint_messages(
    {
        "uq_ready_for_discharge_one_open_per_admission": (
            "A ready-for-discharge period is already open for this admission."
        ),
        # Raised by the admissions table's trigger while a period is open.
        "ready_for_discharge_open": "End the ready-for-discharge period at discharge.",
    }
)


class ReadyForDischarge(Base):
    __tablename__ = "ready_for_discharge"
    __table_args__ = (
        Index(
            "uq_ready_for_discharge_one_open_per_admission",
            "admission_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        Index("ix_ready_for_discharge_open", "ended_at", "started_at"),
        CheckConstraint(f"reason_code IN ({sql_in(DELAY_REASONS)})", name="reason_code"),
        CheckConstraint(f"attributable_to IN ({sql_in(ATTRIBUTABLE_TO)})", name="attributable_to"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason_code: Mapped[str] = mapped_column(String(2))
    attributable_to: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when the period is ended, for incremental rule runs (a late-recorded end).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
