"""Serving the weekly report without starving the wards (issue 17, finding 10).

Ten PDFs asked for at once by one director used to lay out ten reports side by side, each
holding its database transaction (on SQLite, the one write lock) for the seconds it took,
so the nurses' ward board waited or failed with 503. Now, per process:

- A finished week's report is kept in memory for `report_cache_seconds` (default 5
  minutes) and served again: the data for the page, the JSON and the CSV, and the PDF.
  A finished week can still change when records are typed in late; those appear once the
  kept copy is older than that. Each copy carries its `generated_at`, shown on the page
  and in every form, so a reader sees how fresh it is. The kept snapshots
  (report_snapshots) are not used for this: they are what was sent on the Monday, and
  must not change, while a download should show what is known now.
- At most `report_pdf_concurrency` PDFs (default 2) are made at once on this machine,
  by all its web workers together (app/reports/slots.py). One more is
  refused at once with 503 and Retry-After ("busy, try again"), to the one who asked for
  the PDF; nobody else waits. Asking again for a PDF already being laid out waits for
  that one rather than laying it out twice.
- The transaction that read the report's data ends before the layout starts, and the
  layout runs in a child process at low priority (below), so neither the database, nor
  the event loop, nor the CPU the ward board needs is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import get_settings
from app.errors import Busy
from app.reports import pdf, report
from app.reports.period import Scope, Week
from app.reports.schemas import WeeklyReport
from app.reports.slots import HostSlots, default_directory

# The PDFs are laid out in child processes (a pool per web worker, as many as the
# slots), at a lower CPU priority than the web workers: WeasyPrint's layout is Python that
# holds the GIL, so in a thread of the web worker it slowed every request of that worker
# (bench: the board's p95 from 0.1 s to 2.9 s while PDFs were made); in a nice(10) child,
# the operating system gives the CPU to the ward board first. Spawned, not forked: the
# web worker has threads and an event loop running.
_POOL: ProcessPoolExecutor | None = None
NICENESS = 10


def _child_start() -> None:
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    import weasyprint  # noqa: F401  (loaded once per child, not at each PDF)


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            max_workers=get_settings().report_pdf_concurrency,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_start,
        )
    return _POOL


async def render_in_child(data: WeeklyReport) -> bytes:
    """The PDF, laid out in a child process (the event loop and the GIL stay free)."""
    return await asyncio.get_running_loop().run_in_executor(_pool(), pdf.render, data)


def shutdown() -> None:
    """At the web worker's end (the lifespan): the children go with it."""
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


Key = tuple[str, str, str]  # week ending, scope type, scope code
KEPT = 64  # reports kept per process (a few weeks of every ward's and site's)
RETRY_AFTER = 10  # seconds: about what one PDF takes to lay out at 1,000 beds


@dataclass
class Kept:
    made_at: datetime
    data: WeeklyReport
    pdf: bytes | None = None


class ReportCache:
    """One per application (app.state.reports): the kept reports and the PDF slots."""

    def __init__(
        self,
        *,
        pdf_slots: int,
        keep_for: timedelta,
        render: Callable[[WeeklyReport], Awaitable[bytes]] | None = None,
        slot_directory: Path | None = None,
    ) -> None:
        self.keep_for = keep_for
        self.slots = HostSlots(pdf_slots, slot_directory)
        # How a PDF is laid out: by default in a child process at low priority.
        self.render = render or render_in_child
        self._kept: OrderedDict[Key, Kept] = OrderedDict()
        self._rendering: dict[Key, tuple[asyncio.Future[bytes], Kept]] = {}

    @classmethod
    def from_settings(cls) -> ReportCache:
        config = get_settings()
        return cls(
            pdf_slots=config.report_pdf_concurrency,
            keep_for=timedelta(seconds=config.report_cache_seconds),
            slot_directory=default_directory(config.database_url),
        )

    @staticmethod
    def _key(scope: Scope, week: Week) -> Key:
        return (week.ending.isoformat(), scope.type, scope.code)

    def _fresh(self, key: Key, now: datetime) -> Kept | None:
        kept = self._kept.get(key)
        if kept is None or not (kept.made_at <= now < kept.made_at + self.keep_for):
            return None
        self._kept.move_to_end(key)
        return kept

    def _keep(self, key: Key, kept: Kept) -> None:
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > KEPT:
            self._kept.popitem(last=False)

    async def data(
        self, session: AsyncSession, *, scope: Scope, week: Week, now: datetime
    ) -> WeeklyReport:
        """The report's figures, from the kept copy while it is fresh."""
        key = self._key(scope, week)
        kept = self._fresh(key, now)
        if kept is None:
            kept = Kept(now, await report.build(session, scope=scope, week=week, now=now))
            self._keep(key, kept)
        return kept.data

    async def pdf(
        self, session: AsyncSession, *, scope: Scope, week: Week, now: datetime
    ) -> tuple[WeeklyReport, bytes]:
        """The report and its PDF; Busy (503) at once when every PDF slot is taken."""
        key = self._key(scope, week)
        kept = self._fresh(key, now)
        if kept is not None and kept.pdf is not None:
            return kept.data, kept.pdf
        pending = self._rendering.get(key)
        if pending is None:
            if not self.slots.try_acquire():
                raise Busy(
                    "Other weekly reports are being made just now. Try again in a few "
                    "seconds; the ward pages are not affected.",
                    RETRY_AFTER,
                )
            try:
                data = await self.data(session, scope=scope, week=week, now=now)
                target = self._kept[key]
                # End the read transaction before the layout: on SQLite it holds the
                # database's one lock, which every other request would wait for.
                await session.commit()
                future: asyncio.Future[bytes] = asyncio.ensure_future(self.render(data))
            except BaseException:
                self.slots.release()
                raise
            pending = (future, target)
            self._rendering[key] = pending
            future.add_done_callback(lambda task: self._rendered(key, target, task))
        future, target = pending
        return target.data, await asyncio.shield(future)

    def _rendered(self, key: Key, target: Kept, task: asyncio.Future[bytes]) -> None:
        self.slots.release()
        self._rendering.pop(key, None)
        if not task.cancelled() and task.exception() is None:
            target.pdf = task.result()
