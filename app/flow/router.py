"""JSON API for bed flow (API.md, Bed flow): the waiting list, bed search, out-of-area
placements. Ready for discharge is in the discharge package's router."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.audit import reads
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.flow import placements, requests, schemas, search

router = APIRouter(prefix="/api/v1", tags=["bed flow"])
OpenFilter = Annotated[
    bool | None, Query(description="true: open only; false: closed only; absent: all")
]


async def _request_out(
    session: SessionDep, user: ApiUser, request_id: int, now: NowDep
) -> schemas.BedRequestOut:
    request = await requests.get_request(session, actor=user, request_id=request_id, now=now)
    return (await requests.requests_out(session, [request], now))[0]


@router.post("/bed-requests", status_code=201, response_model=schemas.BedRequestOut)
async def create_bed_request(
    data: schemas.BedRequestIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BedRequestOut:
    request = await requests.create_request(session, actor=user, data=data, now=now)
    await commit(session)
    loaded = await requests.load_request(session, request.id)
    return (await requests.requests_out(session, [loaded], now))[0]


@router.get("/bed-requests", response_model=list[schemas.BedRequestOut])
async def list_bed_requests(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep, open: OpenFilter = None
) -> list[schemas.BedRequestOut]:
    rows = await requests.list_requests(session, actor=user, open_only=open, now=now)
    outs = await requests.requests_out(session, rows, now)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="bed_request.list",
        patient_ids=[r.patient_id for r in outs],
        now=now,
    )
    return outs


@router.get("/bed-requests/{request_id}", response_model=schemas.BedRequestOut)
async def get_bed_request(
    request_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BedRequestOut:
    out = await _request_out(session, user, request_id, now)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="bed_request.read",
        patient_ids=[out.patient_id],
        now=now,
        details={"record_id": request_id},
    )
    return out


@router.post("/bed-requests/{request_id}/cancel", response_model=schemas.BedRequestOut)
async def cancel_bed_request(
    request_id: int, data: schemas.CancelIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BedRequestOut:
    await requests.cancel_request(session, actor=user, request_id=request_id, data=data, now=now)
    await commit(session)
    # The answer to the cancel itself (a nurse's own request, once closed, leaves her view).
    loaded = await requests.load_request(session, request_id)
    return (await requests.requests_out(session, [loaded], now))[0]


@router.get("/beds/search", response_model=schemas.BedSearchOut)
async def search_beds(
    query: Annotated[schemas.SearchQuery, Query()], user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BedSearchOut:
    return await search.search_beds(session, actor=user, query=query, now=now)


async def _placement_out(
    session: SessionDep, user: ApiUser, placement_id: int, now: NowDep
) -> schemas.PlacementOut:
    placement = await placements.get_placement(
        session, actor=user, placement_id=placement_id, now=now
    )
    return placements.placement_out(placement, now)


@router.post("/out-of-area-placements", status_code=201, response_model=schemas.PlacementOut)
async def create_placement(
    data: schemas.PlacementIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PlacementOut:
    placement = await placements.create_placement(session, actor=user, data=data, now=now)
    await commit(session)
    return await _placement_out(session, user, placement.id, now)


@router.get("/out-of-area-placements", response_model=list[schemas.PlacementOut])
async def list_placements(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep, open: OpenFilter = None
) -> list[schemas.PlacementOut]:
    rows = await placements.list_placements(session, actor=user, open_only=open, now=now)
    outs = [placements.placement_out(p, now) for p in rows]
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="out_of_area_placement.list",
        patient_ids=[p.patient_id for p in outs],
        now=now,
    )
    return outs


@router.get("/out-of-area-placements/{placement_id}", response_model=schemas.PlacementOut)
async def get_placement(
    placement_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PlacementOut:
    out = await _placement_out(session, user, placement_id, now)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="out_of_area_placement.read",
        patient_ids=[out.patient_id],
        now=now,
        details={"record_id": placement_id},
    )
    return out


@router.post(
    "/out-of-area-placements/{placement_id}/reviews",
    status_code=201,
    response_model=schemas.PlacementReviewOut,
)
async def review_placement(
    placement_id: int,
    data: schemas.PlacementReviewIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.PlacementReviewOut:
    review = await placements.add_review(
        session, actor=user, placement_id=placement_id, data=data, now=now
    )
    await commit(session)
    return schemas.PlacementReviewOut.model_validate(review)


@router.post("/out-of-area-placements/{placement_id}/end", response_model=schemas.PlacementOut)
async def end_placement(
    placement_id: int,
    data: schemas.PlacementEndIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.PlacementOut:
    await placements.end_placement(
        session, actor=user, placement_id=placement_id, data=data, now=now
    )
    await commit(session)
    return await _placement_out(session, user, placement_id, now)
