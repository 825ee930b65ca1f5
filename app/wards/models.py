"""Places (localities, sites, wards, beds), patients, admissions and ward stays."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, register_constraint_messages
from app.sql import sql_in
from app.wards.codes import (
    BED_STATUSES,
    ETHNIC_CATEGORIES,
    LEGAL_STATUSES,
    PATIENT_SEXES,
    WARD_SEXES,
    WARD_TYPES,
)

OPEN = text("ended_at IS NULL")

register_constraint_messages(
    {
        "uq_ward_stays_one_open_per_bed": "That bed is already occupied.",
        "uq_bed_closures_one_open_per_bed": "That bed is already closed.",
        "uq_admissions_one_open_per_patient": "This patient already has an open admission.",
        "uq_ward_stays_one_open_per_admission": "This admission is already in a bed.",
        "bed_closed": "That bed is closed and takes no one.",
        "bed_occupied": "A bed with someone in it cannot be closed.",
    }
)


class Locality(Base):
    __tablename__ = "localities"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)

    locality: Mapped[Locality] = relationship(lazy="raise")


class Ward(Base):
    __tablename__ = "wards"
    __table_args__ = (
        CheckConstraint(f"ward_type IN ({sql_in(WARD_TYPES)})", name="ward_type"),
        CheckConstraint(f"sex IN ({sql_in(WARD_SEXES)})", name="sex"),
        CheckConstraint("min_age >= 0 AND max_age >= min_age AND max_age <= 130", name="age_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    ward_type: Mapped[str] = mapped_column(String(32))
    sex: Mapped[str] = mapped_column(String(16))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When an admin says the ward opened; otherwise app/wards/beds.py works it out.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(lazy="raise")
    beds: Mapped[list[Bed]] = relationship(back_populates="ward", lazy="raise", order_by="Bed.id")


class Bed(Base):
    __tablename__ = "beds"
    __table_args__ = (
        UniqueConstraint("ward_id", "label", name="uq_beds_ward_label"),
        CheckConstraint(f"status IN ({sql_in(BED_STATUSES)})", name="status"),
        # A closed bed always says why; an open one carries no stale reason.
        CheckConstraint(
            "(status = 'closed' AND closed_reason IS NOT NULL AND length(trim(closed_reason)) > 0)"
            " OR (status = 'open' AND closed_reason IS NULL)",
            name="closed_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When an admin says the bed opened; otherwise app/wards/beds.py works it out.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ward: Mapped[Ward] = relationship(back_populates="beds", lazy="raise")


REOPENED = text("reopened_at IS NULL")


class BedClosure(Base):
    """A time a bed was out of use: closed_at until reopened_at (null while still closed).
    Written with the bed's status by wards/service.set_bed_status; the weekly report and
    the occupancy rule count open beds from these periods, not from the audit log."""

    __tablename__ = "bed_closures"
    __table_args__ = (
        # A bed is closed once at a time: the closure open now is the one a reopening ends.
        Index(
            "uq_bed_closures_one_open_per_bed",
            "bed_id",
            unique=True,
            sqlite_where=REOPENED,
            postgresql_where=REOPENED,
        ),
        CheckConstraint(
            "reopened_at IS NULL OR reopened_at > closed_at", name="reopened_after_closed"
        ),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id"), index=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint("length(nhs_number) = 10", name="nhs_number_length"),
        CheckConstraint(f"sex IN ({sql_in(PATIENT_SEXES)})", name="sex"),
        CheckConstraint(
            f"ethnic_category IN ({sql_in(ETHNIC_CATEGORIES)})", name="ethnic_category"
        ),
        CheckConstraint("length(trim(given_name)) > 0", name="given_name_not_blank"),
        CheckConstraint("length(trim(family_name)) > 0", name="family_name_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(16))
    ethnic_category: Mapped[str] = mapped_column(String(2))
    home_locality_id: Mapped[int] = mapped_column(ForeignKey("localities.id"), index=True)
    learning_disability: Mapped[bool] = mapped_column(Boolean, default=False)
    autistic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    home_locality: Mapped[Locality] = relationship(lazy="raise")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name.upper()}"


# What an admission from an outside system (the PAS feed) holds for its reason and expected
# benefit until the ward records them: the columns refuse blanks, and the board, the
# ADM_PURPOSE_MISSING rule and the admission page recognise this text.
PURPOSE_NOT_RECORDED = "Not yet recorded: admitted by the PAS feed, to be recorded by the ward."


class Admission(Base):
    """A hospital spell: admission to discharge, possibly over several wards."""

    __tablename__ = "admissions"
    __table_args__ = (
        # A patient has at most one open admission.
        Index(
            "uq_admissions_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=text("discharged_at IS NULL"),
            postgresql_where=text("discharged_at IS NULL"),
        ),
        CheckConstraint("length(trim(reason)) > 0", name="reason_not_blank"),
        CheckConstraint("length(trim(expected_benefit)) > 0", name="expected_benefit_not_blank"),
        CheckConstraint(f"legal_status IN ({sql_in(LEGAL_STATUSES)})", name="legal_status"),
        CheckConstraint(
            "discharged_at IS NULL OR discharged_at >= admitted_at",
            name="discharge_after_admission",
        ),
        CheckConstraint(
            "decision_to_admit_at IS NULL OR decision_to_admit_at <= admitted_at",
            name="decision_before_admission",
        ),
        CheckConstraint(
            "(discharged_at IS NULL) = (discharge_destination IS NULL)",
            name="discharge_destination",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decision_to_admit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    expected_benefit: Mapped[str] = mapped_column(Text)
    # The legal status now; its history is in legal_status_changes.
    legal_status: Mapped[str] = mapped_column(String(16))
    expected_discharge_date: Mapped[date | None] = mapped_column(Date)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    discharge_destination: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # When the ward recorded the reason and expected benefit of an admission that arrived
    # without them (PURPOSE_NOT_RECORDED); None for one admitted with them.
    purpose_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[Patient] = relationship(lazy="raise")
    stays: Mapped[list[WardStay]] = relationship(
        back_populates="admission", lazy="raise", order_by="WardStay.started_at"
    )
    legal_status_changes: Mapped[list[LegalStatusChange]] = relationship(
        lazy="raise", order_by="LegalStatusChange.at"
    )
    purpose_reviews: Mapped[list[PurposeReview]] = relationship(
        lazy="raise", order_by="PurposeReview.at"
    )

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None

    @property
    def purpose_missing(self) -> bool:
        """Arrived without a reason or expected benefit, and the ward has not recorded both."""
        return PURPOSE_NOT_RECORDED in (self.reason, self.expected_benefit)


class WardStay(Base):
    """The part of an admission spent in one bed on one ward; a transfer starts the next."""

    __tablename__ = "ward_stays"
    __table_args__ = (
        # A bed holds at most one ward stay at a time.
        Index(
            "uq_ward_stays_one_open_per_bed",
            "bed_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        # An admission is in one bed at a time.
        Index(
            "uq_ward_stays_one_open_per_admission",
            "admission_id",
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index("ix_ward_stays_ward_open", "ward_id", "ended_at"),
        # Stays open at a moment in the past (ward occupancy at a rule run's as_of).
        Index("ix_ward_stays_ended_at", "ended_at"),
        # Each ward's first recorded stay, from which it counts as open (app/wards/beds.py).
        Index("ix_ward_stays_ward_started", "ward_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("wards.id"))
    bed_id: Mapped[int] = mapped_column(ForeignKey("beds.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the person came to this ward when it was by transfer (null for the first stay).
    transfer_reason: Mapped[str | None] = mapped_column(Text)

    admission: Mapped[Admission] = relationship(back_populates="stays", lazy="raise")
    ward: Mapped[Ward] = relationship(lazy="raise")
    bed: Mapped[Bed] = relationship(lazy="raise")


class LegalStatusChange(Base):
    __tablename__ = "legal_status_changes"
    __table_args__ = (
        CheckConstraint(f"legal_status IN ({sql_in(LEGAL_STATUSES)})", name="legal_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"), index=True)
    legal_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The day the Act counts this provision's period from, when it is not the day of
    # `at` in England: the court order's date for s.37, the day a s.3 application was
    # received for someone already in hospital (app/mha/periods.py). Null: the day of `at`.
    clock_start_day: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PurposeReview(Base):
    """A review of whether the reason for admission and its expected benefit still hold."""

    __tablename__ = "purpose_reviews"
    __table_args__ = (
        CheckConstraint("length(trim(note)) > 0", name="note_not_blank"),
        # The latest review of each admission, read by every rule run from the index alone.
        Index("ix_purpose_reviews_admission_id_at", "admission_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    admission_id: Mapped[int] = mapped_column(ForeignKey("admissions.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    still_needed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
