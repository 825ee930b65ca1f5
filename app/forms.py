"""HTML form helpers: local times in, field errors out, using the same schemas as the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.clock import local_tz
from app.errors import FieldError, Invalid, field_errors

M = TypeVar("M", bound=BaseModel)

Errors = dict[str, str]


def local_to_utc(value: str) -> datetime:
    """A datetime-local value ('2026-03-02T14:05'), read as Europe/London, made UTC-aware."""
    naive = datetime.fromisoformat(value.strip())
    if naive.tzinfo is not None:
        return naive
    # fold=0 takes the first of an ambiguous hour when the clocks go back: the earlier time.
    return naive.replace(tzinfo=local_tz())


def take_datetimes(form: dict[str, Any], names: list[str], errors: Errors) -> None:
    """Convert the named fields in place; blank becomes None, bad input becomes an error."""
    for name in names:
        raw = (form.get(name) or "").strip()
        if not raw:
            form[name] = None
            continue
        try:
            form[name] = local_to_utc(raw)
        except ValueError:
            errors[name] = "Enter a date and time, for example 2/3/2026 14:05"


def validate(model: type[M], data: dict[str, Any], errors: Errors) -> M | None:
    """Validate with the API's schema; messages keyed by field so each shows beside its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in field_errors([dict(e) for e in exc.errors()]):
            errors.setdefault(error.field, humanise(error))
        return None


LABELS = {
    "reason": "Reason for admission",
    "expected_benefit": "Expected benefit",
    "admitted_at": "Admitted at",
    "decision_to_admit_at": "Decision to admit",
    "legal_status": "Legal status",
    "nhs_number": "NHS number",
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "ethnic_category": "Ethnic category",
    "home_locality_code": "Home area",
    "expected_discharge_date": "Expected discharge date",
    "at": "Time",
    "destination": "Destination",
    "ward_code": "Ward",
    "bed_label": "Bed",
    "note": "Note",
    "still_needed": "Still needed",
}


def humanise(error: FieldError) -> str:
    label = LABELS.get(error.field, error.field.replace("_", " ").capitalize())
    message = error.message
    if message == "is required" or message == "must not be blank":
        return (
            f"Enter the {label.lower()}"
            if error.field in ("reason", "expected_benefit", "nhs_number", "note")
            else f"{label} is required"
        )
    if message.startswith("must be one of"):
        return f"Choose the {label.lower()}"
    return f"{label} {message}"


def errors_from(exc: Invalid) -> Errors:
    return {e.field: humanise(e) for e in exc.errors}


def form_dict(form: Any) -> dict[str, Any]:
    return {k: v for k, v in form.items() if k != "csrf_token"}


__all__ = [
    "Errors",
    "Invalid",
    "errors_from",
    "form_dict",
    "local_to_utc",
    "take_datetimes",
    "validate",
]
