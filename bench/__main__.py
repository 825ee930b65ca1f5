"""`python -m bench` (what `make bench` runs): build or reuse every set, measure each in
turn, write bench/results/ and print the table with the goals."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

# The measuring process signs people in and runs rules through the service's own code; it
# must not make or read the developer's own secret, nor start a scheduler.
os.environ.setdefault("WARDFLOW_SECRET_KEY", "bench-not-secret")
os.environ["WARDFLOW_SCHEDULER_ENABLED"] = "false"

import logging

from bench import config, measure, report, sets, weekly

# A rule check that fails is logged with its whole statement (tens of thousands of bind
# parameters at national scale); the benchmark records the failure in its results.
logging.getLogger("app.alerts.engine").setLevel(logging.CRITICAL)


def main() -> int:
    from app import extensions

    extensions.register_all()  # the service's own code, wired as the web app is
    settings = config.load()
    started = datetime.now(UTC)
    clock = time.monotonic()
    console = measure.console
    results: list[dict[str, Any]] = []
    for data in settings.sets:
        console.rule(f"[bold]{data.label}")
        console.print("  data set")
        prepared = sets.prepare(settings, data)
        console.print(
            f"  {'reusing' if prepared.reused else 'built'} the set (build took "
            f"{prepared.build_seconds:.0f} s, {prepared.built_at:%Y-%m-%d %H:%M} UTC)"
        )
        try:
            results.append(measure.measure(settings, data, prepared))
        finally:
            sets.discard(settings, data, prepared)
        report.write(results, started)  # after each set, so a long run shows progress
    weekly_report = (
        weekly.measure_report(settings, settings.report) if settings.report is not None else None
    )
    path = report.write(results, started, weekly_report)
    console.print(path.read_text())
    console.print(
        f"Whole run: {(time.monotonic() - clock) / 60:.1f} minutes. Results in {path.parent}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
