"""The discharge form, opened in place from a card on the board."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.discharge import service
from app.errors import Conflict, Invalid, NotFound
from app.forms import Errors, errors_from, form_dict, take_datetimes, validate
from app.wards import admissions, schemas
from app.web import input_datetime, is_htmx, page_or_fragment, render

router = APIRouter()


async def _context(
    session: AsyncSession,
    user: User,
    admission_id: int,
    values: dict[str, Any],
    errors: Errors,
    problem: str | None = None,
) -> dict[str, Any]:
    admission = await admissions.get_admission(session, actor=user, admission_id=admission_id)
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
    context = await _context(session, user, admission_id, {"at": input_datetime(now)}, {})
    return page_or_fragment(
        request, "discharge/discharge.html", "discharge/_discharge_form.html", context
    )


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
    problem = None
    if not errors and data is not None:
        try:
            async with session.begin_nested():
                admission = await service.discharge(
                    session, actor=user, admission_id=admission_id, data=data, now=now
                )
            await commit(session)
            ward_code = admissions.current_stay(admission).ward.code
            if is_htmx(request):
                return render(
                    request,
                    "wards/_done.html",
                    {"message": f"{admission.patient.display_name} discharged."},
                    headers={"HX-Trigger": "board-changed"},
                )
            return RedirectResponse(f"/wards/{ward_code}", status_code=303)
        except Invalid as exc:
            errors.update(errors_from(exc))
        except (Conflict, NotFound) as exc:
            problem = exc.detail
    context = await _context(session, user, admission_id, values, errors, problem)
    return page_or_fragment(
        request,
        "discharge/discharge.html",
        "discharge/_discharge_form.html",
        context,
        status_code=409 if problem else 422,
    )
