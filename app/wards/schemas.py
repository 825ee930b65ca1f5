"""Request and response bodies for places, patients and admissions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from app.schemas import Code, In, Instant, Name, NonBlank, Out

WardType = Literal[
    "adult_acute", "older_adult_acute", "picu", "camhs", "ld_autism", "rehabilitation", "forensic"
]
WardSex = Literal["male", "female", "mixed"]
PatientSex = Literal["male", "female", "other", "not_known"]
EthnicCategory = Literal[
    "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99"
]
LegalStatus = Literal[
    "informal",
    "s2",
    "s3",
    "s4",
    "s5_2",
    "s5_4",
    "s35",
    "s36",
    "s37",
    "s37_41",
    "s38",
    "s47",
    "s47_49",
    "s48",
    "s48_49",
    "s135",
    "s136",
    "other",
]
DischargeDestination = Literal[
    "usual_residence",
    "temporary_residence",
    "care_home",
    "supported_accommodation",
    "other_hospital",
    "prison",
    "died",
    "other",
    "not_known",
]


class LocalityIn(In):
    code: Code
    name: Name
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class LocalityOut(Out):
    id: int
    code: str
    name: str
    latitude: float
    longitude: float


class SiteIn(In):
    code: Code
    name: Name
    locality_code: Code


class SiteOut(Out):
    id: int
    code: str
    name: str
    locality_code: str


class WardIn(In):
    code: Code
    name: Name
    site_code: Code
    ward_type: WardType
    sex: WardSex
    min_age: int = Field(ge=0, le=130)
    max_age: int = Field(ge=0, le=130)
    # When the ward opened, if before it was added here (the weekly report counts its beds
    # from then); otherwise from its creation or its first recorded stay, the earlier.
    opened_at: Instant | None = None


class WardOut(Out):
    id: int
    code: str
    name: str
    site_code: str
    ward_type: str
    sex: str
    min_age: int
    max_age: int
    beds: int
    open_beds: int
    occupied_beds: int


class BedIn(In):
    label: Code
    # When the bed opened, if not with its ward nor when added (see app/wards/beds.py).
    opened_at: Instant | None = None


class BedPatch(In):
    status: Literal["open", "closed"]
    reason: str | None = Field(default=None, max_length=4000)


class BedOut(Out):
    id: int
    ward_code: str
    label: str
    status: str
    reason: str | None


class CardRestriction(Out):
    """A seclusion or segregation on a board card: for how long, and what is due next."""

    kind: Literal["seclusion", "segregation"]
    id: int
    started_at: datetime
    duration_minutes: int
    # The review due next (or the earliest still missing), and when.
    next_kind: str | None
    next_due: datetime | None
    overdue: bool
    # Seclusion only: the next 15-minute observation.
    observation_due: datetime | None = None
    observation_overdue: bool = False


class EpisodeSummary(Out):
    """One restrictive episode or use of force in an admission, for its page and the API."""

    kind: Literal["seclusion", "segregation", "use_of_force"]
    id: int
    started_at: datetime
    ended_at: datetime | None
    status: str
    url: str


class CardReady(Out):
    """The open clinically-ready-for-discharge period on a board card: why the person is
    still here, whose delay it is, since when, and the days delayed so far."""

    id: int
    reason_code: str
    reason: str
    attributable_to: str
    since: datetime
    # Midnights passed since the person became ready (as the period's days_delayed).
    days: int
    # The agency by name, for the card; the JSON carries the code only.
    agency: str = Field(default="", exclude=True)


class Occupant(Out):
    admission_id: int
    patient_id: int
    display_name: str
    age: int
    legal_status: str
    admitted_at: datetime
    days_on_ward: int
    expected_discharge_date: date | None
    flags: list[str]
    open_alerts: int
    restrictions: list[CardRestriction] = []
    # An extension to API.md's occupant: null unless the person is ready for discharge.
    ready_for_discharge: CardReady | None = None


class BoardBed(Out):
    label: str
    status: str
    reason: str | None
    occupant: Occupant | None


class Occupancy(Out):
    beds: int
    open: int
    occupied: int
    rate: float | None


class BoardOut(Out):
    ward: WardOut
    beds: list[BoardBed]
    occupancy: Occupancy
    # Open and acknowledged alerts owned by the ward (its people's and its own).
    open_alerts: int = 0


class PatientIn(In):
    nhs_number: str = Field(max_length=20)
    given_name: Name
    family_name: Name
    date_of_birth: date
    sex: PatientSex
    ethnic_category: EthnicCategory
    home_locality_code: Code
    learning_disability: bool = False
    autistic: bool = False

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str) -> str:
        from app.wards.nhs import normalise_nhs_number

        return normalise_nhs_number(value)


class PersonCheck(In):
    """The details typed with a known NHS number, checked against the record."""

    given_name: Name
    family_name: Name
    date_of_birth: date
    sex: PatientSex


class PatientLookupIn(In):
    """A registered person, found to admit them: both must match exactly."""

    nhs_number: str = Field(max_length=20)
    date_of_birth: date

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str) -> str:
        from app.wards.nhs import normalise_nhs_number

        return normalise_nhs_number(value)


class PatientLookupOut(Out):
    """Only what the admit form needs: whom to admit (the id) and which wards suit them."""

    id: int
    sex: str
    age: int
    home_locality_code: str


class AccessLogEntry(Out):
    at: datetime
    username: str
    action: str
    via: str | None
    client: str | None
    details: dict[str, Any] | None


class PatientOut(Out):
    id: int
    nhs_number: str
    given_name: str
    family_name: str
    display_name: str
    date_of_birth: date
    sex: str
    ethnic_category: str
    home_locality_code: str
    learning_disability: bool
    autistic: bool


class AdmissionIn(In):
    # Whom to admit: ``patient_id``, or (ward staff admitting someone not yet on their
    # wards) ``nhs_number`` with ``date_of_birth``, which must match the registered person.
    patient_id: int | None = None
    ward_code: Code
    bed_label: Code
    admitted_at: Instant
    legal_status: LegalStatus
    reason: NonBlank
    expected_benefit: NonBlank
    decision_to_admit_at: Instant | None = None
    expected_discharge_date: date | None = None
    bed_request_id: int | None = None
    # The day the Mental Health Act counts the period from, when not the day admitted:
    # the court order's date for s.37 (MHA.md §4).
    clock_start_day: date | None = None
    nhs_number: str | None = Field(default=None, max_length=20)
    date_of_birth: date | None = None

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str | None) -> str | None:
        from app.wards.nhs import normalise_nhs_number

        return None if value is None else normalise_nhs_number(value)


class TransferIn(In):
    ward_code: Code
    bed_label: Code
    at: Instant
    reason: NonBlank


class PurposeReviewIn(In):
    at: Instant
    still_needed: bool
    note: NonBlank


class AdmissionPatch(In):
    legal_status: LegalStatus | None = None
    expected_discharge_date: date | None = None
    at: Instant | None = None
    # With a legal status: the day the application was received (s.5(1)) or the court
    # order's date (s.37), when the period counts from a day other than that of `at`.
    clock_start_day: date | None = None
    # Recorded by the ward when the admission came from the PAS feed (which holds neither).
    reason: NonBlank | None = None
    expected_benefit: NonBlank | None = None


class DischargeIn(In):
    at: Instant
    destination: DischargeDestination


class StayOut(Out):
    id: int
    ward_code: str
    bed_label: str
    started_at: datetime
    ended_at: datetime | None
    transfer_reason: str | None


class LegalStatusOut(Out):
    legal_status: str
    at: datetime


class PurposeReviewOut(Out):
    id: int
    at: datetime
    still_needed: bool
    note: str


class ReadyForDischargeOut(Out):
    """A clinically-ready-for-discharge period (MHSDS v6 delay reason, MHS518)."""

    id: int
    admission_id: int
    started_at: datetime
    ended_at: datetime | None
    reason_code: str
    reason: str
    attributable_to: str
    # Midnights passed while ready (to now, or to the period's end).
    days_delayed: int


class AdmissionOut(Out):
    id: int
    patient_id: int
    patient: PatientOut
    status: Literal["open", "discharged"]
    admitted_at: datetime
    decision_to_admit_at: datetime | None
    reason: str
    expected_benefit: str
    legal_status: str
    legal_status_history: list[LegalStatusOut]
    expected_discharge_date: date | None
    ward_code: str
    bed_label: str
    stays: list[StayOut]
    purpose_reviews: list[PurposeReviewOut]
    discharged_at: datetime | None
    discharge_destination: str | None
    # Seclusion, segregation and use of force in this admission, oldest first.
    episodes: list[EpisodeSummary] = []
    # Clinically ready for discharge, oldest first (filled by the discharge package).
    ready_for_discharge_periods: list[ReadyForDischargeOut] = []
