"""Bed requests: the waiting list. A decision to admit waits here until the person is
admitted (closing it), placed out of area (closing it), or the request is cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.clock import check_not_future, local_date
from app.db import flush
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.flow import people, schemas
from app.flow.models import BedRequest, OutOfAreaPlacement
from app.wards.models import Admission, Patient

PATIENT = selectinload(BedRequest.patient).selectinload(Patient.home_locality)


async def _patient(session: AsyncSession, patient_id: int) -> Patient:
    patient = await session.scalar(select(Patient).where(Patient.id == patient_id))
    if patient is None:
        raise NotFound(f"No patient with id {patient_id}.")
    return patient


async def create_request(
    session: AsyncSession, *, actor: User, data: schemas.BedRequestIn, now: datetime
) -> BedRequest:
    access.require_role(actor, access.PLACERS, "ask for beds")
    check_not_future(data.decision_to_admit_at, now, "decision_to_admit_at")
    patient = await _patient(session, data.patient_id)
    if await session.scalar(
        select(Admission.id).where(
            Admission.patient_id == patient.id, Admission.discharged_at.is_(None)
        )
    ):
        raise Conflict("This person is already in hospital here: move them with a transfer.")
    if await session.scalar(
        select(BedRequest.id).where(
            BedRequest.patient_id == patient.id, BedRequest.status == "open"
        )
    ):
        raise Conflict("This person is already waiting for a bed.")
    request = BedRequest(
        patient_id=patient.id,
        decision_to_admit_at=data.decision_to_admit_at,
        ward_type=data.ward_type,
        note=data.note or None,
        status="open",
        created_at=now,
        created_by_id=actor.id,
        updated_at=now,
    )
    session.add(request)
    await flush(session)
    await audit.record(session, actor=actor, action="bed_request.create", entity=request, at=now)
    return request


async def _locked(session: AsyncSession, request_id: int) -> BedRequest:
    request = await session.scalar(
        select(BedRequest)
        .where(BedRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound(f"No bed request with id {request_id}.")
    return request


async def cancel_request(
    session: AsyncSession, *, actor: User, request_id: int, data: schemas.CancelIn, now: datetime
) -> BedRequest:
    access.require_role(actor, access.PLACERS, "cancel bed requests")
    request = await _locked(session, request_id)
    # Ward staff cancel only requests they may see (scope.py), not any in the trust.
    await _require_readable(session, actor, request_id, now)
    if request.status != "open":
        raise Conflict(f"This request is already closed ({request.status.replace('_', ' ')}).")
    check_not_future(data.at, now, "at")
    if data.at < request.decision_to_admit_at:
        raise Invalid(FieldError("at", "cannot be before the decision to admit"))
    before = audit.snapshot(request)
    request.status = "cancelled"
    request.closed_at = data.at
    request.cancel_reason = data.reason
    request.updated_at = now
    await flush(session)
    await audit.record(
        session, actor=actor, action="bed_request.cancel", entity=request, before=before, at=now
    )
    return request


async def _request_met(
    session: AsyncSession,
    *,
    request_id: int | None,
    patient_id: int,
    at: datetime,
    field: str,
) -> BedRequest | None:
    """The open request a bed (here or out of area) meets: the one named, checked to be the
    person's and still open; or, when none is named, the person's own open request, so the
    waiting list never keeps someone who already has a bed."""
    if request_id is None:
        request = await session.scalar(
            select(BedRequest)
            .where(BedRequest.patient_id == patient_id, BedRequest.status == "open")
            .with_for_update()
        )
        if request is None or request.decision_to_admit_at > at:
            return None
        return request
    request = await _locked(session, request_id)
    if request.patient_id != patient_id:
        raise Invalid(FieldError("bed_request_id", "is a request for another person"))
    if request.status != "open":
        raise Conflict(f"That bed request is already closed ({request.status.replace('_', ' ')}).")
    if at < request.decision_to_admit_at:
        raise Invalid(FieldError(field, "cannot be before the request's decision to admit"))
    return request


async def close_by_admission(
    session: AsyncSession, admission: Admission, request_id: int | None, now: datetime
) -> None:
    """An admission closes the request it meets, and takes its decision time when the
    admission did not give one (the wait is then measured once, on the request)."""
    request = await _request_met(
        session,
        request_id=request_id,
        patient_id=admission.patient_id,
        at=admission.admitted_at,
        field="admitted_at",
    )
    if request is None:
        return
    request.status = "admitted"
    request.closed_at = admission.admitted_at
    request.admission_id = admission.id
    request.updated_at = now
    if admission.decision_to_admit_at is None:
        admission.decision_to_admit_at = request.decision_to_admit_at
    await flush(session)


async def close_by_placement(
    session: AsyncSession, placement: OutOfAreaPlacement, request_id: int | None, now: datetime
) -> None:
    request = await _request_met(
        session,
        request_id=request_id,
        patient_id=placement.patient_id,
        at=placement.started_at,
        field="started_at",
    )
    if request is None:
        return
    request.status = "placed_out_of_area"
    request.closed_at = placement.started_at
    request.updated_at = now
    placement.bed_request_id = request.id
    await flush(session)


async def _require_readable(
    session: AsyncSession, actor: User, request_id: int, now: datetime
) -> None:
    readable = scope.bed_request_condition(actor, now)
    if readable is not None and not await session.scalar(
        select(BedRequest.id).where(BedRequest.id == request_id, readable)
    ):
        raise scope.refuse()


async def load_request(session: AsyncSession, request_id: int) -> BedRequest:
    """The request, unchecked: only to answer the write that just made or changed it."""
    request = await session.scalar(
        select(BedRequest)
        .where(BedRequest.id == request_id)
        .options(PATIENT)
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound(f"No bed request with id {request_id}.")
    return request


async def get_request(
    session: AsyncSession, *, actor: User, request_id: int, now: datetime
) -> BedRequest:
    access.require_role(actor, access.CLINICAL_READERS, "see the waiting list")
    request = await session.scalar(
        select(BedRequest)
        .where(BedRequest.id == request_id)
        .options(PATIENT)
        .execution_options(populate_existing=True)
    )
    if request is None:
        raise NotFound(f"No bed request with id {request_id}.")
    await _require_readable(session, actor, request_id, now)
    return request


async def list_requests(
    session: AsyncSession,
    *,
    actor: User,
    open_only: bool | None,
    now: datetime,
    limit: int = 500,
) -> Sequence[BedRequest]:
    """Open requests longest waiting first; closed ones most recent first; only those the
    actor may see (scope.py)."""
    access.require_role(actor, access.CLINICAL_READERS, "see the waiting list")
    query = select(BedRequest).options(PATIENT).execution_options(populate_existing=True)
    readable = scope.bed_request_condition(actor, now)
    if readable is not None:
        query = query.where(readable)
    if open_only is True:
        query = query.where(BedRequest.status == "open").order_by(
            BedRequest.decision_to_admit_at, BedRequest.id
        )
    else:
        if open_only is False:
            query = query.where(BedRequest.status != "open")
        query = query.order_by(BedRequest.decision_to_admit_at.desc(), BedRequest.id.desc())
    return list(await session.scalars(query.limit(limit)))


def waiting_minutes(request: BedRequest, now: datetime) -> int:
    end = request.closed_at if request.closed_at is not None else now
    return max(0, int((end - request.decision_to_admit_at).total_seconds() // 60))


async def requests_out(
    session: AsyncSession, rows: Sequence[BedRequest], now: datetime
) -> list[schemas.BedRequestOut]:
    ids = [r.id for r in rows]
    placements: dict[int, int] = {}
    if ids:
        placements = {
            request_id: placement_id
            for placement_id, request_id in await session.execute(
                select(OutOfAreaPlacement.id, OutOfAreaPlacement.bed_request_id).where(
                    OutOfAreaPlacement.bed_request_id.in_(ids)
                )
            )
            if request_id is not None
        }
    today = local_date(now)
    return [
        schemas.BedRequestOut(
            id=r.id,
            patient_id=r.patient_id,
            person=people.person(r.patient, r.patient.home_locality.code, today),
            decision_to_admit_at=r.decision_to_admit_at,
            ward_type=r.ward_type,
            note=r.note,
            status=r.status,
            closed_at=r.closed_at,
            cancel_reason=r.cancel_reason,
            admission_id=r.admission_id,
            out_of_area_placement_id=placements.get(r.id),
            waiting_minutes=waiting_minutes(r, now),
            created_at=r.created_at,
        )
        for r in rows
    ]
