"""JSON API for discharge."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.audit import reads
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.discharge import ready, service
from app.discharge import schemas as discharge_schemas
from app.wards import admissions, schemas

router = APIRouter(prefix="/api/v1", tags=["discharge"])


@router.post("/admissions/{admission_id}/discharge", response_model=schemas.AdmissionOut)
async def discharge(
    admission_id: int, data: schemas.DischargeIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.AdmissionOut:
    admission = await service.discharge(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return await admissions.admission_detail(session, admission, now, reader=user)


@router.post(
    "/admissions/{admission_id}/ready-for-discharge",
    status_code=201,
    response_model=schemas.ReadyForDischargeOut,
    tags=["bed flow"],
)
async def start_ready_for_discharge(
    admission_id: int,
    data: discharge_schemas.ReadyIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.ReadyForDischargeOut:
    period = await ready.start(session, actor=user, admission_id=admission_id, data=data, now=now)
    await commit(session)
    return ready.period_out(period, now)


@router.get(
    "/ready-for-discharge/{period_id}",
    response_model=schemas.ReadyForDischargeOut,
    tags=["bed flow"],
)
async def get_ready_for_discharge(
    period_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.ReadyForDischargeOut:
    period = await ready.get_period(session, actor=user, period_id=period_id, now=now)
    out = ready.period_out(period, now)
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="ready_for_discharge.read",
        admission_id=period.admission_id,
        now=now,
        record_id=period.id,
    )
    return out


@router.post(
    "/ready-for-discharge/{period_id}/end",
    response_model=schemas.ReadyForDischargeOut,
    tags=["bed flow"],
)
async def end_ready_for_discharge(
    period_id: int,
    data: discharge_schemas.ReadyEndIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.ReadyForDischargeOut:
    period = await ready.end(session, actor=user, period_id=period_id, data=data, now=now)
    await commit(session)
    return ready.period_out(period, now)
