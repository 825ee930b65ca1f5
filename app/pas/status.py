"""What the bed flow page says about the PAS feed: when its last message arrived, and
whether the board may have stopped hearing it (the FEED_SILENT rule raises the alert)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.pas.models import PasMessage

# Said on the page as "not heard for a while" beyond this; the alert follows the rule's own
# working-day parameters.
QUIET_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class FeedStatus:
    last_message_at: datetime
    quiet_for: timedelta

    @property
    def quiet(self) -> bool:
        return self.quiet_for > QUIET_AFTER


async def feed_status(session: AsyncSession, now: datetime) -> FeedStatus | None:
    """None when the trust has no feed (no message ever received)."""
    last = await session.scalar(
        select(func.max(PasMessage.received_at)).where(PasMessage.received_at <= now)
    )
    if last is None:
        return None
    return FeedStatus(last, now - last)


async def feed_notice(session: AsyncSession, now: datetime) -> tuple[str, FeedStatus] | None:
    """The bed flow page's line (app.flow.views.flow_notices)."""
    status = await feed_status(session, now)
    return None if status is None else ("pas/_feed_status.html", status)
