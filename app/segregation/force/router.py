"""JSON API for use-of-force (restrictive intervention) records (API.md: a contract)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.audit import reads
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.segregation.force import schemas, service

router = APIRouter(prefix="/api/v1", tags=["use of force"])


@router.post(
    "/admissions/{admission_id}/restrictive-interventions",
    status_code=201,
    response_model=schemas.InterventionOut,
)
async def create_intervention(
    admission_id: int,
    data: schemas.InterventionIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.InterventionOut:
    record = await service.create_intervention(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return (await service.describe(session, [record]))[0]


@router.get(
    "/admissions/{admission_id}/restrictive-interventions",
    response_model=list[schemas.InterventionOut],
)
async def list_interventions(
    admission_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> list[schemas.InterventionOut]:
    records = await service.list_interventions(
        session, actor=user, admission_id=admission_id, now=now
    )
    out = await service.describe(session, records)
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="restrictive_intervention.list",
        admission_id=admission_id,
        now=now,
        record_id=None,
    )
    return out


@router.get("/restrictive-interventions/{intervention_id}", response_model=schemas.InterventionOut)
async def get_intervention(
    intervention_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.InterventionOut:
    record, admission = await service.get_intervention(
        session, actor=user, intervention_id=intervention_id, now=now
    )
    out = (await service.describe(session, [record]))[0]
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="restrictive_intervention.read",
        admission_id=admission.id,
        now=now,
        record_id=record.id,
    )
    return out


@router.patch(
    "/restrictive-interventions/{intervention_id}", response_model=schemas.InterventionOut
)
async def update_intervention(
    intervention_id: int,
    data: schemas.InterventionPatch,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.InterventionOut:
    record = await service.update_intervention(
        session, actor=user, intervention_id=intervention_id, data=data, now=now
    )
    await commit(session)
    return (await service.describe(session, [record]))[0]
