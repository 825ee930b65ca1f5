"""The stored rule settings (the table is unchanged; the model moved here from
app/alerts/models.py so that the rules in force can be read without importing alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.rules.catalogue import SEVERITIES
from app.sql import sql_in


class RuleSetting(Base):
    """A trust's change to a rule: parameters over the catalogue's defaults, severity, on/off."""

    __tablename__ = "rule_settings"
    __table_args__ = (
        CheckConstraint(f"severity IS NULL OR severity IN ({sql_in(SEVERITIES)})", name="severity"),
    )

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    severity: Mapped[str | None] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))
