"""`make test`: the SQLite pass (with the browser tests) and the PostgreSQL pass at once.

    python -m tests.run_passes POSTGRES_URL [pytest arguments for both passes...]

The two passes share nothing (each pytest run works in databases of its own, see
tests/dbutil.py), so they run side by side and the wall time is the slower pass, not the
sum. Each pass's output goes to a log and is printed whole when the pass ends, so the two
never interleave; a line every minute says what is still running. Exits non-zero if either
pass failed (or was interrupted), after printing both.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HEARTBEAT_SECONDS = 60.0


@dataclass
class Pass:
    name: str
    args: list[str]
    env: dict[str, str]
    folder: Path
    started: float = 0.0
    ended: float | None = None
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.folder / "output.log"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("wb")
        # Each pass has its own temporary folder: pytest's shared numbered folders are
        # cleaned by whichever run starts next, which two runs at once must not do.
        command = [sys.executable, "-m", "pytest", f"--basetemp={self.folder / 'tmp'}"]
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603
            [*command, *self.args],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so stopping it stops its servers and browsers too
        )

    def poll(self) -> int | None:
        assert self.process is not None
        code = self.process.poll()
        if code is not None and self.ended is None:
            self.ended = time.monotonic()
            assert self.log is not None
            self.log.close()
        return code

    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGINT first: pytest then runs its teardown (dropping the run's databases).
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.poll()


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def without_browser_tests(args: list[str]) -> list[str]:
    """`args` for the PostgreSQL pass: the browser tests left out, also when `args` choose
    tests by marker themselves (pytest keeps only the last -m)."""
    out, marker = [], None
    rest = iter(args)
    for arg in rest:
        if arg == "-m":
            marker = next(rest, "")
        elif arg.startswith("-m") and len(arg) > 2:
            marker = arg[2:]
        else:
            out.append(arg)
    expression = "not e2e" if marker is None else f"not e2e and ({marker})"
    return ["-m", expression, *out]


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    postgres_url, extra = argv[0], argv[1:]
    base = {k: v for k, v in os.environ.items() if k != "WARDFLOW_TEST_DATABASE_URL"}
    work = Path(tempfile.mkdtemp(prefix="wardflow-test-"))
    passes = [
        Pass("SQLite (with browser tests)", [*extra], dict(base), work / "sqlite"),
        Pass(
            "PostgreSQL",
            without_browser_tests(extra),
            {**base, "WARDFLOW_TEST_DATABASE_URL": postgres_url},
            work / "postgres",
        ),
    ]

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    began = time.monotonic()
    codes: dict[str, int] = {}
    try:
        for p in passes:
            p.start()
            print(f"== started the {p.name} pass (log: {p.log_path})", flush=True)
        next_beat = time.monotonic() + HEARTBEAT_SECONDS
        while len(codes) < len(passes):
            for p in passes:
                if p.name in codes:
                    continue
                code = p.poll()
                if code is None:
                    continue
                codes[p.name] = code
                verdict = "passed" if code == 0 else f"FAILED (exit {code})"
                print(f"\n== {p.name} pass {verdict} in {minutes(p.seconds())}", flush=True)
                sys.stdout.write(p.log_path.read_text(errors="replace"))
                print(f"== end of the {p.name} pass", flush=True)
            if time.monotonic() >= next_beat:
                running = ", ".join(
                    f"{p.name} ({minutes(p.seconds())})" for p in passes if p.name not in codes
                )
                print(f"== still running: {running}", flush=True)
                next_beat += HEARTBEAT_SECONDS
            time.sleep(0.5)
    except KeyboardInterrupt:
        for p in passes:
            p.stop()
        print("\n== interrupted; logs kept in", work, flush=True)
        return 130

    print(f"\n== wall time {minutes(time.monotonic() - began)}:", flush=True)
    for p in passes:
        verdict = "passed" if codes[p.name] == 0 else f"FAILED (exit {codes[p.name]})"
        print(f"   {p.name}: {verdict} in {minutes(p.seconds())}", flush=True)
    if all(code == 0 for code in codes.values()):
        shutil.rmtree(work, ignore_errors=True)
        return 0
    print(f"   logs and temporary files kept in {work}", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
