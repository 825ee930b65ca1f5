"""Request and response bodies for bed flow (API.md, Bed flow)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.schemas import Code, In, Instant, Name, NonBlank, Out
from app.wards.schemas import PatientSex, WardType

OapReason = Literal["10", "11", "12", "13", "14", "99"]
BedType = Literal["200", "201", "202"]
OapOutcome = Literal["repatriated", "discharged", "other"]
RequestStatus = Literal["open", "admitted", "placed_out_of_area", "cancelled"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class Person(Out):
    """Who a bed is for, as bed managers may see it: no name, no exact age."""

    patient_id: int
    initials: str
    sex: str
    age_band: str
    home_locality_code: str


class BedRequestIn(In):
    patient_id: int
    decision_to_admit_at: Instant
    ward_type: WardType
    note: Note | None = None


class CancelIn(In):
    at: Instant
    reason: NonBlank


class BedRequestOut(Out):
    id: int
    patient_id: int
    person: Person
    decision_to_admit_at: datetime
    ward_type: str
    note: str | None
    status: RequestStatus
    closed_at: datetime | None
    cancel_reason: str | None
    admission_id: int | None
    out_of_area_placement_id: int | None
    # Minutes from the decision to admit to now (or to when the request closed).
    waiting_minutes: int
    created_at: datetime


class BedResult(Out):
    ward_code: str
    ward_name: str
    site_code: str
    bed_label: str
    distance_km: float
    ward_type: str
    ward_sex: str


class SoonBed(Out):
    ward_code: str
    ward_name: str
    bed_label: str
    admission_id: int
    expected_discharge_date: date | None
    ready_for_discharge_since: datetime | None
    distance_km: float


class SearchFor(Out):
    """The person the search was for, as the filters saw them."""

    patient_id: int | None
    sex: str
    age: int
    locality_code: str
    ward_type: str | None


class BedSearchOut(Out):
    searched_for: SearchFor
    results: list[BedResult]
    soon: list[SoonBed]


class SearchQuery(In):
    patient_id: int | None = None
    sex: PatientSex | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    locality_code: Code | None = None
    ward_type: WardType | None = None
    limit: int = Field(default=20, ge=1, le=200)


class PlacementIn(In):
    patient_id: int
    provider_name: Name
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    bed_type: BedType
    reason_code: OapReason
    started_at: Instant
    daily_cost: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    bed_request_id: int | None = None


class PlacementReviewIn(In):
    at: Instant
    note: NonBlank


class PlacementEndIn(In):
    at: Instant
    outcome: OapOutcome


class PlacementReviewOut(Out):
    id: int
    at: datetime
    note: str
    recorded_at: datetime


class PlacementOut(Out):
    id: int
    patient_id: int
    person: Person
    provider_name: str
    latitude: float
    longitude: float
    distance_km: float
    bed_type: str
    reason_code: str
    reason: str
    inappropriate: bool
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    daily_cost: Decimal | None
    # Midnights passed while the placement was active (to now, or to its end).
    bed_days: int
    cost_so_far: Decimal | None
    last_reviewed_at: datetime | None
    reviews: list[PlacementReviewOut]
    bed_request_id: int | None
