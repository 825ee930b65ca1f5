"""Alerts and the record of each rule run (the stored rule settings: app/rules/models.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.sql import sql_in

ALERT_STATUSES = ("open", "acknowledged", "cleared", "resolved", "withdrawn")
SEVERITIES = ("high", "medium", "low")
SUBJECT_TYPES = (
    "admission",
    "seclusion",
    "segregation",
    "restrictive_intervention",
    "bed_request",
    "ready_for_discharge",
    "out_of_area_placement",
    "ward",
    # The trust's PAS feed (FEED_SILENT): one per installation, subject_id FEED_SUBJECT_ID.
    "pas_feed",
)


class Alert(Base):
    """One breach: a deadline that passed without its action, or a condition that held.

    Identified by (rule, subject, due_at) in the database, so a rerun, a second scheduler
    or a catch-up after downtime can never raise it twice (RULES.md 1).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("rule", "subject_type", "subject_id", "due_at", name="uq_alerts_breach"),
        CheckConstraint(f"status IN ({sql_in(ALERT_STATUSES)})", name="status"),
        CheckConstraint(f"severity IN ({sql_in(SEVERITIES)})", name="severity"),
        CheckConstraint(f"subject_type IN ({sql_in(SUBJECT_TYPES)})", name="subject_type"),
        CheckConstraint("status != 'cleared' OR cleared_at IS NOT NULL", name="cleared_has_time"),
        CheckConstraint(
            "status != 'withdrawn' OR (withdrawn_at IS NOT NULL AND withdrawn_reason IS NOT NULL)",
            name="withdrawn_has_record",
        ),
        CheckConstraint(
            "status != 'resolved' OR (resolved_at IS NOT NULL AND resolve_note IS NOT NULL"
            " AND length(trim(resolve_note)) > 0)",
            name="resolved_has_note",
        ),
        Index("ix_alerts_status_severity_due", "status", "severity", "due_at"),
        Index("ix_alerts_admission_status", "admission_id", "status"),
        Index("ix_alerts_ward_status", "ward_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    admission_id: Mapped[int | None] = mapped_column(ForeignKey("admissions.id"))
    # Where the person was when it fell due: the ward that owns the alert.
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("wards.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the missing action happened or the episode ended (the event's own time).
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The parameters in force when it was raised: a later threshold change leaves it be.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledge_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolve_note: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("rule_runs.id"))
    # Withdrawn (RULES.md 1.1): a record typed in later shows the deadline was met. When the
    # run withdrew it, the record that did (its table and id: a review, or the episode or
    # admission whose end was typed late) and a sentence saying so.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_type: Mapped[str | None] = mapped_column(String(40))
    withdrawn_by_id: Mapped[int | None] = mapped_column(Integer)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class RuleRun(Base):
    """One run of the whole catalogue: when, for which as_of, what it did, what failed."""

    __tablename__ = "rule_runs"
    __table_args__ = (Index("ix_rule_runs_as_of", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # scheduler, api or cli
    trigger: Mapped[str] = mapped_column(String(16))
    # host:pid of the process that ran it (one scheduler among several workers).
    runner: Mapped[str] = mapped_column(String(120), default="")
    raised: Mapped[int] = mapped_column(Integer, default=0)
    cleared: Mapped[int] = mapped_column(Integer, default=0)
    # {rule code: error text} for each rule that failed; the others still ran.
    errors: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class AlertNotification(Base):
    """One notice of one alert on one channel: sent once, retried until it is."""

    __tablename__ = "alert_notifications"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel", "kind", name="uq_alert_notifications_channel"),
        CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        CheckConstraint("kind IN ('raised', 'withdrawn')", name="kind"),
        Index("ix_alert_notifications_pending", "sent_at", "attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(16))
    # raised: the alert itself; withdrawn: the short notice that follows one already sent
    # for an alert a record typed in later withdrew (RULES.md 1.1).
    kind: Mapped[str] = mapped_column(String(16), default="raised", server_default="raised")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
