"""Mental Health Act records (MHA.md §2).

A detention period is a legal status change (app/wards/models.py LegalStatusChange): the
legal status history is the record of which provision held the person from when, so the
periods are not copied into a second table that could disagree with it. What the Act
adds to a period is kept here, keyed by it: when its clock starts (`clock_start_day` on
the change), its renewals; and, per admission, the rights given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.mha.codes import (
    CERTIFICATE_FORMS,
    PLACE_OF_SAFETY_OUTCOMES,
    PLACE_OF_SAFETY_SECTIONS,
    PLACE_TYPES,
    RIGHTS_KINDS,
    TRIBUNAL_EVENT_KINDS,
    UNDERSTOOD,
)
from app.sql import sql_in


class Renewal(Base):
    """A renewal report (Form H5 for s.3 and s.37; CTO7 for a CTO): the examination in the
    two-month window, the other professional's agreement (s.20(5A)), and when it was
    furnished to the managers, which is what extends the authority (s.20(3), (8))."""

    __tablename__ = "mha_renewals"
    __table_args__ = (
        CheckConstraint("furnished_at >= examined_at", name="furnished_after_examination"),
        CheckConstraint("furnished_at >= agreed_at", name="furnished_after_agreement"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The legal status change that opened the period renewed.
    period_id: Mapped[int] = mapped_column(ForeignKey("legal_status_changes.id"), index=True)
    examined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    furnished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RightsGiven(Base):
    """Information given to the person about their rights (s.132, s.132A, s.130D)."""

    __tablename__ = "mha_rights"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(RIGHTS_KINDS)})", name="kind"),
        CheckConstraint(f"understood IN ({sql_in(UNDERSTOOD)})", name="understood"),
        CheckConstraint("oral OR written", name="given_somehow"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    oral: Mapped[bool] = mapped_column(Boolean)
    written: Mapped[bool] = mapped_column(Boolean)
    understood: Mapped[str] = mapped_column(String(8))
    nearest_relative_copy_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nearest_relative_copy_declined: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TribunalEvent(Base):
    """An application to the tribunal, a managers' reference, or a hearing (s.66, s.68)."""

    __tablename__ = "mha_tribunal_events"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(TRIBUNAL_EVENT_KINDS)})", name="kind"),
        CheckConstraint(
            "withdrawn_at IS NULL OR (kind = 'application' AND withdrawn_at >= at)",
            name="withdrawn_application",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An application withdrawn counts as never made (s.68(4)).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class MedicineStart(Base):
    """The first medicine for mental disorder given in a period of liability: the
    three-month rule's clock (s.58(1)(b))."""

    __tablename__ = "mha_medicine_starts"

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Certificate(Base):
    """A consent-to-treatment certificate (T2 or T3) and, once it no longer holds (consent
    withdrawn, capacity changed, s.60), when it fell."""

    __tablename__ = "mha_certificates"
    __table_args__ = (
        CheckConstraint(f"form IN ({sql_in(CERTIFICATE_FORMS)})", name="form"),
        CheckConstraint("fallen_at IS NULL OR fallen_at >= issued_at", name="falls_after_issue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    form: Mapped[str] = mapped_column(String(4))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    covers: Mapped[str] = mapped_column(Text)
    fallen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PlaceOfSafetyEpisode(Base):
    """A person taken to a place of safety under s.135 or s.136: they may never reach a
    ward, so the episode belongs to the person, not to an admission. 24 hours from arrival,
    plus an extension of up to 12 hours authorised before those ran out (s.136B)."""

    __tablename__ = "mha_place_of_safety_episodes"
    __table_args__ = (
        CheckConstraint(f"section IN ({sql_in(PLACE_OF_SAFETY_SECTIONS)})", name="section"),
        CheckConstraint(f"place_type IN ({sql_in(PLACE_TYPES)})", name="place_type"),
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({sql_in(PLACE_OF_SAFETY_OUTCOMES)})", name="outcome"
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= arrived_at", name="ends_after_arrival"),
        CheckConstraint("(ended_at IS NULL) = (outcome IS NULL)", name="end_has_outcome"),
        CheckConstraint(
            "extension_hours IS NULL OR (extension_hours > 0 AND extension_hours <= 12)",
            name="extension_at_most_12_hours",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    section: Mapped[str] = mapped_column(String(8))
    place_type: Mapped[str] = mapped_column(String(24))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    extension_authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_hours: Mapped[float | None] = mapped_column(Float)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
