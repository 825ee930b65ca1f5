"""The Monday report: made once per week and scope, kept unchanged, emailed with its PDF to
a real SMTP server started here, and listed for download."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pypdf
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import get_settings
from app.reports import jobs
from app.reports.models import ReportEmail, ReportSnapshot
from tests.alerts.test_notify import Mailbox, free_port
from tests.reports import scenario

MONDAY_7 = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 07:00 BST, the Monday after the week
ENV = ("WARDFLOW_SMTP_HOST", "WARDFLOW_SMTP_PORT", "WARDFLOW_REPORT_RECIPIENTS",
       "WARDFLOW_ALERT_EMAIL_FROM")  # fmt: skip
DIRECTORS = ["board@trust.example", "ceo@trust.example"]


@pytest.fixture
def sessions(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(
        WARDFLOW_SMTP_HOST="127.0.0.1",
        WARDFLOW_SMTP_PORT=str(port),
        WARDFLOW_REPORT_RECIPIENTS=json.dumps(DIRECTORS),
        WARDFLOW_ALERT_EMAIL_FROM="wardflow@trust.example",
    )
    get_settings.cache_clear()
    try:
        yield box
    finally:
        controller.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def test_the_week_is_released_on_monday_at_seven_uk_time() -> None:
    assert jobs.released_week(MONDAY_7).ending == date(2026, 3, 29)
    just_before = datetime(2026, 3, 30, 5, 59, tzinfo=UTC)  # 06:59 BST
    assert jobs.released_week(just_before).ending == date(2026, 3, 22)
    winter = datetime(2026, 3, 23, 7, 0, tzinfo=UTC)  # 07:00 GMT
    assert jobs.released_week(winter).ending == date(2026, 3, 22)


async def test_the_monday_job_makes_one_snapshot_and_emails_it(
    client, world, clock, session, sessions, mailbox
) -> None:
    await scenario.build(client, world, clock)
    first = await jobs.weekly_report_job(sessions, now=lambda: MONDAY_7)
    again = await jobs.weekly_report_job(sessions, now=lambda: MONDAY_7.replace(hour=9))
    assert again.id == first.id
    count = await session.scalar(select(func.count()).select_from(ReportSnapshot))
    assert count == 1
    assert first.week_ending == date(2026, 3, 29)
    assert (first.scope_type, first.scope_code, first.trigger) == ("trust", "", "scheduler")
    assert first.data["occupied_bed_days"] == 11
    # One email, to the list, with the PDF, sent once.
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert sorted(mailbox.envelopes[0][1]) == sorted(DIRECTORS)
    assert "week ending 29 Mar 2026" in message["Subject"]
    assert "Occupancy 12.4 %" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf_text = pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "12.4 % (11 of 89)" in " ".join(pdf_text.split())
    email = await session.scalar(select(ReportEmail))
    assert email is not None and email.sent_at == MONDAY_7 and email.attempts == 1


async def test_a_failed_email_is_tried_again_later(
    client, world, clock, session, sessions, mailbox
) -> None:
    clock.now = scenario.AFTER
    mailbox.refuse = "451 Try again later"
    await jobs.weekly_report_job(sessions, now=lambda: MONDAY_7)
    email = await session.scalar(select(ReportEmail))
    assert email is not None and email.sent_at is None and email.attempts == 1
    assert "451" in (email.last_error or "")
    mailbox.refuse = None
    assert (
        await jobs.email_job(sessions, now=lambda: MONDAY_7.replace(second=30)) == 0
    )  # 1 min later
    assert await jobs.email_job(sessions, now=lambda: MONDAY_7.replace(hour=8)) == 1
    assert len(mailbox.messages) == 1


async def test_a_snapshot_is_never_changed_or_deleted(
    client, world, clock, session, sessions
) -> None:
    clock.now = scenario.AFTER
    snapshot = await jobs.weekly_report_job(sessions, now=lambda: MONDAY_7)
    for statement in (
        "UPDATE report_snapshots SET trigger = 'cli'",
        "DELETE FROM report_snapshots",
    ):
        with pytest.raises((IntegrityError, DBAPIError)) as refused:
            async with session.begin_nested():
                await session.execute(text(statement))
        assert "report snapshots are immutable" in str(refused.value)
    assert (await session.get(ReportSnapshot, snapshot.id)) is not None


async def test_snapshots_are_listed_and_downloaded(client, world, clock, sessions) -> None:
    clock.now = scenario.AFTER
    snapshot = await jobs.weekly_report_job(sessions, now=lambda: MONDAY_7)
    auth = world.auth("director")
    listed = (await client.get("/api/v1/reports/snapshots", headers=auth)).json()
    assert [s["id"] for s in listed] == [snapshot.id]
    assert listed[0]["week_ending"] == "2026-03-29"
    r = await client.get(f"/api/v1/reports/snapshots/{snapshot.id}.json", headers=auth)
    assert r.json()["week_ending"] == "2026-03-29"
    r = await client.get(f"/api/v1/reports/snapshots/{snapshot.id}.pdf", headers=auth)
    assert r.content.startswith(b"%PDF")
    r = await client.get(f"/api/v1/reports/snapshots/{snapshot.id}.csv", headers=auth)
    assert r.text.startswith("measure,breakdown,group,value\n")
    assert (
        await client.get("/api/v1/reports/snapshots/999999.pdf", headers=auth)
    ).status_code == 404
    nurse = world.auth("nurse")
    assert (await client.get("/api/v1/reports/snapshots", headers=nurse)).status_code == 403


async def test_the_scheduler_makes_it_on_mondays_at_seven_uk_time(engine, sessions) -> None:
    from app import scheduler as scheduler_jobs

    scheduler = scheduler_jobs.make_scheduler(sessions, scheduler_jobs.Leadership(engine))
    found = {job.id: job for job in scheduler.get_jobs()}
    monday = found["weekly_report"]
    assert monday.func is scheduler_jobs.report_tick
    assert str(monday.trigger.timezone) == "Europe/London"
    fields = {f.name: str(f) for f in monday.trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("mon", "7", "0")
    # 07:00 on the Monday the clocks have gone forward is 06:00 UTC.
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert monday.trigger.get_next_fire_time(None, after) == MONDAY_7
    assert found["weekly_report_catch_up"].func is scheduler_jobs.report_tick


async def test_only_the_leader_makes_it(client, world, clock, session, sessions) -> None:
    from app import scheduler as scheduler_jobs

    class Follower:
        busy = __import__("asyncio").Lock()

        async def held(self) -> bool:
            return False

    await scheduler_jobs.report_tick(sessions, Follower())  # type: ignore[arg-type]
    assert await session.scalar(select(func.count()).select_from(ReportSnapshot)) == 0
