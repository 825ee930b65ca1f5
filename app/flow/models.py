"""Bed requests (the waiting list) and out-of-area placements with their reviews."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, register_constraint_messages
from app.flow.codes import BED_TYPES, OAP_OUTCOMES, OAP_REASONS, REQUEST_STATUSES
from app.sql import sql_in
from app.wards.codes import WARD_TYPES
from app.wards.models import Patient

WAITING = text("status = 'open'")
ACTIVE = text("ended_at IS NULL")

register_constraint_messages(
    {
        "uq_bed_requests_one_open_per_patient": "This person is already waiting for a bed.",
        "uq_out_of_area_placements_one_active_per_patient": (
            "This person already has an out-of-area placement open."
        ),
    }
)


class BedRequest(Base):
    """A decision to admit waiting for a bed. It closes when the person is admitted (here or
    out of area) or the request is cancelled; its waiting time runs from the decision."""

    __tablename__ = "bed_requests"
    __table_args__ = (
        # A person waits once: a second request while one is open is a mistake.
        Index(
            "uq_bed_requests_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=WAITING,
            postgresql_where=WAITING,
        ),
        Index("ix_bed_requests_open", "status", "decision_to_admit_at"),
        CheckConstraint(f"status IN ({sql_in(REQUEST_STATUSES)})", name="status"),
        CheckConstraint(f"ward_type IN ({sql_in(WARD_TYPES)})", name="ward_type"),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_when_not_open"),
        CheckConstraint(
            "closed_at IS NULL OR closed_at >= decision_to_admit_at", name="closes_after_decision"
        ),
        CheckConstraint(
            "(status = 'admitted') = (admission_id IS NOT NULL)", name="admitted_has_admission"
        ),
        CheckConstraint(
            "status <> 'cancelled' OR length(trim(coalesce(cancel_reason, ''))) > 0",
            name="cancel_reason_given",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    decision_to_admit_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ward_type: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    admission_id: Mapped[int | None] = mapped_column(
        ForeignKey("admissions.id"), unique=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the request was last closed (or reopened) in the service, for incremental rule runs.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    patient: Mapped[Patient] = relationship(lazy="raise")


class OutOfAreaPlacement(Base):
    """A person placed with a provider outside the trust's area because no suitable local
    bed could be used; the distance from home is kept as it was when they were placed."""

    __tablename__ = "out_of_area_placements"
    __table_args__ = (
        Index(
            "uq_out_of_area_placements_one_active_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        Index("ix_out_of_area_placements_active", "ended_at", "started_at"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("distance_km >= 0", name="distance_not_negative"),
        CheckConstraint("daily_cost IS NULL OR daily_cost >= 0", name="daily_cost_not_negative"),
        CheckConstraint(f"reason_code IN ({sql_in(OAP_REASONS)})", name="reason_code"),
        CheckConstraint(f"bed_type IN ({sql_in(BED_TYPES)})", name="bed_type"),
        CheckConstraint(f"outcome IS NULL OR outcome IN ({sql_in(OAP_OUTCOMES)})", name="outcome"),
        CheckConstraint("(ended_at IS NULL) = (outcome IS NULL)", name="ended_has_outcome"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint("length(trim(provider_name)) > 0", name="provider_name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    bed_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("bed_requests.id"), unique=True, index=True
    )
    provider_name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float)
    bed_type: Mapped[str] = mapped_column(String(3))
    reason_code: Mapped[str] = mapped_column(String(2))
    daily_cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    patient: Mapped[Patient] = relationship(lazy="raise")
    reviews: Mapped[list[PlacementReview]] = relationship(
        lazy="raise", order_by="PlacementReview.at"
    )


class PlacementReview(Base):
    __tablename__ = "out_of_area_reviews"
    __table_args__ = (
        CheckConstraint("length(trim(note)) > 0", name="note_not_blank"),
        Index("ix_out_of_area_reviews_placement_at", "placement_id", "at"),
        Index("ix_out_of_area_reviews_recorded_at", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("out_of_area_placements.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
