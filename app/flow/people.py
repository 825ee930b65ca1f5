"""How bed flow shows a person: initials, sex and age band, never a name or an exact age.
Bed managers place people across the whole trust; they need to know what bed suits, not
who the person is (the board, for the ward's own staff, has the name)."""

from __future__ import annotations

from datetime import date

from app.clock import age_on
from app.flow import schemas
from app.wards.models import Patient

AGE_BANDS: tuple[tuple[int, str], ...] = (
    (18, "under 18"),
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
    (75, "65-74"),
)


def age_band(age: int) -> str:
    for upper, band in AGE_BANDS:
        if age < upper:
            return band
    return "75 and over"


def initials(patient: Patient) -> str:
    return f"{patient.given_name.strip()[:1]}{patient.family_name.strip()[:1]}".upper()


def person(patient: Patient, locality_code: str, today: date) -> schemas.Person:
    return schemas.Person(
        patient_id=patient.id,
        initials=initials(patient),
        sex=patient.sex,
        age_band=age_band(age_on(patient.date_of_birth, today)),
        home_locality_code=locality_code,
    )
