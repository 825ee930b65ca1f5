"""Use-of-force records (Use of Force Act 2018 s.6(5)): record, complete, correct, read.

A record may be saved with the Act's items missing (staff finish it after the incident);
``missing_items`` says what is still lacking and is what RI_RECORD_INCOMPLETE checks.
Nothing is overwritten silently: each write is a new version with who and why, replaced
types and staff are retired rather than deleted, and changing an item that already had a
value needs a reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.auth import access, scope
from app.auth.models import User
from app.db import flush
from app.errors import FieldError, Invalid, NotFound
from app.segregation.force import schemas
from app.segregation.force.checks import (
    SCALARS,
    Draft,
    StaffEntry,
    TypeEntry,
    check_draft,
    corrected,
    missing_items,
    patched,
    staff_from,
    types_from,
)
from app.segregation.force.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
)
from app.wards import admissions
from app.wards.models import Admission, Ward

DOING = "record use of force"
# What the form stores when staff answer that no one from outside the unit took part: the
# Act asks why anyone not on the unit's staff was involved, and "no one" answers it.
NO_NON_UNIT_STAFF = "No one from outside the unit's staff took part."


DETAIL = (
    selectinload(RestrictiveIntervention.types),
    selectinload(RestrictiveIntervention.staff),
    selectinload(RestrictiveIntervention.versions),
)


# --- writing ----------------------------------------------------------------------------


def snapshot(record: RestrictiveIntervention) -> dict[str, Any]:
    """The whole record as it stands, JSON-ready: kept with each version and in the audit."""
    data = audit.snapshot(record) or {}
    data["types"] = [
        schemas.TypeOut.model_validate(t).model_dump(mode="json") for t in record.types
    ]
    data["staff"] = [schemas.StaffOut.model_validate(s).model_dump() for s in record.staff]
    data["missing"] = missing_items(record)
    return data


def _add_rows(
    session: AsyncSession, intervention_id: int, types: list[TypeEntry], staff: list[StaffEntry]
) -> None:
    session.add_all(InterventionType(intervention_id=intervention_id, **t._asdict()) for t in types)
    session.add_all(
        InterventionStaff(intervention_id=intervention_id, **s._asdict()) for s in staff
    )


async def _load(
    session: AsyncSession, intervention_id: int, *, lock: bool = False
) -> RestrictiveIntervention:
    query = (
        select(RestrictiveIntervention)
        .where(RestrictiveIntervention.id == intervention_id)
        .options(*DETAIL)
        .execution_options(populate_existing=True)
    )
    record = await session.scalar(query.with_for_update() if lock else query)
    if record is None:
        raise NotFound(f"No use-of-force record with id {intervention_id}.")
    return record


async def _new_version(
    session: AsyncSession,
    *,
    actor: User,
    record: RestrictiveIntervention,
    reason: str | None,
    before: dict[str, Any] | None,
    now: datetime,
) -> RestrictiveIntervention:
    """Reload the record as written, keep that version, and audit the change."""
    record = await _load(session, record.id)
    after = snapshot(record)
    session.add(
        InterventionVersion(
            intervention_id=record.id,
            version=record.version,
            data=after,
            reason=reason,
            recorded_at=now,
            recorded_by_id=actor.id,
        )
    )
    await flush(session)
    action = "create" if before is None else "update"
    await audit.record(
        session,
        actor=actor,
        action=f"restrictive_intervention.{action}",
        entity=record,
        before=before,
        after={**after, "reason": reason},
        at=now,
    )
    return await _load(session, record.id)


async def create_intervention(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.InterventionIn,
    now: datetime,
) -> RestrictiveIntervention:
    admission = await admissions.admission_for_change(
        session,
        actor,
        admission_id,
        DOING,
        access.CLINICAL_WRITERS,
        now=now,
        event_at=data.started_at,
    )
    values = {name: getattr(data, name) for name in SCALARS}
    draft = Draft(values, types_from(data.types, values), staff_from(data.staff))
    check_draft(admission, draft, now, types_given=True)
    record = RestrictiveIntervention(
        admission_id=admission.id,
        ward_id=admissions.ward_at(admission, data.started_at),
        version=1,
        created_at=now,
        created_by_id=actor.id,
        **values,
    )
    session.add(record)
    await flush(session)
    _add_rows(session, record.id, draft.types, draft.staff)
    await flush(session)
    return await _new_version(
        session, actor=actor, record=record, reason=None, before=None, now=now
    )


async def update_intervention(
    session: AsyncSession,
    *,
    actor: User,
    intervention_id: int,
    data: schemas.InterventionPatch,
    now: datetime,
) -> RestrictiveIntervention:
    """Complete or correct a record: a new version; correcting a recorded item needs a reason."""
    access.require_role(actor, access.CLINICAL_WRITERS, DOING)
    # Only someone who may read the record may complete or correct it: the answer is the
    # whole record, and the read rule's window after a stay ends bounds writes too.
    await get_intervention(session, actor=actor, intervention_id=intervention_id, now=now)
    record = await _load(session, intervention_id, lock=True)
    admission = await admissions.admission_for_change(
        session,
        actor,
        record.admission_id,
        DOING,
        access.CLINICAL_WRITERS,
        now=now,
        event_at=record.started_at,
    )
    fields = data.model_fields_set - {"correction_reason"}
    if not fields:
        raise Invalid("give at least one item to record or correct", field="body")
    if "started_at" in fields and data.started_at is None:
        raise Invalid(FieldError("started_at", "cannot be removed"))
    old = Draft.of(record)
    new = patched(old, data, fields)
    check_draft(admission, new, now, types_given="types" in fields)
    if not old.differs(new):
        return record
    needs_reason = corrected(old, new, fields)
    if needs_reason and data.correction_reason is None:
        names = ", ".join(needs_reason)
        raise Invalid(
            FieldError("correction_reason", f"say why you are changing what was recorded ({names})")
        )
    before = snapshot(record)
    for name in SCALARS:
        setattr(record, name, new.values[name])
    record.ward_id = admissions.ward_at(admission, new.values["started_at"])
    record.version += 1
    # Replaced rows stay, marked retired: the versions say what the record used to hold.
    replaced: list[InterventionType | InterventionStaff] = []
    if Counter(old.types) != Counter(new.types):
        replaced += record.types
        _add_rows(session, record.id, new.types, [])
    if Counter(old.staff) != Counter(new.staff):
        replaced += record.staff
        _add_rows(session, record.id, [], new.staff)
    for row in replaced:
        row.retired_at = now
    await flush(session)
    return await _new_version(
        session, actor=actor, record=record, reason=data.correction_reason, before=before, now=now
    )


# --- reading ----------------------------------------------------------------------------


async def interventions_for_admission(
    session: AsyncSession, admission_id: int
) -> list[RestrictiveIntervention]:
    """Every use of force in the admission, newest first, types and staff loaded.

    No access check: the caller has already shown the admission to this person."""
    return list(
        await session.scalars(
            select(RestrictiveIntervention)
            .where(RestrictiveIntervention.admission_id == admission_id)
            .options(*DETAIL)
            .order_by(RestrictiveIntervention.started_at.desc(), RestrictiveIntervention.id.desc())
            .execution_options(populate_existing=True)
        )
    )


async def list_interventions(
    session: AsyncSession, *, actor: User, admission_id: int, now: datetime
) -> list[RestrictiveIntervention]:
    """The admission's uses of force this reader may see: those on stays they may read."""
    admission = await admissions.get_admission(
        session, actor=actor, admission_id=admission_id, now=now
    )
    seen = scope.admission_seen(actor, admission, now)
    return [
        r
        for r in await interventions_for_admission(session, admission_id)
        if seen.shows(r.started_at)
    ]


async def get_intervention(
    session: AsyncSession, *, actor: User, intervention_id: int, now: datetime
) -> tuple[RestrictiveIntervention, Admission]:
    """The record and its admission, for anyone who may read the stay it was recorded on."""
    access.require_role(actor, access.CLINICAL_READERS, "see patient records")
    record = await _load(session, intervention_id)
    admission = await admissions.get_admission(
        session, actor=actor, admission_id=record.admission_id, now=now, record_at=record.started_at
    )
    return record, admission


def require_writer(
    actor: User, admission: Admission, event_at: datetime | None = None, *, now: datetime
) -> None:
    """Whether this person may record use of force on this admission: staff of its current
    ward, or of the ward where the use of force happened."""
    access.require_role(actor, access.CLINICAL_WRITERS, DOING)
    admissions.require_ward_for(actor, admission, DOING, event_at, now=now)


async def writable_admission(
    session: AsyncSession, *, actor: User, admission_id: int, now: datetime
) -> Admission:
    """The admission, when this person may record use of force on it (to show the form)."""
    access.require_role(actor, access.CLINICAL_WRITERS, DOING)
    admission = await admissions.get_admission(
        session, actor=actor, admission_id=admission_id, now=now
    )
    require_writer(actor, admission, now=now)
    return admission


async def _lookup(session: AsyncSession, key: Any, value: Any, ids: set[int]) -> dict[int, Any]:
    rows = await session.execute(select(key, value).where(key.in_(ids)))
    return {k: v for k, v in rows}


async def describe(
    session: AsyncSession, records: Sequence[RestrictiveIntervention]
) -> list[schemas.InterventionOut]:
    """The API's view of records: a fixed number of queries however many there are."""
    wards = await _lookup(session, Ward.id, Ward.code, {r.ward_id for r in records})
    patients = await _lookup(
        session, Admission.id, Admission.patient_id, {r.admission_id for r in records}
    )
    user_ids = {v.recorded_by_id for r in records for v in r.versions if v.recorded_by_id}
    usernames = await _lookup(session, User.id, User.username, user_ids)
    return [_out(r, wards[r.ward_id], patients[r.admission_id], usernames) for r in records]


def _out(
    record: RestrictiveIntervention, ward_code: str, patient_id: int, usernames: dict[int, str]
) -> schemas.InterventionOut:
    missing = missing_items(record)
    return schemas.InterventionOut(
        id=record.id,
        admission_id=record.admission_id,
        patient_id=patient_id,
        ward_code=ward_code,
        **{name: getattr(record, name) for name in SCALARS},
        types=[schemas.TypeOut.model_validate(t) for t in record.types],
        staff=[schemas.StaffOut.model_validate(s) for s in record.staff],
        version=record.version,
        missing=missing,
        complete=not missing,
        versions=[
            schemas.VersionOut(
                version=v.version,
                reason=v.reason,
                recorded_at=v.recorded_at,
                recorded_by=usernames.get(v.recorded_by_id or 0),
            )
            for v in record.versions
        ],
        created_at=record.created_at,
    )
