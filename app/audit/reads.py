"""The audit of reads: who looked at a person's record, when, and from where.

One entry per person read (entity ``patients``/id, so an admin's "who looked at this
person" is one indexed filter), written by ``record_event`` without waiting on the hash
chain, and committed with the request. A list or search writes its people's entries in one
batched insert. A ward board is not audited per read: it shows who is on the ward now,
which that ward's staff may always see, and it polls; opening a person's admission,
episode or use of force from it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.audit.service import record_event
from app.auth.models import User
from app.wards.models import Admission


def via(request: Request) -> dict[str, Any]:
    """How the read came: ``api``, ``fhir`` or ``page``, and the client's address (as the
    trusted proxy gave it; see WARDFLOW_FORWARDED_ALLOW_IPS)."""
    path = request.url.path
    kind = "fhir" if path.startswith("/fhir/") else "api" if path.startswith("/api/") else "page"
    return {"via": kind, "client": request.client.host if request.client else None}


async def record_reads(
    session: AsyncSession,
    request: Request,
    *,
    actor: User,
    action: str,
    patient_ids: Iterable[int],
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """One entry per person read, as ``record_event`` writes them (no flush, no chain
    wait), in one executemany insert whatever the list's length; then the commit (a read
    has nothing else to commit)."""
    how = {**via(request), "path": request.url.path, **(details or {})}
    patient_ids = list(patient_ids)
    rows = [
        {
            "at": now,
            "user_id": actor.id,
            "username": actor.username,
            "action": action,
            "entity_type": "patients",
            "entity_id": str(patient_id),
            "before": None,
            "after": how,
        }
        for patient_id in dict.fromkeys(patient_ids)
    ]
    ids = list(dict.fromkeys(patient_ids))
    if len(ids) == 1:
        await record_event(
            session,
            actor=actor,
            action=action,
            entity_type="patients",
            entity_id=ids[0],
            details=how,
            at=now,
        )
    elif rows:
        await session.execute(insert(AuditEntry), rows)
    await session.commit()


async def record_admission_read(
    session: AsyncSession,
    request: Request,
    *,
    actor: User,
    action: str,
    admission_id: int,
    now: datetime,
    record_id: int | None = None,
) -> None:
    """A read of something recorded on an admission (an episode, a use of force): entered
    under the admission's person."""
    patient_id = await session.scalar(
        select(Admission.patient_id).where(Admission.id == admission_id)
    )
    details: dict[str, Any] = {"admission_id": admission_id}
    if record_id is not None:
        details["record_id"] = record_id
    await record_reads(
        session,
        request,
        actor=actor,
        action=action,
        patient_ids=[patient_id] if patient_id is not None else [],
        now=now,
        details=details,
    )


async def record_alert_read(
    session: AsyncSession, request: Request, *, actor: User, alert: Any, now: datetime
) -> None:
    """An alert about a person's admission names them: reading it is a read of their record
    (an alert about a ward names no one and is not entered)."""
    if alert.admission_id is not None:
        await record_admission_read(
            session,
            request,
            actor=actor,
            action="alert.read",
            admission_id=alert.admission_id,
            now=now,
            record_id=alert.id,
        )


async def record_alert_list_read(
    session: AsyncSession,
    request: Request,
    *,
    actor: User,
    admission_ids: Iterable[int | None],
    now: datetime,
    action: str = "alert.list",
) -> None:
    """A list of alerts (the queue, the API, FHIR Flags) names the people they are about:
    one entry per person, in one insert, as for any list of records."""
    wanted = {i for i in admission_ids if i is not None}
    patient_ids = (
        list(
            await session.scalars(
                select(Admission.patient_id).where(Admission.id.in_(wanted)).distinct()
            )
        )
        if wanted
        else []
    )
    await record_reads(
        session, request, actor=actor, action=action, patient_ids=patient_ids, now=now
    )


async def record_form_read(
    session: AsyncSession,
    request: Request,
    *,
    actor: User,
    admission: Admission,
    now: datetime,
    record_id: int | None = None,
) -> None:
    """A form that shows a person (starting or recording an episode, use of force, a
    discharge, a transfer) is a read of their record like a page: the one helper every such
    form calls once it has been allowed, with the admission it loaded (no extra query)."""
    details: dict[str, Any] = {"admission_id": admission.id, "form": True}
    if record_id is not None:
        details["record_id"] = record_id
    await record_reads(
        session,
        request,
        actor=actor,
        action="admission.read",
        patient_ids=[admission.patient_id],
        now=now,
        details=details,
    )
