"""The directors' weekly report for a 1,000-bed trust with a year of history (issue 8's
report goal), on its own PostgreSQL set: JSON, PDF and CSV through the running service,
beside one hand-written SQL query of the week's occupied bed days and a bare route
serving a body of the JSON's size."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench import contention, raw, sets
from bench.config import Config, DataSet
from bench.measure import _get, _timed, console, facts, latency
from bench.servers import running

REQUESTS = 20  # timed requests of each form (after the warm-up ones)

# Occupied bed days of the week: the local midnights Tuesday 00:00 to the next Monday
# 00:00 at which a stay held a bed (API.md, Reports), for the whole trust.
OCCUPIED_BED_DAYS = """
SELECT count(*) FROM ward_stays s
JOIN generate_series(($1::date + 1)::timestamp, ($1::date + 7)::timestamp, interval '1 day') m
  ON s.started_at < (m AT TIME ZONE 'Europe/London')
 AND (s.ended_at IS NULL OR s.ended_at >= (m AT TIME ZONE 'Europe/London'))
"""


def last_finished_week(today: date) -> date:
    """The Sunday that ended the last whole week (a Sunday's own week is not over)."""
    return today - timedelta(days=today.weekday() + 1)


async def _director_token(url: str) -> str:
    from app.auth import service as auth
    from app.clock import utcnow
    from app.db import make_engine

    engine = make_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            director = await auth.get_user(session, "director")
            token = await auth.make_api_token(session, user=director, now=utcnow())
            await session.commit()
            return token
    finally:
        await engine.dispose()


def _fetch(
    client: httpx.AsyncClient, path: str, query: dict[str, str]
) -> Callable[[], Awaitable[httpx.Response]]:
    return lambda: _get(client, path, params=query)


async def _measure(base: str, bare: str, url: str, token: str) -> dict[str, Any]:
    from app.clock import local_date, utcnow

    sunday = last_finished_week(local_date(utcnow()))
    query = {"week_ending": sunday.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {"week_ending": sunday.isoformat()}
    async with (
        httpx.AsyncClient(base_url=base, timeout=300, headers=headers) as client,
        httpx.AsyncClient(base_url=bare, timeout=300) as floor,
    ):
        for form, path in (
            ("json", "/api/v1/reports/weekly"),
            ("pdf", "/api/v1/reports/weekly.pdf"),
            ("csv", "/api/v1/reports/weekly.csv"),
        ):
            size = len((await _get(client, path, params=query)).content)
            out[form] = latency(await _timed(_fetch(client, path, query), REQUESTS), size)
        json_size = out["json"]["bytes"]
        out["bare"] = latency(
            await _timed(lambda: _get(floor, f"/json/{json_size}"), REQUESTS), json_size
        )
    monday = sunday - timedelta(days=6)
    async with raw.Raw(url) as db:
        out["sql"] = {
            **latency(await _timed(lambda: db.fetch(OCCUPIED_BED_DAYS, monday), REQUESTS)),
            "occupied_bed_days": (await db.fetch(OCCUPIED_BED_DAYS, monday))[0][0],
        }
    return out


def measure_report(config: Config, data: DataSet) -> dict[str, Any]:
    console.rule(f"[bold]Weekly report: {data.label}")
    prepared = sets.prepare(config, data)
    try:
        result: dict[str, Any] = {
            "set": {
                "engine": data.engine,
                "label": data.label,
                "beds": data.beds,
                "admissions_asked": data.admissions,
                "workers": data.workers,
                "build_seconds": prepared.build_seconds,
                "reused": prepared.reused,
                **asyncio.run(facts(prepared.url)),
            }
        }
        token = asyncio.run(_director_token(prepared.url))
        nurse_token, ward = asyncio.run(contention.nurse_access(prepared.url))
        # Every request makes its report: nothing kept (the goal is about making one).
        uncached = {"WARDFLOW_REPORT_CACHE_SECONDS": "0"}
        with running(prepared.url, data.workers, settings=uncached) as (service, bare):
            result.update(
                asyncio.run(_measure(service.base_url, bare.base_url, prepared.url, token))
            )
        console.print(
            f"  weekly report p95: JSON {result['json']['p95_ms']:.0f} ms, "
            f"PDF {result['pdf']['p95_ms']:.0f} ms, CSV {result['csv']['p95_ms']:.0f} ms"
        )
        # A fresh service (nothing kept from the measurement above) for the contention.
        with running(prepared.url, data.workers) as (service, _bare):
            sunday = date.fromisoformat(result["week_ending"])
            result["contention"] = asyncio.run(
                contention.measure(service.base_url, token, nurse_token, ward, sunday, REQUESTS * 5)
            )
        print_contention(result["contention"])
        return result
    finally:
        sets.discard(config, data, prepared)


def print_contention(c: dict[str, Any]) -> None:
    for name in ("board", "sign_in"):
        q, loaded = c["quiet"][name], c["loaded"][name]
        console.print(
            f"  {name} p50/p95 quiet {q['p50_ms']:.0f}/{q['p95_ms']:.0f} ms, while "
            f"{c['pdf_clients']} PDF clients ask {loaded['p50_ms']:.0f}/{loaded['p95_ms']:.0f}"
            f" ms, {loaded['failed']} failed"
        )
    console.print(f"  PDF answers meanwhile: {c['pdf_answers_during']}")
