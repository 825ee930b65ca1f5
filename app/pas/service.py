"""The PAS feed: one HL7 v2 ADT message in, its ACK out, through the same domain services
(admit, transfer, discharge) a person uses, so every invariant and audit entry is the
same; the actor is the "PAS feed" account.

One transaction per message: what the message changes and its log row are committed
together, or (when it is refused) only the log row with why. A resent message (same
MSH-3, MSH-4, MSH-10) gets its first ACK back and changes nothing.

The PAS holds no reason for admission nor expected benefit: an admission from the feed
gets ``PURPOSE_PLACEHOLDER`` for both (the columns refuse blanks), which
``purpose_missing`` recognises, and its legal status "other" until the ward records it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import clock
from app.audit import service as audit
from app.auth.models import User
from app.config import get_settings
from app.db import Base, conflict_from_integrity_error, flush
from app.discharge import service as discharge_service
from app.errors import Conflict, DomainError, NotFound
from app.pas import hl7v2
from app.pas.hl7v2 import Problem
from app.pas.models import PasHeldMessage, PasLocation, PasMessage, PasPatientNumber
from app.wards import admissions, schemas
from app.wards import service as wards_service
from app.wards.models import (
    PURPOSE_NOT_RECORDED,
    Admission,
    Bed,
    Locality,
    Patient,
    Site,
    Ward,
    WardStay,
)
from app.wards.nhs import normalise_nhs_number

log = logging.getLogger("wardflow.pas")

FEED_USERNAME = "PAS feed"
PURPOSE_PLACEHOLDER = PURPOSE_NOT_RECORDED
FEED_LEGAL_STATUS = "other"
# A hand entry and the feed's message are the same event when they name the same person
# and place and their times are this close.
SAME_EVENT = timedelta(minutes=30)
# Held messages retried after each message that applies (the oldest first).
RETRY_LIMIT = 200

SEXES = {"M": "male", "F": "female", "O": "other", "A": "other", "U": "not_known"}
ETHNIC = set("ABCDEFGHJKLMNPRSZ") | {"99"}
# NHS Data Dictionary discharge destination codes (PV1-37, or PV1-36) to Wardflow's.
DESTINATIONS = {
    "19": "usual_residence",
    "29": "temporary_residence",
    "30": "other_hospital",
    "37": "prison",
    "38": "prison",
    "40": "prison",
    "42": "prison",
    "48": "other_hospital",
    "49": "other_hospital",
    "50": "other_hospital",
    "51": "other_hospital",
    "52": "other_hospital",
    "53": "other_hospital",
    "54": "care_home",
    "65": "care_home",
    "66": "supported_accommodation",
    "79": "died",
    "84": "other_hospital",
    "85": "care_home",
    "87": "other_hospital",
    "88": "care_home",
    "98": "not_known",
    "99": "not_known",
}


class Refused(Exception):
    """The message cannot be applied as it stands: AE with this problem."""

    def __init__(self, reason: str, text: str, code: str = "207", location: str = "") -> None:
        super().__init__(f"{reason}: {text}")
        self.problem = Problem(code, f"{reason}: {text}", location)


class Hold(Exception):
    """It came before what it needs (a transfer before its admission): held and retried."""


@dataclass
class Done:
    """What applying a message did."""

    outcome: str = "applied"  # or "ignored"
    patient_id: int | None = None
    actions: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def changes(self) -> dict[str, Any]:
        return {"actions": self.actions, **self.ids}


def purpose_missing(admission: Admission) -> bool:
    """An admission from the feed whose reason and benefit the ward has not recorded yet."""
    return admission.purpose_missing


PURPOSE_FLAG = "purpose_missing"
# The board shows it as a blue tag (app/extensions.py registers it with the flag).
FLAG_STYLES = {PURPOSE_FLAG: "blue"}


async def purpose_flags(
    session: AsyncSession, admission_ids: list[int], now: datetime
) -> dict[int, set[str]]:
    """The board's card says when the ward has still to record the reason and benefit."""
    missing = await session.scalars(
        select(Admission.id).where(
            Admission.id.in_(admission_ids),
            or_(
                Admission.reason == PURPOSE_PLACEHOLDER,
                Admission.expected_benefit == PURPOSE_PLACEHOLDER,
            ),
        )
    )
    return {admission_id: {PURPOSE_FLAG} for admission_id in missing}


# --- the actor ---------------------------------------------------------------------------


async def feed_actor(session: AsyncSession, now: datetime) -> User:
    """Who the audit log names for the feed. The account exists so records can point at
    it (created_by_id), but it cannot sign in (inactive, no password) and as role
    "service" its tokens write nothing. The services are called with a copy of it that
    acts as an admin would: the feed places people on any ward, as the PAS says."""
    account_id = await session.scalar(select(User.id).where(User.username == FEED_USERNAME))
    if account_id is None:
        account = User(
            username=FEED_USERNAME,
            role="service",
            password_hash="!",  # noqa: S106  (matches no password: not an argon2 hash)
            active=False,
            failed_logins=0,
            created_at=now,
        )
        try:
            # The listener and a web worker may both make it on their first message.
            async with session.begin_nested():
                session.add(account)
        except IntegrityError:
            pass
        account_id = await session.scalar(select(User.id).where(User.username == FEED_USERNAME))
        assert account_id is not None
    return User(id=account_id, username=FEED_USERNAME, role="admin", active=True)


# --- people ------------------------------------------------------------------------------


@dataclass
class Person:
    nhs_number: str | None
    local_numbers: list[tuple[str, str]]  # (assigning authority, number)
    given_name: str
    family_name: str
    date_of_birth: date | None
    sex: str | None
    ethnic_category: str | None


def person_from(message: hl7v2.Message, segment: str = "PID") -> Person:
    if message.segment(segment) is None:
        raise Refused("missing segment", f"the message has no {segment} segment", "100", segment)
    nhs: str | None = None
    local: list[tuple[str, str]] = []
    for rep in message.reps(segment, 3):
        number = rep[0].strip() if rep else ""
        kind = rep[4].strip().upper() if len(rep) > 4 else ""
        authority = rep[3].strip() if len(rep) > 3 else ""
        if not number:
            continue
        if kind == "NH" or (kind == "" and authority.upper() == "NHS"):
            try:
                nhs = normalise_nhs_number(number)
            except ValueError as error:
                raise Refused(
                    "invalid NHS number", f"PID-3 NHS number {number!r} {error}", "102", "PID^1^3"
                ) from error
        else:
            local.append((authority[:64], number[:64]))
    try:
        dob = hl7v2.parse_date(message.get(segment, 7))
    except ValueError as error:
        raise Refused("invalid date of birth", str(error), "102", "PID^1^7") from error
    sex_code = message.get(segment, 8).upper()
    ethnic = message.get(segment, 22).upper()
    return Person(
        nhs_number=nhs,
        local_numbers=local,
        family_name=message.get(segment, 5, 1)[:100],
        given_name=message.get(segment, 5, 2)[:100],
        date_of_birth=dob,
        sex=SEXES.get(sex_code, "not_known") if sex_code else None,
        ethnic_category=(ethnic if ethnic in ETHNIC else "99") if ethnic else None,
    )


async def find_patient(session: AsyncSession, person: Person) -> Patient | None:
    """The person Wardflow already holds, by NHS number (then the PAS number). A date of
    birth that differs from the record is refused, never merged."""
    patient = None
    if person.nhs_number:
        patient = await wards_service.find_patient_by_nhs_number(session, person.nhs_number)
    if patient is None:
        for authority, number in person.local_numbers:
            patient = await session.scalar(
                select(Patient)
                .join(PasPatientNumber, PasPatientNumber.patient_id == Patient.id)
                .where(
                    PasPatientNumber.assigning_authority == authority,
                    PasPatientNumber.number == number,
                )
            )
            if patient is not None:
                break
    if (
        patient is not None
        and person.date_of_birth is not None
        and patient.date_of_birth != person.date_of_birth
    ):
        raise Refused(
            "DOB mismatch",
            f"PID-7 gives {person.date_of_birth.isoformat()} but Wardflow records another date"
            " of birth for this person; check the identity before anything is applied",
            "204",
            "PID^1^7",
        )
    return patient


async def _home_locality(session: AsyncSession, ward: Ward | None) -> str:
    configured = get_settings().pas_home_locality
    if configured:
        return configured
    query = select(Locality.code).join(Site, Site.locality_id == Locality.id)
    if ward is not None:
        query = query.where(Site.id == ward.site_id)
    code = await session.scalar(query.order_by(Site.id).limit(1))
    if code is None:
        code = await session.scalar(select(Locality.code).order_by(Locality.id).limit(1))
    if code is None:
        raise Refused("no locality", "Wardflow has no locality for the person's home", "207")
    return code


async def ensure_patient(
    session: AsyncSession,
    actor: User,
    person: Person,
    now: datetime,
    done: Done,
    ward: Ward | None = None,
) -> Patient:
    """The person, added (with what the PAS gives) if Wardflow does not hold them yet."""
    patient = await find_patient(session, person)
    if patient is None:
        if not person.nhs_number:
            raise Refused(
                "no NHS number",
                "PID-3 has no NHS number (identifier type NH); Wardflow records people by"
                " their NHS number",
                "101",
                "PID^1^3",
            )
        try:
            data = schemas.PatientIn(
                nhs_number=person.nhs_number,
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
                sex=person.sex or "not_known",
                ethnic_category=person.ethnic_category or "99",
                home_locality_code=await _home_locality(session, ward),
            )
        except ValidationError as error:
            fields = ", ".join(str(e["loc"][0]) for e in error.errors())
            raise Refused(
                "incomplete person",
                f"cannot add the person: {fields} missing or invalid",
                "101",
                "PID^1",
            ) from error
        patient = await wards_service.create_patient(session, actor=actor, data=data, now=now)
        done.actions.append(f"added patient {patient.id}")
    done.patient_id = patient.id
    await _remember_numbers(session, patient, person, now)
    return patient


async def _remember_numbers(
    session: AsyncSession, patient: Patient, person: Person, now: datetime
) -> None:
    for authority, number in person.local_numbers:
        known = await session.scalar(
            select(PasPatientNumber).where(
                PasPatientNumber.assigning_authority == authority,
                PasPatientNumber.number == number,
            )
        )
        if known is None:
            session.add(
                PasPatientNumber(
                    assigning_authority=authority,
                    number=number,
                    patient_id=patient.id,
                    created_at=now,
                )
            )
        elif known.patient_id != patient.id:
            raise Refused(
                "PAS number clash",
                f"PAS number {number} is recorded for another person",
                "205",
                "PID^1^3",
            )
    await flush(session)


async def update_person(
    session: AsyncSession, actor: User, patient: Patient, person: Person, now: datetime, done: Done
) -> None:
    """Names, sex and ethnic category as the PAS now has them (never the date of birth:
    a different one is refused in find_patient)."""
    before = audit.snapshot(patient)
    changed = []
    for name, value in (
        ("given_name", person.given_name),
        ("family_name", person.family_name),
        ("sex", person.sex),
        ("ethnic_category", person.ethnic_category),
    ):
        if value and getattr(patient, name) != value:
            setattr(patient, name, value)
            changed.append(name)
    if changed:
        await flush(session)
        await audit.record(
            session, actor=actor, action="patient.update", entity=patient, before=before, at=now
        )
        done.actions.append(f"updated patient {patient.id}: {', '.join(changed)}")


# --- places ------------------------------------------------------------------------------


async def place_of(session: AsyncSession, message: hl7v2.Message) -> tuple[Ward, Bed]:
    """PV1-3: the point of care is the ward code and the bed the bed label, unless an admin
    mapped them (pas_locations)."""
    point_of_care = message.get("PV1", 3, 1)
    pas_bed = message.get("PV1", 3, 3)
    if not point_of_care:
        raise Refused("unmapped ward", "PV1-3 names no point of care", "101", "PV1^1^3")
    mappings = list(
        await session.scalars(
            select(PasLocation).where(
                PasLocation.point_of_care == point_of_care,
                PasLocation.pas_bed.in_([pas_bed, ""]),
            )
        )
    )
    exact = next((m for m in mappings if m.pas_bed == pas_bed and pas_bed), None)
    whole = next((m for m in mappings if m.pas_bed == ""), None)
    mapping = exact or whole
    ward = await session.scalar(
        select(Ward).where(Ward.id == mapping.ward_id)
        if mapping
        else select(Ward).where(Ward.code == point_of_care)
    )
    if ward is None:
        raise Refused(
            "unmapped ward",
            f"no ward for PAS point of care {point_of_care!r}; an admin can map it",
            "103",
            "PV1^1^3",
        )
    label = (exact.bed_label if exact and exact.bed_label else None) or pas_bed
    if not label:
        raise Refused("unknown bed", "PV1-3 names no bed", "101", "PV1^1^3")
    bed = await session.scalar(select(Bed).where(Bed.ward_id == ward.id, Bed.label == label))
    if bed is None:
        raise Refused("unknown bed", f"no bed {label!r} on ward {ward.code}", "103", "PV1^1^3")
    return ward, bed


async def _check_bed_free(
    session: AsyncSession, bed: Bed, ward: Ward, admission_id: int | None
) -> None:
    taken = await session.scalar(
        select(WardStay.admission_id).where(WardStay.bed_id == bed.id, WardStay.ended_at.is_(None))
    )
    if taken is not None and taken != admission_id:
        raise Refused(
            "occupied bed", f"bed {bed.label} on ward {ward.code} is occupied", "207", "PV1^1^3"
        )
    if bed.status == "closed":
        raise Refused(
            "closed bed", f"bed {bed.label} on ward {ward.code} is closed", "207", "PV1^1^3"
        )


# --- times -------------------------------------------------------------------------------


def event_time(message: hl7v2.Message, pv1_field: int | None = None) -> datetime:
    """When it happened: PV1-44 (admit) or PV1-45 (discharge) when given, else EVN-6 (event
    occurred), EVN-2 (recorded), the message's own time (MSH-7)."""
    tz = clock.local_tz()
    candidates: list[tuple[str, str]] = []
    if pv1_field is not None:
        candidates.append((f"PV1^1^{pv1_field}", message.get("PV1", pv1_field)))
    candidates += [
        ("EVN^1^6", message.get("EVN", 6)),
        ("EVN^1^2", message.get("EVN", 2)),
        ("MSH^1^7", message.get("MSH", 7)),
    ]
    for where, value in candidates:
        try:
            moment = hl7v2.parse_time(value, tz)
        except ValueError as error:
            raise Refused("invalid time", str(error), "102", where) from error
        if moment is not None:
            return moment
    raise Refused("no event time", "no EVN-2, PV1-44/45 or MSH-7", "101", "EVN^1^2")


# --- the events --------------------------------------------------------------------------


async def _open_admission(session: AsyncSession, patient: Patient) -> Admission | None:
    found = await session.scalar(
        select(Admission.id).where(
            Admission.patient_id == patient.id, Admission.discharged_at.is_(None)
        )
    )
    return await admissions.reload(session, found) if found is not None else None


async def _latest_admission(session: AsyncSession, patient: Patient) -> Admission | None:
    found = await session.scalar(
        select(Admission.id)
        .where(Admission.patient_id == patient.id)
        .order_by(Admission.admitted_at.desc())
        .limit(1)
    )
    return await admissions.reload(session, found) if found is not None else None


async def _known_patient(session: AsyncSession, message: hl7v2.Message) -> Patient:
    patient = await find_patient(session, person_from(message))
    if patient is None:
        raise Hold("the person is not known yet (their admission has not arrived)")
    return patient


async def admit(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    person = person_from(message)
    at = event_time(message, 44)
    ward, bed = await place_of(session, message)
    patient = await ensure_patient(session, actor, person, now, done, ward)
    current = await _open_admission(session, patient)
    if current is not None:
        stay = admissions.current_stay(current)
        if stay.bed_id == bed.id and abs(current.admitted_at - at) <= SAME_EVENT:
            done.actions.append(f"admission {current.id} already recorded (same event)")
            done.ids["admission_id"] = current.id
            return
        raise Refused(
            "already admitted",
            f"the person already has an open admission (on ward {stay.ward.code});"
            " a person must settle it",
            "207",
            "PV1^1^3",
        )
    await _check_bed_free(session, bed, ward, None)
    admission = await admissions.admit(
        session,
        actor=actor,
        data=schemas.AdmissionIn(
            patient_id=patient.id,
            ward_code=ward.code,
            bed_label=bed.label,
            admitted_at=at,
            legal_status=FEED_LEGAL_STATUS,
            reason=PURPOSE_PLACEHOLDER,
            expected_benefit=PURPOSE_PLACEHOLDER,
        ),
        now=now,
    )
    done.ids["admission_id"] = admission.id
    done.actions.append(
        f"admitted to {ward.code} bed {bed.label} (reason and expected benefit to be recorded)"
    )


async def transfer(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    patient = await _known_patient(session, message)
    done.patient_id = patient.id
    at = event_time(message)
    ward, bed = await place_of(session, message)
    admission = await _open_admission(session, patient)
    if admission is None:
        latest = await _latest_admission(session, patient)
        if latest is not None and latest.discharged_at is not None and at <= latest.discharged_at:
            raise Refused("not admitted", "the transfer falls in a finished admission", "207")
        raise Hold("the person has no open admission yet")
    done.ids["admission_id"] = admission.id
    stay = admissions.current_stay(admission)
    if stay.bed_id == bed.id:
        # Typed on the board first: the same move, not a second one.
        done.actions.append(f"transfer to {ward.code} bed {bed.label} already recorded")
        return
    if at < admission.admitted_at:
        raise Refused(
            "transfer before admission", "EVN gives a time before the admission", "207", "EVN^1^2"
        )
    await _check_bed_free(session, bed, ward, admission.id)
    await admissions.transfer(
        session,
        actor=actor,
        admission_id=admission.id,
        data=schemas.TransferIn(
            ward_code=ward.code, bed_label=bed.label, at=at, reason="Transfer sent by the PAS"
        ),
        now=now,
    )
    done.actions.append(f"transferred to {ward.code} bed {bed.label}")


def _destination(message: hl7v2.Message) -> str:
    for value in (message.get("PV1", 37), message.get("PV1", 36)):
        if value in DESTINATIONS:
            return DESTINATIONS[value]
    return "not_known"


async def discharge(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    patient = await _known_patient(session, message)
    done.patient_id = patient.id
    at = event_time(message, 45)
    admission = await _open_admission(session, patient)
    if admission is None:
        latest = await _latest_admission(session, patient)
        if latest is not None and latest.discharged_at is not None:
            if abs(latest.discharged_at - at) <= SAME_EVENT:
                done.ids["admission_id"] = latest.id
                done.actions.append(f"discharge of admission {latest.id} already recorded")
                return
            if at < latest.admitted_at:
                raise Refused(
                    "discharge before admission",
                    "PV1-45 is before the person's admission",
                    "207",
                    "PV1^1^45",
                )
        raise Hold("the person has no open admission yet")
    done.ids["admission_id"] = admission.id
    if at < admission.admitted_at:
        raise Refused(
            "discharge before admission",
            f"PV1-45 {at.isoformat()} is before the admission at"
            f" {admission.admitted_at.isoformat()}",
            "207",
            "PV1^1^45",
        )
    await discharge_service.discharge(
        session,
        actor=actor,
        admission_id=admission.id,
        data=schemas.DischargeIn(at=at, destination=_destination(message)),
        now=now,
    )
    done.actions.append(f"discharged admission {admission.id}")


async def update(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    """A08, A28, A31: the person's details (added if new)."""
    person = person_from(message)
    patient = await ensure_patient(session, actor, person, now, done)
    await update_person(session, actor, patient, person, now, done)
    if not done.actions:
        done.actions.append("no change")


async def cancel_admit(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    """A11. Nothing is deleted and Wardflow has no cancelled state yet: the admission is
    closed at its own start (no bed days), destination "other", through the discharge
    service, so an open seclusion still refuses it."""
    patient = await _known_patient(session, message)
    done.patient_id = patient.id
    admission = await _open_admission(session, patient)
    if admission is None:
        raise Hold("the admission to cancel has not arrived")
    done.ids["admission_id"] = admission.id
    if len(admission.stays) > 1:
        raise Refused(
            "cancel after transfer",
            "the admission has moved ward since; a person must settle it",
            "207",
        )
    await discharge_service.discharge(
        session,
        actor=actor,
        admission_id=admission.id,
        data=schemas.DischargeIn(at=admission.admitted_at, destination="other"),
        now=now,
    )
    await audit.record_event(
        session,
        actor=actor,
        action="admission.cancelled_by_pas",
        entity_type="admissions",
        entity_id=admission.id,
        details={"control_id": message.control_id},
        at=now,
    )
    done.actions.append(f"admission {admission.id} cancelled (closed at its start)")


async def cancel_transfer(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    """A12: back to the bed before the last transfer (a new move, kept as history)."""
    patient = await _known_patient(session, message)
    done.patient_id = patient.id
    admission = await _open_admission(session, patient)
    if admission is None:
        raise Hold("the person has no open admission yet")
    done.ids["admission_id"] = admission.id
    if len(admission.stays) < 2:
        raise Hold("the transfer to cancel has not arrived")
    previous = admission.stays[-2]
    at = max(event_time(message), admissions.current_stay(admission).started_at)
    await _check_bed_free(session, previous.bed, previous.ward, admission.id)
    await admissions.transfer(
        session,
        actor=actor,
        admission_id=admission.id,
        data=schemas.TransferIn(
            ward_code=previous.ward.code,
            bed_label=previous.bed.label,
            at=at,
            reason="Transfer cancelled by the PAS (A12)",
        ),
        now=now,
    )
    done.actions.append(
        f"transfer cancelled: back to {previous.ward.code} bed {previous.bed.label}"
    )


async def cancel_discharge(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    """A13: the admission open again in its last bed (a correction, audited with before
    and after), if the bed is still free and the person has no other admission."""
    patient = await _known_patient(session, message)
    done.patient_id = patient.id
    if await _open_admission(session, patient) is not None:
        raise Refused("not discharged", "the person has an open admission", "207")
    latest = await _latest_admission(session, patient)
    if latest is None:
        raise Hold("the discharge to cancel has not arrived")
    admission = await admissions.admission_for_change(
        session, actor, latest.id, "cancel a discharge", {"admin"}, now=now
    )
    done.ids["admission_id"] = admission.id
    stay = admissions.current_stay(admission)
    assert admission.discharged_at is not None
    since = await session.scalar(
        select(WardStay.id).where(
            WardStay.bed_id == stay.bed_id,
            WardStay.id != stay.id,
            or_(WardStay.ended_at.is_(None), WardStay.ended_at > admission.discharged_at),
        )
    )
    if since is not None:
        raise Refused(
            "occupied bed",
            f"bed {stay.bed.label} on ward {stay.ward.code} has been taken since the discharge",
            "207",
        )
    before = audit.snapshot(admission)
    admission.discharged_at = None
    admission.discharge_destination = None
    stay.ended_at = None
    await flush(session)
    await audit.record(
        session,
        actor=actor,
        action="admission.discharge_cancelled",
        entity=admission,
        before=before,
        at=now,
    )
    done.actions.append(f"discharge of admission {admission.id} cancelled")


async def leave(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    """A21/A22. Wardflow has no leave record yet (section 17 leave comes with the Mental
    Health Act work): kept in the feed's log and acknowledged, nothing else changes."""
    patient = await find_patient(session, person_from(message))
    done.patient_id = patient.id if patient else None
    done.outcome = "ignored"
    done.actions.append(
        "leave "
        + ("out" if message.event == "A21" else "back")
        + " kept in the feed's log only: Wardflow has no leave record yet"
    )


async def merge(
    session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime, done: Done
) -> None:
    """A40: every record of the prior person (MRG-1) moves to the surviving one (PID);
    nothing is deleted, and the prior person's row stays (empty) for the audit trail."""
    survivor = await ensure_patient(session, actor, person_from(message), now, done)
    if message.segment("MRG") is None:
        raise Refused("missing segment", "A40 without an MRG segment", "100", "MRG")
    prior_person = Person(None, [], "", "", None, None, None)
    for rep in message.reps("MRG", 1):
        number = rep[0].strip() if rep else ""
        kind = rep[4].strip().upper() if len(rep) > 4 else ""
        if number and kind == "NH":
            try:
                prior_person.nhs_number = normalise_nhs_number(number)
            except ValueError as error:
                raise Refused("invalid NHS number", f"MRG-1 {error}", "102", "MRG^1^1") from error
        elif number:
            prior_person.local_numbers.append(
                ((rep[3].strip() if len(rep) > 3 else "")[:64], number[:64])
            )
    prior = await find_patient(session, prior_person)
    if prior is None:
        raise Refused(
            "unknown prior patient", "MRG-1 names no one Wardflow holds", "204", "MRG^1^1"
        )
    if prior.id == survivor.id:
        done.actions.append("already merged")
        return
    if await _open_admission(session, prior) and await _open_admission(session, survivor):
        raise Refused(
            "both admitted", "both records have an open admission; a person must settle it", "207"
        )
    prior_id, survivor_id = prior.id, survivor.id
    moved: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "patients" for fk in column.foreign_keys):
                result = await session.execute(
                    sql_update(table)
                    .where(column == prior_id)
                    .values({column.name: survivor_id})
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    moved[f"{table.name}.{column.name}"] = result.rowcount  # type: ignore[attr-defined]
    # Loaded records still hold the old person's id: read them again when next used.
    session.expire_all()
    await audit.record(
        session,
        actor=actor,
        action="patient.merge",
        entity=prior,
        before={"patient_id": prior_id},
        after={"merged_into": survivor_id, "moved": moved},
        at=now,
    )
    done.ids["merged_patient_id"] = prior_id
    done.actions.append(f"merged patient {prior_id} into {survivor_id}: {moved or 'no records'}")


Handler = Callable[[AsyncSession, User, hl7v2.Message, datetime, Done], Awaitable[None]]
HANDLERS: dict[str, Handler] = {
    "A01": admit,
    "A04": admit,  # not used by inpatient PAS feeds; kept out below
    "A02": transfer,
    "A03": discharge,
    "A08": update,
    "A11": cancel_admit,
    "A12": cancel_transfer,
    "A13": cancel_discharge,
    "A21": leave,
    "A22": leave,
    "A28": update,
    "A31": update,
    "A40": merge,
}
HANDLERS.pop("A04")


# --- receiving ---------------------------------------------------------------------------


@dataclass
class Result:
    ack: str
    ack_code: str
    outcome: str
    message_id: int | None
    repeated: bool = False


def _refusal_from(error: DomainError) -> Refused:
    detail = error.detail
    if isinstance(error, Conflict) and "occupied" in detail:
        return Refused("occupied bed", detail, "207", "PV1^1^3")
    if isinstance(error, NotFound) and detail.startswith("No bed"):
        return Refused("unknown bed", detail, "103", "PV1^1^3")
    if isinstance(error, NotFound) and detail.startswith("No ward"):
        return Refused("unmapped ward", detail, "103", "PV1^1^3")
    if "before the admission" in detail:
        return Refused("discharge before admission", detail, "207")
    return Refused("refused", detail, "207")


async def _apply(session: AsyncSession, actor: User, message: hl7v2.Message, now: datetime) -> Done:
    """The message's changes in a savepoint: all of them, or (raising) none."""
    done = Done()
    handler = HANDLERS.get(message.event) if message.message_type == "ADT" else None
    if handler is None:
        done.outcome = "ignored"
        done.actions.append(f"{message.message_type}^{message.event} is not acted on")
        return done
    savepoint = await session.begin_nested()
    try:
        await handler(session, actor, message, now, done)
        await session.flush()
    except DomainError as error:
        await savepoint.rollback()
        raise _refusal_from(error) from error
    except (Refused, Hold):
        await savepoint.rollback()
        raise
    except ValidationError as error:
        await savepoint.rollback()
        fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        raise Refused("invalid value", f"{fields} could not be used") from error
    except IntegrityError as error:
        await savepoint.rollback()
        raise Refused("refused", str(conflict_from_integrity_error(error).detail)) from error
    await savepoint.commit()
    return done


def storable(text: str) -> str:
    """Text any database keeps: no NUL (PostgreSQL refuses it), no unpaired surrogate."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


async def receive(session: AsyncSession, text: str, now: datetime) -> Result:
    """One message in, its ACK out; commits. Never raises for what the message holds."""
    now = now.astimezone(UTC)
    text = storable(text)
    try:
        message = hl7v2.parse(text)
    except hl7v2.Unparsable as error:
        ack = hl7v2.ack("AR", None, str(error), Problem("100", str(error)))
        row = PasMessage(
            sending_application="",
            sending_facility="",
            control_id="unparsed:" + secrets.token_hex(8),
            received_at=now,
            text=text[:1_000_000],
            ack=ack,
            ack_code="AR",
            outcome="rejected",
            error=str(error),
            processed_at=now,
        )
        session.add(row)
        await session.commit()
        log.warning("PAS message rejected: %s", error)
        return Result(ack, "AR", "rejected", row.id)

    await _serialise(session)
    previous = await _logged(session, message)
    if previous is not None:
        await session.commit()  # ends the transaction, and with it the lock
        return Result(previous.ack, previous.ack_code, previous.outcome, previous.id, True)
    await report_overdue(session, now)
    actor = await feed_actor(session, now)
    row = PasMessage(
        sending_application=message.sending_application[:180],
        sending_facility=message.sending_facility[:180],
        control_id=message.control_id,
        received_at=now,
        message_type=message.message_type[:16],
        event=message.event[:16],
        version=message.version[:16],
        text=message.text,
        processed_at=now,
    )
    held_reason = None
    try:
        done = await _apply(session, actor, message, now)
    except Refused as refused:
        row.ack = hl7v2.ack("AE", message, refused.problem.text, refused.problem)
        row.ack_code, row.outcome, row.error = "AE", "error", refused.problem.text
    except Hold as hold:
        held_reason = str(hold)
        row.ack = hl7v2.ack("AA", message, f"held: {held_reason}")
        row.ack_code, row.outcome = "AA", "held"
        row.processed_at = None
    else:
        row.ack = hl7v2.ack("AA", message, "; ".join(done.actions))
        row.ack_code, row.outcome = "AA", done.outcome
        row.patient_id, row.changes = done.patient_id, done.changes()
    try:
        row.event_at = event_time(message)
    except Refused:
        row.event_at = None
    session.add(row)
    await session.flush()
    if held_reason is not None:
        session.add(PasHeldMessage(message_id=row.id, held_at=now, reason=held_reason))
    elif row.outcome == "applied":
        await retry_held(session, actor, now)
    try:
        await session.commit()
    except IntegrityError:
        # The same message arriving twice at once: the first one's answer stands.
        await session.rollback()
        previous = await _logged(session, message)
        if previous is None:
            raise
        return Result(previous.ack, previous.ack_code, previous.outcome, previous.id, True)
    return Result(row.ack, row.ack_code, row.outcome, row.id)


# The feed's messages are applied one at a time across every process (the listener and
# web workers): HL7 senders rely on order, a resend racing its first copy must find it,
# and a held message must not be applied twice by two processes retrying it.
FEED_LOCK = 7_210_021


async def _serialise(session: AsyncSession) -> None:
    """On PostgreSQL a transaction-scoped advisory lock; SQLite writes one at a time anyway."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({FEED_LOCK})"))


async def _logged(session: AsyncSession, message: hl7v2.Message) -> PasMessage | None:
    return await session.scalar(
        select(PasMessage).where(
            PasMessage.sending_application == message.sending_application[:180],
            PasMessage.sending_facility == message.sending_facility[:180],
            PasMessage.control_id == message.control_id,
        )
    )


async def retry_held(session: AsyncSession, actor: User, now: datetime) -> int:
    """Apply what was held and can be now, oldest event first, until nothing more moves.
    Returns how many were applied."""
    applied = 0
    for _round in range(5):
        moved = False
        rows = (
            await session.execute(
                select(PasHeldMessage, PasMessage)
                .join(PasMessage, PasMessage.id == PasHeldMessage.message_id)
                .where(PasHeldMessage.resolved_at.is_(None))
                .order_by(PasMessage.event_at, PasHeldMessage.id)
                .limit(RETRY_LIMIT)
            )
        ).all()
        for held, row in rows:
            held.attempts += 1
            try:
                done = await _apply(session, actor, hl7v2.parse(row.text), now)
            except Hold:
                continue
            except (Refused, hl7v2.Unparsable) as error:
                text = error.problem.text if isinstance(error, Refused) else str(error)
                held.resolved_at, held.resolution = now, "error"
                row.outcome, row.error, row.processed_at = "error", f"after holding: {text}", now
                log.warning("Held PAS message %s refused: %s", row.control_id, text)
                continue
            held.resolved_at, held.resolution = now, "applied"
            row.outcome, row.processed_at = done.outcome, now
            row.patient_id, row.changes = done.patient_id, done.changes()
            applied += 1
            moved = True
        await session.flush()
        if not moved:
            break
    return applied


async def report_overdue(session: AsyncSession, now: datetime) -> list[PasMessage]:
    """Held messages not applied within WARDFLOW_PAS_HOLD_MINUTES: marked failed, with why,
    logged and audited, for a person to settle."""
    limit = now - timedelta(minutes=get_settings().pas_hold_minutes)
    rows = (
        await session.execute(
            select(PasHeldMessage, PasMessage)
            .join(PasMessage, PasMessage.id == PasHeldMessage.message_id)
            .where(PasHeldMessage.resolved_at.is_(None), PasHeldMessage.held_at < limit)
        )
    ).all()
    overdue = []
    for held, row in rows:
        held.resolved_at, held.resolution = now, "expired"
        row.outcome = "error"
        row.error = f"held since {held.held_at.isoformat()} and never applied ({held.reason})"
        row.processed_at = now
        log.warning("PAS message %s not applied in time: %s", row.control_id, row.error)
        await audit.record_event(
            session,
            actor=None,
            username=FEED_USERNAME,
            action="pas.held_expired",
            entity_type="pas_messages",
            entity_id=row.id,
            details={"control_id": row.control_id, "reason": held.reason},
            at=now,
        )
        overdue.append(row)
    if overdue:
        await session.flush()
    return overdue


# --- the admin's page --------------------------------------------------------------------


async def list_messages(
    session: AsyncSession, *, outcome: str | None = None, event: str | None = None, limit: int = 200
) -> list[PasMessage]:
    query = select(PasMessage).order_by(PasMessage.received_at.desc(), PasMessage.id.desc())
    if outcome:
        query = query.where(PasMessage.outcome == outcome)
    if event:
        query = query.where(PasMessage.event == event.upper())
    return list(await session.scalars(query.limit(limit)))


async def list_locations(session: AsyncSession) -> list[tuple[PasLocation, str]]:
    rows = await session.execute(
        select(PasLocation, Ward.code)
        .join(Ward, Ward.id == PasLocation.ward_id)
        .order_by(PasLocation.point_of_care, PasLocation.pas_bed)
    )
    return [(location, code) for location, code in rows]


async def add_location(
    session: AsyncSession,
    *,
    actor: User,
    point_of_care: str,
    pas_bed: str,
    ward_code: str,
    bed_label: str,
    now: datetime,
) -> PasLocation:
    """An admin's mapping of a PAS location to a ward (and bed). 409 if that PAS location
    is mapped already."""
    from app.auth import access
    from app.errors import FieldError, Invalid

    access.require_admin(actor, "map PAS locations")
    point_of_care, pas_bed, bed_label = point_of_care.strip(), pas_bed.strip(), bed_label.strip()
    errors = []
    if not point_of_care:
        errors.append(FieldError("point_of_care", "Enter the PAS point of care (PV1-3.1)"))
    if len(point_of_care) > 64 or len(pas_bed) > 64:
        errors.append(FieldError("point_of_care", "PAS codes are at most 64 characters"))
    if errors:
        raise Invalid(errors)
    ward = await wards_service.get_ward(session, ward_code.strip())
    if bed_label:
        await wards_service.get_bed(session, ward, bed_label)
    clash = await session.scalar(
        select(PasLocation.id).where(
            PasLocation.point_of_care == point_of_care, PasLocation.pas_bed == pas_bed
        )
    )
    if clash is not None:
        raise Conflict(f"PAS location {point_of_care} {pas_bed} is mapped already.".strip())
    location = PasLocation(
        point_of_care=point_of_care,
        pas_bed=pas_bed,
        ward_id=ward.id,
        bed_label=bed_label or None,
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(location)
    await flush(session)
    await audit.record(session, actor=actor, action="pas_location.create", entity=location, at=now)
    return location


async def reprocess(
    session: AsyncSession, *, actor: User, message_id: int, now: datetime
) -> PasMessage:
    """Apply a refused or held message again (after its mapping is fixed, say). Its ACK was
    sent and stays as it was; its outcome, changes and error are what this attempt gives.
    The records are the feed's; the audit log also names who asked."""
    from app.auth import access

    access.require_admin(actor, "reprocess PAS messages")
    await _serialise(session)
    row = await session.get(PasMessage, message_id)
    if row is None:
        raise NotFound(f"No PAS message with id {message_id}.")
    if row.outcome not in ("error", "held") or row.ack_code == "AR":
        raise Conflict("Only a refused or held message can be processed again.")
    feed = await feed_actor(session, now)
    held = await session.scalar(select(PasHeldMessage).where(PasHeldMessage.message_id == row.id))
    await audit.record_event(
        session,
        actor=actor,
        action="pas.reprocess",
        entity_type="pas_messages",
        entity_id=row.id,
        details={"control_id": row.control_id, "outcome_before": row.outcome},
        at=now,
    )
    try:
        done = await _apply(session, feed, hl7v2.parse(row.text), now)
    except Refused as refused:
        row.outcome, row.error, row.processed_at = "error", refused.problem.text, now
        if held is not None and held.resolved_at is None:
            held.resolved_at, held.resolution = now, "error"
    except Hold as hold:
        row.outcome, row.error, row.processed_at = "held", None, None
        if held is None:
            session.add(PasHeldMessage(message_id=row.id, held_at=now, reason=str(hold)))
        else:  # waits again, from now
            held.held_at, held.reason, held.resolved_at, held.resolution = (
                now,
                str(hold),
                None,
                None,
            )
    else:
        row.outcome, row.error, row.processed_at = done.outcome, None, now
        row.patient_id, row.changes = done.patient_id, done.changes()
        if held is not None and held.resolved_at is None:
            held.resolved_at, held.resolution = now, "applied"
        if done.outcome == "applied":
            await retry_held(session, feed, now)
    await session.flush()
    return row
