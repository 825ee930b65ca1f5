"""The service and the bare floor as real servers: uvicorn processes on loopback ports,
with the scheduler off (rule runs are measured on their own, not in the background)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.config import ROOT, WORK
from bench.sets import WARDFLOW, _env


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    workers: int

    def worker_pids(self) -> list[int]:
        """The processes that answer requests: uvicorn's workers, or itself when alone."""
        if self.workers <= 1:
            return [self.process.pid]
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of any worker, in MB."""
        peaks = []
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=0.0)


def _start(command: list[str], env: dict[str, str], port: int, workers: int, log: str) -> Server:
    WORK.mkdir(parents=True, exist_ok=True)
    out = (WORK / log).open("wb")
    process = subprocess.Popen(  # noqa: S603
        command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(process, f"http://127.0.0.1:{port}", workers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} stopped at start; see {WORK / log}")
        with contextlib.suppress(httpx.HTTPError):
            answered = httpx.get(f"{server.base_url}/healthz", timeout=2).status_code
            if answered in (200, 404) and (workers <= 1 or len(server.worker_pids()) >= workers):
                time.sleep(1.0)  # every worker past its start-up
                return server
        time.sleep(0.25)
    stop(server)
    raise RuntimeError(f"{command[0]} did not answer within a minute; see {WORK / log}")


def stop(server: Server) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


@contextlib.contextmanager
def running(
    url: str, workers: int, port: int = 8765, settings: dict[str, str] | None = None
) -> Iterator[tuple[Server, Server]]:
    """The service on `url` (with any WARDFLOW_ `settings` besides), and the bare floor
    beside it, with the same workers."""
    service = _start(
        [WARDFLOW, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        {**_env(url), **(settings or {})},
        port,
        workers,
        "service.log",
    )
    try:
        bare = _start(
            [
                sys.executable, "-m", "uvicorn", "bench.bare:app", "--host", "127.0.0.1",
                "--port", str(port + 1), "--workers", str(workers), "--log-level", "warning",
            ],
            dict(os.environ),
            port + 1,
            workers,
            "bare.log",
        )  # fmt: skip
    except BaseException:
        stop(service)
        raise
    try:
        yield service, bare
    finally:
        stop(bare)
        stop(service)
