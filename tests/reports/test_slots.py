"""PDF slots are the machine's, not each web worker's (app/reports/slots.py): workers
sharing a directory share the limit, and a worker that dies gives its slot back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.reports.heavy import ReportCache
from app.reports.slots import HostSlots, default_directory


def test_two_workers_sharing_a_directory_share_the_limit(tmp_path: Path) -> None:
    # Two HostSlots hold separate lock files open, exactly as two worker processes do.
    first, second = HostSlots(2, tmp_path), HostSlots(2, tmp_path)
    assert first.try_acquire()
    assert not second.locked()
    assert second.try_acquire()
    assert first.locked() and second.locked()
    assert not first.try_acquire() and not second.try_acquire()

    first.release()
    assert not second.locked()
    assert second.try_acquire()
    assert first.locked()


def test_a_slot_of_another_service_is_not_this_ones(tmp_path: Path) -> None:
    mine, theirs = HostSlots(1, tmp_path / "a"), HostSlots(1, tmp_path / "b")
    assert mine.try_acquire() and theirs.try_acquire()
    assert default_directory("sqlite:///a.db") != default_directory("sqlite:///b.db")
    assert default_directory("sqlite:///a.db") == default_directory("sqlite:///a.db")


def test_a_worker_that_dies_gives_its_slot_back(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from app.reports.slots import HostSlots;"
            f"s = HostSlots(1, Path({str(tmp_path)!r})); assert s.try_acquire();"
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"  # waits for the child, no sleep
        here = HostSlots(1, tmp_path)
        assert here.locked() and not here.try_acquire()
    finally:
        holder.kill()
        holder.wait(timeout=120)
    assert here.try_acquire()


def test_the_applications_cache_uses_the_machines_slots(app) -> None:
    cache: ReportCache = app.state.reports
    assert isinstance(cache.slots, HostSlots)
    assert cache.slots.count == 2  # WARDFLOW_REPORT_PDF_CONCURRENCY's default
