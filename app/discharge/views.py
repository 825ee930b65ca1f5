"""The discharge and clinically-ready-for-discharge forms, opened in place from a card on
the board (or as pages of their own), and the admission page's list of delays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import reads
from app.auth import access, scope
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep
from app.discharge import ready, service
from app.discharge import schemas as discharge_schemas
from app.discharge.codes import ATTRIBUTABLE_TO, DELAY_REASON_GROUPS, DELAY_REASONS
from app.discharge.models import ReadyForDischarge
from app.errors import Invalid
from app.forms import Errors, attempt, form_dict, take_datetimes, validate
from app.wards import admissions, schemas
from app.wards.models import Admission
from app.web import BOARD_CHANGED, done, input_datetime, page_or_fragment

router = APIRouter()


# --- discharge --------------------------------------------------------------------------


async def _context(
    session: AsyncSession,
    user: User,
    now: datetime,
    admission_id: int,
    values: dict[str, Any],
    errors: Errors,
    problem: str | None = None,
) -> dict[str, Any]:
    admission = await admissions.get_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    return {
        "admission": admission,
        "stay": admissions.current_stay(admission),
        "values": values,
        "errors": errors,
        "problem": problem,
    }


@router.get("/admissions/{admission_id}/discharge", response_class=HTMLResponse)
async def discharge_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    # Not offered to those the service would refuse (readers who may not discharge).
    admission = await _writable_admission(session, user, now, admission_id, "discharge people")
    context = await _context(session, user, now, admission_id, {"at": input_datetime(now)}, {})
    page = page_or_fragment(
        request, "discharge/discharge.html", "discharge/_discharge_form.html", context
    )
    await reads.record_form_read(session, request, actor=user, admission=admission, now=now)
    return page


@router.post("/admissions/{admission_id}/discharge", response_class=HTMLResponse)
async def discharge(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    data = validate(
        schemas.DischargeIn, {"at": form.get("at"), "destination": form.get("destination")}, errors
    )

    async def write() -> Admission:
        assert data is not None
        return await service.discharge(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )

    saved = await attempt(session, write, errors=errors)
    if saved.ok:
        admission = saved.saved
        ward_code = admissions.current_stay(admission).ward.code
        return done(
            request,
            f"{admission.patient.display_name} discharged.",
            trigger=BOARD_CHANGED,
            redirect=f"/wards/{ward_code}",
        )
    context = await _context(session, user, now, admission_id, values, saved.errors, saved.problem)
    return page_or_fragment(
        request,
        "discharge/discharge.html",
        "discharge/_discharge_form.html",
        context,
        status_code=saved.status,
    )


# --- clinically ready for discharge -----------------------------------------------------

# What to say when a field is left empty, and how to name a field in any other message
# (the service's "cannot be before the admission" reads as "The time cannot be ...").
READY_REQUIRED = {
    "started_at": "Enter the date and time the person became ready for discharge",
    "reason_code": "Choose the reason for the delay",
    "attributable_to": "Choose who the delay is attributable to",
    "at": "Enter the date and time the delay ended",
}
READY_LABELS = {
    "started_at": "The time",
    "reason_code": "The reason",
    "attributable_to": "Who the delay is attributable to",
    "at": "The time",
}


def _ready_errors(form: dict[str, Any], names: list[str], errors: Errors) -> None:
    """Each missing field gets its own message (before the schema's general one)."""
    for name in names:
        if form.get(name) in (None, "") and name not in errors:
            errors[name] = READY_REQUIRED[name]
            form[name] = None


def _service_errors(exc: Invalid) -> Errors:
    return {e.field: f"{READY_LABELS.get(e.field, 'This')} {e.message}" for e in exc.errors}


async def _writable_admission(
    session: AsyncSession, user: User, now: datetime, admission_id: int, doing: str
) -> Admission:
    """The admission, once the user may write on the ward the person is on now: the form
    is not offered to those the service would refuse."""
    access.require_role(user, access.CLINICAL_WRITERS, doing)
    admission = await admissions.get_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    admissions.require_ward_for(user, admission, doing, now=now)
    return admission


def _show_ready(
    request: Request,
    admission: Admission,
    values: dict[str, Any],
    errors: Errors | None = None,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "admission": admission,
        "stay": admissions.current_stay(admission),
        "values": values,
        "errors": errors or {},
        "problem": problem,
        "reason_groups": DELAY_REASON_GROUPS,
        "agencies": ATTRIBUTABLE_TO,
        "active": "wards",
    }
    return page_or_fragment(
        request, "discharge/ready.html", "discharge/_ready_form.html", context, status_code=status
    )


@router.get("/admissions/{admission_id}/ready-for-discharge", response_class=HTMLResponse)
async def ready_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    admission = await _writable_admission(
        session, user, now, admission_id, "mark people ready for discharge"
    )
    page = _show_ready(request, admission, {"started_at": input_datetime(now)})
    await reads.record_form_read(session, request, actor=user, admission=admission, now=now)
    return page


@router.post("/admissions/{admission_id}/ready-for-discharge", response_class=HTMLResponse)
async def start_ready(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission = await _writable_admission(
        session, user, now, admission_id, "mark people ready for discharge"
    )
    values = form_dict(await request.form())
    names = ["started_at", "reason_code", "attributable_to"]
    form = {name: values.get(name) or None for name in names}
    errors: Errors = {}
    take_datetimes(form, ["started_at"], errors)
    _ready_errors(form, names, errors)
    data = validate(discharge_schemas.ReadyIn, form, errors)

    async def write() -> object:
        assert data is not None
        return await ready.start(session, actor=user, admission_id=admission_id, data=data, now=now)

    saved = await attempt(session, write, errors=errors, explain=_service_errors)
    if saved.ok:
        name = admission.patient.display_name
        ward_code = admissions.current_stay(admission).ward.code
        return done(
            request,
            f"{name} marked ready for discharge.",
            trigger=BOARD_CHANGED,
            redirect=f"/wards/{ward_code}",
        )
    if not errors:
        # The savepoint's rollback expired what the page shows: read it again.
        admission = await admissions.get_admission(
            session, actor=user, admission_id=admission_id, now=now
        )
    return _show_ready(request, admission, values, saved.errors, saved.problem, status=saved.status)


async def _period_and_admission(
    session: AsyncSession, user: User, now: datetime, period_id: int
) -> tuple[ReadyForDischarge, Admission]:
    period = await ready.get_period(session, actor=user, period_id=period_id, now=now)
    admission = await _writable_admission(
        session, user, now, period.admission_id, "end ready for discharge"
    )
    return period, admission


def _show_end(
    request: Request,
    period: ReadyForDischarge,
    admission: Admission,
    values: dict[str, Any],
    errors: Errors | None = None,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {
        "period": period,
        "reason": DELAY_REASONS[period.reason_code],
        "agency": ATTRIBUTABLE_TO[period.attributable_to],
        "admission": admission,
        "stay": admissions.current_stay(admission),
        "values": values,
        "errors": errors or {},
        "problem": problem,
        "active": "wards",
    }
    return page_or_fragment(
        request,
        "discharge/ready_end.html",
        "discharge/_ready_end_form.html",
        context,
        status_code=status,
    )


@router.get("/ready-for-discharge/{period_id}/end", response_class=HTMLResponse)
async def end_ready_form(
    period_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    period, admission = await _period_and_admission(session, user, now, period_id)
    problem = None
    if period.ended_at is not None:
        problem = "This ready-for-discharge period has already ended."
    page = _show_end(request, period, admission, {"at": input_datetime(now)}, problem=problem)
    await reads.record_form_read(
        session, request, actor=user, admission=admission, now=now, record_id=period.id
    )
    return page


@router.post("/ready-for-discharge/{period_id}/end", response_class=HTMLResponse)
async def end_ready(
    period_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    period, admission = await _period_and_admission(session, user, now, period_id)
    values = form_dict(await request.form())
    form = {"at": values.get("at") or None}
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    _ready_errors(form, ["at"], errors)
    data = validate(discharge_schemas.ReadyEndIn, form, errors)

    async def write() -> object:
        assert data is not None
        return await ready.end(session, actor=user, period_id=period_id, data=data, now=now)

    saved = await attempt(session, write, errors=errors, explain=_service_errors)
    if saved.ok:
        name = admission.patient.display_name
        ward_code = admissions.current_stay(admission).ward.code
        return done(
            request,
            f"{name} is no longer delayed.",
            trigger=BOARD_CHANGED,
            redirect=f"/wards/{ward_code}",
        )
    if not errors:
        # The savepoint's rollback expired what the page shows: read it again.
        period, admission = await _period_and_admission(session, user, now, period_id)
    return _show_end(
        request, period, admission, values, saved.errors, saved.problem, status=saved.status
    )


# --- the admission page's section -------------------------------------------------------


async def admission_section(
    session: AsyncSession, admission: Admission, now: datetime, reader: User
) -> tuple[str, dict[str, object]]:
    """Every ready-for-discharge period of the admission the reader may see (scope.py),
    oldest first, with its days."""
    seen = scope.admission_seen(reader, admission, now)
    periods = [
        p
        for p in (await ready.periods_of(session, [admission.id]))[admission.id]
        if seen.shows(p.started_at)
    ]
    rows = [ready.period_out(p, now) for p in periods]
    return "discharge/_ready_section.html", {
        "periods": rows,
        "open": next((p for p in rows if p.ended_at is None), None),
        "agencies": ATTRIBUTABLE_TO,
        "admission_id": admission.id,
    }
