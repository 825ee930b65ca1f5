"""The measurements on one data set, each beside its limits, in this order: the rule runs
(so the board and the search then carry the alerts a live service has), the ward board,
bed search, admissions written through the API, the workers' peak memory, and the PAS feed
(bench/feed.py)."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench import feed, raw, rules
from bench.config import Config, DataSet
from bench.servers import Server, running
from bench.sets import Prepared

console = Console()
WARMUP = 10
IN_FLIGHT = 32  # concurrent requests in the write test
PASSWORD = "wardflow-demo"  # noqa: S105 (the synthetic set's documented demo password)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency(samples: list[float], size: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "p50_ms": round(percentile(samples, 0.5) * 1000, 2),
        "p95_ms": round(percentile(samples, 0.95) * 1000, 2),
        "n": len(samples),
    }
    if size is not None:
        out["bytes"] = size
    return out


async def _timed(call: Callable[[], Awaitable[Any]], n: int) -> list[float]:
    for _ in range(WARMUP):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def _get(client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    response = await client.get(url, **kwargs)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:300]}")
    return response


@dataclass
class Access:
    nurse_token: str
    nurse_cookie: str
    manager_token: str
    ward: str  # the nurse's 30-bed ward


async def _access(url: str) -> Access:
    """Sign the demo nurse in and make API tokens, through the service's own code."""
    from app.auth import service as auth
    from app.clock import utcnow
    from app.db import make_engine

    engine = make_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            now = utcnow()
            nurse = await auth.get_user(session, "nurse")
            manager = await auth.get_user(session, "bedmanager")
            signed = await auth.sign_in(session, username="nurse", password=PASSWORD, now=now)
            assert signed.cookie_value is not None, signed.error
            access = Access(
                await auth.make_api_token(session, user=nurse, now=now),
                signed.cookie_value,
                await auth.make_api_token(session, user=manager, now=now),
                str(
                    await session.scalar(
                        text(
                            "SELECT w.code FROM wards w JOIN user_wards uw ON uw.ward_id = w.id"
                            " JOIN users u ON u.id = uw.user_id WHERE u.username = 'nurse'"
                            " AND (SELECT count(*) FROM beds b WHERE b.ward_id = w.id) = 30"
                        )
                    )
                ),
            )
            await session.commit()
            return access
    finally:
        await engine.dispose()


async def facts(url: str) -> dict[str, Any]:
    """What the set holds, counted in the copy being measured."""
    async with raw.Raw(url) as db:

        async def one(sql: str) -> int:
            return int((await db.fetch(sql))[0][0])

        tables = (
            "beds", "patients", "admissions", "ward_stays", "purpose_reviews", "seclusions",
            "seclusion_observations", "segregations", "restrictive_interventions",
            "ready_for_discharge", "bed_requests", "out_of_area_placements",
        )  # fmt: skip
        rows = {t: await one(f"SELECT count(*) FROM {t}") for t in tables}  # noqa: S608
        past = await one("SELECT count(*) FROM admissions WHERE discharged_at IS NOT NULL")
        occupied = await one("SELECT count(*) FROM ward_stays WHERE ended_at IS NULL")
        open_beds = await one("SELECT count(*) FROM beds WHERE status = 'open'")
    return {
        "rows": rows,
        "past_admissions": past,
        "restrictive_episodes": rows["seclusions"]
        + rows["segregations"]
        + rows["restrictive_interventions"],
        "occupancy": round(occupied / open_beds, 3),
    }


# --- reads: the ward board and bed search -------------------------------------------------


async def board(service: Server, bare: Server, access: Access, url: str, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=service.base_url, timeout=120) as client,
        httpx.AsyncClient(base_url=bare.base_url, timeout=120) as floor,
    ):
        cookies = {"wardflow_session": access.nurse_cookie}
        headers = {"Authorization": f"Bearer {access.nurse_token}"}
        page = f"/wards/{access.ward}"
        api = f"/api/v1/wards/{access.ward}/board"
        client.cookies.update(cookies)
        html_size = len((await _get(client, page)).content)
        json_size = len((await _get(client, api, headers=headers)).content)
        out["html"] = latency(await _timed(lambda: _get(client, page), n), html_size)
        out["json"] = latency(
            await _timed(lambda: _get(client, api, headers=headers), n), json_size
        )
        out["bare_html"] = latency(
            await _timed(lambda: _get(floor, f"/html/{html_size}"), n), html_size
        )
        out["bare_json"] = latency(
            await _timed(lambda: _get(floor, f"/json/{json_size}"), n), json_size
        )
    async with raw.Raw(url) as db:
        rows = len(await db.fetch(raw.BOARD, access.ward))
        out["sql"] = {
            **latency(await _timed(lambda: db.fetch(raw.BOARD, access.ward), n)),
            "rows": rows,
        }
    return out


async def _search_queries(url: str, count: int = 50) -> list[dict[str, Any]]:
    """People of many ages and places needing a bed: mostly adult acute."""
    async with raw.Raw(url) as db:
        places = [
            (r[0], r[1], r[2])
            for r in await db.fetch("SELECT code, latitude, longitude FROM localities ORDER BY id")
        ]
    rng = random.Random(8)  # noqa: S311 (the same queries every run)
    queries = []
    for _ in range(count):
        code, lat, lon = rng.choice(places)
        kind = rng.choices(["adult_acute", "older_adult_acute", "picu"], weights=[75, 15, 10])[0]
        age = rng.randint(66, 90) if kind == "older_adult_acute" else rng.randint(18, 64)
        queries.append(
            {"sex": rng.choice(["male", "female"]), "age": age, "locality_code": code,
             "ward_type": kind, "_lat": lat, "_lon": lon}
        )  # fmt: skip
    return queries


async def search(service: Server, bare: Server, access: Access, url: str, n: int) -> dict[str, Any]:
    queries = await _search_queries(url)
    headers = {"Authorization": f"Bearer {access.manager_token}"}
    turn = {"i": 0}

    def params() -> dict[str, Any]:
        turn["i"] += 1
        q = queries[turn["i"] % len(queries)]
        return {k: v for k, v in q.items() if not k.startswith("_")}

    out: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=service.base_url, timeout=120) as client,
        httpx.AsyncClient(base_url=bare.base_url, timeout=120) as floor,
    ):
        size = len(
            (await _get(client, "/api/v1/beds/search", params=params(), headers=headers)).content
        )
        out["api"] = latency(
            await _timed(
                lambda: _get(client, "/api/v1/beds/search", params=params(), headers=headers), n
            ),
            size,
        )
        out["bare"] = latency(await _timed(lambda: _get(floor, f"/json/{size}"), n), size)
    async with raw.Raw(url) as db:

        def fetch() -> Awaitable[list[Any]]:
            turn["i"] += 1
            q = queries[turn["i"] % len(queries)]
            return db.fetch(raw.SEARCH, q["sex"], q["age"], q["_lat"], q["_lon"], q["ward_type"])

        out["sql"] = latency(await _timed(fetch, n))
    return out


# --- writes: admissions through the API ----------------------------------------------------


@dataclass
class Placement:
    patient_id: int
    ward_id: int
    ward_code: str
    bed_id: int
    bed_label: str


async def _placements(url: str, wanted: int) -> list[Placement]:
    """Empty beds, and for each a new person who fits the ward (sex, age, home nearby),
    added straight to the database: the write test times admissions, not registration."""
    from app.demo.synthetic.people import NhsNumbers

    async with raw.Raw(url) as db:
        beds = await db.fetch(
            "SELECT b.id, b.label, w.id, w.code, w.sex, w.min_age, w.max_age, st.locality_id"
            " FROM beds b JOIN wards w ON w.id = b.ward_id JOIN sites st ON st.id = w.site_id"
            " WHERE b.status = 'open' AND NOT EXISTS (SELECT 1 FROM ward_stays s"
            " WHERE s.bed_id = b.id AND s.ended_at IS NULL) ORDER BY b.id"
        )
        beds = beds[:wanted]
        numbers = NhsNumbers(9_151_515)
        unused: list[str] = []
        while len(unused) < len(beds):  # numbers not given to anyone in the set yet
            chunk = [numbers.next() for _ in range(500)]
            marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
            taken = {
                r[0]
                for r in await db.fetch(
                    f"SELECT nhs_number FROM patients WHERE nhs_number IN ({marks})",  # noqa: S608
                    *chunk,
                )
            }
            unused += [c for c in chunk if c not in taken]
        free = iter(unused)
        today = datetime.now(UTC).date()
        out = []
        for bed_id, label, ward_id, code, sex, low, high, locality in beds:
            age = 75 if low >= 65 else 15 if high < 18 else min(max(40, low), high)
            born = date(today.year - age - 1, 6, 15)
            await db.execute(
                "INSERT INTO patients (nhs_number, given_name, family_name, date_of_birth, sex,"
                " ethnic_category, home_locality_id, learning_disability, autistic, created_at)"
                " VALUES ($1, 'Bench', 'Person', $2, $3, 'A', $4, false, false, $5)",
                next(free), born, "female" if sex == "mixed" else sex, locality,
                datetime.now(UTC),
            )  # fmt: skip
            patient = await db.fetch(
                "SELECT id FROM patients WHERE given_name = 'Bench' ORDER BY id DESC LIMIT 1"
            )
            out.append(Placement(int(patient[0][0]), ward_id, code, bed_id, label))
    return out


def admission_json(place: Placement, at: datetime) -> dict[str, Any]:
    """The body of one benchmark admission into ``place``."""
    return {
        "patient_id": place.patient_id, "ward_code": place.ward_code,
        "bed_label": place.bed_label, "admitted_at": at.isoformat(), "legal_status": "informal",
        "reason": "Benchmark admission", "expected_benefit": "Benchmark admission",
    }  # fmt: skip


async def _at_rate(count: int, one: Callable[[int], Awaitable[str | None]]) -> dict[str, Any]:
    """`count` calls with IN_FLIGHT at a time; how many a second, and which failed (each
    call returns None, or why it failed)."""
    gate = asyncio.Semaphore(IN_FLIGHT)
    failures: list[str] = []

    async def guarded(i: int) -> None:
        async with gate:
            problem = await one(i)
            if problem is not None:
                failures.append(problem)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(i) for i in range(count)))
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "per_second": round(count / seconds, 1),
        "count": count,
        "failed": len(failures),
    }
    if failures:
        out["failures"] = sorted(set(failures))[:5]
    return out


async def admissions(
    service: Server, bare: Server, access: Access, url: str, wanted: int
) -> dict[str, Any]:
    places = await _placements(url, wanted * 2)
    half = len(places) // 2
    api_places, sql_places = places[:half], places[half:]
    headers = {"Authorization": f"Bearer {access.manager_token}"}
    at = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    body_size = 0
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=service.base_url, timeout=120, limits=limits) as client:

        async def admit(i: int) -> str | None:
            nonlocal body_size
            p = api_places[i]
            response = await client.post(
                "/api/v1/admissions",
                headers=headers,
                json=admission_json(p, at),
            )
            body_size = max(body_size, len(response.content))
            return (
                None
                if response.status_code == 201
                else f"{response.status_code} {response.text[:200]}"
            )

        out["api"] = await _at_rate(len(api_places), admit)
    async with httpx.AsyncClient(base_url=bare.base_url, timeout=120, limits=limits) as floor:

        async def echo(_i: int) -> str | None:
            response = await floor.post(f"/json/{body_size}", json={"reason": "x" * 300})
            return None if response.status_code == 201 else str(response.status_code)

        out["bare"] = await _at_rate(len(api_places), echo)
    out["sql"] = await _sql_admissions(url, sql_places, at)
    return out


async def _sql_admissions(url: str, places: list[Placement], at: datetime) -> dict[str, Any]:
    """The same rows written by hand: one statement per admission on PostgreSQL, over as
    many connections as the service has workers; one transaction each on SQLite."""
    if url.startswith("postgresql"):
        import asyncpg

        pool = await asyncpg.create_pool(
            url.replace("postgresql+asyncpg", "postgresql"), min_size=4, max_size=4
        )
        try:

            async def write(i: int) -> str | None:
                p = places[i]
                await pool.execute(raw.ADMIT_PG, p.patient_id, at, p.ward_id, p.bed_id)
                return None

            return await _at_rate(len(places), write)
        finally:
            await pool.close()
    async with raw.Raw(url) as db:

        async def write_sqlite(i: int) -> str | None:
            p = places[i]
            await db.execute("BEGIN")
            for statement in raw.ADMIT_SQLITE:
                await db.execute(statement, p.patient_id, at, p.ward_id, p.bed_id)
            await db.execute("COMMIT")
            return None

        return await _at_rate(len(places), write_sqlite)


# --- one set, start to finish -----------------------------------------------------------


async def _reads_and_writes(
    service: Server, bare: Server, access: Access, url: str, config: Config
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    console.print("  ward board")
    out["board"] = await board(service, bare, access, url, config.requests)
    console.print("  bed search")
    out["search"] = await search(service, bare, access, url, config.requests)
    console.print("  admissions through the API")
    out["admissions"] = await admissions(service, bare, access, url, config.admissions)
    return out


def measure(config: Config, data: DataSet, prepared: Prepared) -> dict[str, Any]:
    url = prepared.url
    result: dict[str, Any] = {
        "set": {
            "engine": data.engine,
            "label": data.label,
            "beds": data.beds,
            "admissions_asked": data.admissions,
            "workers": data.workers,
            "built_at": prepared.built_at.isoformat(timespec="seconds"),
            "build_seconds": prepared.build_seconds,
            "reused": prepared.reused,
            **asyncio.run(facts(url)),
        }
    }
    console.print("  rule runs, steady state")
    result["rules"] = asyncio.run(rules.steady(url))
    access = asyncio.run(_access(url))
    with running(url, data.workers) as (service, bare):
        result.update(asyncio.run(_reads_and_writes(service, bare, access, url, config)))
        result["memory"] = {
            "worker_peak_rss_mb": round(service.peak_rss_mb(), 1),
            "bare_peak_rss_mb": round(bare.peak_rss_mb(), 1),
        }
    console.print("  the PAS feed: a national day of ADT messages through MLLP")
    result["feed"] = feed.measure(url)
    result["weekly_report"] = "not yet built"
    if config.wants_full_run(data):
        console.print("  rule runs, the first over all history")
        result["rules"].update(asyncio.run(rules.full(url)))
    return result
