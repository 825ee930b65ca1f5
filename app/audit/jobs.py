"""The audit log's periodic job, run by the scheduler (app/scheduler.py) every interval."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import chain
from app.clock import utcnow


async def seal_job(
    sessions: async_sessionmaker[AsyncSession], now: Callable[[], datetime] = utcnow
) -> chain.SealResult | None:
    """The interval's audit entries into the hash chain (app/audit/chain.py), at most
    TICK_LIMIT at a time so the first seal of a large existing log is spread out."""
    return await chain.seal_pending(sessions, now(), limit=chain.TICK_LIMIT)
