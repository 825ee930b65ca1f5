"""Bed search: the nearest suitable empty bed for a person waiting, and the beds expected
to free up next. Two queries whatever the trust's size: empty beds on matching wards, and
occupied beds on matching wards with an expected discharge or a ready-for-discharge period,
ranked and cut in the database. Distances are worked out per ward in Python (a trust has
tens of wards, a nation hundreds)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.auth import access, scope
from app.auth.models import User
from app.clock import age_on, local_date
from app.discharge.models import ReadyForDischarge
from app.errors import FieldError, Invalid, NotFound
from app.flow import geo, schemas
from app.flow.models import BedRequest
from app.wards.models import Admission, Bed, Locality, Patient, Site, Ward, WardStay
from app.wards.service import get_locality


@dataclass(frozen=True)
class Need:
    patient_id: int | None
    sex: str
    age: int
    locality_code: str
    home: tuple[float, float]
    ward_type: str | None


async def _need(session: AsyncSession, query: schemas.SearchQuery, today: date) -> Need:
    if query.patient_id is not None:
        patient = await session.scalar(
            select(Patient)
            .where(Patient.id == query.patient_id)
            .options(joinedload(Patient.home_locality, innerjoin=True))
        )
        if patient is None:
            raise NotFound(f"No patient with id {query.patient_id}.")
        locality = patient.home_locality
        return Need(
            patient.id,
            patient.sex,
            age_on(patient.date_of_birth, today),
            locality.code,
            (locality.latitude, locality.longitude),
            query.ward_type,
        )
    missing = [
        FieldError(name, "is required without patient_id")
        for name in ("sex", "age", "locality_code")
        if getattr(query, name) is None
    ]
    if missing:
        raise Invalid(missing)
    assert query.sex is not None and query.age is not None and query.locality_code is not None
    locality = await get_locality(session, query.locality_code)
    return Need(
        None,
        query.sex,
        query.age,
        locality.code,
        (locality.latitude, locality.longitude),
        query.ward_type,
    )


def _suits(need: Need) -> ColumnElement[bool]:
    """Wards of the type asked for, for the person's sex or mixed, whose ages hold theirs.
    A person whose sex is other or not known is offered mixed wards: a person decides."""
    conditions = [
        Ward.sex.in_([need.sex, "mixed"]),
        Ward.min_age <= need.age,
        Ward.max_age >= need.age,
    ]
    if need.ward_type is not None:
        conditions.append(Ward.ward_type == need.ward_type)
    return and_(*conditions)


async def _require_person(
    session: AsyncSession, actor: User, patient_id: int, now: datetime
) -> None:
    """Searching for a named person's bed reads their sex, age and home: ward staff may do
    it for people they may read, or whose open bed request they may see (scope.py)."""
    person = scope.patient_condition(actor, now, Patient.id)
    if person is None:
        return
    request = scope.bed_request_condition(actor, now)
    waiting = exists().where(
        BedRequest.patient_id == Patient.id, BedRequest.status == "open", request
    )
    if not await session.scalar(
        select(Patient.id).where(Patient.id == patient_id, or_(person, waiting))
    ):
        if await session.scalar(select(Patient.id).where(Patient.id == patient_id)) is None:
            raise NotFound(f"No patient with id {patient_id}.")
        raise scope.refuse()


def _natural(label: str) -> tuple[object, ...]:
    """Bed A2 before A10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", label))


async def search_beds(
    session: AsyncSession, *, actor: User, query: schemas.SearchQuery, now: datetime
) -> schemas.BedSearchOut:
    access.require_role(actor, access.CLINICAL_READERS, "search for beds")
    today = local_date(now)
    if query.patient_id is not None:
        await _require_person(session, actor, query.patient_id, now)
    need = await _need(session, query, today)
    occupied = exists().where(WardStay.bed_id == Bed.id, WardStay.ended_at.is_(None))
    empty_rows = (
        await session.execute(
            select(
                Ward.code,
                Ward.name,
                Ward.ward_type,
                Ward.sex,
                Site.code,
                Locality.latitude,
                Locality.longitude,
                Bed.label,
            )
            .join(Ward, Ward.id == Bed.ward_id)
            .join(Site, Site.id == Ward.site_id)
            .join(Locality, Locality.id == Site.locality_id)
            .where(_suits(need), Bed.status == "open", ~occupied)
        )
    ).all()
    distances: dict[str, float] = {}

    def distance(ward_code: str, latitude: float, longitude: float) -> float:
        if ward_code not in distances:
            distances[ward_code] = geo.distance_km(need.home, (latitude, longitude))
        return distances[ward_code]

    # Nearest first: sorted as plain tuples, and only the beds shown are made into results.
    nearest = sorted(
        (
            (distance(code, lat, lon), code, _natural(label), label, name, ward_type, sex, site)
            for code, name, ward_type, sex, site, lat, lon, label in empty_rows
        ),
        key=lambda row: row[:3],
    )[: query.limit]
    results = [
        schemas.BedResult(
            ward_code=code,
            ward_name=name,
            site_code=site,
            bed_label=label,
            distance_km=km,
            ward_type=ward_type,
            ward_sex=sex,
        )
        for km, code, _, label, name, ward_type, sex, site in nearest
    ]

    # Soonest first: by expected discharge date (none given: after those with one), then
    # the longest ready for discharge, then the nearest. A nation has thousands of occupied
    # beds that may free; the database ranks them by the first two keys and returns only
    # those that can still be among the first `limit` (ties on both keys included, since
    # distance decides between them), so only a few are ordered here.
    edd = Admission.expected_discharge_date
    ready_since = ReadyForDischarge.started_at
    ranked = (
        select(
            Ward.code.label("ward_code"),
            Ward.name.label("ward_name"),
            Locality.latitude.label("latitude"),
            Locality.longitude.label("longitude"),
            Bed.label.label("bed_label"),
            Admission.id.label("admission_id"),
            edd.label("expected"),
            ready_since.label("ready_since"),
            func.rank()
            .over(order_by=(edd.asc().nulls_last(), ready_since.asc().nulls_last()))
            .label("place"),
        )
        .select_from(WardStay)
        .join(Bed, Bed.id == WardStay.bed_id)
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Site, Site.id == Ward.site_id)
        .join(Locality, Locality.id == Site.locality_id)
        .join(Admission, Admission.id == WardStay.admission_id)
        .outerjoin(
            ReadyForDischarge,
            and_(
                ReadyForDischarge.admission_id == Admission.id,
                ReadyForDischarge.ended_at.is_(None),
            ),
        )
        .where(
            _suits(need),
            WardStay.ended_at.is_(None),
            Bed.status == "open",
            or_(edd.is_not(None), ReadyForDischarge.id.is_not(None)),
        )
        .subquery("ranked")
    )
    soon_rows = (
        await session.execute(
            select(
                ranked.c.ward_code,
                ranked.c.ward_name,
                ranked.c.latitude,
                ranked.c.longitude,
                ranked.c.bed_label,
                ranked.c.admission_id,
                ranked.c.expected,
                ranked.c.ready_since,
            ).where(ranked.c.place <= query.limit)
        )
    ).all()
    soon = sorted(
        (
            schemas.SoonBed(
                ward_code=code,
                ward_name=name,
                bed_label=label,
                admission_id=admission_id,
                expected_discharge_date=expected,
                ready_for_discharge_since=since,
                distance_km=distance(code, lat, lon),
            )
            for code, name, lat, lon, label, admission_id, expected, since in soon_rows
        ),
        key=lambda s: (
            s.expected_discharge_date or date.max,
            s.ready_for_discharge_since or datetime.max.replace(tzinfo=now.tzinfo),
            s.distance_km,
            s.ward_code,
            _natural(s.bed_label),
        ),
    )[: query.limit]
    return schemas.BedSearchOut(
        searched_for=schemas.SearchFor(
            patient_id=need.patient_id,
            sex=need.sex,
            age=need.age,
            locality_code=need.locality_code,
            ward_type=need.ward_type,
        ),
        results=results,
        soon=soon,
    )
