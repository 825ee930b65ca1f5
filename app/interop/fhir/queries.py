"""Finding what a FHIR read or search returns: set-based, a fixed number of queries per
page whatever the trust's size (the page's ids, a count, then the page's records with what
they show), and scoped as the JSON API is (ward staff see their wards' people only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.alerts import service as alerts_service
from app.alerts.models import Alert
from app.auth import access, scope
from app.auth.models import User
from app.errors import NotFound
from app.interop.fhir import params
from app.interop.fhir import resources as fr
from app.interop.fhir.params import BadSearch, Paging
from app.wards import admissions as wards_admissions
from app.wards import service as wards_service
from app.wards.codes import WARD_TYPES
from app.wards.models import Admission, Bed, Patient, Site, Ward, WardStay

Page = tuple[list[fr.Resource], int]
KINDS = {"site": 0, "ward": 1, "bed": 2}


async def _page_ids(session: AsyncSession, query: Any, paging: Paging) -> tuple[list[Any], int]:
    sub = query.subquery()
    total = int(await session.scalar(select(func.count()).select_from(sub)) or 0)
    if paging.count == 0:
        return [], total
    rows = await session.execute(
        select(*sub.c).order_by(*sub.c).limit(paging.count).offset(paging.offset)
    )
    return [tuple(r) for r in rows], total


# --- Location --------------------------------------------------------------------------


def location_id(value: str, name: str = "id") -> tuple[str, int] | None:
    kind, _, number = value.partition("-")
    found = params.int_id(number)
    if kind not in KINDS or found is None:
        return None
    return kind, found


def _type_codes() -> dict[str, str]:
    known = {code: fr.PHYSICAL_TYPE for code in fr.PHYSICAL_TYPES}
    known["HOSP"] = fr.ROLE_CODE
    known.update({code: fr.local_system("CodeSystem/ward-type") for code in WARD_TYPES})
    return known


async def search_locations(
    session: AsyncSession, values: dict[str, list[str]], paging: Paging
) -> Page:
    occupied = exists().where(WardStay.bed_id == Bed.id, WardStay.ended_at.is_(None))
    queries: dict[str, Any] = {
        "site": select(literal(KINDS["site"]).label("kind"), Site.id.label("id")),
        "ward": select(literal(KINDS["ward"]).label("kind"), Ward.id.label("id")),
        "bed": select(literal(KINDS["bed"]).label("kind"), Bed.id.label("id")),
    }
    columns = {"site": Site.id, "ward": Ward.id, "bed": Bed.id}
    for raw in values.get("_id", []):
        wanted: dict[str, set[int]] = {k: set() for k in KINDS}
        for token in params.tokens(raw, "_id"):
            found = location_id(token.code)
            if found:
                wanted[found[0]].add(found[1])
        for kind in list(queries):
            queries[kind] = queries[kind].where(columns[kind].in_(wanted[kind]))
    for raw in values.get("type", []):
        codes = params.token_codes(raw, "type", _type_codes())
        if not codes & {"si", "HOSP"}:
            queries.pop("site", None)
        if "bd" not in codes:
            queries.pop("bed", None)
        if "ward" in queries and "wa" not in codes:
            queries["ward"] = queries["ward"].where(Ward.ward_type.in_(codes & set(WARD_TYPES)))
    for raw in values.get("partof", []):
        parent = location_id(params.reference(raw, "Location", "partof"))
        queries.pop("site", None)
        if parent is None or parent[0] == "bed":
            queries.clear()
        elif parent[0] == "site":
            queries.pop("bed", None)
            if "ward" in queries:
                queries["ward"] = queries["ward"].where(Ward.site_id == parent[1])
        else:
            queries.pop("ward", None)
            if "bed" in queries:
                queries["bed"] = queries["bed"].where(Bed.ward_id == parent[1])
    for raw in values.get("operational-status", []):
        codes = params.token_codes(
            raw, "operational-status", dict.fromkeys(fr.BED_STATUSES, fr.BED_STATUS)
        )
        queries.pop("site", None)
        queries.pop("ward", None)
        if "bed" in queries:
            conditions = []
            if "C" in codes:
                conditions.append(Bed.status == "closed")
            if "O" in codes:
                conditions.append((Bed.status == "open") & occupied)
            if "U" in codes:
                conditions.append((Bed.status == "open") & ~occupied)
            queries["bed"] = queries["bed"].where(
                params.nothing() if not conditions else _any(conditions)
            )
    if not queries:
        return [], 0
    ids, total = await _page_ids(session, union_all(*queries.values()), paging)
    return await locations_by_id(session, [(kind, id_) for kind, id_ in ids]), total


def _any(conditions: list[Any]) -> Any:
    return or_(*conditions)


async def locations_by_id(
    session: AsyncSession, ids: Sequence[tuple[int, int]]
) -> list[fr.Resource]:
    by_kind: dict[int, list[int]] = {0: [], 1: [], 2: []}
    for kind, id_ in ids:
        by_kind[kind].append(id_)
    found: dict[tuple[int, int], fr.Resource] = {}
    if by_kind[0]:
        for site in await session.scalars(
            select(Site).where(Site.id.in_(by_kind[0])).options(selectinload(Site.locality))
        ):
            found[(0, site.id)] = fr.site_location(site)
    if by_kind[1]:
        for ward in await session.scalars(
            select(Ward).where(Ward.id.in_(by_kind[1])).options(selectinload(Ward.site))
        ):
            found[(1, ward.id)] = fr.ward_location(ward)
    if by_kind[2]:
        occupied = set(
            await session.scalars(
                select(WardStay.bed_id).where(
                    WardStay.bed_id.in_(by_kind[2]), WardStay.ended_at.is_(None)
                )
            )
        )
        for bed in await session.scalars(
            select(Bed).where(Bed.id.in_(by_kind[2])).options(selectinload(Bed.ward))
        ):
            found[(2, bed.id)] = fr.bed_location(bed, bed.id in occupied)
    return [found[key] for key in ids if key in found]


async def read_location(session: AsyncSession, location: str) -> fr.Resource:
    parsed = location_id(location)
    if parsed is not None:
        found = await locations_by_id(session, [(KINDS[parsed[0]], parsed[1])])
        if found:
            return found[0]
    raise NotFound(f"No Location with id {location!r}.")


# --- Encounter -------------------------------------------------------------------------

ENCOUNTER_STATUSES = {
    code: "http://hl7.org/fhir/encounter-status"
    for code in (
        "planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled",
        "entered-in-error", "unknown",
    )
}  # fmt: skip


ENCOUNTER_DETAIL = (
    selectinload(Admission.patient),
    selectinload(Admission.stays).selectinload(WardStay.ward),
    selectinload(Admission.stays).selectinload(WardStay.bed),
    selectinload(Admission.legal_status_changes),
)


def _admission_scope(actor: User, now: datetime) -> Any:
    """The one read rule (app/auth/scope.py), as the JSON API applies it."""
    return scope.admission_condition(actor, now)


async def search_encounters(
    session: AsyncSession,
    actor: User,
    values: dict[str, list[str]],
    paging: Paging,
    now: datetime,
) -> Page:
    readable = _admission_scope(actor, now)
    query = select(Admission.id)
    if readable is not None:
        query = query.where(readable)
    for raw in values.get("_id", []):
        query = query.where(Admission.id.in_(_int_ids(raw, "_id")))
    for raw in values.get("patient", []):
        patient = params.int_id(params.reference(raw, "Patient", "patient"))
        query = query.where(Admission.patient_id == (patient or -1))
    for raw in values.get("status", []):
        codes = params.token_codes(raw, "status", ENCOUNTER_STATUSES)
        wanted = []
        if "in-progress" in codes:
            wanted.append(Admission.discharged_at.is_(None))
        if "finished" in codes:
            wanted.append(Admission.discharged_at.is_not(None))
        query = query.where(_any(wanted) if wanted else params.nothing())
    for raw in values.get("location", []):
        place = location_id(params.reference(raw, "Location", "location"))
        if place is None or place[0] == "site":
            query = query.where(params.nothing())
            continue
        column = WardStay.ward_id if place[0] == "ward" else WardStay.bed_id
        query = query.where(
            Admission.id.in_(select(WardStay.admission_id).where(column == place[1]))
        )
    for raw in values.get("date", []):
        query = query.where(
            params.period_matches(raw, "date", Admission.admitted_at, Admission.discharged_at)
        )
    ids, total = await _page_ids(session, query, paging)
    rows = await session.scalars(
        select(Admission)
        .where(Admission.id.in_([i for (i,) in ids]))
        .options(*ENCOUNTER_DETAIL)
        .order_by(Admission.id)
    )
    return [_scoped(actor, a, now) for a in rows], total


def _scoped(actor: User, admission: Admission, now: datetime) -> fr.Resource:
    """The Encounter as this reader may see it: ward staff get only the stays (locations)
    they may read (app/auth/scope.py)."""
    seen = scope.admission_seen(actor, admission, now) if access.is_ward_scoped(actor) else None
    return fr.encounter_resource(admission, seen)


def _int_ids(raw: str, name: str) -> list[int]:
    return [i for t in params.tokens(raw, name) if (i := params.int_id(t.code)) is not None]


async def read_encounter(
    session: AsyncSession, actor: User, encounter: str, now: datetime
) -> tuple[fr.Resource, int]:
    admission_id = params.int_id(encounter)
    if admission_id is None:
        raise NotFound(f"No Encounter with id {encounter!r}.")
    admission = await wards_admissions.get_admission(
        session, actor=actor, admission_id=admission_id, now=now
    )
    patient_id = admission.patient_id
    return _scoped(actor, admission, now), patient_id


# --- Patient ---------------------------------------------------------------------------


def _patient_scope(actor: User, now: datetime) -> Any:
    """The one read rule (app/auth/scope.py): ward staff find only people they may read."""
    return scope.patient_condition(actor, now, Patient.id)


async def search_patients(
    session: AsyncSession,
    actor: User,
    values: dict[str, list[str]],
    paging: Paging,
    now: datetime,
) -> Page:
    readable = _patient_scope(actor, now)
    query = select(Patient.id)
    if readable is not None:
        query = query.where(readable)
    for raw in values.get("_id", []):
        query = query.where(Patient.id.in_(_int_ids(raw, "_id")))
    for raw in values.get("identifier", []):
        numbers = []
        for token in params.tokens(raw, "identifier"):
            number = token.code.replace(" ", "")
            if token.system not in (None, fr.NHS_NUMBER):
                continue
            if not (len(number) == 10 and number.isascii() and number.isdigit()):
                raise BadSearch("identifier: an NHS number is 10 digits.")
            numbers.append(number)
        query = query.where(Patient.nhs_number.in_(numbers))
    ids, total = await _page_ids(session, query, paging)
    rows = await session.scalars(
        select(Patient).where(Patient.id.in_([i for (i,) in ids])).order_by(Patient.id)
    )
    return [fr.patient_resource(p) for p in rows], total


async def read_patient(
    session: AsyncSession, actor: User, patient: str, now: datetime
) -> fr.Resource:
    patient_id = params.int_id(patient)
    if patient_id is None:
        raise NotFound(f"No Patient with id {patient!r}.")
    found = await wards_service.get_patient(session, actor=actor, patient_id=patient_id, now=now)
    return fr.patient_resource(found)


# --- Flag ------------------------------------------------------------------------------

FLAG_STATUSES = dict.fromkeys(
    ("active", "inactive", "entered-in-error"), "http://hl7.org/fhir/flag-status"
)


def _flag_query(actor: User, now: datetime) -> Any:
    query = select(Alert, Admission.patient_id).join(Admission, Admission.id == Alert.admission_id)
    # Exactly the alerts API's scope (a Flag names its person).
    condition = alerts_service.scope_condition(actor, now)
    return query if condition is None else query.where(condition)


async def search_flags(
    session: AsyncSession,
    actor: User,
    values: dict[str, list[str]],
    paging: Paging,
    now: datetime,
) -> Page:
    query = _flag_query(actor, now).with_only_columns(Alert.id)
    for raw in values.get("_id", []):
        query = query.where(Alert.id.in_(_int_ids(raw, "_id")))
    for raw in values.get("patient", []):
        patient = params.int_id(params.reference(raw, "Patient", "patient"))
        query = query.where(Admission.patient_id == (patient or -1))
    for raw in values.get("encounter", []):
        admission = params.int_id(params.reference(raw, "Encounter", "encounter"))
        query = query.where(Alert.admission_id == (admission or -1))
    for raw in values.get("status", []):
        codes = params.token_codes(raw, "status", FLAG_STATUSES)
        wanted: list[ColumnElement[bool]] = []
        if "active" in codes:
            wanted.append(Alert.status.in_(fr.ACTIVE_ALERTS))
        if "inactive" in codes:
            wanted.append(Alert.status.not_in((*fr.ACTIVE_ALERTS, "withdrawn")))
        if "entered-in-error" in codes:
            wanted.append(Alert.status == "withdrawn")
        query = query.where(_any(wanted) if wanted else params.nothing())
    ids, total = await _page_ids(session, query, paging)
    rows = await session.execute(
        _flag_query(actor, now).where(Alert.id.in_([i for (i,) in ids])).order_by(Alert.id)
    )
    return [fr.flag_resource(alert, patient_id) for alert, patient_id in rows], total


async def read_flag(session: AsyncSession, actor: User, flag: str, now: datetime) -> fr.Resource:
    alert_id = params.int_id(flag)
    if alert_id is None:
        raise NotFound(f"No Flag with id {flag!r}.")
    # Role, existence and ward scope exactly as the alerts API checks them.
    alert = await alerts_service.get_alert(session, actor=actor, alert_id=alert_id, now=now)
    if alert.admission_id is None:
        raise NotFound(f"No Flag with id {flag!r}: that alert is about a ward, not a person.")
    patient_id = await session.scalar(
        select(Admission.patient_id).where(Admission.id == alert.admission_id)
    )
    assert patient_id is not None
    return fr.flag_resource(alert, patient_id)
