"""Profiling aids for the board, bed search and admissions (not part of `make bench`).

    python -m bench.probe statements URL [--show] [--cpu N]
        Each request once, in this process (the app over ASGI, no server): how many SQL
        statements the ward board (HTML and JSON), bed search and POST /api/v1/admissions
        send, and with --show the statements themselves; with --cpu N, then N of each and
        the CPU time of this process per request. Writes admissions (use a copy).

    python -m bench.probe timings URL [--app-dir DIR] [--workers 4] [--requests 200]
                                      [--admissions 600] [--copy] [--runs N]
        The service as `wardflow serve --workers N` runs it (uvicorn), from the code in DIR
        (default: this checkout; a `git archive` of an earlier commit measures "before"), on
        URL: board HTML and JSON and bed search p50/p95, and admissions per second (32 in
        flight, as `make bench`). With --copy each run works on a fresh copy of the database
        (CREATE DATABASE ... TEMPLATE, dropped after), so admissions do not use up its
        empty beds.

URL is a database URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/wardflow_perf.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("WARDFLOW_SECRET_KEY", "bench-not-secret")
os.environ["WARDFLOW_SCHEDULER_ENABLED"] = "false"


def _kind(statement: str) -> str:
    words = statement.split()
    head = words[0].upper() if words else "?"
    if head == "SELECT" and " FROM " in statement:
        table = statement.split(" FROM ", 1)[1].split()[0]
        return f"SELECT {table}"
    if head in ("INSERT", "UPDATE") and len(words) > 2:
        return f"{head} {words[2] if head == 'INSERT' else words[1]}"
    return head


async def statements(url: str, show: bool, cpu: int = 0) -> dict[str, Any]:
    os.environ["WARDFLOW_DATABASE_URL"] = url
    import httpx
    from sqlalchemy import event

    from app.config import get_settings
    from app.db import get_engine

    get_settings.cache_clear()
    from app.main import create_app
    from bench import measure

    access = await measure._access(url)
    queries = await measure._search_queries(url, 50 if cpu else 5)
    places = await measure._placements(url, 3 + (cpu + 5 if cpu else 0))
    seen: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(get_engine().sync_engine, "before_cursor_execute", before)
    app = create_app()
    out: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:

        async def count(name: str, method: str, path: str, **kwargs: Any) -> None:
            # The first of each is a warm-up (compiled caches); the second is counted.
            for attempt in range(2):
                seen.clear()
                response = await client.request(method, path, **kwargs)
                assert response.status_code < 300, (path, response.status_code, response.text)
                if attempt == 1 or method == "POST":
                    break
            out[name] = {"statements": len(seen), "by_kind": Counter(map(_kind, seen))}
            if show:
                out[name]["sql"] = [" ".join(s.split())[:300] for s in seen]

        nurse = {"Authorization": f"Bearer {access.nurse_token}"}
        manager = {"Authorization": f"Bearer {access.manager_token}"}
        client.cookies.set("wardflow_session", access.nurse_cookie)
        await count("board_html", "GET", f"/wards/{access.ward}")
        client.cookies.clear()
        await count("board_json", "GET", f"/api/v1/wards/{access.ward}/board", headers=nurse)
        q = {k: v for k, v in queries[0].items() if not k.startswith("_")}
        await count("search", "GET", "/api/v1/beds/search", params=q, headers=manager)
        at = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
        for i, p in enumerate(places[:3]):
            await count(
                f"admission_{i}",
                "POST",
                "/api/v1/admissions",
                headers=manager,
                json={
                    "patient_id": p.patient_id, "ward_code": p.ward_code, "bed_label": p.bed_label,
                    "admitted_at": at.isoformat(), "legal_status": "informal",
                    "reason": "Probe admission", "expected_benefit": "Probe admission",
                },
            )  # fmt: skip
        if cpu:
            # CPU of this process per request (the app and the client; not PostgreSQL's),
            # which a busy machine disturbs far less than wall-clock latency.
            async def cpu_of(name: str, call: Any, n: int) -> None:
                for i in range(5):
                    await call(i)
                started, clock = time.process_time(), time.perf_counter()
                for i in range(5, 5 + n):
                    response = await call(i)
                    assert response.status_code < 300, response.text
                out[name]["cpu_ms"] = round((time.process_time() - started) * 1000 / n, 2)
                out[name]["wall_ms"] = round((time.perf_counter() - clock) * 1000 / n, 2)

            client.cookies.set("wardflow_session", access.nurse_cookie)
            await cpu_of("board_html", lambda _i: client.get(f"/wards/{access.ward}"), cpu)
            client.cookies.clear()
            await cpu_of(
                "board_json",
                lambda _i: client.get(f"/api/v1/wards/{access.ward}/board", headers=nurse),
                cpu,
            )
            searches = [{k: v for k, v in q.items() if not k.startswith("_")} for q in queries]
            await cpu_of(
                "search",
                lambda i: client.get(
                    "/api/v1/beds/search", params=searches[i % len(searches)], headers=manager
                ),
                cpu,
            )
            rest = places[3:]

            def admit(i: int) -> Any:
                p = rest[i]
                return client.post(
                    "/api/v1/admissions",
                    headers=manager,
                    json={
                        "patient_id": p.patient_id, "ward_code": p.ward_code,
                        "bed_label": p.bed_label, "admitted_at": at.isoformat(),
                        "legal_status": "informal", "reason": "Probe admission",
                        "expected_benefit": "Probe admission",
                    },
                )  # fmt: skip

            await cpu_of("admission_0", admit, len(rest) - 5)
    from app.db import dispose_engine

    await dispose_engine()
    return out


async def _copy(url: str) -> str:
    from bench.sets import _admin

    server, name = url.rsplit("/", 1)
    copy = f"{name}_probe"
    await _admin(
        server,
        f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)",
        f"CREATE DATABASE {copy} TEMPLATE {name}",
    )
    return f"{server}/{copy}"


async def _drop(url: str) -> None:
    from bench.sets import _admin

    server, name = url.rsplit("/", 1)
    await _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _serve(app_dir: str, url: str, workers: int, port: int) -> Any:
    """`wardflow serve --workers N` as it runs uvicorn, from the code in app_dir (so code
    from before a change can be measured beside the code after it)."""
    from bench import servers
    from bench.sets import _env

    command = [
        sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--proxy-headers", "--log-level", "info",
    ]  # fmt: skip
    env = _env(url)
    env["PYTHONPATH"] = app_dir
    original = servers.ROOT
    servers.ROOT = Path(app_dir)  # the working directory of the process
    try:
        return servers._start(command, env, port, workers, f"probe-{port}.log")
    finally:
        servers.ROOT = original


async def _reads(base_url: str, access: Any, url: str, n: int) -> dict[str, Any]:
    import httpx

    from bench import measure

    out: dict[str, Any] = {}
    queries = await measure._search_queries(url)
    turn = {"i": 0}

    def params() -> dict[str, Any]:
        turn["i"] += 1
        q = queries[turn["i"] % len(queries)]
        return {k: v for k, v in q.items() if not k.startswith("_")}

    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        page = f"/wards/{access.ward}"
        api = f"/api/v1/wards/{access.ward}/board"
        nurse = {"Authorization": f"Bearer {access.nurse_token}"}
        manager = {"Authorization": f"Bearer {access.manager_token}"}
        client.cookies.set("wardflow_session", access.nurse_cookie)
        out["board_html"] = measure.latency(
            await measure._timed(lambda: measure._get(client, page), n)
        )
        out["board_json"] = measure.latency(
            await measure._timed(lambda: measure._get(client, api, headers=nurse), n)
        )
        out["search"] = measure.latency(
            await measure._timed(
                lambda: measure._get(
                    client, "/api/v1/beds/search", params=params(), headers=manager
                ),
                n,
            )
        )
    return out


async def _writes(base_url: str, access: Any, url: str, count: int) -> dict[str, Any]:
    import httpx

    from bench import measure

    places = await measure._placements(url, count)
    headers = {"Authorization": f"Bearer {access.manager_token}"}
    at = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    limits = httpx.Limits(
        max_connections=measure.IN_FLIGHT, max_keepalive_connections=measure.IN_FLIGHT
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:

        async def admit(i: int) -> str | None:
            p = places[i]
            response = await client.post(
                "/api/v1/admissions",
                headers=headers,
                json=measure.admission_json(p, at),
            )
            if response.status_code == 201:
                return None
            return f"{response.status_code} {response.text[:200]}"

        return await measure._at_rate(len(places), admit)


def timings(
    url: str,
    app_dir: str,
    workers: int,
    requests: int,
    admissions: int,
    copy: bool,
    runs: int,
    port: int = 8791,
) -> dict[str, Any]:
    from bench import measure
    from bench.servers import stop

    out: dict[str, Any] = {"app_dir": app_dir, "workers": workers, "runs": []}
    for _ in range(runs):
        target = asyncio.run(_copy(url)) if copy else url
        run: dict[str, Any] = {}
        try:
            access = asyncio.run(measure._access(target))
            server = _serve(app_dir, target, workers, port)
            try:
                run.update(asyncio.run(_reads(server.base_url, access, target, requests)))
                if admissions:
                    run["admissions"] = asyncio.run(
                        _writes(server.base_url, access, target, admissions)
                    )
            finally:
                stop(server)
        finally:
            if copy:
                asyncio.run(_drop(target))
        print(json.dumps(run), file=sys.stderr)
        out["runs"].append(run)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("what", choices=["statements", "timings"])
    parser.add_argument("url")
    parser.add_argument("--show", action="store_true")
    parser.add_argument("--cpu", type=int, default=0, help="then time N of each, CPU per request")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--admissions", type=int, default=600)
    parser.add_argument("--copy", action="store_true")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--app-dir", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args()
    if args.what == "statements":
        result = asyncio.run(statements(args.url, args.show, args.cpu))
    else:
        result = timings(
            args.url,
            args.app_dir,
            args.workers,
            args.requests,
            args.admissions,
            args.copy,
            args.runs,
            args.port,
        )
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
