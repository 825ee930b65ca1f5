"""Request and response bodies for use-of-force (restrictive intervention) records.

The Act's items may be missing at first: every one is optional here, and a blank text
counts as missing (stored as null), so "not yet recorded" has one meaning everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BeforeValidator,
    StrictBool,
    StringConstraints,
    computed_field,
    field_validator,
)

from app.schemas import Code, In, Instant, Name, Out
from app.segregation.codes import INTERVENTION_REASONS, INTERVENTION_TYPES

# Seclusion and segregation are MHS515 types too, but here they are episodes with reviews.
EPISODE_TYPES = {"05": "seclusion", "06": "segregation"}


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


MaybeText = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] | None,
    BeforeValidator(_blank_to_none),
]
# Not yet recorded is null; "yes" or 1 are refused so a typo cannot become an answer.
MaybeBool = StrictBool | None


class TypeIn(In):
    type_code: Code
    # Null: the intervention's own start or end (most types last the whole incident).
    started_at: Instant | None = None
    ended_at: Instant | None = None

    @field_validator("type_code")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in EPISODE_TYPES:
            raise ValueError(
                f"{EPISODE_TYPES[value]} is recorded as an episode (with its reviews), "
                "not as a type of use of force"
            )
        if value not in INTERVENTION_TYPES:
            raise ValueError("must be one of " + ", ".join(INTERVENTION_TYPES))
        return value


class StaffIn(In):
    name: Name
    job_title: Name


class _InterventionFields(In):
    """Everything but started_at, which a new record needs and a correction may leave out."""

    ended_at: Instant | None = None
    place: MaybeText = None
    reason_code: Code | None = None
    types: list[TypeIn] | None = None
    staff: list[StaffIn] | None = None
    description: MaybeText = None
    in_care_plan: MaybeBool = None
    non_unit_staff_reason: MaybeText = None
    outcome: MaybeText = None
    avoidance_efforts: MaybeText = None
    patient_injury: MaybeBool = None
    staff_injury: MaybeBool = None
    care_plan_notification_sent: MaybeBool = None
    debriefed_at: Instant | None = None

    @field_validator("reason_code")
    @classmethod
    def _known_reason(cls, value: str | None) -> str | None:
        if value is not None and value not in INTERVENTION_REASONS:
            raise ValueError("must be one of " + ", ".join(INTERVENTION_REASONS))
        return value


class InterventionIn(_InterventionFields):
    started_at: Instant


class InterventionPatch(_InterventionFields):
    """Any subset; types and staff, when given, replace the current lists."""

    started_at: Instant | None = None
    # Needed only when a value that was already recorded changes; filling a gap needs none.
    correction_reason: MaybeText = None


class TypeOut(Out):
    type_code: str
    started_at: datetime
    ended_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def name(self) -> str:
        return INTERVENTION_TYPES.get(self.type_code, self.type_code)


class StaffOut(Out):
    name: str
    job_title: str


class VersionOut(Out):
    version: int
    reason: str | None
    recorded_at: datetime
    recorded_by: str | None


class InterventionOut(Out):
    id: int
    admission_id: int
    patient_id: int
    ward_code: str
    place: str | None
    started_at: datetime
    ended_at: datetime | None
    reason_code: str | None
    types: list[TypeOut]
    staff: list[StaffOut]
    description: str | None
    in_care_plan: bool | None
    non_unit_staff_reason: str | None
    outcome: str | None
    avoidance_efforts: str | None
    patient_injury: bool | None
    staff_injury: bool | None
    care_plan_notification_sent: bool | None
    debriefed_at: datetime | None
    version: int
    missing: list[str]
    complete: bool
    versions: list[VersionOut]
    created_at: datetime
