"""Mental Health Act pages: the legal panel on the admission page, the rights form, and
the diary (the Mental Health Act office's worklist)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import reads
from app.auth import access
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep
from app.forms import Errors, attempt, form_dict, take_datetimes, validate
from app.mha import schemas, service
from app.mha.clocks import day_of, spoken_deadline
from app.mha.codes import RIGHTS_KINDS, UNDERSTOOD
from app.wards import admissions
from app.wards.models import Admission
from app.web import BOARD_CHANGED, done, input_datetime, page_or_fragment, render, templates

router = APIRouter()
# Deadlines read as the Act counts them: "end of 3 Jun 2027" for a period of days or months.
templates.env.filters["legal_deadline"] = spoken_deadline

# What a deadline is called on a page.
RULE_NAMES = {
    "MHA_S2_EXPIRY": "Section 2 ends",
    "MHA_S3_RENEWAL": "Renewal due",
    "MHA_HOLDING_EXPIRY": "Holding power ends",
    "MHA_S132_RIGHTS": "Rights to be given",
    "MHA_TRIBUNAL_REFERRAL": "Tribunal referral",
}


async def admission_section(
    session: AsyncSession, admission: Admission, now: datetime, reader: User
) -> tuple[str, dict[str, Any]]:
    record = await service.legal_record(
        session, actor=reader, admission_id=admission.id, as_of=now, now=now
    )
    return "mha/_admission_section.html", {
        "record": record,
        "rule_names": RULE_NAMES,
        "can_record": reader.role in service.RECORDERS,
        "now": now,
        # A window opens at midnight in England: its day, not the UTC date.
        "legal_day": day_of,
    }


# --- rights given -----------------------------------------------------------------------


async def _recordable(
    session: AsyncSession, user: User, now: datetime, admission_id: int
) -> Admission:
    """The admission, once the user may record on the ward the person is on: the form is
    not offered to those the service would refuse."""
    access.require_role(user, service.RECORDERS, "record rights given")
    admission = await admissions.get_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    admissions.require_ward_for(user, admission, "record rights given", now=now)
    return admission


def _show_rights(
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
        "kinds": RIGHTS_KINDS,
        "understood": UNDERSTOOD,
        "active": "wards",
    }
    return page_or_fragment(
        request, "mha/rights.html", "mha/_rights_form.html", context, status_code=status
    )


@router.get("/admissions/{admission_id}/rights/new", response_class=HTMLResponse)
async def rights_form(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    admission = await _recordable(session, user, now, admission_id)
    response = _show_rights(
        request, admission, {"given_at": input_datetime(now), "kind": "s132", "oral": "on"}
    )
    await reads.record_admission_read(
        session, request, actor=user, action="mha.rights_form", admission_id=admission_id, now=now
    )
    return response


@router.post("/admissions/{admission_id}/rights", response_class=HTMLResponse)
async def record_rights(
    admission_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    admission = await _recordable(session, user, now, admission_id)
    values = form_dict(await request.form())
    form: dict[str, Any] = {
        "kind": values.get("kind") or None,
        "given_at": values.get("given_at"),
        "oral": values.get("oral") == "on",
        "written": values.get("written") == "on",
        "understood": values.get("understood") or None,
    }
    errors: Errors = {}
    take_datetimes(form, ["given_at"], errors)
    if not (form["oral"] or form["written"]):
        errors["oral"] = "Say whether the rights were given orally, in writing, or both"
    data = validate(schemas.RightsIn, form, errors)

    async def write() -> object:
        assert data is not None
        return await service.add_rights(
            session, actor=user, admission_id=admission_id, data=data, now=now
        )

    saved = await attempt(session, write, errors=errors)
    if not saved.ok:
        return _show_rights(
            request, admission, values, saved.errors, saved.problem, status=saved.status
        )
    ward_code = admissions.current_stay(admission).ward.code
    message = f"Rights given to {admission.patient.display_name} recorded."
    return done(request, message, trigger=BOARD_CHANGED, redirect=f"/wards/{ward_code}")


# --- the diary --------------------------------------------------------------------------


@router.get("/mha/diary", response_class=HTMLResponse)
async def diary_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=366)] = 14,
    ward_code: str | None = None,
) -> HTMLResponse:
    entries = await service.diary(
        session, actor=user, days=days, ward_code=ward_code or None, now=now
    )
    response = render(
        request,
        "mha/diary.html",
        {
            "entries": entries,
            "days": days,
            "ward_code": ward_code or "",
            "rule_names": RULE_NAMES,
            "active": "mha",
        },
    )
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="mha.diary",
        patient_ids=[e.patient_id for e in entries],
        now=now,
    )
    return response
