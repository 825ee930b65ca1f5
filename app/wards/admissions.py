"""Admissions and ward stays: admit, transfer, change legal status, review purpose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.clock import check_not_future, local_date
from app.db import flush
from app.errors import Conflict, DomainError, FieldError, Invalid, NotFound
from app.wards import schemas
from app.wards.models import (
    Admission,
    Bed,
    LegalStatusChange,
    Patient,
    PurposeReview,
    WardStay,
)
from app.wards.service import get_bed, get_ward

# The admission's hook points, filled in app/extensions.py (register_all).
# Restrictive practice lists its episodes and uses of force here for the admission's API
# and page, without wards depending on it.
EpisodeLister = Callable[
    [AsyncSession, list[int]], Awaitable[dict[int, list[schemas.EpisodeSummary]]]
]
episode_listers: list[EpisodeLister] = []
# Bed flow closes the bed request an admission meets (named by ``bed_request_id``, or the
# person's own open one), refusing the admission if the named request cannot be met.
AdmissionLink = Callable[[AsyncSession, Admission, int | None, datetime], Awaitable[None]]
admission_links: list[AdmissionLink] = []
# Other capabilities add their parts of an admission's detail (ready-for-discharge periods).
DetailExtender = Callable[[AsyncSession, list[schemas.AdmissionOut], datetime], Awaitable[None]]
detail_extenders: list[DetailExtender] = []

ADMISSION_DETAIL = (
    selectinload(Admission.patient).selectinload(Patient.home_locality),
    selectinload(Admission.stays).selectinload(WardStay.ward),
    selectinload(Admission.stays).selectinload(WardStay.bed),
    selectinload(Admission.legal_status_changes),
    selectinload(Admission.purpose_reviews),
)


async def _ensure_bed_free(session: AsyncSession, bed: Bed, since: datetime) -> None:
    if bed.status == "closed":
        raise Conflict(f"Bed {bed.label} is closed ({bed.closed_reason}).")
    clash = await session.scalar(
        select(WardStay).where(
            WardStay.bed_id == bed.id,
            or_(WardStay.ended_at.is_(None), WardStay.ended_at > since),
        )
    )
    if clash is not None:
        if clash.ended_at is None:
            raise Conflict(f"Bed {bed.label} is occupied.")
        raise Conflict(f"Bed {bed.label} was occupied at that time.")


async def identify(
    session: AsyncSession,
    *,
    actor: User,
    data: schemas.AdmissionIn,
    now: datetime,
    via: dict[str, str],
) -> Patient | None:
    """Whom an admission names by ``nhs_number`` and ``date_of_birth`` (both or neither,
    422 naming the one missing): the registered person with exactly that NHS number, once
    the date of birth matches (409 naming the detail that differs, never its stored value;
    404 when no one has that number). None when neither was given. The lookup is audited
    under the person it reached, matched or not: the caller commits before refusing, so a
    failed try stays in the audit log."""
    access.require_role(actor, access.PLACERS, "admit people")
    if data.nhs_number is None and data.date_of_birth is None:
        return None
    if data.nhs_number is None:
        raise Invalid(FieldError("nhs_number", "give it with date_of_birth"))
    if data.date_of_birth is None:
        raise Invalid(FieldError("date_of_birth", "give it with nhs_number"))
    # Refused on the ward before any lookup: a refusal writes nothing, the audit included.
    ward = await get_ward(session, data.ward_code)
    access.require_ward(actor, ward.id, "admit people")
    from app.wards.service import find_patient_by_nhs_number

    patient = await find_patient_by_nhs_number(session, data.nhs_number)
    differ = []
    if patient is not None and patient.date_of_birth != data.date_of_birth:
        differ.append("date of birth")
    if patient is not None and data.patient_id is not None and data.patient_id != patient.id:
        differ.append("patient_id")
    await audit.record_event(
        session,
        actor=actor,
        action="patient.lookup" if patient is not None and not differ else "patient.lookup_failed",
        entity_type="patients",
        entity_id=patient.id if patient is not None else "",
        details={**via, "found": patient is not None and not differ, "differ": differ},
        at=now,
    )
    return patient


def identity_problem(patient: Patient | None, data: schemas.AdmissionIn) -> DomainError | None:
    """The refusal for a person named by NHS number and date of birth, if any (after the
    lookup's audit entry is committed)."""
    if patient is None:
        return NotFound(
            "No registered person has that NHS number; register them first (POST /patients)."
        )
    differ = []
    if patient.date_of_birth != data.date_of_birth:
        differ.append("date of birth")
    if data.patient_id is not None and data.patient_id != patient.id:
        differ.append("patient_id")
    if differ:
        return Conflict(
            "A person is recorded with this NHS number, but their "
            + " and ".join(differ)
            + " differ from what you gave. Check the details; nothing was saved."
        )
    return None


async def admit(
    session: AsyncSession,
    *,
    actor: User,
    data: schemas.AdmissionIn,
    now: datetime,
    identified: bool = False,
) -> Admission:
    """Admit a person. Ward staff name them by ``patient_id`` only when they may already
    read them (scope.py: on, or recently on, their ward); anyone else they must know, by
    NHS number and date of birth (``identify``, then ``identified``), or register: a bare,
    sequential id is not proof of knowing the person (403, whoever it names)."""
    access.require_role(actor, access.PLACERS, "admit people")
    if data.patient_id is None:
        raise Invalid(FieldError("patient_id", "give patient_id, or nhs_number and date_of_birth"))
    if not identified:
        visible = scope.patient_condition(actor, now, Patient.id)
        if visible is not None and (
            await session.scalar(select(Patient.id).where(Patient.id == data.patient_id, visible))
            is None
        ):
            raise scope.refuse()
    check_not_future(data.admitted_at, now, "admitted_at")
    errors = []
    if data.decision_to_admit_at is not None and data.decision_to_admit_at > data.admitted_at:
        errors.append(FieldError("decision_to_admit_at", "must be at or before admitted_at"))
    if data.expected_discharge_date is not None and data.expected_discharge_date < local_date(
        data.admitted_at
    ):
        errors.append(FieldError("expected_discharge_date", "cannot be before the admission"))
    if errors:
        raise Invalid(errors)
    if data.bed_request_id is not None and not admission_links:
        raise NotFound(f"No bed request with id {data.bed_request_id}.")

    admitted_at = data.admitted_at.astimezone(UTC)
    # The person (with their home, for the answer) and any admission of theirs that is
    # open or ended after this one starts, in one statement; refused below in this order:
    # unknown person, ward, bed, bed taken, person already in hospital.
    found = (
        await session.execute(
            select(Patient, Admission)
            .outerjoin(
                Admission,
                and_(
                    Admission.patient_id == Patient.id,
                    or_(Admission.discharged_at.is_(None), Admission.discharged_at > admitted_at),
                ),
            )
            .where(Patient.id == data.patient_id)
            .options(joinedload(Patient.home_locality, innerjoin=True))
            .limit(1)
        )
    ).first()
    if found is None:
        raise NotFound(f"No patient with id {data.patient_id}.")
    patient, overlapping = found
    ward = await get_ward(session, data.ward_code)
    access.require_ward(actor, ward.id, "admit people")
    bed = await get_bed(session, ward, data.bed_label, lock=True)
    await _ensure_bed_free(session, bed, admitted_at)
    if overlapping is not None:
        if overlapping.discharged_at is None:
            raise Conflict("This patient already has an open admission.")
        raise Conflict("This patient was in hospital at that time (an earlier admission).")

    # Built whole with its relationships, so the answer needs no reload: times in UTC, as
    # the database gives them back.
    admission = Admission(
        patient_id=patient.id,
        patient=patient,
        admitted_at=admitted_at,
        decision_to_admit_at=(
            data.decision_to_admit_at.astimezone(UTC) if data.decision_to_admit_at else None
        ),
        reason=data.reason,
        expected_benefit=data.expected_benefit,
        legal_status=data.legal_status,
        expected_discharge_date=data.expected_discharge_date,
        created_at=now.astimezone(UTC),
        created_by_id=actor.id,
        stays=[
            WardStay(
                ward_id=ward.id,
                ward=ward,
                bed_id=bed.id,
                bed=bed,
                started_at=admitted_at,
            )
        ],
        legal_status_changes=[
            LegalStatusChange(
                legal_status=data.legal_status,
                at=admitted_at,
                clock_start_day=check_clock_start(
                    data.clock_start_day, admitted_at, "clock_start_day"
                ),
                recorded_at=now.astimezone(UTC),
                recorded_by_id=actor.id,
            )
        ],
        purpose_reviews=[],
    )
    session.add(admission)
    await flush(session)
    for link in admission_links:
        await link(session, admission, data.bed_request_id, now)
    await audit.record(
        session,
        actor=actor,
        action="admission.create",
        entity=admission,
        at=now,
        after={**(audit.snapshot(admission) or {}), "ward_code": ward.code, "bed_label": bed.label},
    )
    return admission


async def get_admission(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    now: datetime,
    record_at: datetime | None = None,
) -> Admission:
    """The admission, for those app/auth/scope.py lets read it (403 otherwise). With
    ``record_at`` (reading an episode or a use of force that began then), the stay it was
    recorded on must be one the reader may see."""
    scope.require_reader(actor)
    admission = await session.scalar(
        select(Admission)
        .where(Admission.id == admission_id)
        .options(*ADMISSION_DETAIL)
        .execution_options(populate_existing=True)
    )
    if admission is None:
        raise NotFound(f"No admission with id {admission_id}.")
    if record_at is None:
        scope.require_admission(actor, admission, now)
    else:
        scope.require_record(actor, admission, record_at, now)
    return admission


def current_stay(admission: Admission) -> WardStay:
    """The open stay, or the last one once discharged."""
    return admission.stays[-1]


async def list_admissions(
    session: AsyncSession,
    *,
    actor: User,
    ward_code: str | None,
    open_only: bool | None,
    now: datetime,
) -> Sequence[Admission]:
    """Admissions the actor may read (scope.py), newest first; ``ward_code``: those with a
    stay on that ward (now, for open ones)."""
    scope.require_reader(actor)
    query = (
        select(Admission)
        .options(*ADMISSION_DETAIL)
        .order_by(Admission.admitted_at.desc())
        .execution_options(populate_existing=True)
    )
    if ward_code:
        ward = await get_ward(session, ward_code)
        access.require_read_ward(actor, ward.id)
        # Where the person is now; for discharged admissions, any stay there.
        in_ward = select(WardStay.admission_id).where(WardStay.ward_id == ward.id)
        if open_only:
            in_ward = in_ward.where(WardStay.ended_at.is_(None))
        query = query.where(Admission.id.in_(in_ward))
    readable = scope.admission_condition(actor, now)
    if readable is not None:
        query = query.where(readable)
    if open_only is True:
        query = query.where(Admission.discharged_at.is_(None))
    elif open_only is False:
        query = query.where(Admission.discharged_at.is_not(None))
    return list(await session.scalars(query.limit(1000)))


async def admission_for_change(
    session: AsyncSession,
    actor: User,
    admission_id: int,
    doing: str,
    roles: set[str],
    *,
    now: datetime,
    event_at: datetime | None = None,
) -> Admission:
    """The admission, locked for update, once the actor may change it on its current ward.

    With ``event_at`` (recording something that happened earlier), staff of the ward the
    person was on at that moment may also write: a restraint on one ward is recorded by
    that ward's staff even after the person has moved on. Either way writes follow the read
    window (app/auth/scope.py): after a stay ends, its ward completes records for
    ``records_after_discharge_days``, no longer.
    """
    access.require_role(actor, roles, doing)
    admission = await session.scalar(
        select(Admission)
        .where(Admission.id == admission_id)
        .options(*ADMISSION_DETAIL)
        .with_for_update()
    )
    if admission is None:
        raise NotFound(f"No admission with id {admission_id}.")
    require_ward_for(actor, admission, doing, event_at, now=now)
    return admission


def ward_at(admission: Admission, at: datetime) -> int:
    """The ward the person was on at that moment (at a transfer's instant, the new one)."""
    stays = [s for s in admission.stays if s.started_at <= at] or admission.stays
    return stays[-1].ward_id


def require_ward_for(
    actor: User,
    admission: Admission,
    doing: str,
    event_at: datetime | None = None,
    *,
    now: datetime,
) -> None:
    allowed = {current_stay(admission).ward_id}
    if event_at is not None:
        allowed.add(ward_at(admission, event_at))
    if access.is_ward_scoped(actor) and not allowed & access.ward_ids(actor):
        access.require_ward(actor, current_stay(admission).ward_id, doing)
    if not scope.stay_writable(actor, admission, now, event_at):
        raise scope.refuse_write()


def check_within(admission: Admission, at: datetime, now: datetime, field: str) -> None:
    """A clinical time must fall inside the admission and not in the future (422 on field)."""
    check_not_future(at, now, field)
    if at < admission.admitted_at:
        raise Invalid(FieldError(field, "cannot be before the admission"))
    if admission.discharged_at is not None and at > admission.discharged_at:
        raise Invalid(FieldError(field, "cannot be after the discharge"))


async def transfer(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.TransferIn,
    now: datetime,
) -> Admission:
    admission = await admission_for_change(
        session, actor, admission_id, "transfer people", access.PLACERS, now=now
    )
    if admission.discharged_at is not None:
        raise Conflict("This admission has already been discharged.")
    stay = current_stay(admission)
    check_within(admission, data.at, now, "at")
    if data.at < stay.started_at:
        raise Invalid(FieldError("at", "cannot be before the person arrived in their current bed"))
    ward = await get_ward(session, data.ward_code)
    # The sending ward starts a transfer (a handover), so ward staff need only the ward
    # the person is on now, checked above; the receiving ward sees them arrive.
    bed = await get_bed(session, ward, data.bed_label, lock=True)
    if bed.id == stay.bed_id:
        raise Invalid(FieldError("bed_label", "the person is already in this bed"))
    await _ensure_bed_free(session, bed, data.at)
    before = {"ward_id": stay.ward_id, "bed_id": stay.bed_id}
    stay.ended_at = data.at
    await flush(session)
    new_stay = WardStay(
        admission_id=admission.id,
        ward_id=ward.id,
        bed_id=bed.id,
        started_at=data.at,
        transfer_reason=data.reason,
    )
    session.add(new_stay)
    await flush(session)
    await audit.record(
        session,
        actor=actor,
        action="admission.transfer",
        entity=new_stay,
        before=before,
        at=now,
    )
    return await reload(session, admission.id)


async def reload(session: AsyncSession, admission_id: int) -> Admission:
    admission = await session.scalar(
        select(Admission)
        .where(Admission.id == admission_id)
        .options(*ADMISSION_DETAIL)
        .execution_options(populate_existing=True)
    )
    assert admission is not None
    return admission


async def add_purpose_review(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.PurposeReviewIn,
    now: datetime,
) -> PurposeReview:
    admission = await admission_for_change(
        session,
        actor,
        admission_id,
        "review the purpose of admission",
        access.CLINICAL_WRITERS,
        now=now,
    )
    check_within(admission, data.at, now, "at")
    review = PurposeReview(
        admission_id=admission.id,
        at=data.at,
        still_needed=data.still_needed,
        note=data.note,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(review)
    await flush(session)
    await audit.record(
        session, actor=actor, action="admission.purpose_review", entity=review, at=now
    )
    return review


async def update_admission(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.AdmissionPatch,
    now: datetime,
) -> Admission:
    admission = await admission_for_change(
        session, actor, admission_id, "change admissions", access.CLINICAL_WRITERS, now=now
    )
    fields = data.model_fields_set
    if not fields - {"at"}:
        raise Invalid(
            "give legal_status, expected_discharge_date, reason or expected_benefit to change",
            field="body",
        )
    if admission.discharged_at is not None:
        raise Conflict("This admission has already been discharged.")
    before = audit.snapshot(admission)
    if "legal_status" in fields:
        if data.legal_status is None:
            raise Invalid(FieldError("legal_status", "cannot be empty"))
        at = data.at or now
        check_within(admission, at, now, "at")
        session.add(
            LegalStatusChange(
                admission_id=admission.id,
                legal_status=data.legal_status,
                at=at,
                clock_start_day=check_clock_start(data.clock_start_day, at, "clock_start_day"),
                recorded_at=now,
                recorded_by_id=actor.id,
            )
        )
        await flush(session)
        # The status in force is the latest by when it took effect, whatever the typing order.
        latest = await session.scalar(
            select(LegalStatusChange.legal_status)
            .where(LegalStatusChange.admission_id == admission.id)
            .order_by(LegalStatusChange.at.desc(), LegalStatusChange.id.desc())
            .limit(1)
        )
        admission.legal_status = latest or data.legal_status
    elif "clock_start_day" in fields:
        raise Invalid(FieldError("clock_start_day", "is given with a legal_status change"))
    if "expected_discharge_date" in fields:
        edd = data.expected_discharge_date
        if edd is not None and edd < local_date(admission.admitted_at):
            raise Invalid(FieldError("expected_discharge_date", "cannot be before the admission"))
        admission.expected_discharge_date = edd
    was_missing = admission.purpose_missing
    for name in ("reason", "expected_benefit"):
        if name in fields:
            value = getattr(data, name)
            if value is None:
                raise Invalid(FieldError(name, "cannot be empty"))
            setattr(admission, name, value)
    if was_missing and not admission.purpose_missing:
        # ADM_PURPOSE_MISSING clears at this moment (the ward typed them now).
        admission.purpose_recorded_at = now
    await flush(session)
    await audit.record(
        session, actor=actor, action="admission.update", entity=admission, before=before, at=now
    )
    return await reload(session, admission.id)


# A s.37 order's patient must be admitted within 28 days of it (s.40(1)); an application
# received, or an order made, after the status changed cannot be what started it.
CLOCK_START_REACH = timedelta(days=28)


def check_clock_start(day: date | None, at: datetime, field: str) -> date | None:
    """The day a Mental Health Act period counts from, when given: never after the day of
    the change in England, and at most 28 days before it."""
    if day is None:
        return None
    changed_on = local_date(at)
    if day > changed_on:
        raise Invalid(FieldError(field, "cannot be after the day the legal status took effect"))
    if day < changed_on - CLOCK_START_REACH:
        raise Invalid(
            FieldError(field, "cannot be more than 28 days before the legal status took effect")
        )
    return day


async def end_current_stay(session: AsyncSession, admission: Admission, at: datetime) -> None:
    stay = current_stay(admission)
    if at < stay.started_at:
        raise Invalid(FieldError("at", "cannot be before the person arrived in their current bed"))
    stay.ended_at = at
    await flush(session)


async def episodes_of(
    session: AsyncSession, admission_ids: list[int]
) -> dict[int, list[schemas.EpisodeSummary]]:
    """Each admission's restrictive episodes and uses of force, oldest first (set-based)."""
    result: dict[int, list[schemas.EpisodeSummary]] = {a: [] for a in admission_ids}
    if admission_ids:
        for lister in episode_listers:
            for admission_id, items in (await lister(session, admission_ids)).items():
                result[admission_id].extend(items)
    for items in result.values():
        items.sort(key=lambda e: (e.started_at, e.kind, e.id))
    return result


async def admissions_detail(
    session: AsyncSession,
    rows: Sequence[Admission],
    now: datetime,
    *,
    fresh: bool = False,
    reader: User | None = None,
) -> list[schemas.AdmissionOut]:
    """Admissions as the API gives them, with their restrictive episodes and what other
    capabilities add (ready-for-discharge periods). ``fresh``: admissions made in this
    request, which no episode can refer to yet (they are recorded against an admission
    that exists), so none are looked for. ``reader``: ward staff see only the stays they
    may read and what was recorded on them (scope.py), not what a later ward recorded."""
    episodes = (
        {a.id: [] for a in rows} if fresh else await episodes_of(session, [a.id for a in rows])
    )
    outs = [admission_out(a) for a in rows]
    for out in outs:
        out.episodes = episodes[out.id]
    for extend in detail_extenders:
        await extend(session, outs, now)
    if reader is not None and access.is_ward_scoped(reader):
        for admission, out in zip(rows, outs, strict=True):
            _only_readable(reader, admission, out, now)
    return outs


def _only_readable(
    reader: User, admission: Admission, out: schemas.AdmissionOut, now: datetime
) -> None:
    """Cut an admission's detail to what scope.admission_seen lets this reader see: the
    stays they may read and what was recorded on them (by when it happened); a ward the
    person has left sees the admission as it stood when its stay ended."""
    seen = scope.admission_seen(reader, admission, now)
    readable = {s.id for s in seen.stays}
    out.stays = [s for s in out.stays if s.id in readable]
    out.episodes = [e for e in out.episodes if seen.shows(e.started_at)]
    out.purpose_reviews = [r for r in out.purpose_reviews if seen.shows(r.at)]
    out.legal_status_history = [c for c in out.legal_status_history if seen.shows(c.at)]
    out.ready_for_discharge_periods = [
        p for p in out.ready_for_discharge_periods if seen.shows(p.started_at)
    ]
    if seen.until is not None:
        # As it stood at the end of the reader's stay: where that ward sent the person (not
        # any later move), the legal status then, not the discharge.
        out.ward_code = seen.stay.ward.code
        out.bed_label = seen.stay.bed.label
        out.legal_status = seen.legal_status
        out.status = "open"
        out.discharged_at = None
        out.discharge_destination = None


async def admission_detail(
    session: AsyncSession,
    admission: Admission,
    now: datetime,
    *,
    fresh: bool = False,
    reader: User | None = None,
) -> schemas.AdmissionOut:
    return (await admissions_detail(session, [admission], now, fresh=fresh, reader=reader))[0]


def admission_out(admission: Admission) -> schemas.AdmissionOut:
    from app.wards.service import patient_out

    stay = current_stay(admission)
    return schemas.AdmissionOut(
        id=admission.id,
        patient_id=admission.patient_id,
        patient=patient_out(admission.patient),
        status="open" if admission.discharged_at is None else "discharged",
        admitted_at=admission.admitted_at,
        decision_to_admit_at=admission.decision_to_admit_at,
        reason=admission.reason,
        expected_benefit=admission.expected_benefit,
        legal_status=admission.legal_status,
        legal_status_history=[
            schemas.LegalStatusOut(legal_status=c.legal_status, at=c.at)
            for c in sorted(admission.legal_status_changes, key=lambda c: (c.at, c.id))
        ],
        expected_discharge_date=admission.expected_discharge_date,
        ward_code=stay.ward.code,
        bed_label=stay.bed.label,
        stays=[
            schemas.StayOut(
                id=s.id,
                ward_code=s.ward.code,
                bed_label=s.bed.label,
                started_at=s.started_at,
                ended_at=s.ended_at,
                transfer_reason=s.transfer_reason,
            )
            for s in admission.stays
        ],
        purpose_reviews=[
            schemas.PurposeReviewOut.model_validate(r) for r in admission.purpose_reviews
        ],
        discharged_at=admission.discharged_at,
        discharge_destination=admission.discharge_destination,
    )
