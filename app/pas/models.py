"""What the PAS feed keeps: every message with its ACK, held (out-of-order) messages,
the admin's location mappings and the PAS's own patient numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

ACK_CODES = ("AA", "AE", "AR")
# applied: it changed what it says; ignored: a type we do not act on (acknowledged);
# held: out of order, waiting for the message it needs; error: refused (AE, or a held one
# that was never applied); rejected: could not be parsed (AR).
OUTCOMES = ("applied", "ignored", "held", "error", "rejected")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class PasMessage(Base):
    """One message as received, once per control id (MSH-10) of a sending application and
    facility: a resend finds this row and gets the same ACK back."""

    __tablename__ = "pas_messages"
    __table_args__ = (
        UniqueConstraint(
            "sending_application",
            "sending_facility",
            "control_id",
            name="uq_pas_messages_control_id",
        ),
        CheckConstraint(f"ack_code IN ({_in(ACK_CODES)})", name="ack_code"),
        CheckConstraint(f"outcome IN ({_in(OUTCOMES)})", name="outcome"),
        Index("ix_pas_messages_outcome_received_at", "outcome", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sending_application: Mapped[str] = mapped_column(String(180), default="")
    sending_facility: Mapped[str] = mapped_column(String(180), default="")
    # A message that cannot be parsed has no control id to trust: it is logged under one
    # of its own ("unparsed:" and a random token), so it never answers for another.
    control_id: Mapped[str] = mapped_column(String(199))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    message_type: Mapped[str] = mapped_column(String(16), default="")
    event: Mapped[str] = mapped_column(String(16), default="")
    version: Mapped[str] = mapped_column(String(16), default="")
    event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    ack: Mapped[str] = mapped_column(Text)
    ack_code: Mapped[str] = mapped_column(String(2))
    outcome: Mapped[str] = mapped_column(String(16))
    # What it changed: {"patient_id": ..., "admission_id": ..., "actions": [...]}.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasHeldMessage(Base):
    """A message that arrived before what it needs (a transfer before its admission):
    retried after each message that applies, reported once it has waited too long."""

    __tablename__ = "pas_held_messages"
    __table_args__ = (
        CheckConstraint(
            "resolution IS NULL OR resolution IN ('applied', 'expired', 'error')",
            name="resolution",
        ),
        CheckConstraint(
            "(resolved_at IS NULL) = (resolution IS NULL)", name="resolved_has_resolution"
        ),
        Index("ix_pas_held_messages_open", "resolved_at", "held_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("pas_messages.id"), unique=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(16))


class PasLocation(Base):
    """An admin's mapping of a PAS location (PV1-3 point of care, and bed) to a ward and
    bed, for codes that differ from Wardflow's. ``pas_bed`` "" maps the whole point of care
    to a ward (the PAS bed is then the bed label)."""

    __tablename__ = "pas_locations"
    __table_args__ = (
        UniqueConstraint("point_of_care", "pas_bed", name="uq_pas_locations_point_of_care"),
        CheckConstraint("length(trim(point_of_care)) > 0", name="point_of_care_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    point_of_care: Mapped[str] = mapped_column(String(64))
    pas_bed: Mapped[str] = mapped_column(String(64), default="")
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), index=True)
    bed_label: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PasPatientNumber(Base):
    """The PAS's local patient number (PID-3, not type NH) for a person Wardflow holds."""

    __tablename__ = "pas_patient_numbers"
    __table_args__ = (
        UniqueConstraint("assigning_authority", "number", name="uq_pas_patient_numbers_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assigning_authority: Mapped[str] = mapped_column(String(64), default="")
    number: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
