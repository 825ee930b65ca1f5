"""The Monday report: made at 07:00 Europe/London for the week just ended, kept as a
snapshot, and emailed (PDF attached) to WARDFLOW_REPORT_RECIPIENTS.

Plain idempotent functions, run by the scheduler (app/scheduler.py) under the same
leadership as the rule runs: one snapshot per week whatever runs it or how often, and an
email marked sent in the transaction that sent it, retried with backoff when it fails.
Run at start as well as on Mondays, so a Monday missed while the service was down is made
when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, time
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.alerts.notify import backoff
from app.clock import local_tz, utcnow
from app.config import Settings, get_settings
from app.reports import service
from app.reports.models import ReportEmail, ReportSnapshot
from app.reports.period import DAY, Week, last_finished

log = logging.getLogger(__name__)
RELEASE = time(7, 0)  # Monday, local time


def released_week(now: datetime) -> Week:
    """The latest week whose report is due by now: last week's from Monday 07:00 on."""
    week = last_finished(now)
    release = datetime.combine(week.ending + DAY, RELEASE, tzinfo=local_tz())
    return week if now >= release else week.back(1)


async def make_weekly(session: AsyncSession, now: datetime) -> tuple[ReportSnapshot, bool]:
    """The trust's snapshot for the released week, made and its email queued if missing."""
    config = get_settings()
    recipients = config.report_recipients if config.smtp_host else []
    return await service.keep(
        session, week=released_week(now), now=now, trigger="scheduler", recipients=recipients
    )


def _send(config: Settings, snapshot: ReportSnapshot, recipients: list[str]) -> None:
    data = service.kept_report(snapshot)
    message = EmailMessage()
    message["Subject"] = f"[Wardflow] Weekly report, week ending {snapshot.week_ending:%d %b %Y}"
    message["From"] = config.alert_email_from
    message["To"] = ", ".join(recipients)
    readings = "\n".join(f"- {t.reading}" for t in data.trends.values())
    # Aggregate figures only: no one is named in an email.
    message.set_content(
        f"The weekly report for {data.week_start} to {data.week_ending} is attached.\n\n"
        f"{readings}\n\n{config.public_url.rstrip('/')}/reports/weekly"
        f"?week_ending={data.week_ending}\n"
    )
    message.add_attachment(
        snapshot.pdf,
        maintype="application",
        subtype="pdf",
        filename=f"wardflow-weekly-{snapshot.week_ending.isoformat()}.pdf",
    )
    assert config.smtp_host is not None
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=30) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_username:
            smtp.login(config.smtp_username, config.smtp_password or "")
        smtp.send_message(message)


async def deliver(session: AsyncSession, now: datetime) -> int:
    """Send the report emails that are due, each committed as sent (or failed) on its own."""
    config = get_settings()
    sent = 0
    pending = list(
        await session.scalars(
            select(ReportEmail.id).where(
                ReportEmail.sent_at.is_(None),
                ReportEmail.attempts < config.notify_max_attempts,
                ReportEmail.next_attempt_at <= now,
            )
        )
    )
    for email_id in pending:
        query = select(ReportEmail).where(ReportEmail.id == email_id, ReportEmail.sent_at.is_(None))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        email = await session.scalar(query)
        if email is None or not config.smtp_host:
            continue
        snapshot = await session.get_one(ReportSnapshot, email.snapshot_id)
        email.attempts += 1
        try:
            await asyncio.to_thread(_send, config, snapshot, email.recipients)
        except Exception as exc:  # the mail server failed: try again later
            email.last_error = f"{type(exc).__name__}: {exc}"[:500]
            email.next_attempt_at = now + backoff(email.attempts)
            log.warning("weekly report email %s failed: %s", email.id, exc)
        else:
            email.sent_at = now
            sent += 1
        await session.commit()
    await session.commit()
    return sent


async def weekly_report_job(
    sessions: async_sessionmaker[AsyncSession], now: Callable[[], datetime] = utcnow
) -> ReportSnapshot:
    moment = now()
    async with sessions() as session:
        snapshot, made = await make_weekly(session, moment)
        await session.commit()
        if made:
            log.info("weekly report for the week ending %s made", snapshot.week_ending)
        await deliver(session, moment)
    return snapshot


async def email_job(
    sessions: async_sessionmaker[AsyncSession], now: Callable[[], datetime] = utcnow
) -> int:
    async with sessions() as session:
        return await deliver(session, now())
