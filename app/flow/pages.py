"""What the bed-flow pages share: one page layout around each fragment, finding a person by
NHS number, and reading the numbers people type."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import access
from app.auth.models import User
from app.flow import schemas
from app.flow.placements import PLACEMENT_WRITERS
from app.forms import Errors
from app.wards import service as wards_service
from app.wards.models import Patient
from app.wards.nhs import normalise_nhs_number
from app.web import page_or_fragment

UNKNOWN_PERSON = (
    "No one with this NHS number is recorded in Wardflow. Only people already known can be"
    " put on the waiting list: a person is recorded when they are first admitted (the admit"
    " form takes their details), or an administrator adds them through the API"
    " (POST /api/v1/patients)."
)


def flow_page(
    request: Request,
    fragment: str,
    context: dict[str, Any],
    *,
    title: str,
    back: tuple[str, str] | None = ("/flow", "Back to bed flow"),
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The fragment alone for htmx; inside the layout (flow/page.html) otherwise."""
    return page_or_fragment(
        request,
        "flow/page.html",
        fragment,
        {**context, "fragment": fragment, "title": title, "back": back, "active": "flow"},
        status_code=status_code,
        headers=headers,
    )


def person_text(person: schemas.Person) -> str:
    """'JS, female, 35-44': enough to find a suitable bed, never a name."""
    return f"{person.initials}, {person.sex.replace('_', ' ')}, {person.age_band}"


def can_place(user: User) -> bool:
    return user.role in access.PLACERS


def can_place_out(user: User) -> bool:
    return user.role in PLACEMENT_WRITERS


async def patient_by_nhs_number(
    session: AsyncSession, raw: str | None, errors: Errors
) -> Patient | None:
    """The known person with this NHS number; otherwise an error beside the field."""
    if not (raw or "").strip():
        errors["nhs_number"] = "Enter the NHS number"
        return None
    try:
        number = normalise_nhs_number(raw or "")
    except ValueError as exc:
        errors["nhs_number"] = f"NHS number {exc}"
        return None
    patient = await wards_service.find_patient_by_nhs_number(session, number)
    if patient is None:
        errors["nhs_number"] = UNKNOWN_PERSON
    return patient


def take_number(
    form: dict[str, Any],
    name: str,
    label: str,
    bounds: tuple[float, float, str],
    errors: Errors,
) -> None:
    """A decimal number typed by a person ('53.80', '-1.55') within a range; blank stays None."""
    low, high, example = bounds
    raw = str(form.get(name) or "").strip()
    if not raw:
        form[name] = None
        return
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        errors[name] = f"Enter the {label.lower()} as a number, for example {example}"
    elif not low <= value <= high:
        errors[name] = f"{label} must be between {low:g} and {high:g}"
    else:
        form[name] = float(value)


def take_money(form: dict[str, Any], name: str, label: str, errors: Errors) -> None:
    """Pounds and pence ('£650', '1,200.50'); blank stays None."""
    raw = str(form.get(name) or "").strip().lstrip("£").replace(",", "").strip()
    if not raw:
        form[name] = None
        return
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        errors[name] = f"Enter the {label.lower()} in pounds, for example 650.00"
        return
    if not amount.is_finite():
        errors[name] = f"Enter the {label.lower()} in pounds, for example 650.00"
    elif amount < 0:
        errors[name] = f"{label} cannot be negative"
    elif amount != amount.quantize(Decimal("0.01")):
        errors[name] = f"Enter the {label.lower()} in pounds and pence, for example 650.00"
    elif amount >= Decimal("100000000"):
        errors[name] = f"{label} is too large"
    else:
        form[name] = amount
