"""Discharge: the end of a hospital spell."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.db import flush
from app.discharge import ready
from app.errors import Conflict
from app.wards import admissions, schemas
from app.wards.models import Admission

# Later capabilities add checks here (an open seclusion or segregation refuses discharge),
# without discharge knowing of them: filled in app/extensions.py (register_all).
DischargeCheck = Callable[[AsyncSession, Admission, datetime], Awaitable[None]]
discharge_checks: list[DischargeCheck] = []


async def discharge(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.DischargeIn,
    now: datetime,
) -> Admission:
    admission = await admissions.admission_for_change(
        session, actor, admission_id, "discharge people", access.CLINICAL_WRITERS, now=now
    )
    if admission.discharged_at is not None:
        raise Conflict("This admission has already been discharged.")
    admissions.check_within(admission, data.at, now, "at")
    for check in discharge_checks:
        await check(session, admission, data.at)
    before = audit.snapshot(admission)
    await admissions.end_current_stay(session, admission, data.at)
    # The delay ends with the discharge (the database refuses a discharge that leaves one open).
    await ready.end_at_discharge(session, admission, data.at, now)
    admission.discharged_at = data.at
    admission.discharge_destination = data.destination
    await flush(session)
    await audit.record(
        session, actor=actor, action="admission.discharge", entity=admission, before=before, at=now
    )
    return await admissions.reload(session, admission.id)
