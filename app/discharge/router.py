"""JSON API for discharge."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import ApiUser, NowDep, SessionDep, commit
from app.discharge import service
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
    return await admissions.admission_detail(session, admission)
