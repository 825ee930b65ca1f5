"""The bed manager's pages: the trust's bed state (/flow), bed requests (the waiting list),
and, through the routers included below, bed search and out-of-area placements. People are
shown by initials, sex and age band: never by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import reads
from app.auth import access, scope
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep
from app.errors import Conflict, NotFound
from app.flow import geo, placement_views, requests, schemas, search_views, state
from app.flow.models import BedRequest
from app.flow.pages import (
    can_place,
    can_place_out,
    flow_page,
    patient_by_nhs_number,
    person_text,
)
from app.forms import Errors, attempt, form_dict, take_datetimes, validate
from app.wards.models import Patient
from app.web import FLOW_CHANGED, input_datetime, is_htmx

router = APIRouter()

# Other capabilities add a line under the bed flow page's totals (the PAS feed: when it last
# spoke) without flow depending on them; filled by app/extensions.py. Each gives (template,
# its context) or None for nothing to say.
FlowNotice = Callable[[AsyncSession, datetime], Awaitable[tuple[str, Any] | None]]
flow_notices: list[FlowNotice] = []
router.include_router(search_views.router)
router.include_router(placement_views.router)


@router.get("/flow", response_class=HTMLResponse)
async def bed_state(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    data = await state.bed_state(session, actor=user, now=now)
    return flow_page(
        request,
        "flow/_state.html",
        {
            "state": data,
            "notices": [n for n in [await notice(session, now) for notice in flow_notices] if n],
            "now": now,
            "person_text": person_text,
            "can_place": can_place(user),
            "can_place_out": can_place_out(user),
            "METHOD": geo.METHOD,
        },
        title="Bed flow",
        back=None,
    )


# --- a new bed request --------------------------------------------------------------------


def _new_request_page(
    request: Request,
    values: dict[str, Any],
    errors: Errors,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return flow_page(
        request,
        "flow/_request_form.html",
        {"values": values, "errors": errors, "problem": problem},
        title="New bed request",
        status_code=status_code,
    )


@router.get("/flow/requests/new", response_class=HTMLResponse)
async def new_request_form(request: Request, user: PageUser, now: NowDep) -> HTMLResponse:
    access.require_role(user, access.PLACERS, "ask for beds")
    values = {
        "decision_to_admit_at": input_datetime(now),
        "ward_type": "adult_acute",
        "nhs_number": request.query_params.get("nhs_number", ""),
    }
    return _new_request_page(request, values, {})


@router.post("/flow/requests", response_class=HTMLResponse)
async def create_request(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, access.PLACERS, "ask for beds")
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["decision_to_admit_at"], errors)
    patient = await patient_by_nhs_number(session, form.get("nhs_number"), errors)
    data = validate(
        schemas.BedRequestIn,
        {
            "patient_id": patient.id if patient is not None else 0,
            "decision_to_admit_at": form.get("decision_to_admit_at"),
            "ward_type": form.get("ward_type") or "",
            "note": form.get("note") or None,
        },
        errors,
        drop_blank=True,
    )

    async def write() -> BedRequest:
        assert data is not None
        return await requests.create_request(session, actor=user, data=data, now=now)

    saved = await attempt(session, write, errors=errors)
    if not saved.ok:
        return _new_request_page(
            request, values, saved.errors, problem=saved.problem, status_code=saved.status
        )
    created = saved.saved
    if is_htmx(request):
        # The new request's own page takes the form's place, at its own address.
        return await _request_page(
            request,
            session,
            user,
            created.id,
            now,
            status_code=201,
            headers={"HX-Push-Url": f"/flow/requests/{created.id}", "HX-Trigger": FLOW_CHANGED},
        )
    return RedirectResponse(f"/flow/requests/{created.id}", status_code=303)


# --- a request's page: find a bed, place out of area, or cancel ---------------------------


async def _request_page(
    request: Request,
    session: AsyncSession,
    user: User,
    request_id: int,
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    problem: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    bed_request: BedRequest = await requests.get_request(
        session, actor=user, request_id=request_id, now=now
    )
    out = (await requests.requests_out(session, [bed_request], now))[0]
    return flow_page(
        request,
        "flow/_request.html",
        {
            "bed_request": out,
            "home": bed_request.patient.home_locality,
            "person": person_text(out.person),
            "wait_due": (await state.thresholds(session)).wait_due(out.decision_to_admit_at),
            "now": now,
            "can_place": can_place(user),
            "can_place_out": can_place_out(user),
            "values": values or {"at": input_datetime(now)},
            "errors": errors or {},
            "problem": problem,
            "notice": notice,
        },
        title=f"Bed request {out.id}",
        status_code=status_code,
        headers=headers,
    )


@router.get("/flow/requests/{request_id}", response_class=HTMLResponse)
async def request_page(
    request_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    page = await _request_page(request, session, user, request_id, now)
    await _audit_read(session, request, user, now, "bed_request.read", request_id)
    return page


async def _audit_read(
    session: AsyncSession, request: Request, user: User, now: datetime, action: str, record: int
) -> None:
    patient_id = await session.scalar(select(BedRequest.patient_id).where(BedRequest.id == record))
    await reads.record_reads(
        session,
        request,
        actor=user,
        action=action,
        patient_ids=[patient_id] if patient_id is not None else [],
        now=now,
        details={"record_id": record},
    )


@router.post("/flow/requests/{request_id}/cancel", response_class=HTMLResponse)
async def cancel_request(
    request_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, access.PLACERS, "cancel bed requests")
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    if not (form.get("reason") or "").strip():
        errors["reason"] = "Enter the reason for cancelling"
    data = validate(
        schemas.CancelIn,
        {"at": form.get("at"), "reason": form.get("reason")},
        errors,
        drop_blank=True,
    )

    async def write() -> object:
        assert data is not None
        return await requests.cancel_request(
            session, actor=user, request_id=request_id, data=data, now=now
        )

    saved = await attempt(session, write, errors=errors, refusals=(Conflict,))
    if not saved.ok:
        return await _request_page(
            request,
            session,
            user,
            request_id,
            now,
            values=values,
            errors=saved.errors,
            problem=saved.problem,
            status_code=saved.status,
        )
    if not is_htmx(request):
        return RedirectResponse(f"/flow/requests/{request_id}", status_code=303)
    return await _request_page(
        request,
        session,
        user,
        request_id,
        now,
        notice="The request was cancelled.",
        headers={"HX-Trigger": FLOW_CHANGED},
    )


# --- "Admit here": the ward's admit form, filled in from the waiting person's request ----


async def admit_prefill(
    session: AsyncSession, user: User, request: Request, now: datetime
) -> dict[str, str]:
    raw = request.query_params.get("request")
    if raw is None:
        return {}
    try:
        request_id = int(raw)
    except ValueError:
        raise NotFound(f"No bed request with id {raw!r}.") from None
    bed_request = await requests.get_request(session, actor=user, request_id=request_id, now=now)
    if bed_request.status != "open":
        raise Conflict(
            f"Bed request {bed_request.id} is already closed "
            f"({bed_request.status.replace('_', ' ')}): there is no one waiting to admit."
        )
    about = {
        "decision_to_admit_at": input_datetime(bed_request.decision_to_admit_at),
        "bed_request_id": str(bed_request.id),
    }
    # The person's details are filled in only for someone who may read that person: a nurse
    # who asked for a bed for someone not (or no longer) on her wards types them, and the
    # form checks them against the record (issue 17 finding 3). Filling them from a request
    # alone would turn any patient id or NHS number into a name and date of birth.
    patient = bed_request.patient
    readable = scope.patient_condition(user, now, Patient.id)
    if (
        readable is not None
        and (await session.scalar(select(Patient.id).where(Patient.id == patient.id, readable)))
        is None
    ):
        return about
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="bed_request.admit_form",
        patient_ids=[patient.id],
        now=now,
        details={"record_id": bed_request.id},
    )
    return {
        "nhs_number": patient.nhs_number,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex": patient.sex,
        **about,
    }
