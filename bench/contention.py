"""Heavy work must not starve the ward (issue 17, finding 10): the nurse's ward board and a
sign-in, timed on a quiet service and again while 10 directors' clients keep asking for
weekly-report PDFs of weeks not yet made (each PDF client asks again 0.2 s after an answer,
a 503 "busy" included, as an impatient script would).

Reported: each timing quiet and under load (p50, p95, and how many failed), and what the
PDF clients got (made, refused as busy, failed). The goal: the board and the sign-in keep
their speed (p95 under load within 2 times quiet, or within 50 ms of it, and none failed);
the PDFs beyond the service's limit are the ones told to wait.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.measure import PASSWORD, latency

PDF_CLIENTS = 10
AGAIN_AFTER = 0.2  # seconds between a PDF client's answer and its next request
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def nurse_access(url: str) -> tuple[str, str]:
    """The demo nurse's API token and one of her wards (any size: small sets have no
    30-bed ward)."""
    from app.auth import service as auth
    from app.clock import utcnow
    from app.db import make_engine

    engine = make_engine(url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            nurse = await auth.get_user(session, "nurse")
            token = await auth.make_api_token(session, user=nurse, now=utcnow())
            ward = await session.scalar(
                text(
                    "SELECT w.code FROM wards w JOIN user_wards uw ON uw.ward_id = w.id"
                    " JOIN users u ON u.id = uw.user_id WHERE u.username = 'nurse'"
                    " ORDER BY (SELECT count(*) FROM beds b WHERE b.ward_id = w.id) DESC"
                )
            )
            await session.commit()
            return token, str(ward)
    finally:
        await engine.dispose()


async def _sign_in(base: str) -> httpx.Response:
    """What a person does: the form (its CSRF cookie and token), then the password."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as person:
        form = await person.get("/login")
        match = _CSRF.search(form.text)
        token = match.group(1) if match else ""
        answer = await person.post(
            "/login",
            data={"username": "nurse", "password": PASSWORD, "csrf_token": token, "next": ""},
        )
        # A good sign-in is a redirect to the nurse's wards.
        if answer.status_code != 303:
            raise httpx.HTTPStatusError("sign-in", request=answer.request, response=answer)
        return answer


async def _samples(call: Callable[[], Awaitable[Any]], n: int) -> dict[str, Any]:
    times, failed = [], 0
    for _ in range(n):
        started = time.perf_counter()
        try:
            response = await call()
            if isinstance(response, httpx.Response) and response.status_code >= 400:
                failed += 1
        except httpx.HTTPError:
            failed += 1
        times.append(time.perf_counter() - started)
    return {**latency(times), "failed": failed}


async def _pdf_client(
    client: httpx.AsyncClient,
    weeks: list[str],
    stop: asyncio.Event,
    tally: dict[str, int],
    answered: asyncio.Event,
) -> None:
    for week in weeks:
        if stop.is_set():
            return
        try:
            r = await client.get("/api/v1/reports/weekly.pdf", params={"week_ending": week})
            key = {200: "made", 503: "busy"}.get(r.status_code, f"status_{r.status_code}")
        except httpx.HTTPError:
            key = "failed"
        tally[key] = tally.get(key, 0) + 1
        answered.set()
        await asyncio.sleep(AGAIN_AFTER)


async def measure(
    base: str, director_token: str, nurse_token: str, ward: str, last_sunday: date, n: int
) -> dict[str, Any]:
    nurse = {"Authorization": f"Bearer {nurse_token}"}
    director = {"Authorization": f"Bearer {director_token}"}
    async with httpx.AsyncClient(base_url=base, timeout=120, headers=nurse) as ward_client:

        def board() -> Awaitable[httpx.Response]:
            return ward_client.get(f"/api/v1/wards/{ward}/board")

        def sign_in() -> Awaitable[httpx.Response]:
            return _sign_in(base)

        for _ in range(5):  # warm-up
            await board()
        await sign_in()
        quiet = {"board": await _samples(board, n), "sign_in": await _samples(sign_in, n // 4)}

        # Each PDF client its own weeks (older ones first made by nobody): every request is
        # a PDF to lay out, never one kept from before.
        weeks = [(last_sunday - timedelta(weeks=k)).isoformat() for k in range(1, 53)]
        stop, answered, tally = asyncio.Event(), asyncio.Event(), {}
        async with httpx.AsyncClient(base_url=base, timeout=300, headers=director) as pdfs:
            clients = [
                asyncio.create_task(_pdf_client(pdfs, weeks[i::PDF_CLIENTS], stop, tally, answered))
                for i in range(PDF_CLIENTS)
            ]
            # Under way once the first answers (made or busy) have come back.
            await answered.wait()
            loaded = {
                "board": await _samples(board, n),
                "sign_in": await _samples(sign_in, n // 4),
            }
            during = dict(tally)
            stop.set()
            await asyncio.gather(*clients)
    return {
        "pdf_clients": PDF_CLIENTS,
        "quiet": quiet,
        "loaded": loaded,
        "pdf_answers_during": during,
        "kept_speed": {
            name: loaded[name]["failed"] == 0
            and (
                loaded[name]["p95_ms"] <= 2 * quiet[name]["p95_ms"]
                or loaded[name]["p95_ms"] <= quiet[name]["p95_ms"] + 50
            )
            for name in ("board", "sign_in")
        },
    }
