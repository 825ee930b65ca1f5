"""The rules of places, patients and admissions. No HTTP here: the API and pages both call this.

Services flush, never commit: the request (or the command) owns the transaction, so a
refused request leaves nothing half-written.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.clock import check_not_future, local_date
from app.db import flush
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.wards import schemas
from app.wards.models import (
    Bed,
    BedClosure,
    Locality,
    Patient,
    Site,
    Ward,
    WardStay,
)

# --- places ---------------------------------------------------------------------------


async def get_locality(session: AsyncSession, code: str, field: str = "locality_code") -> Locality:
    locality = await session.scalar(select(Locality).where(Locality.code == code))
    if locality is None:
        raise NotFound(f"No locality with code {code!r} ({field}).")
    return locality


async def create_locality(
    session: AsyncSession, *, actor: User, data: schemas.LocalityIn, now: datetime
) -> Locality:
    access.require_admin(actor, "add localities")
    if await session.scalar(select(Locality.id).where(Locality.code == data.code)):
        raise Conflict(f"A locality with code {data.code!r} already exists.")
    locality = Locality(**data.model_dump())
    session.add(locality)
    await audit.record(session, actor=actor, action="locality.create", entity=locality, at=now)
    return locality


async def create_site(
    session: AsyncSession, *, actor: User, data: schemas.SiteIn, now: datetime
) -> Site:
    access.require_admin(actor, "add sites")
    locality = await get_locality(session, data.locality_code)
    if await session.scalar(select(Site.id).where(Site.code == data.code)):
        raise Conflict(f"A site with code {data.code!r} already exists.")
    site = Site(code=data.code, name=data.name, locality_id=locality.id)
    session.add(site)
    await audit.record(session, actor=actor, action="site.create", entity=site, at=now)
    return site


async def site_codes(session: AsyncSession) -> dict[int, str]:
    return dict((await session.execute(select(Site.id, Site.code))).all())


async def create_ward(
    session: AsyncSession, *, actor: User, data: schemas.WardIn, now: datetime
) -> Ward:
    access.require_admin(actor, "add wards")
    if data.min_age > data.max_age:
        raise Invalid(FieldError("max_age", "must be at least min_age"))
    site = await session.scalar(select(Site).where(Site.code == data.site_code))
    if site is None:
        raise NotFound(f"No site with code {data.site_code!r}.")
    if await session.scalar(select(Ward.id).where(Ward.code == data.code)):
        raise Conflict(f"A ward with code {data.code!r} already exists.")
    if data.opened_at is not None:
        check_not_future(data.opened_at, now, "opened_at")
    ward = Ward(
        code=data.code,
        name=data.name,
        site_id=site.id,
        ward_type=data.ward_type,
        sex=data.sex,
        min_age=data.min_age,
        max_age=data.max_age,
        created_at=now,
        opened_at=data.opened_at,
    )
    session.add(ward)
    await audit.record(session, actor=actor, action="ward.create", entity=ward, at=now)
    return ward


async def get_ward(session: AsyncSession, code: str) -> Ward:
    ward = await session.scalar(
        select(Ward).where(Ward.code == code).options(joinedload(Ward.site, innerjoin=True))
    )
    if ward is None:
        raise NotFound(f"No ward with code {code!r}.")
    return ward


async def ward_bed_counts(
    session: AsyncSession, ward_ids: list[int] | None = None
) -> dict[int, tuple[int, int, int]]:
    """(beds, open, occupied) per ward, in two set-based queries whatever the trust's size."""
    beds_q = select(Bed.ward_id, func.count(), func.count().filter(Bed.status == "open")).group_by(
        Bed.ward_id
    )
    occ_q = (
        select(WardStay.ward_id, func.count())
        .where(WardStay.ended_at.is_(None))
        .group_by(WardStay.ward_id)
    )
    if ward_ids is not None:
        beds_q = beds_q.where(Bed.ward_id.in_(ward_ids))
        occ_q = occ_q.where(WardStay.ward_id.in_(ward_ids))
    occupied = {ward_id: count for ward_id, count in (await session.execute(occ_q)).all()}
    return {
        ward_id: (total, open_, occupied.get(ward_id, 0))
        for ward_id, total, open_ in (await session.execute(beds_q)).all()
    }


async def list_wards(session: AsyncSession) -> list[Ward]:
    return list(
        await session.scalars(
            select(Ward).options(joinedload(Ward.site, innerjoin=True)).order_by(Ward.code)
        )
    )


def ward_out(ward: Ward, counts: tuple[int, int, int] | None) -> schemas.WardOut:
    beds, open_, occupied = counts or (0, 0, 0)
    return schemas.WardOut(
        id=ward.id,
        code=ward.code,
        name=ward.name,
        site_code=ward.site.code,
        ward_type=ward.ward_type,
        sex=ward.sex,
        min_age=ward.min_age,
        max_age=ward.max_age,
        beds=beds,
        open_beds=open_,
        occupied_beds=occupied,
    )


async def get_bed(session: AsyncSession, ward: Ward, label: str, *, lock: bool = False) -> Bed:
    query = select(Bed).where(Bed.ward_id == ward.id, Bed.label == label)
    if lock:
        # Serialises two admissions racing for one bed on PostgreSQL (a no-op on SQLite,
        # where writes are already serialised).
        query = query.with_for_update()
    bed = await session.scalar(query)
    if bed is None:
        raise NotFound(f"No bed {label!r} on ward {ward.code}.")
    return bed


async def add_bed(
    session: AsyncSession, *, actor: User, ward_code: str, data: schemas.BedIn, now: datetime
) -> Bed:
    access.require_admin(actor, "add beds")
    ward = await get_ward(session, ward_code)
    if await session.scalar(select(Bed.id).where(Bed.ward_id == ward.id, Bed.label == data.label)):
        raise Conflict(f"Ward {ward.code} already has a bed {data.label!r}.")
    if data.opened_at is not None:
        check_not_future(data.opened_at, now, "opened_at")
    bed = Bed(
        ward_id=ward.id, label=data.label, status="open", created_at=now, opened_at=data.opened_at
    )
    session.add(bed)
    await audit.record(session, actor=actor, action="bed.create", entity=bed, at=now)
    return bed


async def set_bed_status(
    session: AsyncSession,
    *,
    actor: User,
    ward_code: str,
    label: str,
    data: schemas.BedPatch,
    now: datetime,
) -> Bed:
    access.require_role(actor, {"admin", "bed_manager", "ward_staff"}, "open or close beds")
    ward = await get_ward(session, ward_code)
    access.require_ward(actor, ward.id, "open or close beds")
    bed = await get_bed(session, ward, label, lock=True)
    reason = (data.reason or "").strip() or None
    if data.status == "closed" and reason is None:
        raise Invalid(FieldError("reason", "say why the bed is closed"))
    if data.status == "closed" and await _open_stay_in_bed(session, bed.id):
        raise Conflict(f"Bed {label} is occupied; move or discharge the person before closing it.")
    before = audit.snapshot(bed)
    await _record_closure(session, actor, bed, reason if data.status == "closed" else None, now)
    bed.status = data.status
    bed.closed_reason = reason if data.status == "closed" else None
    await flush(session)
    await audit.record(
        session,
        actor=actor,
        action=f"bed.{'close' if data.status == 'closed' else 'open'}",
        entity=bed,
        before=before,
        at=now,
    )
    return bed


async def _record_closure(
    session: AsyncSession, actor: User, bed: Bed, reason: str | None, now: datetime
) -> None:
    """Keep the bed's closures with its status, in the same transaction: closing opens a
    closure, reopening ends it, closing again while closed says the new reason."""
    current = await session.scalar(
        select(BedClosure).where(BedClosure.bed_id == bed.id, BedClosure.reopened_at.is_(None))
    )
    if reason is not None:
        if current is None:
            session.add(
                BedClosure(bed_id=bed.id, closed_at=now, reason=reason, closed_by_id=actor.id)
            )
        else:
            current.reason = reason
        return
    if current is None:
        return
    if now <= current.closed_at:
        # Reopened the moment it closed: it was never out of use (the audit log keeps both).
        await session.delete(current)
        return
    current.reopened_at = now
    current.reopened_by_id = actor.id


async def _open_stay_in_bed(session: AsyncSession, bed_id: int) -> WardStay | None:
    return await session.scalar(
        select(WardStay).where(WardStay.bed_id == bed_id, WardStay.ended_at.is_(None))
    )


# --- patients -------------------------------------------------------------------------


async def create_patient(
    session: AsyncSession, *, actor: User, data: schemas.PatientIn, now: datetime
) -> Patient:
    access.require_role(actor, access.PLACERS, "add patients")
    if data.date_of_birth > local_date(now):
        raise Invalid(FieldError("date_of_birth", "cannot be in the future"))
    locality = await get_locality(session, data.home_locality_code, "home_locality_code")
    if await session.scalar(select(Patient.id).where(Patient.nhs_number == data.nhs_number)):
        raise Conflict("A patient with this NHS number is already recorded.")
    patient = Patient(
        **data.model_dump(exclude={"home_locality_code"}),
        home_locality_id=locality.id,
        created_at=now,
    )
    session.add(patient)
    await flush(session)
    await audit.record(session, actor=actor, action="patient.create", entity=patient, at=now)
    return patient


async def find_patient_by_nhs_number(session: AsyncSession, nhs_number: str) -> Patient | None:
    return await session.scalar(
        select(Patient)
        .where(Patient.nhs_number == nhs_number)
        .options(joinedload(Patient.home_locality, innerjoin=True))
    )


async def load_patient(session: AsyncSession, patient_id: int) -> Patient:
    """The person with their home, unchecked: for answering who made them, not for reads."""
    patient = await session.scalar(
        select(Patient)
        .where(Patient.id == patient_id)
        .options(joinedload(Patient.home_locality, innerjoin=True))
    )
    if patient is None:
        raise NotFound(f"No patient with id {patient_id}.")
    return patient


async def get_patient(
    session: AsyncSession, *, actor: User, patient_id: int, now: datetime
) -> Patient:
    """A person's record, for those app/auth/scope.py lets read it (403 otherwise)."""
    scope.require_reader(actor)
    patient = await load_patient(session, patient_id)
    condition = scope.patient_condition(actor, now, Patient.id)
    if condition is not None and not await session.scalar(
        select(Patient.id).where(Patient.id == patient_id, condition)
    ):
        raise scope.refuse()
    return patient


async def lookup_patient(
    session: AsyncSession,
    *,
    actor: User,
    nhs_number: str,
    date_of_birth: date,
    now: datetime,
    via: dict[str, str],
) -> Patient | None:
    """Find a registered person to admit them: the exact NHS number and the matching date of
    birth, or None (the caller answers 404 either way, so neither alone confirms a person,
    and commits first: a failed try stays in the audit log, under the person it reached)."""
    access.require_role(actor, access.PLACERS, "admit people")
    patient = await find_patient_by_nhs_number(session, nhs_number)
    found = patient is not None and patient.date_of_birth == date_of_birth
    await audit.record_event(
        session,
        actor=actor,
        action="patient.lookup" if found else "patient.lookup_failed",
        entity_type="patients",
        entity_id=patient.id if patient is not None else "",
        details={**via, "found": found},
        at=now,
    )
    return patient if found else None


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def details_that_differ(patient: Patient, typed: schemas.PersonCheck) -> list[str]:
    """Which typed details are not the recorded person's: their names, never their values.
    Names match whatever the case and spacing."""
    differ = []
    if not _same_name(patient.given_name, typed.given_name):
        differ.append("given name")
    if not _same_name(patient.family_name, typed.family_name):
        differ.append("family name")
    if patient.date_of_birth != typed.date_of_birth:
        differ.append("date of birth")
    if patient.sex != typed.sex:
        differ.append("sex")
    return differ


def patient_out(patient: Patient) -> schemas.PatientOut:
    return schemas.PatientOut(
        id=patient.id,
        nhs_number=patient.nhs_number,
        given_name=patient.given_name,
        family_name=patient.family_name,
        display_name=patient.display_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        ethnic_category=patient.ethnic_category,
        home_locality_code=patient.home_locality.code,
        learning_disability=patient.learning_disability,
        autistic=patient.autistic,
    )
