"""Slots for weekly-report PDFs shared by every web worker on this machine.

A per-process limit multiplied by the workers: 4 workers with 2 slots each let 8 reports
be read and laid out at once on a 2-core machine, and each one read holds its worker's
event loop for a few hundred milliseconds, so a nurse's board request queued behind it
(bench: board p95 from 33 to 270 ms while 10 clients asked for PDFs). CPU is a machine's,
so the limit is the machine's: slot i is an exclusive `flock` on file i of a directory
the workers share. The operating system frees a slot when its holder closes it or dies,
so a killed worker never leaves a slot taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from pathlib import Path


def default_directory(database_url: str) -> Path:
    """One directory per database: the workers of one service share it; a second service
    on the same machine with its own database (a test run beside another) does not."""
    key = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"wardflow-report-slots-{key}"


class HostSlots:
    """At most `count` held at once across the processes sharing `directory`."""

    def __init__(self, count: int, directory: Path | None = None) -> None:
        self.count = count
        # None: slots private to this process (a cache made by hand in a test).
        self.directory = directory or Path(tempfile.mkdtemp(prefix="wardflow-report-slots-"))
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._held: dict[int, int] = {}  # slot -> file descriptor holding its lock

    def _path(self, slot: int) -> Path:
        return self.directory / f"slot-{slot}.lock"

    def _take(self, slot: int) -> int | None:
        fd = os.open(self._path(slot), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def try_acquire(self) -> bool:
        """Take a free slot at once; False when every slot is held (here or elsewhere)."""
        for slot in range(self.count):
            if slot in self._held:
                continue
            fd = self._take(slot)
            if fd is not None:
                self._held[slot] = fd
                return True
        return False

    async def acquire(self) -> None:
        """As `try_acquire`, for a caller that has checked `locked()` first."""
        if not self.try_acquire():
            raise RuntimeError("every report slot is held")

    def locked(self) -> bool:
        """Every slot held, by this process or another."""
        for slot in range(self.count):
            if slot in self._held:
                continue
            fd = self._take(slot)
            if fd is not None:
                os.close(fd)  # closing the descriptor releases the lock
                return False
        return True

    def __del__(self) -> None:
        # A cache dropped while holding slots (a test that failed midway) frees them.
        for fd in self._held.values():
            with contextlib.suppress(OSError):
                os.close(fd)

    def release(self) -> None:
        """Give back one slot this process holds (they are interchangeable)."""
        _slot, fd = self._held.popitem()
        with contextlib.suppress(OSError):
            os.close(fd)
