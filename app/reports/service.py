"""The weekly report's rules: who may read it, making it, and keeping it as a snapshot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import access
from app.auth.models import User
from app.errors import NotFound
from app.reports import pdf, report
from app.reports.models import ReportEmail, ReportSnapshot
from app.reports.period import TRUST, Scope, Week
from app.reports.schemas import WeeklyReport

# Aggregate figures for the trust: directors, and those who run the wards and the rights
# queue. Ward staff see their own wards' records, not the trust's report (access.py).
READERS = {"admin", "director", "safeguarding_lead", "bed_manager"}


def require_reader(user: User) -> None:
    access.require_role(user, READERS, "read the weekly report")


async def make(session: AsyncSession, *, scope: Scope, week: Week, now: datetime) -> WeeklyReport:
    return await report.build(session, scope=scope, week=week, now=now)


def kept_report(snapshot: ReportSnapshot) -> WeeklyReport:
    """A snapshot's report, as typed as a new one: snapshots store the report's JSON, and
    those kept before a field was added load with its default (app/reports/schemas.py)."""
    return WeeklyReport.model_validate(snapshot.data)


async def find_snapshot(
    session: AsyncSession, *, scope: Scope, week: Week
) -> ReportSnapshot | None:
    return await session.scalar(
        select(ReportSnapshot).where(
            ReportSnapshot.week_ending == week.ending,
            ReportSnapshot.scope_type == scope.type,
            ReportSnapshot.scope_code == scope.code,
        )
    )


async def keep(
    session: AsyncSession,
    *,
    week: Week,
    now: datetime,
    trigger: str,
    scope: Scope = TRUST,
    recipients: list[str] | None = None,
) -> tuple[ReportSnapshot, bool]:
    """The week's snapshot for the scope, made now if there is none yet: (snapshot, made).
    At most one per week and scope, even when two processes race (the database's unique
    constraint decides; the loser returns the winner's). With recipients, its email is
    queued with it."""
    existing = await find_snapshot(session, scope=scope, week=week)
    if existing is not None:
        return existing, False
    data = await make(session, scope=scope, week=week, now=now)
    document = await pdf.render_async(data)
    snapshot = ReportSnapshot(
        week_ending=week.ending,
        scope_type=scope.type,
        scope_code=scope.code,
        generated_at=now,
        trigger=trigger,
        data=data.model_dump(mode="json"),
        pdf=document,
    )
    try:
        async with session.begin_nested():
            session.add(snapshot)
            await session.flush()
            if recipients:
                session.add(
                    ReportEmail(
                        snapshot_id=snapshot.id,
                        recipients=list(recipients),
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
                await session.flush()
    except IntegrityError:
        winner = await find_snapshot(session, scope=scope, week=week)
        if winner is None:
            raise
        return winner, False
    return snapshot, True


async def list_snapshots(session: AsyncSession, limit: int = 60) -> list[ReportSnapshot]:
    """Newest first, without their contents (a page lists many)."""
    from sqlalchemy.orm import load_only

    rows = await session.scalars(
        select(ReportSnapshot)
        .options(
            load_only(
                ReportSnapshot.id,
                ReportSnapshot.week_ending,
                ReportSnapshot.scope_type,
                ReportSnapshot.scope_code,
                ReportSnapshot.generated_at,
                ReportSnapshot.trigger,
            )
        )
        .order_by(ReportSnapshot.week_ending.desc(), ReportSnapshot.id.desc())
        .limit(limit)
    )
    return list(rows)


async def get_snapshot(session: AsyncSession, snapshot_id: int) -> ReportSnapshot:
    snapshot = await session.get(ReportSnapshot, snapshot_id) if 0 < snapshot_id < 2**31 else None
    if snapshot is None:
        raise NotFound(f"No report snapshot {snapshot_id}.")
    return snapshot
