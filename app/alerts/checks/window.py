"""Which subjects a run needs to look at: the shared filter and the ward lookup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.breaches import RunContext, Stays
from app.deadlines import Interval
from app.sql import among
from app.wards.models import WardStay


def still_relevant(
    ctx: RunContext,
    ended: Any,
    created: Any,
    identity: Any,
    *codes: str,
    reach: timedelta = timedelta(0),
) -> ColumnElement[bool]:
    """Unfinished at the window's start, recorded since the last run, or with an alert to
    clear. With no window (first run, a run into the past): everything. ``reach`` is how
    long after its end a subject can still fall due (a record to complete within 24 h).

    ``ended`` is the column holding the end, or a function giving "unfinished, or ended at
    or after" a time where the end is an expression (so the condition can use indexes)."""
    if ctx.window_start is None:
        return true()
    pending = ctx.pending_ids(*codes)
    # At or after: a deadline exactly at the previous as_of was not yet breached then.
    since = ctx.window_start - reach
    conditions = [ended(since)] if callable(ended) else [ended.is_(None), ended >= since]
    if ctx.recorded_since is not None:
        # A column (when the subject was last written) or, where that lives in another
        # table, a function giving the condition from the time (app.sql.among_selected:
        # a correlated max() inside this OR would be computed for every row of history).
        conditions.append(
            created(ctx.recorded_since) if callable(created) else created > ctx.recorded_since
        )
    conditions.append(among(identity, pending) if pending else false())
    return or_(*conditions)


async def stays_of(session: AsyncSession, admission_ids: Iterable[int]) -> Stays:
    ids = sorted(set(admission_ids))
    if not ids:
        return Stays()
    rows = await session.execute(
        select(
            WardStay.admission_id, WardStay.started_at, WardStay.ended_at, WardStay.ward_id
        ).where(among(WardStay.admission_id, ids))
    )
    return Stays.of(rows)


def reach_of(*intervals: Interval) -> timedelta:
    """The longest of some intervals (a month or more counts as 92 days)."""
    return max((i.fixed_length() or timedelta(days=92)) for i in intervals)
