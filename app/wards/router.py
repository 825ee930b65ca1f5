"""JSON API for places, beds, the board, patients and admissions (API.md: a contract)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from app import clock
from app.audit import reads
from app.audit.models import AuditEntry
from app.auth import access
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.errors import NotFound
from app.wards import admissions, board, schemas, service
from app.wards.models import Locality

router = APIRouter(prefix="/api/v1", tags=["places, patients and admissions"])


@router.post("/localities", status_code=201, response_model=schemas.LocalityOut)
async def create_locality(
    data: schemas.LocalityIn, user: ApiUser, session: SessionDep, now: NowDep
) -> Locality:
    locality = await service.create_locality(session, actor=user, data=data, now=now)
    await commit(session)
    return locality


@router.get("/localities", response_model=list[schemas.LocalityOut])
async def list_localities(user: ApiUser, session: SessionDep) -> list[Locality]:
    return list(await session.scalars(select(Locality).order_by(Locality.code)))


@router.post("/sites", status_code=201, response_model=schemas.SiteOut)
async def create_site(
    data: schemas.SiteIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.SiteOut:
    site = await service.create_site(session, actor=user, data=data, now=now)
    await commit(session)
    return schemas.SiteOut(
        id=site.id, code=site.code, name=site.name, locality_code=data.locality_code
    )


@router.post("/wards", status_code=201, response_model=schemas.WardOut)
async def create_ward(
    data: schemas.WardIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.WardOut:
    ward = await service.create_ward(session, actor=user, data=data, now=now)
    await commit(session)
    ward = await service.get_ward(session, ward.code)
    return service.ward_out(ward, None)


@router.get("/wards", response_model=list[schemas.WardOut])
async def list_wards(user: ApiUser, session: SessionDep) -> list[schemas.WardOut]:
    wards = await service.list_wards(session)
    counts = await service.ward_bed_counts(session)
    return [service.ward_out(w, counts.get(w.id)) for w in wards]


@router.get("/wards/{code}", response_model=schemas.WardOut)
async def get_ward(code: str, user: ApiUser, session: SessionDep) -> schemas.WardOut:
    ward = await service.get_ward(session, code)
    counts = await service.ward_bed_counts(session, [ward.id])
    return service.ward_out(ward, counts.get(ward.id))


def _bed_out(ward_code: str, bed: object) -> schemas.BedOut:
    return schemas.BedOut(
        id=bed.id,  # type: ignore[attr-defined]
        ward_code=ward_code,
        label=bed.label,  # type: ignore[attr-defined]
        status=bed.status,  # type: ignore[attr-defined]
        reason=bed.closed_reason,  # type: ignore[attr-defined]
    )


@router.post("/wards/{code}/beds", status_code=201, response_model=schemas.BedOut)
async def add_bed(
    code: str, data: schemas.BedIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BedOut:
    bed = await service.add_bed(session, actor=user, ward_code=code, data=data, now=now)
    await commit(session)
    return _bed_out(code, bed)


@router.patch("/wards/{code}/beds/{label}", response_model=schemas.BedOut)
async def set_bed_status(
    code: str, label: str, data: schemas.BedPatch, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BedOut:
    bed = await service.set_bed_status(
        session, actor=user, ward_code=code, label=label, data=data, now=now
    )
    await commit(session)
    return _bed_out(code, bed)


@router.get("/wards/{code}/board", response_model=schemas.BoardOut)
async def ward_board(
    code: str, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.BoardOut:
    # Not audited per read: a board shows who is on the ward now, which its staff may always
    # see, and is polled; each person's own record (admission, episodes) is audited.
    return await board.ward_board(session, actor=user, ward_code=code, now=now)


@router.post("/patients", status_code=201, response_model=schemas.PatientOut)
async def create_patient(
    data: schemas.PatientIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PatientOut:
    patient = await service.create_patient(session, actor=user, data=data, now=now)
    await commit(session)
    # What was just typed, given back to whoever typed it (not a read of someone else).
    return service.patient_out(await service.load_patient(session, patient.id))


@router.post("/patients/lookup", response_model=schemas.PatientLookupOut)
async def lookup_patient(
    data: schemas.PatientLookupIn,
    request: Request,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.PatientLookupOut:
    """A registered person, to admit them: exact NHS number and matching date of birth, in
    the body (never in a logged URL); only what admitting needs; audited, found or not."""
    patient = await service.lookup_patient(
        session,
        actor=user,
        nhs_number=data.nhs_number,
        date_of_birth=data.date_of_birth,
        now=now,
        via=reads.via(request),
    )
    await commit(session)
    if patient is None:
        raise NotFound("No registered person has that NHS number and date of birth.")
    return schemas.PatientLookupOut(
        id=patient.id,
        sex=patient.sex,
        age=clock.age_on(patient.date_of_birth, clock.local_date(now)),
        home_locality_code=patient.home_locality.code,
    )


@router.get("/patients/{patient_id}", response_model=schemas.PatientOut)
async def get_patient(
    patient_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PatientOut:
    out = service.patient_out(
        await service.get_patient(session, actor=user, patient_id=patient_id, now=now)
    )
    await reads.record_reads(
        session, request, actor=user, action="patient.read", patient_ids=[out.id], now=now
    )
    return out


@router.get("/patients/{patient_id}/access-log", response_model=list[schemas.AccessLogEntry])
async def patient_access_log(
    patient_id: int, user: ApiUser, session: SessionDep, limit: int = Query(500, ge=1, le=5000)
) -> list[schemas.AccessLogEntry]:
    """Who looked at this person (and changed their records), when, from where: admin only,
    newest first."""
    access.require_admin(user, "see who looked at a person")
    await service.load_patient(session, patient_id)
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "patients", AuditEntry.entity_id == str(patient_id))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        schemas.AccessLogEntry(
            at=e.at,
            username=e.username,
            action=e.action,
            via=(e.after or {}).get("via") if e.before is None else None,
            client=(e.after or {}).get("client") if e.before is None else None,
            details=e.after if e.before is None else None,
        )
        for e in rows
    ]


@router.post("/admissions", status_code=201, response_model=schemas.AdmissionOut)
async def admit(
    data: schemas.AdmissionIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.AdmissionOut:
    admission = await admissions.admit(session, actor=user, data=data, now=now)
    await commit(session)
    # Answered from what was just written (admit builds it whole), not reloaded.
    return await admissions.admission_detail(session, admission, now, fresh=True)


@router.get("/admissions", response_model=list[schemas.AdmissionOut])
async def list_admissions(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    ward_code: str | None = None,
    open: bool | None = Query(default=None, description="true: open only; false: discharged only"),
) -> list[schemas.AdmissionOut]:
    rows = await admissions.list_admissions(
        session, actor=user, ward_code=ward_code, open_only=open, now=now
    )
    outs = await admissions.admissions_detail(session, rows, now, reader=user)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="admission.list",
        patient_ids=[a.patient_id for a in outs],
        now=now,
    )
    return outs


@router.get("/admissions/{admission_id}", response_model=schemas.AdmissionOut)
async def get_admission(
    admission_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.AdmissionOut:
    admission = await admissions.get_admission(
        session, actor=user, admission_id=admission_id, now=now
    )
    out = await admissions.admission_detail(session, admission, now, reader=user)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="admission.read",
        patient_ids=[out.patient_id],
        now=now,
        details={"admission_id": admission_id},
    )
    return out


@router.post("/admissions/{admission_id}/transfer", response_model=schemas.AdmissionOut)
async def transfer(
    admission_id: int, data: schemas.TransferIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.AdmissionOut:
    admission = await admissions.transfer(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return await admissions.admission_detail(session, admission, now, reader=user)


@router.post(
    "/admissions/{admission_id}/purpose-reviews",
    status_code=201,
    response_model=schemas.PurposeReviewOut,
)
async def add_purpose_review(
    admission_id: int,
    data: schemas.PurposeReviewIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.PurposeReviewOut:
    review = await admissions.add_purpose_review(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return schemas.PurposeReviewOut.model_validate(review)


@router.patch("/admissions/{admission_id}", response_model=schemas.AdmissionOut)
async def update_admission(
    admission_id: int,
    data: schemas.AdmissionPatch,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.AdmissionOut:
    admission = await admissions.update_admission(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return await admissions.admission_detail(session, admission, now, reader=user)
