"""The demo trust's alerts: one rule run as of now, with the past already worked.

A real trust's lead has resolved last month's alerts at the weekly rights meeting; a demo
that opened with thousands of old cleared alerts would look like nothing was ever done.
So alerts that cleared more than a week ago are resolved by the demo's safeguarding lead;
everything still open, and everything from the last week, waits in the queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import engine
from app.alerts.models import Alert
from app.audit.models import AuditEntry
from app.audit.service import snapshot

WORKED_BEFORE = timedelta(days=7)
NOTE = "Reviewed at the weekly rights and safeguarding meeting; actions taken with the ward."


async def seed_alerts(session: AsyncSession, now: datetime, lead: str) -> int:
    """Run the rules as of now; resolve what cleared over a week ago. Returns how many
    alerts the queue holds."""
    await engine.run_rules(session, as_of=now, now=now, trigger="seed")
    worked = await session.scalars(
        select(Alert).where(Alert.status == "cleared", Alert.cleared_at < now - WORKED_BEFORE)
    )
    for alert in worked:
        assert alert.cleared_at is not None
        before = snapshot(alert)
        alert.status, alert.resolved_by, alert.resolve_note = "resolved", lead, NOTE
        alert.resolved_at = min(alert.cleared_at + timedelta(days=3), now)
        session.add(
            AuditEntry(
                at=alert.resolved_at, user_id=None, username=lead, action="alert.resolve",
                entity_type="alerts", entity_id=str(alert.id), before=before,
                after=snapshot(alert),
            )
        )  # fmt: skip
    await session.flush()
    queue = await session.scalars(select(Alert.id).where(Alert.status != "resolved"))
    return len(list(queue))
