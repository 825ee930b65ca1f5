"""Mental Health Act records: read an admission's legal record, record renewals and
rights, and list the legal deadlines coming up (the diary).

Reads follow app/auth/scope.py like every other read of a person's record; writes go
through `admissions.admission_for_change` (role, ward, row lock) like every other write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.clock import check_not_future
from app.db import flush
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.mha import schemas
from app.mha.clocks import day_of, expiry_day
from app.mha.due import consent_three_month_point
from app.mha.models import Certificate, MedicineStart, Renewal, RightsGiven, TribunalEvent
from app.mha.periods import RENEWABLE_PROVISIONS, is_detaining
from app.mha.timeline import Deadline, Period, deadlines, periods_of
from app.wards import admissions
from app.wards.models import Admission, Bed, LegalStatusChange, Ward, WardStay
from app.wards.service import get_ward

M = TypeVar("M", RightsGiven, TribunalEvent, MedicineStart, Certificate)

# Who records Mental Health Act events: the ward (rights are given by its nurses), the
# Mental Health Act office and the rights and safeguarding lead, and admins.
RECORDERS = access.CLINICAL_WRITERS | {"safeguarding_lead"}


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LegalRecord:
    admission: Admission
    periods: list[Period]
    renewals: list[Renewal]
    rights: list[RightsGiven]
    tribunal: list[TribunalEvent]
    medicine: list[MedicineStart]
    certificates: list[Certificate]
    deadlines: list[Deadline]


async def _by_admission(
    session: AsyncSession, model: type[M], admission_ids: Sequence[int], order: Any
) -> dict[int, list[M]]:
    """Each admission's records of one kind, in the order given (then by id)."""
    found: dict[int, list[M]] = defaultdict(list)
    query = (
        select(model)
        .where(model.admission_id.in_(list(admission_ids) or [-1]))
        .order_by(order, model.id)
    )
    for row in await session.scalars(query):
        found[row.admission_id].append(row)
    return found


async def legal_record(
    session: AsyncSession, *, actor: User, admission_id: int, as_of: datetime, now: datetime
) -> LegalRecord:
    """The admission's periods, renewals, rights and deadlines as recorded for `as_of`."""
    admission = await admissions.get_admission(
        session, actor=actor, admission_id=admission_id, now=now
    )
    changes = [c for c in admission.legal_status_changes if c.at <= as_of]
    renewals = [
        r
        for r in await session.scalars(
            select(Renewal).where(Renewal.period_id.in_([c.id for c in changes] or [-1]))
        )
        if r.furnished_at <= as_of
    ]
    ids = [admission.id]
    rights = [
        r
        for r in (await _by_admission(session, RightsGiven, ids, RightsGiven.given_at))[
            admission.id
        ]
        if r.given_at <= as_of
    ]
    tribunal = [
        e
        for e in (await _by_admission(session, TribunalEvent, ids, TribunalEvent.at))[admission.id]
        if e.at <= as_of
    ]
    medicine = [
        m
        for m in (await _by_admission(session, MedicineStart, ids, MedicineStart.at))[admission.id]
        if m.at <= as_of
    ]
    certificates = [
        c
        for c in (await _by_admission(session, Certificate, ids, Certificate.issued_at))[
            admission.id
        ]
        if c.issued_at <= as_of
    ]
    discharged_at = admission.discharged_at
    if discharged_at is not None and discharged_at > as_of:
        discharged_at = None
    periods = periods_of(changes, renewals, discharged_at=discharged_at)
    return LegalRecord(
        admission,
        periods,
        renewals,
        rights,
        tribunal,
        medicine,
        certificates,
        deadlines(
            periods,
            rights,
            tribunal,
            medicine,
            [_as_of(c, as_of) for c in certificates],
        ),
    )


@dataclass
class _CertificateThen:
    issued_at: datetime
    fallen_at: datetime | None


def _as_of(certificate: Certificate, as_of: datetime) -> _CertificateThen:
    """A certificate as it stood at `as_of` (one that fell later still held then)."""
    fallen = certificate.fallen_at
    return _CertificateThen(certificate.issued_at, fallen if fallen and fallen <= as_of else None)


def record_out(record: LegalRecord, as_of: datetime) -> schemas.MhaOut:
    by_period: dict[int, list[Renewal]] = defaultdict(list)
    for renewal in sorted(record.renewals, key=lambda r: (r.furnished_at, r.id)):
        by_period[renewal.period_id].append(renewal)
    return schemas.MhaOut(
        admission_id=record.admission.id,
        as_of=as_of,
        periods=[
            schemas.PeriodOut(
                id=p.id,
                legal_status=p.legal_status,
                started_at=p.started_at,
                clock_start_day=p.clock_start_day,
                expires_at=p.expires_at,
                renewal_window_opens_at=p.renewal_window.opens_at if p.renewal_window else None,
                renewals=[
                    schemas.RenewalOut(
                        id=r.id,
                        period_id=r.period_id,
                        examined_at=r.examined_at,
                        agreed_at=r.agreed_at,
                        furnished_at=r.furnished_at,
                        extended=r.id in p.renewals,
                    )
                    for r in by_period[p.id]
                ],
                ended_at=p.ended_at,
                end_reason=p.end_reason,
            )
            for p in record.periods
        ],
        rights=[schemas.RightsOut.model_validate(r) for r in record.rights],
        tribunal=[schemas.TribunalEventOut.model_validate(e) for e in record.tribunal],
        consent=_consent_out(record),
        deadlines=[
            schemas.DeadlineOut(rule=d.rule, due_at=d.due_at, what=d.what, period_id=d.period_id)
            for d in record.deadlines
        ],
    )


async def admission_of_period(session: AsyncSession, period_id: int) -> int:
    admission_id = await session.scalar(
        select(LegalStatusChange.admission_id).where(LegalStatusChange.id == period_id)
    )
    if admission_id is None:
        raise NotFound(f"No detention period with id {period_id}.")
    return admission_id


def _consent_out(record: LegalRecord) -> schemas.ConsentOut:
    run_start = next(
        (p.started_at for p in reversed(record.periods) if not is_detaining(p.legal_status)),
        None,
    )
    since = [m.at for m in record.medicine if run_start is None or m.at >= run_start]
    first = min(since, default=None)
    return schemas.ConsentOut(
        first_medicine_at=first,
        three_month_point_at=consent_three_month_point(first) if first else None,
        certificates=[schemas.CertificateOut.model_validate(c) for c in record.certificates],
    )


# --- recording --------------------------------------------------------------------------


async def add_renewal(
    session: AsyncSession, *, actor: User, period_id: int, data: schemas.RenewalIn, now: datetime
) -> Renewal:
    """A renewal report for a s.3, s.37 or CTO period: examined in the two-month window
    ending on the day the authority would cease (s.20(3)), furnished before it ceased."""
    change = await session.get(LegalStatusChange, period_id)
    if change is None:
        raise NotFound(f"No detention period with id {period_id}.")
    admission = await admissions.admission_for_change(
        session,
        actor,
        change.admission_id,
        "record Mental Health Act renewals",
        RECORDERS,
        event_at=data.examined_at,
    )
    for name in ("examined_at", "agreed_at", "furnished_at"):
        check_not_future(getattr(data, name), now, name)
    if change.legal_status not in RENEWABLE_PROVISIONS:
        raise Invalid(
            FieldError("period_id", f"a {change.legal_status} period is not renewed under s.20")
        )
    if data.furnished_at < data.examined_at:
        raise Invalid(FieldError("furnished_at", "cannot be before the examination"))
    if data.furnished_at < data.agreed_at:
        raise Invalid(FieldError("furnished_at", "cannot be before the agreement (s.20(5A))"))
    existing = list(await session.scalars(select(Renewal).where(Renewal.period_id == change.id)))
    periods = periods_of(
        admission.legal_status_changes, existing, discharged_at=admission.discharged_at
    )
    period = next(p for p in periods if p.id == change.id)
    window = period.renewal_window
    assert window is not None and period.expires_at is not None
    if period.ended_at is not None and period.ended_at <= data.examined_at:
        raise Invalid(FieldError("examined_at", "is after the period ended"))
    if not window.holds(data.examined_at):
        raise Invalid(
            FieldError(
                "examined_at",
                "must fall in the renewal window, "
                f"{day_of(window.opens_at):%d %b %Y} to {expiry_day(period.expires_at):%d %b %Y}",
            )
        )
    renewal = Renewal(
        period_id=change.id,
        examined_at=data.examined_at,
        agreed_at=data.agreed_at,
        furnished_at=data.furnished_at,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(renewal)
    await flush(session)
    await audit.record(session, actor=actor, action="mha.renewal", entity=renewal, at=now)
    return renewal


async def add_rights(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.RightsIn,
    now: datetime,
) -> RightsGiven:
    admission = await admissions.admission_for_change(
        session, actor, admission_id, "record rights given", RECORDERS, event_at=data.given_at
    )
    admissions.check_within(admission, data.given_at, now, "given_at")
    held_under = [c for c in admission.legal_status_changes if c.at <= data.given_at]
    if data.kind != "s132a" and (
        not held_under or not is_detaining(max(held_under, key=lambda c: (c.at, c.id)).legal_status)
    ):
        raise Invalid(FieldError("given_at", "cannot be before the detaining provision started"))
    if not (data.oral or data.written):
        raise Invalid(
            FieldError("oral", "say whether the rights were given orally, in writing, or both")
        )
    if data.nearest_relative_copy_at is not None:
        check_not_future(data.nearest_relative_copy_at, now, "nearest_relative_copy_at")
        if data.nearest_relative_copy_declined:
            raise Invalid(
                FieldError(
                    "nearest_relative_copy_declined",
                    "cannot be given with the time a copy was sent",
                )
            )
    rights = RightsGiven(
        admission_id=admission.id,
        kind=data.kind,
        given_at=data.given_at,
        oral=data.oral,
        written=data.written,
        understood=data.understood,
        nearest_relative_copy_at=data.nearest_relative_copy_at,
        nearest_relative_copy_declined=data.nearest_relative_copy_declined,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(rights)
    await flush(session)
    await audit.record(session, actor=actor, action="mha.rights", entity=rights, at=now)
    return rights


async def add_tribunal_event(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.TribunalEventIn,
    now: datetime,
) -> TribunalEvent:
    admission = await admissions.admission_for_change(
        session, actor, admission_id, "record tribunal events", RECORDERS, event_at=data.at
    )
    admissions.check_within(admission, data.at, now, "at")
    if data.withdrawn_at is not None:
        if data.kind != "application":
            raise Invalid(FieldError("withdrawn_at", "only an application is withdrawn"))
        check_not_future(data.withdrawn_at, now, "withdrawn_at")
        if data.withdrawn_at < data.at:
            raise Invalid(FieldError("withdrawn_at", "cannot be before the application"))
    event = TribunalEvent(
        admission_id=admission.id,
        kind=data.kind,
        at=data.at,
        withdrawn_at=data.withdrawn_at,
        outcome=data.outcome,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(event)
    await flush(session)
    await audit.record(session, actor=actor, action="mha.tribunal", entity=event, at=now)
    return event


async def add_medicine_start(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.MedicineStartIn,
    now: datetime,
) -> MedicineStart:
    admission = await admissions.admission_for_change(
        session, actor, admission_id, "record medicine started", RECORDERS, event_at=data.at
    )
    admissions.check_within(admission, data.at, now, "at")
    start = MedicineStart(
        admission_id=admission.id, at=data.at, recorded_at=now, recorded_by_id=actor.id
    )
    session.add(start)
    await flush(session)
    await audit.record(session, actor=actor, action="mha.medicine_started", entity=start, at=now)
    return start


async def add_certificate(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.CertificateIn,
    now: datetime,
) -> Certificate:
    admission = await admissions.admission_for_change(
        session, actor, admission_id, "record certificates", RECORDERS, event_at=data.issued_at
    )
    admissions.check_within(admission, data.issued_at, now, "issued_at")
    if data.fallen_at is not None:
        check_not_future(data.fallen_at, now, "fallen_at")
        if data.fallen_at < data.issued_at:
            raise Invalid(FieldError("fallen_at", "cannot be before the certificate was issued"))
    certificate = Certificate(
        admission_id=admission.id,
        form=data.form,
        issued_at=data.issued_at,
        covers=data.covers,
        fallen_at=data.fallen_at,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    session.add(certificate)
    await flush(session)
    await audit.record(session, actor=actor, action="mha.certificate", entity=certificate, at=now)
    return certificate


async def certificate_fallen(
    session: AsyncSession,
    *,
    actor: User,
    certificate_id: int,
    data: schemas.CertificatePatch,
    now: datetime,
) -> Certificate:
    """A certificate no longer holds (consent withdrawn, capacity changed, s.60): when."""
    found = await session.get(Certificate, certificate_id)
    if found is None:
        raise NotFound(f"No certificate with id {certificate_id}.")
    await admissions.admission_for_change(
        session,
        actor,
        found.admission_id,
        "record certificates",
        RECORDERS,
        event_at=data.fallen_at,
    )
    certificate = await session.scalar(
        select(Certificate)
        .where(Certificate.id == certificate_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert certificate is not None
    check_not_future(data.fallen_at, now, "fallen_at")
    if certificate.fallen_at is not None:
        raise Conflict("This certificate has already been recorded as no longer holding.")
    if data.fallen_at < certificate.issued_at:
        raise Invalid(FieldError("fallen_at", "cannot be before the certificate was issued"))
    before = audit.snapshot(certificate)
    certificate.fallen_at = data.fallen_at
    await flush(session)
    await audit.record(
        session,
        actor=actor,
        action="mha.certificate_fallen",
        entity=certificate,
        before=before,
        at=now,
    )
    return certificate


# --- the diary --------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryEntry:
    deadline: Deadline
    admission_id: int
    patient_id: int
    ward_code: str
    bed_label: str


async def diary(
    session: AsyncSession,
    *,
    actor: User,
    days: int,
    ward_code: str | None,
    now: datetime,
) -> list[DiaryEntry]:
    """Every legal deadline of a detained person in hospital due from now to now + days,
    soonest first: the Mental Health Act office's worklist. Only people the actor may
    read (scope.py)."""
    query = (
        select(Admission.id, Admission.patient_id, Admission.discharged_at, Ward.code, Bed.label)
        .join(WardStay, (WardStay.admission_id == Admission.id) & WardStay.ended_at.is_(None))
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Bed, Bed.id == WardStay.bed_id)
        .where(Admission.discharged_at.is_(None), Admission.legal_status != "informal")
    )
    if ward_code:
        ward = await get_ward(session, ward_code)
        access.require_read_ward(actor, ward.id)
        query = query.where(Ward.id == ward.id)
    readable = scope.admission_condition(actor, now)
    if readable is not None:
        query = query.where(readable)
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    ids = [row[0] for row in rows]
    changes: dict[int, list[LegalStatusChange]] = defaultdict(list)
    for change in await session.scalars(
        select(LegalStatusChange).where(LegalStatusChange.admission_id.in_(ids))
    ):
        changes[change.admission_id].append(change)
    renewals = list(
        await session.scalars(
            select(Renewal)
            .join(LegalStatusChange, LegalStatusChange.id == Renewal.period_id)
            .where(LegalStatusChange.admission_id.in_(ids))
        )
    )
    rights = await _by_admission(session, RightsGiven, ids, RightsGiven.given_at)
    tribunal = await _by_admission(session, TribunalEvent, ids, TribunalEvent.at)
    medicine = await _by_admission(session, MedicineStart, ids, MedicineStart.at)
    certificates = await _by_admission(session, Certificate, ids, Certificate.issued_at)
    until = now + timedelta(days=days)
    entries = []
    for admission_id, patient_id, discharged_at, code, label in rows:
        periods = periods_of(changes[admission_id], renewals, discharged_at=discharged_at)
        for deadline in deadlines(
            periods,
            rights[admission_id],
            tribunal[admission_id],
            medicine[admission_id],
            certificates[admission_id],
        ):
            if now <= deadline.due_at <= until:
                entries.append(DiaryEntry(deadline, admission_id, patient_id, code, label))
    return sorted(entries, key=lambda e: (e.deadline.due_at, e.ward_code, e.bed_label))


def diary_out(entries: Sequence[DiaryEntry]) -> list[schemas.DiaryEntryOut]:
    return [
        schemas.DiaryEntryOut(
            rule=e.deadline.rule,
            due_at=e.deadline.due_at,
            admission_id=e.admission_id,
            ward_code=e.ward_code,
            bed_label=e.bed_label,
            what=e.deadline.what,
        )
        for e in entries
    ]
