"""WARD_OCCUPANCY: a ward fuller than the threshold at as_of, one alert per ward per
local calendar day (due at that day's 00:00)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import Breach, CheckSpec, RunContext
from app.clock import local_tz
from app.rules.catalogue import RuleCode
from app.wards import beds
from app.wards.models import Ward, WardStay


def local_midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(local_tz()).date(), time(), local_tz())


def next_midnight(midnight: datetime) -> datetime:
    return datetime.combine(midnight.date() + timedelta(days=1), time(), local_tz())


async def occupancy(session: AsyncSession, ctx: RunContext) -> list[Breach]:
    """Occupied beds over the beds open at as_of (app/wards/beds.py: opened by then and not
    inside a closure), so a run into the past counts the beds as they were. Today's alert
    clears on the first run that finds the ward back under the threshold; an earlier
    day's clears at that day's end."""
    code = RuleCode.WARD_OCCUPANCY
    threshold = float(ctx.parameters[code]["threshold"])
    open_beds = await beds.open_beds_at(session, ctx.as_of)
    occupied = (
        select(WardStay.ward_id, func.count().label("n"))
        .where(
            WardStay.started_at <= ctx.as_of,
            or_(WardStay.ended_at.is_(None), WardStay.ended_at > ctx.as_of),
        )
        .group_by(WardStay.ward_id)
        .subquery()
    )
    rows = [
        (ward_id, open_beds.get(ward_id, 0), taken)
        for ward_id, taken in await session.execute(
            select(Ward.id, func.coalesce(occupied.c.n, 0)).outerjoin(
                occupied, occupied.c.ward_id == Ward.id
            )
        )
    ]
    today = local_midnight(ctx.as_of)
    over: dict[int, str] = {}
    for ward_id, open_, taken in rows:
        # A ward with people in it and no open beds is over any threshold.
        rate = (100.0 * taken / open_) if open_ else (100.0 if taken else 0.0)
        if taken and rate > threshold:
            over[ward_id] = f"{taken} of {open_} open beds occupied ({rate:.0f} %)"
    result = [
        Breach(code, "ward", ward_id, today, None, ward_id, detail=detail)
        for ward_id, detail in over.items()
    ]
    for ward_id, due in ctx.pending.get(code, []):
        if due < today:
            result.append(Breach(code, "ward", ward_id, due, None, ward_id, next_midnight(due)))
        elif due == today and ward_id not in over:
            result.append(Breach(code, "ward", ward_id, due, None, ward_id, ctx.as_of))
    return result


CHECKS = (CheckSpec((RuleCode.WARD_OCCUPANCY,), occupancy),)
