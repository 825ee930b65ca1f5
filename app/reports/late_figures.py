"""How late records are typed in, by ward (issue 22): the records the rights rules judge
(seclusion reviews and observations, segregation reviews, admission purpose reviews) typed
in during the report's week, and how many of them more than an hour (and more than a day)
after they happened. Late records are themselves a safety signal: each can withdraw or
move an alert after the fact (RULES.md 1.1), and the queue was wrong meanwhile.

The ward is the one the person was on when the record's event happened.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.flow_figures import in_scope
from app.reports.period import Scope, Week
from app.reports.span import median
from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.wards.models import PurposeReview, Ward, WardStay

LATE = timedelta(hours=1)
VERY_LATE = timedelta(days=1)
KINDS = ("seclusion_review", "seclusion_observation", "segregation_review", "purpose_review")


def _sources() -> list[tuple[str, Any, Any, Any]]:
    """(kind, record table, its admission column, the join from record to admission)."""
    return [
        ("seclusion_review", SeclusionReview, Seclusion.admission_id,
         (Seclusion, Seclusion.id == SeclusionReview.seclusion_id)),
        ("seclusion_observation", SeclusionObservation, Seclusion.admission_id,
         (Seclusion, Seclusion.id == SeclusionObservation.seclusion_id)),
        ("segregation_review", SegregationReview, Segregation.admission_id,
         (Segregation, Segregation.id == SegregationReview.segregation_id)),
        ("purpose_review", PurposeReview, PurposeReview.admission_id, None),
    ]  # fmt: skip


def _empty() -> dict[str, Any]:
    return {"recorded": 0, "late": 0, "over_a_day": 0, "median_minutes_late": None}


def _summary(delays: list[timedelta]) -> dict[str, Any]:
    late = [d for d in delays if d > LATE]
    middle = median(d.total_seconds() / 60 for d in late)
    return {
        "recorded": len(delays),
        "late": len(late),
        "over_a_day": sum(1 for d in delays if d > VERY_LATE),
        "median_minutes_late": None if middle is None else round(middle),
    }


async def late_records(session: AsyncSession, scope: Scope, week: Week) -> dict[str, Any]:
    """Records typed in during the week: how many, how many more than an hour after the
    event (``late``) and more than a day, and the median lateness of the late ones; for the
    whole scope, by kind and by ward (ward code). One query per kind of record."""
    by_ward: dict[str, list[timedelta]] = {}
    by_kind: dict[str, list[timedelta]] = {kind: [] for kind in KINDS}
    for kind, table, admission_id, join in _sources():
        query = select(table.at, table.recorded_at, Ward.code)
        if join is not None:
            query = query.join(*join)
        query = (
            query.join(
                WardStay,
                and_(
                    WardStay.admission_id == admission_id,
                    WardStay.started_at <= table.at,
                    or_(WardStay.ended_at.is_(None), WardStay.ended_at > table.at),
                ),
            )
            .join(Ward, Ward.id == WardStay.ward_id)
            .where(table.recorded_at >= week.start, table.recorded_at < week.end)
        )
        for at, recorded_at, ward_code in await session.execute(
            in_scope(query, WardStay.ward_id, scope)
        ):
            delay = max(recorded_at - at, timedelta(0))
            by_kind[kind].append(delay)
            by_ward.setdefault(ward_code, []).append(delay)
    every = [d for delays in by_kind.values() for d in delays]
    return {
        "threshold_minutes": int(LATE.total_seconds() // 60),
        **(_summary(every) if every else _empty()),
        "by_kind": {kind: _summary(delays) for kind, delays in by_kind.items()},
        "by_ward": {code: _summary(delays) for code, delays in sorted(by_ward.items())},
    }
