"""High-severity alerts by email and by webhook: queued when raised, sent by a job, retried
with backoff, and never sent twice (one row per alert and channel, marked sent in the
same transaction that sent it, rows claimed with SKIP LOCKED on PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.models import Alert, AlertNotification
from app.clock import local_tz
from app.config import Settings, get_settings
from app.sql import among

log = logging.getLogger(__name__)
# The wait after a failure doubles (1, 2, 4... minutes) up to this.
MAX_BACKOFF = timedelta(days=1)


def channels(config: Settings) -> list[str]:
    result = []
    if config.smtp_host and config.alert_email_to:
        result.append("email")
    if config.alert_webhook_url:
        result.append("webhook")
    return result


async def queue(session: AsyncSession, alerts: list[Alert], now: datetime) -> None:
    """A notice per channel for each new high-severity alert still open (an alert raised
    already cleared is for the queue, not for waking someone)."""
    wanted = channels(get_settings())
    session.add_all(
        AlertNotification(alert_id=alert.id, channel=channel, attempts=0, next_attempt_at=now)
        for alert in alerts
        if alert.severity == "high" and alert.status == "open"
        for channel in wanted
    )
    await session.flush()


async def queue_withdrawn(session: AsyncSession, alerts: list[Alert], now: datetime) -> None:
    """A short notice on each channel that already told someone of an alert now withdrawn
    (RULES.md 1.1): whoever was woken for it learns it was only the record that was late.
    A notice of the alert not yet sent is not sent at all (``deliver``)."""
    if not alerts:
        return
    ids = [alert.id for alert in alerts]
    sent = await session.execute(
        select(AlertNotification.alert_id, AlertNotification.channel).where(
            among(AlertNotification.alert_id, ids),
            AlertNotification.kind == "raised",
            AlertNotification.sent_at.is_not(None),
        )
    )
    already = set(
        await session.execute(
            select(AlertNotification.alert_id, AlertNotification.channel).where(
                among(AlertNotification.alert_id, ids), AlertNotification.kind == "withdrawn"
            )
        )
    )
    session.add_all(
        AlertNotification(
            alert_id=alert_id, channel=channel, kind="withdrawn", attempts=0, next_attempt_at=now
        )
        for alert_id, channel in sent
        if (alert_id, channel) not in already
    )
    await session.flush()


def withdrawn_text(alert: Alert) -> str:
    """The one line of a withdrawn notice: "withdrawn: the review at 09:14 ... recorded late"."""
    return f"withdrawn: {alert.withdrawn_reason or 'a record typed in later met the deadline'}"


def payload(
    alert: Alert, ward_code: str | None, config: Settings, kind: str = "raised"
) -> dict[str, Any]:
    # The alert's own notice is as it always was; the withdrawn one says so on top.
    extra = (
        {"notice": kind, "withdrawn_reason": withdrawn_text(alert)} if kind == "withdrawn" else {}
    )
    return {
        **extra,
        "id": alert.id,
        "rule": alert.rule,
        "severity": alert.severity,
        "status": alert.status,
        "subject_type": alert.subject_type,
        "subject_id": alert.subject_id,
        "admission_id": alert.admission_id,
        "ward_code": ward_code,
        "due_at": alert.due_at.isoformat(),
        "raised_at": alert.raised_at.isoformat(),
        "message": alert.message,
        "url": f"{config.public_url.rstrip('/')}/alerts/{alert.id}",
    }


def _send_email(
    config: Settings, alert: Alert, ward_code: str | None, kind: str = "raised"
) -> None:
    message = EmailMessage()
    label = "WITHDRAWN" if kind == "withdrawn" else alert.severity.upper()
    message["Subject"] = f"[Wardflow] {label} {alert.rule}" + (
        f" on {ward_code}" if ward_code else ""
    )
    message["From"] = config.alert_email_from
    message["To"] = ", ".join(config.alert_email_to)
    due = alert.due_at.astimezone(local_tz())
    first = f"{withdrawn_text(alert)}\n\n" if kind == "withdrawn" else ""
    # No patient name in an email: the link leads to the record for those allowed to see it.
    message.set_content(
        f"{first}{alert.message}\n\nDue {due:%a %d %b %Y %H:%M}. Alert {alert.id}.\n"
        f"{config.public_url.rstrip('/')}/alerts/{alert.id}\n"
    )
    assert config.smtp_host is not None
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=10) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_username:
            smtp.login(config.smtp_username, config.smtp_password or "")
        smtp.send_message(message)


async def _send(notice: AlertNotification, alert: Alert, ward_code: str | None) -> None:
    config = get_settings()
    if notice.channel == "email":
        await asyncio.to_thread(_send_email, config, alert, ward_code, notice.kind)
        return
    assert config.alert_webhook_url is not None
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            config.alert_webhook_url, json=payload(alert, ward_code, config, notice.kind)
        )
        response.raise_for_status()


def backoff(attempts: int) -> timedelta:
    """The wait after the attempts-th failure: capped, so a large notify_max_attempts cannot
    overflow the time (which would fail every delivery behind that notice)."""
    return min(timedelta(minutes=2 ** min(attempts - 1, 20)), MAX_BACKOFF)


async def deliver(session: AsyncSession, now: datetime) -> int:
    """Send what is due. Each notice is claimed, sent and marked in one transaction of its
    own (the caller's session; committed here per notice). Returns how many were sent."""
    from app.wards.models import Ward

    config = get_settings()
    sent = 0
    while True:
        query = (
            select(AlertNotification)
            .where(
                AlertNotification.sent_at.is_(None),
                AlertNotification.attempts < config.notify_max_attempts,
                AlertNotification.next_attempt_at <= now,
            )
            .order_by(AlertNotification.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        notice = await session.scalar(query)
        if notice is None:
            await session.commit()
            return sent
        alert = await session.get_one(Alert, notice.alert_id)
        if notice.kind == "raised" and alert.status == "withdrawn":
            # Withdrawn before it went: nobody needs waking for it, nor a withdrawn notice.
            notice.attempts = config.notify_max_attempts
            notice.last_error = "not sent: the alert was withdrawn first"
            await session.commit()
            continue
        ward_code = (
            await session.scalar(select(Ward.code).where(Ward.id == alert.ward_id))
            if alert.ward_id
            else None
        )
        try:
            await _send(notice, alert, ward_code)
        except Exception as exc:  # the outside world failed: try again later
            notice.attempts += 1
            notice.last_error = f"{type(exc).__name__}: {exc}"[:500]
            notice.next_attempt_at = now + backoff(notice.attempts)
            log.warning("alert %s %s notice failed: %s", alert.id, notice.channel, exc)
        else:
            notice.attempts += 1
            notice.sent_at = now
            sent += 1
        await session.commit()
