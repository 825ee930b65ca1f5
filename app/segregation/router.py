"""JSON API for seclusion and long-term segregation (API.md, Restrictive practice)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.audit import reads
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.segregation import read, schemas, service

router = APIRouter(prefix="/api/v1", tags=["seclusion and segregation"])


async def _seclusion(
    session: SessionDep, user: ApiUser, seclusion_id: int, now: NowDep
) -> schemas.SeclusionOut:
    seclusion = await service.get_seclusion(session, actor=user, seclusion_id=seclusion_id, now=now)
    return await read.seclusion_out(session, seclusion, now)


async def _segregation(
    session: SessionDep, user: ApiUser, segregation_id: int, now: NowDep
) -> schemas.SegregationOut:
    segregation = await service.get_segregation(
        session, actor=user, segregation_id=segregation_id, now=now
    )
    return await read.segregation_out(session, segregation, now)


@router.post(
    "/admissions/{admission_id}/seclusions", status_code=201, response_model=schemas.SeclusionOut
)
async def start_seclusion(
    admission_id: int, data: schemas.SeclusionIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SeclusionOut:
    seclusion = await service.start_seclusion(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return await _seclusion(session, user, seclusion.id, now)


@router.get("/seclusions/{seclusion_id}", response_model=schemas.SeclusionOut)
async def get_seclusion(
    seclusion_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SeclusionOut:
    out = await _seclusion(session, user, seclusion_id, now)
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="seclusion.read",
        admission_id=out.admission_id,
        now=now,
        record_id=seclusion_id,
    )
    return out


@router.post(
    "/seclusions/{seclusion_id}/reviews",
    status_code=201,
    response_model=schemas.SeclusionReviewOut,
)
async def add_seclusion_review(
    seclusion_id: int,
    data: schemas.SeclusionReviewIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.SeclusionReviewOut:
    review = await service.add_seclusion_review(
        session, actor=user, seclusion_id=seclusion_id, data=data, now=now
    )
    await commit(session)
    return schemas.SeclusionReviewOut.model_validate(review)


@router.post(
    "/seclusions/{seclusion_id}/observations",
    status_code=201,
    response_model=schemas.ObservationOut,
)
async def add_observation(
    seclusion_id: int, data: schemas.ObservationIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.ObservationOut:
    observation = await service.add_observation(
        session, actor=user, seclusion_id=seclusion_id, data=data, now=now
    )
    await commit(session)
    return schemas.ObservationOut.model_validate(observation)


@router.post("/seclusions/{seclusion_id}/end", response_model=schemas.SeclusionOut)
async def end_seclusion(
    seclusion_id: int, data: schemas.EndIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SeclusionOut:
    await service.end_seclusion(session, actor=user, seclusion_id=seclusion_id, data=data, now=now)
    await commit(session)
    return await _seclusion(session, user, seclusion_id, now)


@router.post(
    "/seclusions/{seclusion_id}/to-segregation",
    status_code=201,
    response_model=schemas.SegregationOut,
)
async def seclusion_to_segregation(
    seclusion_id: int,
    data: schemas.SeclusionToSegregationIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.SegregationOut:
    """End the seclusion and start long-term segregation at the same moment (one action)."""
    segregation = await service.seclusion_to_segregation(
        session, actor=user, seclusion_id=seclusion_id, data=data, now=now
    )
    await commit(session)
    return await _segregation(session, user, segregation.id, now)


@router.post(
    "/admissions/{admission_id}/segregations",
    status_code=201,
    response_model=schemas.SegregationOut,
)
async def start_segregation(
    admission_id: int, data: schemas.SegregationIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SegregationOut:
    segregation = await service.start_segregation(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return await _segregation(session, user, segregation.id, now)


@router.get("/segregations/{segregation_id}", response_model=schemas.SegregationOut)
async def get_segregation(
    segregation_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SegregationOut:
    out = await _segregation(session, user, segregation_id, now)
    await reads.record_admission_read(
        session,
        request,
        actor=user,
        action="segregation.read",
        admission_id=out.admission_id,
        now=now,
        record_id=segregation_id,
    )
    return out


@router.patch("/segregations/{segregation_id}", response_model=schemas.SegregationOut)
async def update_segregation(
    segregation_id: int,
    data: schemas.SegregationPatch,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.SegregationOut:
    await service.update_segregation(
        session, actor=user, segregation_id=segregation_id, data=data, now=now
    )
    await commit(session)
    return await _segregation(session, user, segregation_id, now)


@router.post(
    "/segregations/{segregation_id}/reviews", status_code=201, response_model=schemas.ReviewOut
)
async def add_segregation_review(
    segregation_id: int,
    data: schemas.SegregationReviewIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.ReviewOut:
    review = await service.add_segregation_review(
        session, actor=user, segregation_id=segregation_id, data=data, now=now
    )
    await commit(session)
    return schemas.ReviewOut.model_validate(review)


@router.post("/segregations/{segregation_id}/end", response_model=schemas.SegregationOut)
async def end_segregation(
    segregation_id: int, data: schemas.EndIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SegregationOut:
    await service.end_segregation(
        session, actor=user, segregation_id=segregation_id, data=data, now=now
    )
    await commit(session)
    return await _segregation(session, user, segregation_id, now)
