"""Notices of high-severity alerts, by email and by webhook, against a real SMTP server and a
real HTTP receiver started here (the issue: each channel optional, retried with backoff,
never sent twice for one alert)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import engine, notify
from app.alerts.models import Alert, AlertNotification
from app.config import get_settings
from tests.alerts.scenario import start_seclusion
from tests.factories import World

API = "/api/v1"
M = timedelta(minutes=1)
H = timedelta(hours=1)
PUBLIC_URL = "https://wardflow.trust.example"
RECIPIENTS = ["safeguarding@trust.example", "ward-manager@trust.example"]
SENDER = "alerts@trust.example"
PAYLOAD_FIELDS = {
    "id",
    "rule",
    "severity",
    "status",
    "subject_type",
    "subject_id",
    "admission_id",
    "ward_code",
    "due_at",
    "raised_at",
    "message",
    "url",
}
NOTIFY_ENV = (
    "WARDFLOW_SMTP_HOST",
    "WARDFLOW_SMTP_PORT",
    "WARDFLOW_SMTP_USERNAME",
    "WARDFLOW_SMTP_PASSWORD",
    "WARDFLOW_SMTP_STARTTLS",
    "WARDFLOW_ALERT_EMAIL_FROM",
    "WARDFLOW_ALERT_EMAIL_TO",
    "WARDFLOW_ALERT_WEBHOOK_URL",
    "WARDFLOW_NOTIFY_MAX_ATTEMPTS",
    "WARDFLOW_PUBLIC_URL",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a real SMTP server ------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; `refuse` makes it answer DATA with an error."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: str | None = None
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.refuse:
            return self.refuse
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


# --- a real HTTP receiver ----------------------------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0  # seconds each request takes to answer
        self.requests = 0
        self.lock = threading.Lock()
        self.url = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(state.delay)
            with state.lock:
                state.requests += 1
                status = state.status
                if status < 300:
                    state.posts.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type"),
                            "json": json.loads(body),
                        }
                    )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/wardflow"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- settings ----------------------------------------------------------------------------


@pytest.fixture
def configure() -> Iterator[Callable[..., None]]:
    """Set notification settings in the environment (and drop the cached settings);
    everything goes back as it was after the test."""
    saved = {name: os.environ.get(name) for name in NOTIFY_ENV}

    def apply(**values: Any) -> None:
        for name in NOTIFY_ENV:
            os.environ.pop(name, None)
        for key, value in values.items():
            name = f"WARDFLOW_{key.upper()}"
            assert name in NOTIFY_ENV, name
            os.environ[name] = json.dumps(value) if isinstance(value, list) else str(value)
        get_settings.cache_clear()

    apply()
    try:
        yield apply
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@pytest.fixture
def both(configure, smtp, receiver) -> tuple[Mailbox, Receiver]:  # type: ignore[no-untyped-def]
    mailbox, port = smtp
    configure(
        smtp_host="127.0.0.1",
        smtp_port=port,
        alert_email_from=SENDER,
        alert_email_to=RECIPIENTS,
        alert_webhook_url=receiver.url,
        public_url=PUBLIC_URL + "/",
    )
    return mailbox, receiver


# --- records -----------------------------------------------------------------------------


async def secluded(client, world: World, start: datetime, bed: str = "A1") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An admission and a seclusion started at `start` (authorised by the nurse in charge,
    so the first medical review is due an hour later), through the JSON API."""
    admission = await world.admit(bed=bed, at=start - 2 * H)
    return await start_seclusion(client, world, admission.id, start, "nurse")


async def run(session: AsyncSession, as_of: datetime, now: datetime) -> engine.RunResult:
    result = await engine.run_rules(session, as_of=as_of, now=now, trigger="api")
    await session.commit()
    assert result.run.errors == {}
    return result


async def notices(session: AsyncSession) -> list[AlertNotification]:
    rows = await session.scalars(select(AlertNotification).order_by(AlertNotification.id))
    found = list(rows)
    for row in found:
        await session.refresh(row)
    return found


def high_open(result: engine.RunResult) -> list[Alert]:
    return [a for a in result.raised if a.severity == "high" and a.status == "open"]


# --- tests -------------------------------------------------------------------------------


async def test_a_high_alert_is_sent_once_by_email_and_once_by_webhook(
    client, world: World, clock, session: AsyncSession, both
) -> None:
    mailbox, receiver = both
    start = clock.now - 75 * M
    seclusion = await secluded(client, world, start)

    result = await run(session, as_of=clock.now, now=clock.now)
    # The missed first medical review (high), and observations (medium) that wake nobody.
    assert {(a.rule, a.severity) for a in result.raised} == {
        ("SECL_MEDICAL_FIRST", "high"),
        ("SECL_OBSERVATION", "medium"),
    }
    [alert] = high_open(result)
    queued = await notices(session)
    assert sorted((n.alert_id, n.channel) for n in queued) == [
        (alert.id, "email"),
        (alert.id, "webhook"),
    ]
    assert all(n.sent_at is None and n.attempts == 0 for n in queued)
    assert mailbox.messages == [] and receiver.posts == []  # queued, not sent, by the run

    assert await notify.deliver(session, clock.now) == 2

    [email] = mailbox.messages
    assert mailbox.envelopes == [(SENDER, RECIPIENTS)]
    assert email["From"] == SENDER
    assert [a.strip() for a in email["To"].split(",")] == RECIPIENTS
    assert email["Subject"] == "[Wardflow] HIGH SECL_MEDICAL_FIRST on ASH"
    body = email.get_content()
    assert alert.message in body
    assert f"{PUBLIC_URL}/alerts/{alert.id}" in body
    assert "Due Tue 10 Mar 2026 11:45." in body  # London is on UTC in early March

    [post] = receiver.posts
    assert post["path"] == "/hooks/wardflow"
    assert post["content_type"] == "application/json"
    sent = post["json"]
    assert set(sent) == PAYLOAD_FIELDS
    assert sent["id"] == alert.id
    assert sent["rule"] == "SECL_MEDICAL_FIRST"
    assert sent["severity"] == "high" and sent["status"] == "open"
    assert sent["subject_type"] == "seclusion" and sent["subject_id"] == seclusion["id"]
    assert sent["admission_id"] == seclusion["admission_id"]
    assert sent["ward_code"] == "ASH"
    assert datetime.fromisoformat(sent["due_at"]) == start + H
    assert datetime.fromisoformat(sent["raised_at"]) == clock.now
    assert sent["message"] == alert.message
    assert sent["url"] == f"{PUBLIC_URL}/alerts/{alert.id}"

    # No patient name leaves the building in either notice.
    for text_ in (email.as_string(), json.dumps(sent)):
        assert "Jane" not in text_ and "Smith" not in text_

    for row in await notices(session):
        assert row.sent_at == clock.now and row.attempts == 1 and row.last_error is None


async def test_the_email_says_when_in_london_time(
    client, world: World, clock, session: AsyncSession, both
) -> None:
    """Summer time: due 09:00 UTC in July is 10:00 in London."""
    mailbox, _ = both
    clock.now = datetime.fromisoformat("2026-07-14T09:30:00+00:00")
    world.now = clock.now
    await secluded(client, world, clock.now - 90 * M)
    await run(session, as_of=clock.now, now=clock.now)
    await notify.deliver(session, clock.now)
    [email] = mailbox.messages
    assert "Due Tue 14 Jul 2026 10:00" in email.get_content()


async def test_medium_low_and_already_cleared_alerts_send_nothing(
    client, world: World, clock, session: AsyncSession, both
) -> None:
    mailbox, receiver = both
    # Medium: observations missed, the first medical review not yet due.
    start = clock.now - 50 * M
    await secluded(client, world, start)
    result = await run(session, as_of=clock.now, now=clock.now)
    assert result.raised and {a.severity for a in result.raised} == {"medium"}
    assert await notices(session) == []

    # Low: a trust made the first medical review low severity.
    r = await client.patch(f"{API}/rules/SECL_MEDICAL_FIRST", json={"severity": "low"},
                           headers=world.auth())  # fmt: skip
    assert r.status_code == 200, r.text
    clock.now += 30 * M
    result = await run(session, as_of=clock.now, now=clock.now)
    assert ("SECL_MEDICAL_FIRST", "low", "open") in {
        (a.rule, a.severity, a.status) for a in result.raised
    }
    assert await notices(session) == []
    r = await client.patch(f"{API}/rules/SECL_MEDICAL_FIRST", json={"severity": "high"},
                           headers=world.auth())  # fmt: skip
    assert r.status_code == 200, r.text

    # Raised already cleared: the first medical review happened, late, before the run saw it.
    late_start = clock.now - 100 * M
    other = await secluded(client, world, late_start, bed="A2")
    r = await client.post(
        f"{API}/seclusions/{other['id']}/reviews",
        headers=world.auth("nurse"),
        json={"kind": "medical", "at": (late_start + 80 * M).isoformat(), "note": "Reviewed"},
    )
    assert r.status_code == 201, r.text
    result = await run(session, as_of=clock.now, now=clock.now)
    first = [
        a for a in result.raised if a.rule == "SECL_MEDICAL_FIRST" and a.subject_id == other["id"]
    ]
    assert [(a.severity, a.status) for a in first] == [("high", "cleared")]
    assert await notices(session) == []

    assert await notify.deliver(session, clock.now) == 0
    assert mailbox.messages == [] and mailbox.attempts == 0
    assert receiver.requests == 0


@pytest.mark.parametrize("smtp_failure", ["refused", "nobody_listening"])
async def test_a_failing_receiver_is_retried_with_backoff_and_sent_once_it_works(
    client, world: World, clock, session: AsyncSession, smtp, receiver, configure, smtp_failure
) -> None:
    mailbox, port = smtp
    settings = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "alert_email_to": RECIPIENTS,
        "alert_webhook_url": receiver.url,
    }
    if smtp_failure == "refused":
        mailbox.refuse = "451 4.3.0 Mailbox temporarily unavailable"
        configure(**settings)
    else:
        configure(**{**settings, "smtp_port": free_port()})
    receiver.status = 500

    t0 = clock.now
    await secluded(client, world, t0 - 75 * M)
    [alert] = high_open(await run(session, as_of=t0, now=t0))

    # First attempt: both fail, and are kept for a minute later.
    assert await notify.deliver(session, t0) == 0
    queued = await notices(session)
    assert len(queued) == 2
    for n in queued:
        assert n.attempts == 1 and n.sent_at is None
        assert n.next_attempt_at == t0 + M
    by_channel = {n.channel: n for n in queued}
    assert "500" in (by_channel["webhook"].last_error or "")
    if smtp_failure == "refused":
        assert "451" in (by_channel["email"].last_error or "")
        assert mailbox.attempts == 1
    else:
        assert "refused" in (by_channel["email"].last_error or "").lower()
    assert receiver.requests == 1

    # Not due yet: nothing is tried.
    assert await notify.deliver(session, t0 + 30 * timedelta(seconds=1)) == 0
    assert receiver.requests == 1

    # Second attempt fails too: the wait doubles (1, 2, 4... minutes).
    assert await notify.deliver(session, t0 + M) == 0
    for n in await notices(session):
        assert n.attempts == 2 and n.sent_at is None
        assert n.next_attempt_at == t0 + M + 2 * M
    assert receiver.requests == 2

    # The outside world is back: sent, once, on the next due attempt.
    receiver.status = 200
    mailbox.refuse = None
    configure(**settings)
    assert await notify.deliver(session, t0 + 2 * M) == 0  # still waiting
    assert await notify.deliver(session, t0 + 3 * M) == 2
    for n in await notices(session):
        assert n.attempts == 3 and n.sent_at == t0 + 3 * M
    assert len(mailbox.messages) == 1 and len(receiver.posts) == 1
    assert receiver.posts[0]["json"]["id"] == alert.id

    assert await notify.deliver(session, t0 + H) == 0
    assert len(mailbox.messages) == 1 and receiver.requests == 3


async def test_a_notice_is_given_up_after_the_maximum_attempts(
    client, world: World, clock, session: AsyncSession, receiver, configure
) -> None:
    configure(alert_webhook_url=receiver.url, notify_max_attempts=2)
    receiver.status = 503
    t0 = clock.now
    await secluded(client, world, t0 - 75 * M)
    await run(session, as_of=t0, now=t0)
    assert await notify.deliver(session, t0) == 0
    assert await notify.deliver(session, t0 + M) == 0
    receiver.status = 200
    assert await notify.deliver(session, t0 + H) == 0
    [notice] = await notices(session)
    assert notice.attempts == 2 and notice.sent_at is None and "503" in (notice.last_error or "")
    assert receiver.requests == 2 and receiver.posts == []


async def test_delivering_or_running_the_rules_again_never_sends_twice(
    client, world: World, clock, session: AsyncSession, both
) -> None:
    mailbox, receiver = both
    t0 = clock.now
    await secluded(client, world, t0 - 75 * M)
    [first] = high_open(await run(session, as_of=t0, now=t0))
    assert await notify.deliver(session, t0) == 2
    assert await notify.deliver(session, t0) == 0
    assert await notify.deliver(session, t0 + H) == 0

    # The same breach found again, at the same and at a later as_of: no new notice.
    assert (await run(session, as_of=t0, now=t0 + M)).raised == []
    assert high_open(await run(session, as_of=t0 + 20 * M, now=t0 + 20 * M)) == []
    assert len(await notices(session)) == 2
    assert await notify.deliver(session, t0 + 20 * M) == 0
    assert len(mailbox.messages) == 1 and receiver.requests == 1

    # A new breach (the two-hourly nursing review) is a new alert, notified once itself.
    later = t0 + 60 * M
    [second] = high_open(await run(session, as_of=later, now=later))
    assert second.rule == "SECL_NURSING_REVIEW" and second.id != first.id
    assert await notify.deliver(session, later) == 2
    assert await notify.deliver(session, later + H) == 0
    assert [p["json"]["id"] for p in receiver.posts] == [first.id, second.id]
    assert [m["Subject"] for m in mailbox.messages] == [
        "[Wardflow] HIGH SECL_MEDICAL_FIRST on ASH",
        "[Wardflow] HIGH SECL_NURSING_REVIEW on ASH",
    ]
    count = await session.scalar(select(func.count()).select_from(AlertNotification))
    assert count == 4


async def test_each_channel_is_optional(
    client, world: World, clock, session: AsyncSession, smtp, receiver, configure
) -> None:
    mailbox, port = smtp
    t0 = clock.now

    # Nothing configured: nothing queued, nothing sent.
    configure()
    assert notify.channels(get_settings()) == []
    await secluded(client, world, t0 - 75 * M)
    assert len(high_open(await run(session, as_of=t0, now=t0))) == 1
    assert await notices(session) == []
    assert await notify.deliver(session, t0) == 0

    # A mail server but nobody to write to is not a channel either.
    configure(smtp_host="127.0.0.1", smtp_port=port)
    assert notify.channels(get_settings()) == []

    # Email only.
    configure(smtp_host="127.0.0.1", smtp_port=port, alert_email_to=RECIPIENTS[:1])
    await secluded(client, world, t0 - 75 * M, bed="A2")
    [alert] = high_open(await run(session, as_of=t0, now=t0 + M))
    assert [(n.alert_id, n.channel) for n in await notices(session)] == [(alert.id, "email")]
    assert await notify.deliver(session, t0 + M) == 1
    assert len(mailbox.messages) == 1 and receiver.requests == 0

    # Webhook only.
    configure(alert_webhook_url=receiver.url)
    await secluded(client, world, t0 - 75 * M, bed="A3")
    [alert] = high_open(await run(session, as_of=t0, now=t0 + 2 * M))
    assert [(n.alert_id, n.channel) for n in await notices(session)][-1] == (alert.id, "webhook")
    assert await notify.deliver(session, t0 + 2 * M) == 1
    assert len(mailbox.messages) == 1 and [p["json"]["id"] for p in receiver.posts] == [alert.id]


async def test_a_large_maximum_of_attempts_cannot_overflow_the_backoff(
    client, world: World, clock, session: AsyncSession, receiver, configure
) -> None:
    """The wait doubles up to a day; a notice at its 60th failure is put off a day, and
    does not fail the delivery of the notices behind it."""
    assert [notify.backoff(n) for n in (1, 2, 3, 8)] == [M, 2 * M, 4 * M, 128 * M]
    assert notify.backoff(12) == notify.backoff(200) == timedelta(days=1)
    configure(alert_webhook_url=receiver.url, notify_max_attempts=100)
    t0 = clock.now
    await secluded(client, world, t0 - 75 * M)
    await secluded(client, world, t0 - 75 * M, bed="A2")
    await run(session, as_of=t0, now=t0)
    first, second = await notices(session)
    first.attempts = 59
    await session.commit()
    receiver.status = 500
    assert await notify.deliver(session, t0) == 0
    first, second = await notices(session)
    assert first.attempts == 60 and first.next_attempt_at == t0 + timedelta(days=1)
    assert second.attempts == 1 and second.next_attempt_at == t0 + M
    assert receiver.requests == 2


async def test_a_withdrawn_alert_already_sent_is_followed_by_a_short_withdrawn_notice(
    client, world: World, clock, session: AsyncSession, both
) -> None:
    """RULES.md 1.1: whoever was woken for an alert learns that only the record was late."""
    mailbox, receiver = both
    start = clock.now - 75 * M
    seclusion = await secluded(client, world, start)
    [alert] = high_open(await run(session, as_of=clock.now, now=clock.now))
    assert await notify.deliver(session, clock.now) == 2
    # The first medical review happened at start + 40 min; typed in now.
    clock.now += 5 * M
    r = await client.post(
        f"{API}/seclusions/{seclusion['id']}/reviews",
        headers=world.auth(),
        json={"kind": "medical", "at": (start + 40 * M).isoformat(), "note": "Seen by Dr Rao"},
    )
    assert r.status_code == 201, r.text
    result = await run(session, as_of=clock.now, now=clock.now)
    assert [a.id for a in result.withdrawn if a.rule == "SECL_MEDICAL_FIRST"] == [alert.id]
    assert await notify.deliver(session, clock.now) == 2
    email = mailbox.messages[-1]
    assert email["Subject"] == "[Wardflow] WITHDRAWN SECL_MEDICAL_FIRST on ASH"
    assert "withdrawn: the medical review at 11:25 on 10 Mar 2026 was recorded late" in (
        email.get_content()
    )
    post = receiver.posts[-1]["json"]
    assert post["notice"] == "withdrawn" and post["status"] == "withdrawn"
    assert post["withdrawn_reason"].startswith("withdrawn: the medical review at 11:25")
    # Once only, however often the rules run.
    await run(session, as_of=clock.now + M, now=clock.now + M)
    assert await notify.deliver(session, clock.now + M) == 0


async def test_an_alert_withdrawn_before_its_notice_went_sends_nothing(
    client, world: World, clock, session: AsyncSession, both
) -> None:
    mailbox, receiver = both
    start = clock.now - 75 * M
    seclusion = await secluded(client, world, start)
    await run(session, as_of=clock.now, now=clock.now)
    clock.now += 5 * M
    r = await client.post(
        f"{API}/seclusions/{seclusion['id']}/reviews",
        headers=world.auth(),
        json={"kind": "medical", "at": (start + 40 * M).isoformat(), "note": "Seen by Dr Rao"},
    )
    assert r.status_code == 201, r.text
    await run(session, as_of=clock.now, now=clock.now)
    assert await notify.deliver(session, clock.now) == 0
    assert mailbox.messages == [] and receiver.posts == []
