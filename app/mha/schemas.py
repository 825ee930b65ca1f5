"""The Mental Health Act API's shapes (MHA.md §4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from app.schemas import In, Instant, NonBlank, Out

RightsKind = Literal["s132", "s132a", "s130d"]
TribunalEventKind = Literal["application", "reference", "hearing"]
CertificateForm = Literal["T2", "T3"]
PlaceOfSafetySection = Literal["s135", "s136"]
PlaceType = Literal["hospital", "emergency_department", "police_station", "other"]
PlaceOfSafetyOutcome = Literal["admitted_informal", "detained", "released"]
Understood = Literal["yes", "partly", "no"]


class RenewalIn(In):
    examined_at: Instant
    agreed_at: Instant
    furnished_at: Instant


class RightsIn(In):
    kind: RightsKind
    given_at: Instant
    oral: bool
    written: bool
    understood: Understood
    nearest_relative_copy_at: Instant | None = None
    nearest_relative_copy_declined: bool = False


class TribunalEventIn(In):
    kind: TribunalEventKind
    at: Instant
    withdrawn_at: Instant | None = None
    outcome: str | None = Field(default=None, max_length=4000)


class MedicineStartIn(In):
    at: Instant


class CertificateIn(In):
    form: CertificateForm
    issued_at: Instant
    covers: NonBlank
    fallen_at: Instant | None = None


class CertificatePatch(In):
    fallen_at: Instant


class TribunalEventOut(Out):
    id: int
    kind: str
    at: datetime
    withdrawn_at: datetime | None
    outcome: str | None


class CertificateOut(Out):
    id: int
    form: str
    issued_at: datetime
    covers: str
    fallen_at: datetime | None


class ConsentOut(Out):
    first_medicine_at: datetime | None
    three_month_point_at: datetime | None
    certificates: list[CertificateOut]


class RenewalOut(Out):
    id: int
    period_id: int
    examined_at: datetime
    agreed_at: datetime
    furnished_at: datetime
    # False for a renewal furnished after the authority ran out or examined outside its
    # window: kept as a record, extends nothing.
    extended: bool = True


class PeriodOut(Out):
    id: int
    legal_status: str
    started_at: datetime
    clock_start_day: date
    expires_at: datetime | None
    renewal_window_opens_at: datetime | None
    renewals: list[RenewalOut]
    adjustments: list[Any] = []
    ended_at: datetime | None
    end_reason: str | None


class RightsOut(Out):
    id: int
    kind: str
    given_at: datetime
    oral: bool
    written: bool
    understood: str
    nearest_relative_copy_at: datetime | None
    nearest_relative_copy_declined: bool


class DeadlineOut(Out):
    rule: str
    due_at: datetime
    what: str
    period_id: int | None = None


class MhaOut(Out):
    admission_id: int
    as_of: datetime
    periods: list[PeriodOut]
    rights: list[RightsOut]
    tribunal: list[TribunalEventOut] = []
    consent: ConsentOut | None = None
    # Recorded in a later part of issue 19; present so clients can rely on the shape.
    leave: list[Any] = []
    ctr: list[Any] = []
    deadlines: list[DeadlineOut]


class DiaryEntryOut(Out):
    rule: str
    due_at: datetime
    admission_id: int
    ward_code: str
    bed_label: str
    what: str


class PlaceOfSafetyIn(In):
    patient_id: int
    section: PlaceOfSafetySection
    place_type: PlaceType
    arrived_at: Instant


class ExtensionIn(In):
    authorised_at: Instant
    hours: float = Field(gt=0)
    reason: NonBlank


class PlaceOfSafetyEndIn(In):
    at: Instant
    outcome: PlaceOfSafetyOutcome


class ExtensionOut(Out):
    authorised_at: datetime
    hours: float
    reason: str


class PlaceOfSafetyOut(Out):
    id: int
    patient_id: int
    display_name: str
    section: str
    place_type: str
    arrived_at: datetime
    # 24 hours from arrival, plus the extension when one was validly authorised.
    limit_at: datetime
    extension: ExtensionOut | None
    ended_at: datetime | None
    outcome: str | None
    over_limit: bool
    under_18_in_police_station: bool
