"""Weekly report PDFs cannot starve the ward board (issue 17, finding 10): a bounded number
are laid out at once, one more is told "busy, try again" at once, a finished week's report
is kept and served again, and the same PDF asked for twice is laid out once.

No timing: the slots are held by the test, and the layout waits on events the test sets.
The layout itself is replaced by a stand-in (the real one runs in a child process)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from app.errors import Busy
from app.reports import report
from app.reports.heavy import ReportCache
from app.reports.period import TRUST, Week
from tests.reports.blank import blank_report

API = "/api/v1/reports/weekly"
WEEK = {"week_ending": "2026-03-08"}  # a finished week at the test clock (10 March 2026)


@pytest.fixture
def renders(app):
    """Count the layouts; each gives a tiny stand-in PDF (the real one is laid out in a
    child process: tests/reports/test_outputs.py)."""
    calls: list[str] = []

    async def fake(data):
        calls.append(data.week_ending.isoformat())
        return b"%PDF-1.7 " + data.week_ending.isoformat().encode()

    app.state.reports.render = fake
    return calls


@pytest.fixture
def builds(monkeypatch):
    calls: list[str] = []
    real = report.build

    async def counting(session, *, scope, week, now, weeks=26):
        calls.append(week.ending.isoformat())
        return await real(session, scope=scope, week=week, now=now, weeks=weeks)

    monkeypatch.setattr(report, "build", counting)
    return calls


async def hold_every_slot(app) -> int:
    slots = app.state.reports.slots
    held = 0
    while not slots.locked():
        await slots.acquire()
        held += 1
    return held


async def test_a_pdf_past_the_limit_is_busy_at_once_while_the_board_still_answers(
    app, client, world, signed_in, renders
):
    held = await hold_every_slot(app)
    assert held == 2  # report_pdf_concurrency's default

    r = await client.get(API + ".pdf", headers=world.auth("director"), params=WEEK)
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0
    assert "try again" in r.json()["detail"].lower()
    assert renders == []

    # The nurse is not the one told to wait: her board (API and page) answers.
    board = await client.get("/api/v1/wards/ASH/board", headers=world.auth("nurse"))
    assert board.status_code == 200
    nurse = await signed_in("nurse")
    assert (await nurse.get("/wards/ASH")).status_code == 200
    # So do the report's lighter forms.
    assert (await client.get(API, headers=world.auth("director"), params=WEEK)).status_code == 200

    # A person who followed the page's PDF link gets a page saying so, not JSON.
    director = await signed_in("director")
    page = await director.get(API + ".pdf", params=WEEK, headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "try again" in page.text.lower() and page.headers["retry-after"]

    for _ in range(held):
        app.state.reports.slots.release()
    r = await client.get(API + ".pdf", headers=world.auth("director"), params=WEEK)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert renders == ["2026-03-08"]


async def test_a_finished_weeks_report_is_kept_and_made_again_when_it_is_old(
    client, world, clock, renders, builds
):
    auth = world.auth("director")
    for path in (".pdf", ".pdf", ".csv", ""):
        assert (await client.get(API + path, headers=auth, params=WEEK)).status_code == 200
    assert (len(builds), len(renders)) == (1, 1)
    first = (await client.get(API, headers=auth, params=WEEK)).json()["generated_at"]

    # Another scope or week is another report.
    ward = {**WEEK, "ward_code": "ASH"}
    assert (await client.get(API + ".pdf", headers=auth, params=ward)).status_code == 200
    assert (len(builds), len(renders)) == (2, 2)

    # Records typed in late for that week show once the kept copy is older than
    # report_cache_seconds (300 by default).
    clock.now += timedelta(seconds=300)
    r = await client.get(API + ".pdf", headers=auth, params=WEEK)
    assert r.status_code == 200
    assert (len(builds), len(renders)) == (3, 3)
    assert (await client.get(API, headers=auth, params=WEEK)).json()["generated_at"] != first


class NoDatabase:
    """The session the cache is given: only ended (the report's data is stubbed)."""

    async def commit(self) -> None:
        pass


async def test_the_same_pdf_asked_twice_is_laid_out_once_and_takes_no_second_slot(
    monkeypatch, clock
):
    started, release = asyncio.Event(), asyncio.Event()
    calls: list[str] = []

    async def build(session, *, scope, week, now, weeks=26):
        return blank_report(week_ending=week.ending)

    async def slow(data):
        calls.append(data.week_ending.isoformat())
        started.set()
        await release.wait()
        return b"%PDF-1.7"

    monkeypatch.setattr(report, "build", build)
    cache = ReportCache(pdf_slots=2, keep_for=timedelta(minutes=5), render=slow)
    await cache.slots.acquire()  # one of the two slots taken by someone else
    this, other = Week(date(2026, 3, 8)), Week(date(2026, 3, 1))

    def ask(week):
        return cache.pdf(NoDatabase(), scope=TRUST, week=week, now=clock.now)  # type: ignore[arg-type]

    first = asyncio.create_task(ask(this))
    await started.wait()
    # Both slots are in use; the same PDF waits for the one under way ...
    second = asyncio.create_task(ask(this))
    await asyncio.sleep(0)  # let it reach the wait
    # ... while another week is refused at once.
    with pytest.raises(Busy):
        await ask(other)
    release.set()
    assert [(await t)[1] for t in (first, second)] == [b"%PDF-1.7", b"%PDF-1.7"]
    assert calls == ["2026-03-08"]
    # Its slot is free again, and the PDF is kept: asked again, it is not laid out again.
    cache.slots.release()
    assert not cache.slots.locked()
    assert (await ask(this))[1] == b"%PDF-1.7" and calls == ["2026-03-08"]
