"""HTML form helpers: local times in, field errors out, using the same schemas as the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import local_tz
from app.db import commit
from app.errors import Conflict, DomainError, FieldError, Forbidden, Invalid, NotFound, field_errors

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

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


def validate(
    model: type[M], data: dict[str, Any], errors: Errors, *, drop_blank: bool = False
) -> M | None:
    """Validate with the API's schema; messages keyed by field so each shows beside its field.

    ``drop_blank`` leaves out what was not given (None), so that a blank field reads "is
    required" beside it rather than, say, "must be a number"."""
    if drop_blank:
        data = {k: v for k, v in data.items() if v is not None}
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


# --- save this form, or show it again -----------------------------------------------------


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What came of trying to save a form: the write's result, or why nothing was saved.

    Refused, ``errors`` go beside their fields (status 422) or ``problem`` above the form
    (409; 403 when the refusal was Forbidden); ``status`` is the one to show the form with.
    """

    result: T | None = None
    errors: Errors = field(default_factory=dict)
    problem: str | None = None
    status: int = 200

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def saved(self) -> T:
        """The write's result; only after a save (``ok``)."""
        if not self.ok:
            raise RuntimeError("Nothing was saved: show the form again instead.")
        return cast(T, self.result)


REFUSALS: tuple[type[DomainError], ...] = (Conflict, NotFound)


async def attempt(
    session: AsyncSession,
    write: Callable[[], Awaitable[T]],
    *,
    errors: Errors | None = None,
    explain: Callable[[Invalid], Errors] = errors_from,
    refusals: tuple[type[DomainError], ...] = REFUSALS,
) -> Attempt[T]:
    """Run ``write`` in a savepoint and commit; or say why the form cannot be saved.

    ``errors`` are the form's own, found before writing: with any, nothing is tried. A
    refusal (``Invalid``, or one of ``refusals``: a conflict with what is recorded, a record
    that is not there) undoes only this attempt, so nothing of the write is left behind and
    what the page needs to show the form again stays loaded; a refusal by the database at
    commit is a conflict too. ``explain`` words a service's field errors (``errors_from``
    by default). Any other error goes on to the app's error pages.
    """
    if errors:
        return Attempt(errors=dict(errors), status=422)
    try:
        async with session.begin_nested():
            result = await write()
        await commit(session)
    except Invalid as exc:
        return Attempt(errors=explain(exc), status=422)
    except refusals as exc:
        return Attempt(problem=exc.detail, status=403 if isinstance(exc, Forbidden) else 409)
    return Attempt(result)


__all__ = [
    "Attempt",
    "Errors",
    "Invalid",
    "attempt",
    "errors_from",
    "form_dict",
    "local_to_utc",
    "take_datetimes",
    "validate",
]
