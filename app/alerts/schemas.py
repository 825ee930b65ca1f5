"""Rules and alerts in and out (API.md, Rules and alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from app.schemas import In, Instant, NonBlank, Out

Severity = Literal["high", "medium", "low"]
Status = Literal["open", "acknowledged", "cleared", "resolved", "withdrawn"]


class ParameterInfo(Out):
    kind: Literal["duration", "number"]
    default: str | float
    meaning: str


class RuleOut(Out):
    code: str
    title: str
    checks: str
    parameters: dict[str, str | float]
    parameter_info: dict[str, ParameterInfo]
    severity: Severity
    default_severity: Severity
    enabled: bool
    source: str
    subject_type: str
    changed_at: datetime | None
    changed_by: str | None
    open_alerts: int


class RulePatch(In):
    parameters: dict[str, Any] | None = None
    severity: Severity | None = None
    enabled: bool | None = None


class RunIn(In):
    as_of: Instant | None = None


class AlertOut(Out):
    id: int
    rule: str
    title: str
    severity: Severity
    status: Status
    subject_type: str
    subject_id: int
    admission_id: int | None
    ward_code: str | None
    due_at: datetime
    raised_at: datetime
    cleared_at: datetime | None
    parameters: dict[str, Any]
    message: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledge_note: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolve_note: str | None
    # Withdrawn (RULES.md 1.1): when, the record that withdrew it (its table and id) and why.
    withdrawn_at: datetime | None = None
    withdrawn_by_type: str | None = None
    withdrawn_by_id: int | None = None
    withdrawn_reason: str | None = None


class RunOut(Out):
    run_id: int | None
    as_of: datetime
    raised: list[AlertOut]
    cleared: list[AlertOut]
    errors: dict[str, str]
    # Alerts records typed in late withdrew in this run, and withdrawn ones a breach again.
    withdrawn: list[AlertOut] = []
    reinstated: list[AlertOut] = []


class AcknowledgeIn(In):
    note: str | None = Field(default=None, max_length=4000)


class ResolveIn(In):
    note: NonBlank


class BulkAcknowledgeIn(In):
    ids: list[int] = Field(min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=4000)


class RuleRunOut(Out):
    id: int
    as_of: datetime
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    raised: int
    cleared: int
    errors: dict[str, str]
