"""Bed search for people (/flow/search): the filters come from a waiting person's request
(?request=ID), from a patient (?patient_id=), or are typed in; the nearest suitable empty
beds first, each with "Admit here", then the beds expected to free up soon."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import access
from app.auth.models import User
from app.clock import local_date
from app.deps import NowDep, PageUser, SessionDep
from app.errors import NotFound
from app.flow import geo, people, requests, schemas, search
from app.flow.pages import can_place_out, flow_page, person_text
from app.forms import Errors, validate
from app.wards.models import Locality, Patient

router = APIRouter()
HAND = ("sex", "age", "locality_code")


def _id(raw: str, what: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise NotFound(f"No {what} with id {raw!r}.") from None


def _age(raw: str, errors: Errors) -> int | None:
    try:
        age = int(raw.strip())
    except ValueError:
        age = -1
    if not 0 <= age <= 130:
        errors["age"] = "Enter the age in whole years, from 0 to 130"
        return None
    return age


def _admit_wards(user: User) -> set[str] | None:
    """Wards where this person may admit: None for anywhere (bed managers, admins)."""
    if user.role not in access.PLACERS:
        return set()
    if access.is_ward_scoped(user):
        return {w.code for w in user.wards}
    return None


async def _localities(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Locality.code, Locality.name).order_by(Locality.name))
    return dict(rows.all())


async def _query(
    session: AsyncSession, user: User, params: dict[str, str], now: datetime, errors: Errors
) -> tuple[schemas.SearchQuery | None, schemas.BedRequestOut | None, dict[str, str]]:
    """What to search for, the request it is for (if any), and the form's values."""
    values = {k: params.get(k, "") for k in (*HAND, "ward_type", "request", "patient_id")}
    bed_request = None
    patient_id = None
    if params.get("request"):
        found = await requests.get_request(
            session, actor=user, request_id=_id(params["request"], "bed request"), now=now
        )
        bed_request = (await requests.requests_out(session, [found], now))[0]
        patient_id = found.patient_id
        if "ward_type" not in params:
            values["ward_type"] = found.ward_type
    elif params.get("patient_id"):
        patient_id = _id(params["patient_id"], "patient")
    data: dict[str, Any] = {"ward_type": values["ward_type"] or None, "limit": 20}
    if patient_id is not None:
        # The person's own sex, age and home area: the page shows only their age band.
        data["patient_id"] = patient_id
    elif params:
        for name, message in (("sex", "Choose the sex"), ("locality_code", "Choose the home area")):
            if not params.get(name):
                errors[name] = message
        data.update(
            sex=params.get("sex") or None,
            age=_age(params.get("age", ""), errors),
            locality_code=params.get("locality_code") or None,
        )
    else:
        return None, bed_request, values  # nothing asked yet: an empty form
    query = validate(schemas.SearchQuery, data, errors, drop_blank=True)
    return (None if errors else query), bed_request, values


@router.get("/flow/search", response_class=HTMLResponse)
async def bed_search(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    access.require_role(user, access.CLINICAL_READERS, "search for beds")
    params = {k: v for k, v in request.query_params.items() if k != "refresh"}
    errors: Errors = {}
    query, bed_request, values = await _query(session, user, params, now, errors)
    found = None
    person = None
    if query is not None:
        try:
            found = await search.search_beds(session, actor=user, query=query, now=now)
        except NotFound as exc:
            if query.patient_id is not None:
                raise
            errors["locality_code"] = f"Choose the home area ({exc.detail})"
        if found is not None:
            searched = found.searched_for
            if bed_request is not None:
                person = person_text(bed_request.person)
            elif searched.patient_id is not None:
                patient = await session.get_one(Patient, searched.patient_id)
                person = person_text(
                    people.person(patient, searched.locality_code, local_date(now))
                )
    return flow_page(
        request,
        "flow/_search.html",
        {
            "values": values,
            "errors": errors,
            "found": found,
            "person": person,
            "bed_request": bed_request,
            "localities": await _localities(session),
            "admit_wards": _admit_wards(user),
            "method": geo.METHOD,
            "can_place_out": can_place_out(user),
        },
        title="Find a bed",
        status_code=422 if errors else 200,
    )
