"""Seclusion and long-term segregation episodes with their reviews and observations.

Nothing here is ever deleted (the database refuses it). Use-of-force records are in
app/segregation/force/models.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, register_constraint_messages
from app.segregation.codes import (
    AUTHORISED_BY_ROLES,
    REVIEW_OUTCOMES,
    SECLUSION_REVIEW_KINDS,
    SEGREGATION_REVIEW_KINDS,
)
from app.sql import sql_in

OPEN = text("ended_at IS NULL")

register_constraint_messages(
    {
        "uq_seclusions_one_open_per_admission": "A seclusion is already open for this admission.",
        "uq_segregations_one_open_per_admission": (
            "A segregation is already open for this admission."
        ),
        "review_outside_episode": "A review must fall inside its episode.",
        "observation_outside_episode": "An observation must fall inside its seclusion.",
        "episode_outside_admission": "An episode must fall inside its admission.",
        # Raised by the admissions table's trigger, because of these episodes.
        "discharge_while_restricted": (
            "Seclusion or segregation is still open: end it before discharge."
        ),
    }
)


class Seclusion(Base):
    __tablename__ = "seclusions"
    __table_args__ = (
        Index(
            "uq_seclusions_one_open_per_admission",
            "admission_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint(
            f"authorised_by_role IN ({sql_in(AUTHORISED_BY_ROLES)})", name="authorised_by_role"
        ),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
        Index("ix_seclusions_open", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authorised_by_role: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    end_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reviews: Mapped[list[SeclusionReview]] = relationship(
        lazy="raise", order_by="SeclusionReview.at"
    )
    observations: Mapped[list[SeclusionObservation]] = relationship(
        lazy="raise", order_by="SeclusionObservation.at"
    )


class SeclusionReview(Base):
    __tablename__ = "seclusion_reviews"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(SECLUSION_REVIEW_KINDS)})", name="kind"),
        CheckConstraint(
            f"outcome IS NULL OR outcome IN ({sql_in(REVIEW_OUTCOMES)})", name="outcome"
        ),
        CheckConstraint("length(trim(note)) > 0", name="note_not_blank"),
        Index("ix_seclusion_reviews_seclusion_at", "seclusion_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seclusion_id: Mapped[int] = mapped_column(ForeignKey("seclusions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SeclusionObservation(Base):
    __tablename__ = "seclusion_observations"
    __table_args__ = (
        CheckConstraint("length(trim(note)) > 0", name="note_not_blank"),
        Index("ix_seclusion_observations_seclusion_at", "seclusion_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seclusion_id: Mapped[int] = mapped_column(ForeignKey("seclusions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Segregation(Base):
    __tablename__ = "segregations"
    __table_args__ = (
        Index(
            "uq_segregations_one_open_per_admission",
            "admission_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint(
            "commissioner_informed_at IS NULL OR commissioner_informed_at >= started_at",
            name="commissioner_after_start",
        ),
        CheckConstraint(
            "imha_informed_at IS NULL OR imha_informed_at >= started_at",
            name="imha_after_start",
        ),
        Index("ix_segregations_open", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    end_note: Mapped[str | None] = mapped_column(Text)
    commissioner_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imha_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when segregation began as the seclusion it follows ended (one action).
    from_seclusion_id: Mapped[int | None] = mapped_column(ForeignKey("seclusions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When it was last written (started, notifications recorded or corrected, ended): a
    # windowed rule run judges again what changed since its previous run.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    reviews: Mapped[list[SegregationReview]] = relationship(
        lazy="raise", order_by="SegregationReview.at"
    )


class SegregationReview(Base):
    __tablename__ = "segregation_reviews"
    __table_args__ = (
        CheckConstraint(f"kind IN ({sql_in(SEGREGATION_REVIEW_KINDS)})", name="kind"),
        CheckConstraint("length(trim(note)) > 0", name="note_not_blank"),
        Index("ix_segregation_reviews_segregation_at", "segregation_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segregation_id: Mapped[int] = mapped_column(ForeignKey("segregations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
