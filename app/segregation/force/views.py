"""Use-of-force pages: record a use of force, read it, complete or correct it.

The form reads local (Europe/London) times and yes / no / not-yet-recorded answers, builds
the API's body and validates it with the API's schema; the service does the rest, so the
page and the API refuse the same things. A refused form comes back with each error beside
its field and nothing saved.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import reads
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, field_errors
from app.forms import Errors, form_dict, take_datetimes
from app.segregation import codes
from app.segregation.codes import INTERVENTION_TYPES
from app.segregation.force import checks, schemas, service
from app.segregation.force.models import RestrictiveIntervention
from app.wards.models import Admission
from app.web import input_datetime, page_or_fragment, templates

router = APIRouter()

templates.env.globals.update(
    INTERVENTION_TYPES=codes.INTERVENTION_TYPES,
    INTERVENTION_REASONS=codes.INTERVENTION_REASONS,
    INTERVENTION_TYPE_GROUPS=codes.INTERVENTION_TYPE_GROUPS,
    FORCE_MISSING_LABELS=checks.MISSING_LABELS,
    force_missing_items=checks.missing_items,
)
M = TypeVar("M", bound=BaseModel)

TIMES = ("started_at", "ended_at", "debriefed_at")
TEXTS = ("place", "description", "outcome", "avoidance_efforts")
YES_NO = ("in_care_plan", "patient_injury", "staff_injury", "care_plan_notification_sent")
SPARE_STAFF_ROWS = 4

LABELS = {
    "started_at": "When it began",
    "ended_at": "When it ended",
    "debriefed_at": "When the debrief took place",
    "place": "Where it happened",
    "reason_code": "The reason",
    "types": "The type of force",
    "description": "How force was used",
    "non_unit_staff": "Whether anyone not on the unit's staff took part",
    "non_unit_staff_reason": "Who from outside the unit's staff took part, and why",
    "outcome": "The outcome",
    "avoidance_efforts": "The efforts to avoid force",
    **{name: "This answer" for name in YES_NO},
}
_TYPE_TIME = re.compile(r"type-(\d+)-(started|ended)_at")
_STAFF = re.compile(r"staff-(\d+)-(name|job_title)")


def _label(key: str) -> str:
    if match := _TYPE_TIME.fullmatch(key):
        name = INTERVENTION_TYPES.get(match[1], match[1]).lower()
        return f"When {name} {'began' if match[2] == 'started' else 'ended'}"
    if match := _STAFF.fullmatch(key):
        return f"The {match[2].replace('_', ' ')} of person {int(match[1]) + 1}"
    return LABELS.get(key, key.replace("_", " ").capitalize())


def _say(key: str, message: str) -> str:
    """What a person reads beside the field."""
    if key == "correction_reason":
        return "Say why you are changing what was already recorded"
    if key in ("types", "reason_code") and message.startswith("must be one of"):
        return f"Choose {_label(key).lower()} from the list"
    if key == "types":  # the message names the types itself
        return message[0].upper() + message[1:]
    label = _label(key)
    if message in ("is required", "must not be blank"):
        return f"Enter {label[0].lower()}{label[1:]}"
    return f"{label} {message}"


def _form_key(field: str, index: dict[str, str]) -> str:
    """The form input an API field came from: 'types.1.ended_at' -> 'type-09-ended_at'."""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] in ("types", "staff"):
        if parts[2] == "type_code":
            return "types"
        prefix = index.get(f"{parts[0]}.{parts[1]}")
        if prefix:
            return f"{prefix}-{parts[2]}"
    return field


def _add_errors(errors: Errors, found: list[FieldError], index: dict[str, str]) -> None:
    for error in found:
        key = _form_key(error.field, index)
        errors.setdefault(key, _say(key, error.message))


def _validated(model: type[M], body: dict[str, Any]) -> tuple[M | None, list[FieldError]]:
    """The API's own validation, with errors kept by field to be shown beside the inputs."""
    try:
        return model.model_validate(body), []
    except ValidationError as exc:
        return None, field_errors([dict(e) for e in exc.errors()])


# --- between the form and the API's body ------------------------------------------------


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def values_from_record(record: RestrictiveIntervention) -> dict[str, Any]:
    """The form filled in from a record; a type's own time is blank when it is the incident's."""
    values: dict[str, Any] = {name: input_datetime(getattr(record, name)) for name in TIMES}
    values.update({name: getattr(record, name) or "" for name in TEXTS})
    values.update({name: _yes_no(getattr(record, name)) for name in YES_NO})
    values["reason_code"] = record.reason_code or ""
    other = record.non_unit_staff_reason
    values["non_unit_staff"] = (
        "" if other is None else "none" if other == service.NO_NON_UNIT_STAFF else "yes"
    )
    values["non_unit_staff_reason"] = other if values["non_unit_staff"] == "yes" else ""
    values["types"] = [t.type_code for t in record.types]
    for t in record.types:
        own_start = t.started_at != record.started_at
        own_end = t.ended_at != record.ended_at
        values[f"type-{t.type_code}-started_at"] = input_datetime(t.started_at) if own_start else ""
        values[f"type-{t.type_code}-ended_at"] = input_datetime(t.ended_at) if own_end else ""
    for row, person in enumerate(record.staff):
        values[f"staff-{row}-name"] = person.name
        values[f"staff-{row}-job_title"] = person.job_title
    return values


def staff_rows(values: dict[str, Any]) -> int:
    """The rows sent (or filled from the record), with a few spare ones after the last filled."""
    rows = {int(m[1]) for key in values if (m := _STAFF.fullmatch(key))}
    filled = {
        r for r in rows if values.get(f"staff-{r}-name") or values.get(f"staff-{r}-job_title")
    }
    return max(max(rows, default=-1) + 1, max(filled, default=-1) + 1 + SPARE_STAFF_ROWS)


def _non_unit(values: dict[str, Any], errors: Errors) -> str | None:
    answer = values.get("non_unit_staff") or ""
    if answer == "none":
        return service.NO_NON_UNIT_STAFF
    reason = (values.get("non_unit_staff_reason") or "").strip()
    if answer == "yes" and not reason:
        errors["non_unit_staff_reason"] = "Say who from outside the unit's staff took part, and why"
    return reason if answer == "yes" else None


def body_from_form(values: dict[str, Any], errors: Errors) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body the form stands for, and which form input each list entry came from."""
    form = dict(values)
    chosen = list(form.get("types") or [])
    own_times = [f"type-{code}-{edge}_at" for code in chosen for edge in ("started", "ended")]
    take_datetimes(form, [*TIMES, *own_times], errors)
    if form.get("started_at") is None:
        errors.setdefault("started_at", "Enter when it began")
    body: dict[str, Any] = {name: form.get(name) for name in (*TIMES, *TEXTS)}
    body["reason_code"] = form.get("reason_code") or None
    body.update({name: {"yes": True, "no": False}.get(form.get(name) or "") for name in YES_NO})
    body["non_unit_staff_reason"] = _non_unit(form, errors)
    index: dict[str, str] = {}
    body["types"] = []
    for code in chosen:
        index[f"types.{len(body['types'])}"] = f"type-{code}"
        ends = {f"{edge}_at": form.get(f"type-{code}-{edge}_at") for edge in ("started", "ended")}
        body["types"].append({"type_code": code, **ends})
    body["staff"] = []
    for row in range(staff_rows(form)):
        person = {k: (form.get(f"staff-{row}-{k}") or "").strip() for k in ("name", "job_title")}
        if any(person.values()):  # spare rows left blank are not people
            index[f"staff.{len(body['staff'])}"] = f"staff-{row}"
            body["staff"].append(person)
    return body, index


async def _read(request: Request) -> dict[str, Any]:
    form = await request.form()
    values = form_dict(form)
    values["types"] = [str(code) for code in form.getlist("types")]
    return values


# --- pages -------------------------------------------------------------------------------


def _form_page(
    request: Request,
    admission: Admission,
    record: RestrictiveIntervention | None,
    values: dict[str, Any],
    errors: Errors,
    *,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page_or_fragment(
        request,
        "segregation/force_form.html",
        "segregation/_force_form.html",
        {
            "admission": admission,
            "record": record,
            "values": values,
            "errors": errors,
            "problem": problem,
            "staff_rows": staff_rows(values),
            "no_non_unit_staff": service.NO_NON_UNIT_STAFF,
            "action": f"/use-of-force/{record.id}/edit"
            if record
            else f"/admissions/{admission.id}/use-of-force/new",
            "active": "wards",
        },
        status_code=status,
    )


async def _save(
    session: AsyncSession,
    write: Callable[[], Awaitable[RestrictiveIntervention]],
    errors: Errors,
    index: dict[str, str],
) -> tuple[Response | None, str | None]:
    """Write in a savepoint: a refusal undoes only this attempt. (response, problem)."""
    try:
        async with session.begin_nested():
            record = await write()
        await commit(session)
        return RedirectResponse(f"/use-of-force/{record.id}", status_code=303), None
    except Invalid as exc:
        _add_errors(errors, exc.errors, index)
    except (Conflict, NotFound) as exc:
        return None, exc.detail
    return None, None


@router.get("/admissions/{admission_id}/use-of-force/new", response_class=HTMLResponse)
async def new_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    admission = await service.writable_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    page = _form_page(request, admission, None, {}, {})
    await reads.record_form_read(session, request, actor=user, admission=admission, now=now)
    return page


@router.post("/admissions/{admission_id}/use-of-force/new", response_class=HTMLResponse)
async def create(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    await service.writable_admission(session, actor=user, admission_id=admission_id, now=now)
    values = await _read(request)
    errors: Errors = {}
    body, index = body_from_form(values, errors)
    data, problems = _validated(schemas.InterventionIn, body)
    _add_errors(errors, problems, index)
    problem = None
    if data is not None and not errors:

        async def write() -> RestrictiveIntervention:
            assert data is not None
            return await service.create_intervention(
                session, actor=user, admission_id=admission_id, data=data, now=now
            )

        done, problem = await _save(session, write, errors, index)
        if done is not None:
            return done
    admission = await service.writable_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    status = 409 if problem else 422
    return _form_page(request, admission, None, values, errors, problem=problem, status=status)


async def _record_for_change(
    session: AsyncSession, user: User, intervention_id: int, now: datetime
) -> tuple[RestrictiveIntervention, Admission]:
    record, admission = await service.get_intervention(
        session, actor=user, intervention_id=intervention_id, now=now
    )
    service.require_writer(user, admission, record.started_at, now=now)
    return record, admission


@router.get("/use-of-force/{intervention_id}", response_class=HTMLResponse)
async def record_page(
    intervention_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    record, admission = await service.get_intervention(
        session, actor=user, intervention_id=intervention_id, now=now
    )
    try:
        service.require_writer(user, admission, record.started_at, now=now)
        can_write = True
    except Forbidden:
        can_write = False
    ward = next(s.ward for s in admission.stays if s.ward_id == record.ward_id)
    out = (await service.describe(session, [record]))[0]
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="restrictive_intervention.read",
        admission_id=admission.id,
        now=now,
        record_id=record.id,
    )
    return page_or_fragment(
        request,
        "segregation/force_record.html",
        "segregation/_force_record.html",
        {
            "record": record,
            "admission": admission,
            "ward": ward,
            "out": out,
            "can_write": can_write,
            "active": "wards",
        },
    )


@router.get("/use-of-force/{intervention_id}/edit", response_class=HTMLResponse)
async def edit_form(
    intervention_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    record, admission = await _record_for_change(session, user, intervention_id, now)
    page = _form_page(request, admission, record, values_from_record(record), {})
    await reads.record_form_read(
        session, request, actor=user, admission=admission, now=now, record_id=record.id
    )
    return page


@router.post("/use-of-force/{intervention_id}/edit", response_class=HTMLResponse)
async def edit(
    intervention_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    record, _admission = await _record_for_change(session, user, intervention_id, now)
    values = await _read(request)
    errors: Errors = {}
    body, index = body_from_form(values, errors)
    # Send only what the person changed: an untouched field is not re-sent at minute
    # precision, so it can never look like a correction.
    unchanged, _ = body_from_form(values_from_record(record), {})
    changes = {k: v for k, v in body.items() if v != unchanged.get(k)}
    if not changes and not errors:
        return RedirectResponse(f"/use-of-force/{intervention_id}", status_code=303)
    changes["correction_reason"] = values.get("correction_reason")
    data, problems = _validated(schemas.InterventionPatch, changes)
    _add_errors(errors, problems, index)
    problem = None
    if data is not None and not errors:

        async def write() -> RestrictiveIntervention:
            assert data is not None
            return await service.update_intervention(
                session, actor=user, intervention_id=intervention_id, data=data, now=now
            )

        done, problem = await _save(session, write, errors, index)
        if done is not None:
            return done
    record, admission = await _record_for_change(session, user, intervention_id, now)
    status = 409 if problem else 422
    return _form_page(request, admission, record, values, errors, problem=problem, status=status)
