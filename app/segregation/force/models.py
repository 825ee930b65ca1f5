"""Use-of-force records (restrictive interventions) with their types, staff and versions.

Nothing here is ever deleted (the database refuses it): a mistake in a use-of-force record
is corrected by a new version that says who and why; its replaced types and staff are
retired, not removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime
from app.segregation.codes import INTERVENTION_REASONS, INTERVENTION_TYPES
from app.sql import sql_in


class RestrictiveIntervention(Base):
    """A use of force, with what the Use of Force Act 2018 s.6(5) requires a record to hold.

    The Act's items may be missing at first (staff finish the record after the incident);
    RI_RECORD_INCOMPLETE checks them. Patient name, NHS number, characteristics and
    learning disability or autism come from the patient's record; the place from the ward.
    """

    __tablename__ = "restrictive_interventions"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        CheckConstraint(
            f"reason_code IS NULL OR reason_code IN ({sql_in(INTERVENTION_REASONS)})",
            name="reason_code",
        ),
        CheckConstraint("debriefed_at IS NULL OR debriefed_at >= started_at", name="debrief_after"),
        Index("ix_restrictive_interventions_started_at", "started_at"),
        Index("ix_restrictive_interventions_ended_at", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    # The ward the person was on when it happened (the Act's "place").
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), index=True)
    place: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason_code: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(Text)
    in_care_plan: Mapped[bool | None] = mapped_column(Boolean)
    non_unit_staff_reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    avoidance_efforts: Mapped[str | None] = mapped_column(Text)
    patient_injury: Mapped[bool | None] = mapped_column(Boolean)
    staff_injury: Mapped[bool | None] = mapped_column(Boolean)
    care_plan_notification_sent: Mapped[bool | None] = mapped_column(Boolean)
    debriefed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    types: Mapped[list[InterventionType]] = relationship(
        lazy="raise",
        order_by="InterventionType.id",
        primaryjoin="and_(InterventionType.intervention_id == RestrictiveIntervention.id, "
        "InterventionType.retired_at.is_(None))",
        viewonly=True,
    )
    staff: Mapped[list[InterventionStaff]] = relationship(
        lazy="raise",
        order_by="InterventionStaff.id",
        primaryjoin="and_(InterventionStaff.intervention_id == RestrictiveIntervention.id, "
        "InterventionStaff.retired_at.is_(None))",
        viewonly=True,
    )
    versions: Mapped[list[InterventionVersion]] = relationship(
        lazy="raise", order_by="InterventionVersion.version"
    )


class InterventionType(Base):
    __tablename__ = "intervention_types"
    __table_args__ = (
        CheckConstraint(f"type_code IN ({sql_in(INTERVENTION_TYPES)})", name="type_code"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index("ix_intervention_types_current", "intervention_id", "retired_at"),
        Index("ix_intervention_types_code", "type_code"),
        Index("ix_intervention_types_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("restrictive_interventions.id"))
    type_code: Mapped[str] = mapped_column(String(2))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a correction replaced this row; current rows have none.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InterventionStaff(Base):
    __tablename__ = "intervention_staff"
    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(trim(job_title)) > 0", name="job_title_not_blank"),
        Index("ix_intervention_staff_current", "intervention_id", "retired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("restrictive_interventions.id"))
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InterventionVersion(Base):
    """Each version of a use-of-force record as it stood, with who made it and why."""

    __tablename__ = "intervention_versions"
    __table_args__ = (
        UniqueConstraint("intervention_id", "version", name="uq_intervention_versions_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("restrictive_interventions.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Why: "completed after the incident" needs none; changing what was already recorded does.
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
