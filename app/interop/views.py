"""The admin's exports page: pick a month, download its MHSDS-shaped extract as a zip."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.audit.exports import record_export
from app.auth import access
from app.clock import local_date
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Invalid
from app.interop import mhsds
from app.web import render

router = APIRouter()

FILES = {
    "MHS501HospProvSpell": "Hospital spells (admissions to discharges)",
    "MHS502WardStay": "Ward stays, with the distance from home in km",
    "MHS505RestrictiveInterventInc": "Restrictive intervention incidents, with seclusion"
    " and segregation",
    "MHS515RestrictiveInterventType": "The types of each incident (05 seclusion, 06 segregation)",
    "MHS518ClinReadyforDischarge": "Clinically ready for discharge, with delay reasons",
    "OutOfAreaPlacements": "Out-of-area placements with their reasons",
}


def _page(request: Request, month: str, error: str | None, status: int = 200) -> HTMLResponse:
    return render(
        request,
        "interop/exports.html",
        {"month": month, "error": error, "files": FILES, "active": "exports"},
        status_code=status,
    )


@router.get("/admin/exports", response_class=HTMLResponse)
async def exports(request: Request, user: PageUser, now: NowDep) -> HTMLResponse:
    access.require_admin(user, "export data")
    return _page(request, f"{mhsds.last_complete_month(local_date(now)):%Y-%m}", None)


@router.get("/admin/exports/mhsds.zip", response_model=None)
async def download(
    request: Request, user: PageUser, session: SessionDep, now: NowDep, month: str = ""
) -> Response:
    access.require_admin(user, "export data")
    try:
        first = mhsds.parse_month(month, local_date(now))
    except Invalid as exc:
        return _page(request, month, exc.errors[0].message, status=422)
    extract = await mhsds.build(session, first)
    await record_export(
        session,
        kind="mhsds_extract",
        ident=extract.label,
        details={"format": "zip"},
        actor=user,
        request=request,
    )
    await commit(session)  # the export's audit record (get_session commits nothing)
    return Response(
        extract.zip_bytes(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="mhsds-{extract.label}.zip"',
            "Cache-Control": "no-store",
        },
    )
