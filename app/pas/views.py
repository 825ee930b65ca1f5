"""The admin's page for the PAS interface: messages received (by outcome and event), held
and failed ones with their reason and a way to process them again, and the mapping of PAS
locations to wards and beds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.auth.access import require_admin
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Conflict, NotFound
from app.forms import attempt
from app.pas import service
from app.pas.models import OUTCOMES
from app.web import render

router = APIRouter()


async def _page(
    request: Request,
    session: SessionDep,
    *,
    outcome: str | None = None,
    event: str | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin/interfaces.html",
        {
            "messages": await service.list_messages(
                session, outcome=outcome if outcome in OUTCOMES else None, event=event
            ),
            "locations": await service.list_locations(session),
            "outcomes": {o: o for o in OUTCOMES},
            "outcome": outcome or "",
            "event": event or "",
            "values": values or {},
            "errors": errors or {},
            "message": message,
            "active": "interfaces",
        },
        status_code=status,
    )


@router.get("/admin/interfaces", response_class=HTMLResponse)
async def interfaces_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    outcome: str | None = None,
    event: str | None = None,
) -> HTMLResponse:
    require_admin(user, "see the PAS interface")
    return await _page(request, session, outcome=outcome, event=event)


@router.post("/admin/interfaces/locations", response_class=HTMLResponse)
async def add_location(
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
    point_of_care: Annotated[str, Form()] = "",
    pas_bed: Annotated[str, Form()] = "",
    ward_code: Annotated[str, Form()] = "",
    bed_label: Annotated[str, Form()] = "",
) -> HTMLResponse:
    require_admin(user, "map PAS locations")
    values = {
        "point_of_care": point_of_care,
        "pas_bed": pas_bed,
        "ward_code": ward_code,
        "bed_label": bed_label,
    }

    async def write() -> object:
        return await service.add_location(
            session,
            actor=user,
            point_of_care=point_of_care,
            pas_bed=pas_bed,
            ward_code=ward_code,
            bed_label=bed_label,
            now=now,
        )

    try:
        saved = await attempt(session, write, refusals=(Conflict,))
    except NotFound as exc:
        # The ward or bed typed is not there: beside that field (the savepoint is undone).
        field = "bed_label" if exc.detail.startswith("No bed") else "ward_code"
        return await _page(request, session, values=values, errors={field: exc.detail}, status=422)
    if not saved.ok:
        errors = saved.errors or {"point_of_care": saved.problem or ""}
        return await _page(request, session, values=values, errors=errors, status=saved.status)
    return await _page(request, session, message=f"{point_of_care} is mapped to {ward_code}.")


@router.post("/admin/interfaces/messages/{message_id}/reprocess", response_model=None)
async def reprocess(
    request: Request, message_id: int, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse | RedirectResponse:
    require_admin(user, "reprocess PAS messages")
    row = await service.reprocess(session, actor=user, message_id=message_id, now=now)
    outcome, error = row.outcome, row.error
    await commit(session)
    text = f"Message {row.control_id}: {outcome}" + (f" ({error})" if error else "")
    return await _page(request, session, message=text)
