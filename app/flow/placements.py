"""Out-of-area placements: recorded when no suitable local bed can be used, reviewed at
least every 3 months (NICE QS159), ended when the person comes back or leaves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.clock import check_not_future, local_date, midnights_between
from app.db import flush
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.flow import geo, people, requests, schemas
from app.flow.codes import INAPPROPRIATE_REASON, OAP_REASONS
from app.flow.models import OutOfAreaPlacement, PlacementReview
from app.rules.catalogue import RuleCode
from app.rules.settings import parameters_in_force
from app.wards.models import Admission, Locality, Patient, Site, Ward, WardStay

# Bed managers place people and bring them back; admins too.
PLACEMENT_WRITERS = {"admin", "bed_manager"}
DETAIL = (
    selectinload(OutOfAreaPlacement.patient).selectinload(Patient.home_locality),
    selectinload(OutOfAreaPlacement.reviews),
)


async def create_placement(
    session: AsyncSession, *, actor: User, data: schemas.PlacementIn, now: datetime
) -> OutOfAreaPlacement:
    access.require_role(actor, PLACEMENT_WRITERS, "record out-of-area placements")
    check_not_future(data.started_at, now, "started_at")
    patient = await session.scalar(
        select(Patient)
        .where(Patient.id == data.patient_id)
        .options(selectinload(Patient.home_locality))
    )
    if patient is None:
        raise NotFound(f"No patient with id {data.patient_id}.")
    if await session.scalar(
        select(Admission.id).where(
            Admission.patient_id == patient.id, Admission.discharged_at.is_(None)
        )
    ):
        raise Conflict("This person is in a local bed: discharge them before placing them.")
    if await session.scalar(
        select(OutOfAreaPlacement.id).where(
            OutOfAreaPlacement.patient_id == patient.id, OutOfAreaPlacement.ended_at.is_(None)
        )
    ):
        raise Conflict("This person already has an out-of-area placement open.")
    home = patient.home_locality
    placement = OutOfAreaPlacement(
        patient_id=patient.id,
        provider_name=data.provider_name,
        latitude=data.latitude,
        longitude=data.longitude,
        distance_km=geo.distance_km(
            (home.latitude, home.longitude), (data.latitude, data.longitude)
        ),
        bed_type=data.bed_type,
        reason_code=data.reason_code,
        daily_cost=data.daily_cost,
        started_at=data.started_at,
        created_at=now,
        created_by_id=actor.id,
        updated_at=now,
    )
    session.add(placement)
    await flush(session)
    await requests.close_by_placement(session, placement, data.bed_request_id, now)
    await audit.record(
        session, actor=actor, action="out_of_area_placement.create", entity=placement, at=now
    )
    return placement


async def _locked(session: AsyncSession, placement_id: int) -> OutOfAreaPlacement:
    placement = await session.scalar(
        select(OutOfAreaPlacement)
        .where(OutOfAreaPlacement.id == placement_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if placement is None:
        raise NotFound(f"No out-of-area placement with id {placement_id}.")
    return placement


def _check_inside(placement: OutOfAreaPlacement, at: datetime, now: datetime) -> None:
    check_not_future(at, now, "at")
    if at < placement.started_at:
        raise Invalid(FieldError("at", "cannot be before the placement started"))
    if placement.ended_at is not None and at > placement.ended_at:
        raise Invalid(FieldError("at", "cannot be after the placement ended"))


async def add_review(
    session: AsyncSession,
    *,
    actor: User,
    placement_id: int,
    data: schemas.PlacementReviewIn,
    now: datetime,
) -> PlacementReview:
    access.require_role(actor, PLACEMENT_WRITERS, "review out-of-area placements")
    placement = await _locked(session, placement_id)
    _check_inside(placement, data.at, now)
    review = PlacementReview(
        placement_id=placement.id,
        at=data.at,
        note=data.note,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(review)
    await flush(session)
    await audit.record(
        session, actor=actor, action="out_of_area_placement.review", entity=review, at=now
    )
    return review


async def end_placement(
    session: AsyncSession,
    *,
    actor: User,
    placement_id: int,
    data: schemas.PlacementEndIn,
    now: datetime,
) -> OutOfAreaPlacement:
    access.require_role(actor, PLACEMENT_WRITERS, "end out-of-area placements")
    placement = await _locked(session, placement_id)
    if placement.ended_at is not None:
        raise Conflict("This placement has already ended.")
    _check_inside(placement, data.at, now)
    last_review = await session.scalar(
        select(PlacementReview.at)
        .where(PlacementReview.placement_id == placement.id)
        .order_by(PlacementReview.at.desc())
        .limit(1)
    )
    if last_review is not None and data.at < last_review:
        raise Invalid(FieldError("at", "cannot be before the last review of this placement"))
    before = audit.snapshot(placement)
    placement.ended_at = data.at
    placement.outcome = data.outcome
    placement.updated_at = now
    await flush(session)
    await audit.record(
        session,
        actor=actor,
        action="out_of_area_placement.end",
        entity=placement,
        before=before,
        at=now,
    )
    return placement


async def get_placement(
    session: AsyncSession, *, actor: User, placement_id: int, now: datetime
) -> OutOfAreaPlacement:
    access.require_role(actor, access.CLINICAL_READERS, "see out-of-area placements")
    placement = await session.scalar(
        select(OutOfAreaPlacement)
        .where(OutOfAreaPlacement.id == placement_id)
        .options(*DETAIL)
        .execution_options(populate_existing=True)
    )
    if placement is None:
        raise NotFound(f"No out-of-area placement with id {placement_id}.")
    readable = scope.patient_condition(actor, now, OutOfAreaPlacement.patient_id)
    if readable is not None and not await session.scalar(
        select(OutOfAreaPlacement.id).where(OutOfAreaPlacement.id == placement_id, readable)
    ):
        raise scope.refuse()
    return placement


async def list_placements(
    session: AsyncSession,
    *,
    actor: User,
    open_only: bool | None,
    now: datetime,
    limit: int = 500,
) -> Sequence[OutOfAreaPlacement]:
    """Open placements longest first; ended ones most recently ended first; only people the
    actor may read (scope.py: ward staff, those recently on their wards)."""
    access.require_role(actor, access.CLINICAL_READERS, "see out-of-area placements")
    query = select(OutOfAreaPlacement).options(*DETAIL).execution_options(populate_existing=True)
    readable = scope.patient_condition(actor, now, OutOfAreaPlacement.patient_id)
    if readable is not None:
        query = query.where(readable)
    if open_only is True:
        query = query.where(OutOfAreaPlacement.ended_at.is_(None)).order_by(
            OutOfAreaPlacement.started_at, OutOfAreaPlacement.id
        )
    else:
        if open_only is False:
            query = query.where(OutOfAreaPlacement.ended_at.is_not(None))
        query = query.order_by(OutOfAreaPlacement.started_at.desc(), OutOfAreaPlacement.id.desc())
    return list(await session.scalars(query.limit(limit)))


def placement_out(placement: OutOfAreaPlacement, now: datetime) -> schemas.PlacementOut:
    bed_days = midnights_between(placement.started_at, placement.ended_at or now)
    reviews = sorted(placement.reviews, key=lambda r: (r.at, r.id))
    return schemas.PlacementOut(
        id=placement.id,
        patient_id=placement.patient_id,
        person=people.person(
            placement.patient, placement.patient.home_locality.code, local_date(now)
        ),
        provider_name=placement.provider_name,
        latitude=placement.latitude,
        longitude=placement.longitude,
        distance_km=placement.distance_km,
        bed_type=placement.bed_type,
        reason_code=placement.reason_code,
        reason=OAP_REASONS[placement.reason_code],
        inappropriate=placement.reason_code == INAPPROPRIATE_REASON,
        started_at=placement.started_at,
        ended_at=placement.ended_at,
        outcome=placement.outcome,
        daily_cost=placement.daily_cost,
        bed_days=bed_days,
        cost_so_far=(
            (placement.daily_cost * bed_days).quantize(Decimal("0.01"))
            if placement.daily_cost is not None
            else None
        ),
        last_reviewed_at=reviews[-1].at if reviews else None,
        reviews=[schemas.PlacementReviewOut.model_validate(r) for r in reviews],
        bed_request_id=placement.bed_request_id,
    )


# --- the ward board's flag: a person placed far from home ---------------------------------


OUT_OF_AREA = "out_of_area"
# The board shows it as an orange tag (app/extensions.py registers it with the flag).
FLAG_STYLES = {OUT_OF_AREA: "orange"}


async def out_of_area_flags(
    session: AsyncSession, admission_ids: list[int], now: datetime
) -> dict[int, set[str]]:
    """People on the ward further from home than OAP_DISTANCE allows (50 km by default):
    placed here from another area, so far from family and local services."""
    km = float((await parameters_in_force(session))[RuleCode.OAP_DISTANCE]["km"])
    home = Locality.__table__.alias("home")
    here = Locality.__table__.alias("here")
    rows = await session.execute(
        select(
            WardStay.admission_id,
            home.c.latitude,
            home.c.longitude,
            here.c.latitude,
            here.c.longitude,
        )
        .join(Admission, Admission.id == WardStay.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .join(home, home.c.id == Patient.home_locality_id)
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Site, Site.id == Ward.site_id)
        .join(here, here.c.id == Site.locality_id)
        .where(WardStay.admission_id.in_(admission_ids), WardStay.ended_at.is_(None))
    )
    return {
        admission_id: {OUT_OF_AREA}
        for admission_id, hlat, hlon, wlat, wlon in rows
        if geo.distance_km((hlat, hlon), (wlat, wlon)) > km
    }
