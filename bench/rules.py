"""Rule runs, timed as the scheduler's job spends them (`engine.run_rules` and its commit),
in the benchmark's own process.

Two situations, both measured where asked:

- steady: a service that has been running, whose history has been worked. The runs
  start from an earlier run recorded a minute before (so they are windowed, as the
  scheduler's runs are); the first raises what is breaching now, the next ones are what
  every minute costs. Comparable between sets of any size.
- full: the first run over all the history (a new deployment, or a rule changed), then
  windowed runs after it, which carry every alert the full run left open (old uses of
  force never debriefed, say) until someone resolves them. A full run at national scale
  takes far longer than the benchmark's budget (README), so it is done on the sets
  BENCH_FULL_RUN names, after everything else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import raw

console = Console()
WINDOWED_RUNS = 3


async def _with_engine(
    url: str, work: Callable[[Any], Awaitable[dict[str, Any]]]
) -> dict[str, Any]:
    from app.db import make_engine

    engine = make_engine(url)
    try:
        return await work(async_sessionmaker(engine, expire_on_commit=False))
    finally:
        await engine.dispose()


async def _run(maker: Callable[[], AsyncSession], label: str) -> tuple[float, Any]:
    from app.alerts import engine
    from app.clock import utcnow

    async with maker() as session:
        now = utcnow()
        started = time.perf_counter()
        outcome = await engine.run_rules(session, as_of=now, now=now, trigger="bench")
        await session.commit()
        seconds = time.perf_counter() - started
    errors = sorted((outcome.run.errors or {}).keys())
    failed = f", [red]errors {errors}[/red]" if errors else ""
    console.print(
        f"    {label}: {seconds:.2f} s, {len(outcome.raised):,} raised, "
        f"{len(outcome.cleared):,} cleared{failed}"
    )
    return seconds, outcome


async def _record_earlier_run(maker: Callable[[], AsyncSession], errors: dict[str, str]) -> None:
    """A finished run a minute ago: without errors the next run is windowed from it; with
    errors the next one looks at everything (engine._context)."""
    from app.alerts.models import RuleRun
    from app.clock import utcnow

    async with maker() as session:
        earlier = utcnow() - timedelta(minutes=1)
        session.add(
            RuleRun(
                as_of=earlier, started_at=earlier, finished_at=earlier, trigger="bench",
                runner="bench: an earlier run, recorded", raised=0, cleared=0, errors=errors,
            )
        )  # fmt: skip
        await session.commit()


async def _windowed(maker: Callable[[], AsyncSession], label: str) -> dict[str, Any]:
    times, raised, errors = [], [], set()
    for i in range(WINDOWED_RUNS):
        await asyncio.sleep(1)
        seconds, outcome = await _run(maker, f"{label} {i + 1}")
        times.append(seconds)
        raised.append(len(outcome.raised))
        errors |= set((outcome.run.errors or {}).keys())
    return {
        "seconds": [round(t, 2) for t in times],
        # The first run after the start raises what breaches now; the others are steady
        # (with two of them, this is the slower).
        "steady": round(sorted(times[1:])[len(times[1:]) // 2], 2),
        "raised": raised,
        "errors": sorted(errors),
    }


async def steady(url: str) -> dict[str, Any]:
    async def work(maker: Any) -> dict[str, Any]:
        await _record_earlier_run(maker, {})
        return {"windowed": await _windowed(maker, "windowed run")}

    result = await _with_engine(url, work)
    async with raw.Raw(url) as db:
        since = datetime.now(UTC) - timedelta(days=3)
        rows = len(await db.fetch(raw.OPEN_NOW, since))
        samples = []
        for _ in range(10):
            started = time.perf_counter()
            await db.fetch(raw.OPEN_NOW, since)
            samples.append(time.perf_counter() - started)
    samples.sort()
    result["sql"] = {
        "p50_ms": round(samples[len(samples) // 2] * 1000, 1),
        "p95_ms": round(samples[-1] * 1000, 1),
        "rows": rows,
    }
    return result


async def full(url: str) -> dict[str, Any]:
    async def work(maker: Any) -> dict[str, Any]:
        # An earlier run in which every rule failed: each rule looks at everything again
        # (engine._context), as after a new deployment.
        from app.rules import catalogue

        await _record_earlier_run(
            maker, {code: "bench: look at everything" for code in catalogue.BY_CODE}
        )
        seconds, first = await _run(maker, "full run")
        out: dict[str, Any] = {
            "full": {
                "seconds": round(seconds, 2),
                "raised": len(first.raised),
                "errors": {k: v[:300] for k, v in (first.run.errors or {}).items()},
            }
        }
        if first.run.errors:
            # A rule that failed looks at everything in the next run too. To measure the
            # windowed runs as they would be once the failing checks are fixed, the errors
            # (kept in the results) are taken off this copy's record.
            async with maker() as session:
                await session.execute(
                    text("UPDATE rule_runs SET errors = '{}' WHERE id = :id"),
                    {"id": first.run.id},
                )
                await session.commit()
            out["full"]["errors_cleared_to_measure_windowed"] = True
        out["after_full"] = await _windowed(maker, "windowed run after it")
        return out

    return await _with_engine(url, work)
