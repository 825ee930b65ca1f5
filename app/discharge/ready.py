"""Clinically ready for discharge: start a period with its reason, end it, and end it at
discharge. Each day of delay is counted and attributed (MHSDS v6, MHS518)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.clock import check_not_future, midnights_between
from app.db import flush
from app.discharge import schemas
from app.discharge.codes import ATTRIBUTABLE_TO, DELAY_REASONS
from app.discharge.models import ReadyForDischarge
from app.errors import Conflict, FieldError, Invalid, NotFound
from app.wards import admissions
from app.wards import schemas as ward_schemas
from app.wards.models import Admission


async def start(
    session: AsyncSession,
    *,
    actor: User,
    admission_id: int,
    data: schemas.ReadyIn,
    now: datetime,
) -> ReadyForDischarge:
    admission = await admissions.admission_for_change(
        session,
        actor,
        admission_id,
        "mark people ready for discharge",
        access.CLINICAL_WRITERS,
        now=now,
    )
    if admission.discharged_at is not None:
        raise Conflict("This admission has already been discharged.")
    admissions.check_within(admission, data.started_at, now, "started_at")
    clash = await session.scalar(
        select(ReadyForDischarge)
        .where(
            ReadyForDischarge.admission_id == admission.id,
            or_(
                ReadyForDischarge.ended_at.is_(None),
                ReadyForDischarge.ended_at > data.started_at,
            ),
        )
        .limit(1)
    )
    if clash is not None:
        if clash.ended_at is None:
            raise Conflict("A ready-for-discharge period is already open for this admission.")
        raise Conflict("This would overlap an earlier ready-for-discharge period.")
    period = ReadyForDischarge(
        admission_id=admission.id,
        started_at=data.started_at,
        reason_code=data.reason_code,
        attributable_to=data.attributable_to,
        created_at=now,
        created_by_id=actor.id,
        updated_at=now,
    )
    session.add(period)
    await flush(session)
    await audit.record(
        session, actor=actor, action="ready_for_discharge.start", entity=period, at=now
    )
    return period


async def end(
    session: AsyncSession, *, actor: User, period_id: int, data: schemas.ReadyEndIn, now: datetime
) -> ReadyForDischarge:
    admission_id = await session.scalar(
        select(ReadyForDischarge.admission_id).where(ReadyForDischarge.id == period_id)
    )
    if admission_id is None:
        raise NotFound(f"No ready-for-discharge period with id {period_id}.")
    admission = await admissions.admission_for_change(
        session, actor, admission_id, "end ready for discharge", access.CLINICAL_WRITERS, now=now
    )
    period = await session.scalar(
        select(ReadyForDischarge)
        .where(ReadyForDischarge.id == period_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert period is not None
    if period.ended_at is not None:
        raise Conflict("This ready-for-discharge period has already ended.")
    check_not_future(data.at, now, "at")
    if data.at < period.started_at:
        raise Invalid(FieldError("at", "cannot be before the period started"))
    admissions.check_within(admission, data.at, now, "at")
    before = audit.snapshot(period)
    period.ended_at = data.at
    period.updated_at = now
    await flush(session)
    await audit.record(
        session, actor=actor, action="ready_for_discharge.end", entity=period, before=before, at=now
    )
    return period


async def end_at_discharge(
    session: AsyncSession, admission: Admission, at: datetime, now: datetime
) -> None:
    """Discharge ends an open period at the moment of discharge (the delay is over)."""
    period = await session.scalar(
        select(ReadyForDischarge)
        .where(ReadyForDischarge.admission_id == admission.id, ReadyForDischarge.ended_at.is_(None))
        .with_for_update()
    )
    if period is None:
        return
    if at < period.started_at:
        raise Invalid(FieldError("at", "cannot be before the person was ready for discharge"))
    period.ended_at = at
    period.updated_at = now
    await flush(session)


def period_out(period: ReadyForDischarge, now: datetime) -> ward_schemas.ReadyForDischargeOut:
    return ward_schemas.ReadyForDischargeOut(
        id=period.id,
        admission_id=period.admission_id,
        started_at=period.started_at,
        ended_at=period.ended_at,
        reason_code=period.reason_code,
        reason=DELAY_REASONS[period.reason_code],
        attributable_to=period.attributable_to,
        days_delayed=midnights_between(period.started_at, period.ended_at or now),
    )


async def get_period(
    session: AsyncSession, *, actor: User, period_id: int, now: datetime
) -> ReadyForDischarge:
    period = await session.scalar(
        select(ReadyForDischarge).where(ReadyForDischarge.id == period_id)
    )
    if period is None:
        raise NotFound(f"No ready-for-discharge period with id {period_id}.")
    await admissions.get_admission(
        session, actor=actor, admission_id=period.admission_id, now=now, record_at=period.started_at
    )
    return period


async def periods_of(
    session: AsyncSession, admission_ids: list[int]
) -> dict[int, list[ReadyForDischarge]]:
    result: dict[int, list[ReadyForDischarge]] = {a: [] for a in admission_ids}
    if admission_ids:
        for period in await session.scalars(
            select(ReadyForDischarge)
            .where(ReadyForDischarge.admission_id.in_(admission_ids))
            .order_by(ReadyForDischarge.started_at)
        ):
            result[period.admission_id].append(period)
    return result


async def extend_detail(
    session: AsyncSession, outs: list[ward_schemas.AdmissionOut], now: datetime
) -> None:
    periods = await periods_of(session, [o.id for o in outs])
    for out in outs:
        out.ready_for_discharge_periods = [period_out(p, now) for p in periods[out.id]]


async def open_since(session: AsyncSession, admission_ids: list[int]) -> dict[int, datetime]:
    """When each admission's open period started (one query, for boards and bed search)."""
    if not admission_ids:
        return {}
    rows = await session.execute(
        select(ReadyForDischarge.admission_id, ReadyForDischarge.started_at).where(
            ReadyForDischarge.admission_id.in_(admission_ids),
            ReadyForDischarge.ended_at.is_(None),
        )
    )
    return {admission_id: started_at for admission_id, started_at in rows}


async def card_ready(
    session: AsyncSession, admission_ids: list[int], now: datetime
) -> dict[int, ward_schemas.CardReady]:
    """The open period of each admission on a board, for its card and its flag: one query
    whatever the number of people ready. A period starting after ``now`` (a board read as
    of an earlier time) is not shown yet."""
    if not admission_ids:
        return {}
    periods = await session.scalars(
        select(ReadyForDischarge).where(
            ReadyForDischarge.admission_id.in_(admission_ids),
            ReadyForDischarge.ended_at.is_(None),
            ReadyForDischarge.started_at <= now,
        )
    )
    return {
        period.admission_id: ward_schemas.CardReady(
            id=period.id,
            reason_code=period.reason_code,
            reason=DELAY_REASONS[period.reason_code],
            attributable_to=period.attributable_to,
            agency=ATTRIBUTABLE_TO[period.attributable_to],
            since=period.started_at,
            days=midnights_between(period.started_at, now),
        )
        for period in periods
    }
