"""Each seclusion's and segregation's own page: what is due next, and a timeline of what
happened and which deadlines were missed (all from the one deadline calculator)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.audit import reads
from app.auth import access
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep
from app.segregation import read, schemas, service
from app.segregation.timeline import seclusion_timeline, segregation_timeline
from app.wards import admissions
from app.wards.models import Admission
from app.web import render

router = APIRouter()


@router.get("/seclusions/{seclusion_id}", response_class=HTMLResponse)
async def seclusion_page(
    seclusion_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    seclusion = await service.get_seclusion(session, actor=user, seclusion_id=seclusion_id, now=now)
    out = await read.seclusion_out(session, seclusion, now)
    admission = await admissions.get_admission(
        session, actor=user, admission_id=seclusion.admission_id, now=now
    )
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="seclusion.read",
        admission_id=admission.id,
        now=now,
        record_id=seclusion_id,
    )
    return _episode_page(request, user, admission, out, seclusion_timeline(out), now)


@router.get("/segregations/{segregation_id}", response_class=HTMLResponse)
async def segregation_page(
    segregation_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    segregation = await service.get_segregation(
        session, actor=user, segregation_id=segregation_id, now=now
    )
    out = await read.segregation_out(session, segregation, now)
    admission = await admissions.get_admission(
        session, actor=user, admission_id=segregation.admission_id, now=now
    )
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="segregation.read",
        admission_id=admission.id,
        now=now,
        record_id=segregation_id,
    )
    return _episode_page(request, user, admission, out, segregation_timeline(out), now)


def _episode_page(
    request: Request,
    user: User,
    admission: Admission,
    episode: schemas.SeclusionOut | schemas.SegregationOut,
    timeline: list[Any],
    now: datetime,
) -> HTMLResponse:
    return render(
        request,
        "segregation/episode.html",
        {
            "admission": admission,
            "stay": admissions.current_stay(admission),
            "episode": episode,
            "timeline": timeline,
            "now": now,
            "can_write": user.role in access.CLINICAL_WRITERS
            and access.can_read_ward(user, admissions.current_stay(admission).ward_id),
            "active": "wards",
        },
    )
