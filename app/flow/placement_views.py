"""Out-of-area placements for people: record one (for a waiting person's request, or by NHS
number), see it with its distance, bed days and cost so far, review it, end it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import reads
from app.auth import access
from app.auth.models import User
from app.deadlines import Interval
from app.deps import NowDep, PageUser, SessionDep
from app.errors import Conflict, NotFound
from app.flow import geo, placements, requests, schemas
from app.flow.codes import BED_TYPES, OAP_OUTCOMES, OAP_REASONS
from app.flow.models import BedRequest, OutOfAreaPlacement
from app.flow.pages import (
    can_place_out,
    flow_page,
    patient_by_nhs_number,
    person_text,
    take_money,
    take_number,
)
from app.forms import Errors, attempt, form_dict, take_datetimes, validate
from app.rules.catalogue import RuleCode
from app.rules.settings import parameters_in_force
from app.web import FLOW_CHANGED, input_datetime, is_htmx

router = APIRouter()
CODES = {"BED_TYPES": BED_TYPES, "OAP_REASONS": OAP_REASONS, "OAP_OUTCOMES": OAP_OUTCOMES}


def _request_id(raw: str | None) -> int | None:
    if not (raw or "").strip():
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise NotFound(f"No bed request with id {raw!r}.") from None


async def _open_request(
    session: AsyncSession, user: User, request_id: int | None, now: datetime
) -> BedRequest | None:
    if request_id is None:
        return None
    found = await requests.get_request(session, actor=user, request_id=request_id, now=now)
    if found.status != "open":
        raise Conflict(
            f"Bed request {found.id} is already closed ({found.status.replace('_', ' ')})."
        )
    return found


async def _new_page(
    request: Request,
    session: AsyncSession,
    user: User,
    request_id: int | None,
    now: datetime,
    values: dict[str, Any],
    errors: Errors,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    bed_request = person = None
    if request_id is not None:
        # Loaded afresh: a refused attempt rolled back, expiring what was loaded before it.
        bed_request = await requests.get_request(
            session, actor=user, request_id=request_id, now=now
        )
        out = (await requests.requests_out(session, [bed_request], now))[0]
        person = person_text(out.person)
    return flow_page(
        request,
        "flow/_placement_form.html",
        {
            **CODES,
            "bed_request": bed_request,
            "person": person,
            "values": values,
            "errors": errors,
            "problem": problem,
        },
        title="Record an out-of-area placement",
        status_code=status_code,
    )


@router.get("/flow/placements/new", response_class=HTMLResponse)
async def new_placement_form(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    access.require_role(user, placements.PLACEMENT_WRITERS, "record out-of-area placements")
    bed_request = await _open_request(
        session, user, _request_id(request.query_params.get("request")), now
    )
    values = {"started_at": input_datetime(now), "bed_type": "200", "reason_code": ""}
    return await _new_page(
        request, session, user, bed_request.id if bed_request else None, now, values, {}
    )


@router.post("/flow/placements", response_class=HTMLResponse)
async def create_placement(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, placements.PLACEMENT_WRITERS, "record out-of-area placements")
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    bed_request = await _open_request(session, user, _request_id(form.get("bed_request_id")), now)
    request_id = bed_request.id if bed_request is not None else None
    take_datetimes(form, ["started_at"], errors)
    take_number(form, "latitude", "Latitude", (-90, 90, "53.8"), errors)
    take_number(form, "longitude", "Longitude", (-180, 180, "-1.55"), errors)
    take_money(form, "daily_cost", "Daily cost", errors)
    if not form.get("bed_type"):
        errors["bed_type"] = "Choose the bed type"
    if not form.get("reason_code"):
        errors["reason_code"] = "Choose the reason for placing out of area"
    patient_id = (
        bed_request.patient_id
        if bed_request is not None
        else getattr(await patient_by_nhs_number(session, form.get("nhs_number"), errors), "id", 0)
    )
    data = validate(
        schemas.PlacementIn,
        {
            "patient_id": patient_id,
            "provider_name": form.get("provider_name") or "",
            **{k: form.get(k) for k in ("latitude", "longitude", "started_at", "daily_cost")},
            "bed_type": form.get("bed_type") or "",
            "reason_code": form.get("reason_code") or "",
            "bed_request_id": request_id,
        },
        errors,
        drop_blank=True,
    )

    async def again(status: int, problem: str | None = None) -> HTMLResponse:
        return await _new_page(
            request,
            session,
            user,
            request_id,
            now,
            values,
            errors,
            problem=problem,
            status_code=status,
        )

    async def write() -> OutOfAreaPlacement:
        assert data is not None
        return await placements.create_placement(session, actor=user, data=data, now=now)

    saved = await attempt(session, write, errors=errors)
    if not saved.ok:
        errors.update(saved.errors)
        return await again(saved.status, saved.problem)
    placement = saved.saved
    if is_htmx(request):
        return await _placement_page(
            request,
            session,
            user,
            placement.id,
            now,
            status_code=201,
            headers={"HX-Push-Url": f"/flow/placements/{placement.id}", "HX-Trigger": FLOW_CHANGED},
        )
    return RedirectResponse(f"/flow/placements/{placement.id}", status_code=303)


# --- a placement's page: review it, end it ------------------------------------------------


async def _review_due(session: AsyncSession, out: schemas.PlacementOut) -> datetime | None:
    """When the next review is due under OAP_REVIEW (every 3 months unless changed)."""
    if out.ended_at is not None:
        return None

    every = str((await parameters_in_force(session))[RuleCode.OAP_REVIEW]["every"])
    return Interval.parse(every).after(out.last_reviewed_at or out.started_at)


async def _placement_page(
    request: Request,
    session: AsyncSession,
    user: User,
    placement_id: int,
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    errors: Errors | None = None,
    sent: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The placement; ``sent`` names the form that was refused, so only it shows errors."""
    placement = await placements.get_placement(
        session, actor=user, placement_id=placement_id, now=now
    )
    out = placements.placement_out(placement, now)
    fresh = {"at": input_datetime(now)}
    forms = {
        name: (values or fresh, errors or {}) if name == sent else (fresh, {})
        for name in ("review", "end")
    }
    return flow_page(
        request,
        "flow/_placement.html",
        {
            **CODES,
            "placement": out,
            "person": person_text(out.person),
            "home": placement.patient.home_locality,
            "review_due": await _review_due(session, out),
            "method": geo.METHOD,
            "now": now,
            "forms": forms,
            "problem": problem,
            "can_write": can_place_out(user),
        },
        title=f"Out-of-area placement {out.id}",
        status_code=status_code,
        headers=headers,
    )


@router.get("/flow/placements/{placement_id}", response_class=HTMLResponse)
async def placement_page(
    placement_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    page = await _placement_page(request, session, user, placement_id, now)
    patient_id = await session.scalar(
        select(OutOfAreaPlacement.patient_id).where(OutOfAreaPlacement.id == placement_id)
    )
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="out_of_area_placement.read",
        patient_ids=[patient_id] if patient_id is not None else [],
        now=now,
        details={"record_id": placement_id},
    )
    return page


async def _placement_form_result(
    request: Request,
    session: AsyncSession,
    user: User,
    placement_id: int,
    now: datetime,
    values: dict[str, Any],
    errors: Errors,
    *,
    write: Callable[[], Awaitable[object]],
    sent: str,
) -> Response:
    """Save one of the placement page's forms, or show that form again with its errors."""
    saved = await attempt(session, write, errors=errors, refusals=(Conflict,))
    if not saved.ok:
        return await _placement_page(
            request,
            session,
            user,
            placement_id,
            now,
            values=values,
            errors=saved.errors,
            sent=sent,
            problem=saved.problem,
            status_code=saved.status,
        )
    if not is_htmx(request):
        return RedirectResponse(f"/flow/placements/{placement_id}", status_code=303)
    return await _placement_page(
        request, session, user, placement_id, now, headers={"HX-Trigger": FLOW_CHANGED}
    )


@router.post("/flow/placements/{placement_id}/reviews", response_class=HTMLResponse)
async def review_placement(
    placement_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, placements.PLACEMENT_WRITERS, "review out-of-area placements")
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    data = validate(
        schemas.PlacementReviewIn,
        {"at": form.get("at"), "note": form.get("note")},
        errors,
        drop_blank=True,
    )

    async def write() -> object:
        assert data is not None
        return await placements.add_review(
            session, actor=user, placement_id=placement_id, data=data, now=now
        )

    return await _placement_form_result(
        request,
        session,
        user,
        placement_id,
        now,
        values,
        errors,
        write=write,
        sent="review",
    )


@router.post("/flow/placements/{placement_id}/end", response_class=HTMLResponse)
async def end_placement(
    placement_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, placements.PLACEMENT_WRITERS, "end out-of-area placements")
    values = form_dict(await request.form())
    form = dict(values)
    errors: Errors = {}
    take_datetimes(form, ["at"], errors)
    if not form.get("outcome"):
        errors["outcome"] = "Choose how the placement ended"
    data = validate(
        schemas.PlacementEndIn,
        {"at": form.get("at"), "outcome": form.get("outcome")},
        errors,
        drop_blank=True,
    )

    async def write() -> object:
        assert data is not None
        return await placements.end_placement(
            session, actor=user, placement_id=placement_id, data=data, now=now
        )

    return await _placement_form_result(
        request,
        session,
        user,
        placement_id,
        now,
        values,
        errors,
        write=write,
        sent="end",
    )
