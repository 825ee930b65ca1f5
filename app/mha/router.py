"""JSON API for the Mental Health Act's legal clocks (MHA.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.audit import reads
from app.clock import check_not_future
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.mha import safety, schemas, service

router = APIRouter(prefix="/api/v1", tags=["mental health act"])


@router.get("/admissions/{admission_id}/mha", response_model=schemas.MhaOut)
async def legal_record(
    admission_id: int,
    request: Request,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    as_of: datetime | None = None,
) -> schemas.MhaOut:
    """Detention periods with their computed expiry and renewal window, renewals, rights
    given, and the legal deadlines still to meet, as recorded for `as_of` (default now)."""
    when = as_of or now
    check_not_future(when, now, "as_of")
    record = await service.legal_record(
        session, actor=user, admission_id=admission_id, as_of=when, now=now
    )
    out = service.record_out(record, when)
    await reads.record_admission_read(
        session, request, actor=user, action="mha.read", admission_id=admission_id, now=now
    )
    return out


@router.post("/mha-periods/{period_id}/renewals", status_code=201, response_model=schemas.MhaOut)
async def add_renewal(
    period_id: int, data: schemas.RenewalIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.MhaOut:
    """A renewal report; 422 if the examination is outside the two-month window (it says
    which). The answer is the admission's legal record, with the period's new expiry."""
    renewal = await service.add_renewal(
        session, actor=user, period_id=period_id, data=data, now=now
    )
    await commit(session)
    admission_id = await service.admission_of_period(session, renewal.period_id)
    record = await service.legal_record(
        session, actor=user, admission_id=admission_id, as_of=now, now=now
    )
    return service.record_out(record, now)


@router.post("/admissions/{admission_id}/rights", status_code=201, response_model=schemas.RightsOut)
async def add_rights(
    admission_id: int, data: schemas.RightsIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.RightsOut:
    rights = await service.add_rights(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return schemas.RightsOut.model_validate(rights)


@router.get("/mha/diary", response_model=list[schemas.DiaryEntryOut])
async def diary(
    request: Request,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    days: Annotated[int, Query(ge=1, le=366)] = 14,
    ward_code: str | None = None,
) -> list[schemas.DiaryEntryOut]:
    """Every legal deadline due from now to now + `days`, soonest first, by ward."""
    entries = await service.diary(session, actor=user, days=days, ward_code=ward_code, now=now)
    out = service.diary_out(entries)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="mha.diary",
        patient_ids=[e.patient_id for e in entries],
        now=now,
    )
    return out


@router.post(
    "/admissions/{admission_id}/tribunal-events",
    status_code=201,
    response_model=schemas.TribunalEventOut,
)
async def add_tribunal_event(
    admission_id: int,
    data: schemas.TribunalEventIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.TribunalEventOut:
    """An application (by the person or nearest relative), a managers' reference, or a
    hearing. An application withdrawn counts as never made (s.68(4))."""
    event = await service.add_tribunal_event(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return schemas.TribunalEventOut.model_validate(event)


@router.post(
    "/admissions/{admission_id}/medicine-started",
    status_code=201,
    response_model=schemas.ConsentOut,
)
async def medicine_started(
    admission_id: int,
    data: schemas.MedicineStartIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.ConsentOut:
    """The first medicine for mental disorder in this period of liability: the answer has
    the three-month point it sets (s.58(1)(b))."""
    await service.add_medicine_start(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    record = await service.legal_record(
        session, actor=user, admission_id=admission_id, as_of=now, now=now
    )
    consent = service.record_out(record, now).consent
    assert consent is not None
    return consent


@router.post(
    "/admissions/{admission_id}/certificates",
    status_code=201,
    response_model=schemas.CertificateOut,
)
async def add_certificate(
    admission_id: int,
    data: schemas.CertificateIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.CertificateOut:
    certificate = await service.add_certificate(
        session, actor=user, admission_id=admission_id, data=data, now=now
    )
    await commit(session)
    return schemas.CertificateOut.model_validate(certificate)


@router.patch("/certificates/{certificate_id}", response_model=schemas.CertificateOut)
async def certificate_fallen(
    certificate_id: int,
    data: schemas.CertificatePatch,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.CertificateOut:
    """When a certificate stopped holding (consent withdrawn, capacity changed, s.60)."""
    certificate = await service.certificate_fallen(
        session, actor=user, certificate_id=certificate_id, data=data, now=now
    )
    await commit(session)
    return schemas.CertificateOut.model_validate(certificate)


# --- places of safety -------------------------------------------------------------------


@router.post("/place-of-safety-episodes", status_code=201, response_model=schemas.PlaceOfSafetyOut)
async def start_place_of_safety(
    data: schemas.PlaceOfSafetyIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PlaceOfSafetyOut:
    episode, patient = await safety.start(session, actor=user, data=data, now=now)
    await commit(session)
    return safety.episode_out(episode, patient, now)


@router.get("/place-of-safety-episodes", response_model=list[schemas.PlaceOfSafetyOut])
async def open_places_of_safety(
    request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> list[schemas.PlaceOfSafetyOut]:
    """Everyone held now (and episodes ended in the last day), longest held first."""
    found = await safety.open_episodes(session, actor=user, now=now)
    out = [safety.episode_out(e, p, now) for e, p in found]
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="place_of_safety.read",
        patient_ids=[p.id for _, p in found],
        now=now,
    )
    return out


@router.get("/place-of-safety-episodes/{episode_id}", response_model=schemas.PlaceOfSafetyOut)
async def get_place_of_safety(
    episode_id: int, request: Request, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PlaceOfSafetyOut:
    episode, patient = await safety.get(session, actor=user, episode_id=episode_id)
    out = safety.episode_out(episode, patient, now)
    await reads.record_reads(
        session,
        request,
        actor=user,
        action="place_of_safety.read",
        patient_ids=[patient.id],
        now=now,
        details={"episode_id": episode.id},
    )
    return out


@router.post(
    "/place-of-safety-episodes/{episode_id}/extension", response_model=schemas.PlaceOfSafetyOut
)
async def extend_place_of_safety(
    episode_id: int, data: schemas.ExtensionIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.PlaceOfSafetyOut:
    """422 if authorised after the 24 hours ran out, or for more than 12 hours."""
    episode, patient = await safety.extend(
        session, actor=user, episode_id=episode_id, data=data, now=now
    )
    await commit(session)
    return safety.episode_out(episode, patient, now)


@router.post("/place-of-safety-episodes/{episode_id}/end", response_model=schemas.PlaceOfSafetyOut)
async def end_place_of_safety(
    episode_id: int,
    data: schemas.PlaceOfSafetyEndIn,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
) -> schemas.PlaceOfSafetyOut:
    episode, patient = await safety.end(
        session, actor=user, episode_id=episode_id, data=data, now=now
    )
    await commit(session)
    return safety.episode_out(episode, patient, now)
