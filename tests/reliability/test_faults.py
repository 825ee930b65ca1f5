"""Faults under traffic, against the real service: a worker or the whole server killed in
the middle of writes, and PostgreSQL going away and coming back.

What a person depends on: an admission they were told was made (201) is recorded; what is
recorded is whole (its ward stay, legal status and audit entry); a retry after an unclear
failure is safe; and while the database is away the service says so (503, try again) and
comes back by itself when the database does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.factories import patient_body
from tests.reliability.harness import (
    API,
    Proxy,
    Service,
    Trust,
    admission,
    broken_admissions,
    is_problem,
    recent,
    serving,
)

pytestmark = pytest.mark.slow


# The bound on waiting for something that takes seconds on a quiet machine.
DEADLINE = 120.0


async def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


# --- killed in the middle of writes ------------------------------------------------------


async def test_a_killed_worker_or_server_loses_no_confirmed_admission_and_leaves_none_half_made(
    trust: Trust,
) -> None:
    """Eight clients admit people as fast as they can; on PostgreSQL one of the four
    workers is killed (SIGKILL) part-way, then the whole server; on SQLite the server."""
    n = 100
    beds = trust.api.ward("KILL", n)
    patients = trust.api.patients(n)
    at = recent()
    postgres = trust.db.dialect == "postgresql"
    work = list(zip(patients, beds, strict=True))
    outcomes: dict[int, httpx.Response | httpx.TransportError] = {}
    killed = asyncio.Event()

    def confirmed() -> int:
        answered = [o for o in outcomes.values() if isinstance(o, httpx.Response)]
        return sum(o.status_code == 201 for o in answered)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while work and not killed.is_set():
            patient, bed = work.pop(0)
            try:
                outcomes[patient] = await client.post(
                    f"{API}/admissions", json=admission(patient, "KILL", bed, at)
                )
            except httpx.TransportError as exc:
                outcomes[patient] = exc

    headers = {"Authorization": f"Bearer {trust.token}"}
    # A new connection for each request, so requests spread over the workers.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=trust.service.base_url, headers=headers, limits=limits, timeout=30
    ) as client:
        clients = [asyncio.create_task(client_loop(client)) for _ in range(8)]
        if postgres:
            await eventually(lambda: confirmed() >= 15, DEADLINE, "fifteen admissions")
            [victim, *_] = trust.service.worker_pids()
            os.kill(victim, signal.SIGKILL)
            at_worker_kill = confirmed()
            await eventually(
                lambda: confirmed() >= at_worker_kill + 25, DEADLINE, "more admissions"
            )
        else:
            await eventually(lambda: confirmed() >= 25, DEADLINE, "twenty-five admissions")
        trust.service.kill()
        killed.set()
        await asyncio.gather(*clients)

    responses = {p: o for p, o in outcomes.items() if isinstance(o, httpx.Response)}
    unclear = [p for p, o in outcomes.items() if not isinstance(o, httpx.Response)]
    assert {r.status_code for r in responses.values()} == {201}, [
        (r.status_code, r.text) for r in responses.values() if r.status_code != 201
    ]
    # Requests were under way when the process died (their outcome unknown to the client).
    assert any(not isinstance(outcomes[p], httpx.ConnectError) for p in unclear), unclear

    # Every admission the client was told of is recorded, in its bed; everything recorded
    # on the ward is whole.
    recorded = dict(
        trust.db.sql(
            "SELECT a.patient_id, a.id FROM admissions a JOIN ward_stays s "
            "ON s.admission_id = a.id JOIN wards w ON w.id = s.ward_id WHERE w.code = 'KILL'"
        )
    )
    for patient, response in responses.items():
        assert recorded.get(patient) == response.json()["id"], patient
    assert broken_admissions(trust.db, "KILL") == []

    # The server comes back on the same database, and sending again whatever had no
    # answer is safe: made now (201) or already made (409), never twice.
    trust.service.start()
    bed_of = dict(zip(patients, beds, strict=True))
    retried = {
        p: trust.api.client.post(f"{API}/admissions", json=admission(p, "KILL", bed_of[p], at))
        for p in unclear
    }
    for patient, response in retried.items():
        if patient in recorded:
            assert is_problem(response, 409), response.text
        else:
            assert response.status_code == 201, response.text
    counts = trust.db.sql(
        "SELECT patient_id, count(*) FROM admissions WHERE patient_id IN ("
        + ",".join(map(str, outcomes))
        + ") GROUP BY patient_id"
    )
    assert sorted(counts) == sorted((p, 1) for p in outcomes)
    assert broken_admissions(trust.db, "KILL") == []


# --- PostgreSQL away and back ------------------------------------------------------------


@dataclass
class Call:
    kind: str
    started: float
    ended: float
    response: httpx.Response | None = None
    error: str | None = None
    nhs_number: str | None = None


@dataclass
class Traffic:
    calls: list[Call] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def between(self, start: float, end: float) -> list[Call]:
        return [c for c in self.calls if c.started >= start and c.ended <= end]


async def _traffic(base_url: str, token: str, traffic: Traffic, kind: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=30
    ) as client:
        while not traffic.stop.is_set():
            started = time.monotonic()
            body: dict[str, Any] | None = None
            call = Call(kind, started, started)
            try:
                if kind == "read":
                    call.response = await client.get(f"{API}/wards")
                else:
                    body = patient_body(home_locality_code="REL")
                    call.nhs_number = body["nhs_number"]
                    call.response = await client.post(f"{API}/patients", json=body)
            except httpx.HTTPError as exc:
                call.error = repr(exc)
            call.ended = time.monotonic()
            traffic.calls.append(call)
            await asyncio.sleep(0.05)


async def test_postgresql_away_gives_503_and_the_same_server_answers_again_when_it_is_back(
    trust: Trust, postgres_only: None, tmp_path
) -> None:
    url = make_url(trust.db.url)
    with Proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        service = Service(
            through_proxy,
            tmp_path,
            workers=2,
            settings={"scheduler_enabled": "true", "rules_interval_seconds": "1"},
        )
        with serving(service):
            assert service.process is not None
            supervisor, workers = service.process.pid, service.worker_pids()
            traffic = Traffic()
            clients = [
                asyncio.create_task(_traffic(service.base_url, trust.token, traffic, kind))
                for kind in ("read", "read", "write", "write")
            ]

            # Each phase lasts until what it must show has happened (not a guessed number
            # of seconds: a busy machine serves fewer calls a second).
            def served(since: float, status: set[int], each: int) -> bool:
                done = [c for c in traffic.calls if c.started >= since and c.response]
                return all(
                    sum(c.kind == kind and c.response.status_code in status for c in done) >= each
                    for kind in ("read", "write")
                )

            await eventually(lambda: served(0, {200, 201}, 2), DEADLINE, "calls served")
            cut = time.monotonic()
            proxy.cut()
            await eventually(lambda: served(cut + 0.2, {503}, 4), DEADLINE, "calls refused")
            restored = time.monotonic()
            proxy.restore()
            await eventually(
                lambda: served(restored + 1, {200, 201}, 2), DEADLINE, "calls served again"
            )
            traffic.stop.set()
            await asyncio.gather(*clients)

            # The same processes throughout: nothing died or had to be restarted.
            assert service.process.poll() is None
            assert service.process.pid == supervisor and service.worker_pids() == workers
            log = service.log()

    calls = traffic.calls
    assert [c for c in calls if c.error] == [], log[-3000:]
    unexpected = [(c.kind, c.response.status_code, c.response.text[:300]) for c in calls
                  if c.response and c.response.status_code not in (200, 201, 503)]  # fmt: skip
    assert unexpected == [], log[-3000:]
    for c in calls:
        assert c.response is not None
        if c.response.status_code == 503:
            assert is_problem(c.response, 503), c.response.text
            assert c.response.headers["Retry-After"].isdigit()
        # Promptly: never a request hanging on a database that is not there.
        assert c.ended - c.started < 5, (c.kind, c.ended - c.started)

    before = traffic.between(0, cut)
    assert before and {c.response.status_code for c in before if c.response} <= {200, 201}
    away = traffic.between(cut + 0.2, restored)
    assert len(away) >= 8 and {c.response.status_code for c in away if c.response} == {503}
    back = traffic.between(restored + 1, float("inf"))
    assert {c.kind for c in back} == {"read", "write"}
    failed = [(c.kind, c.response.text[:200]) for c in back
              if c.response and c.response.status_code >= 300]  # fmt: skip
    assert failed == []

    # What was refused while the database was away was not written; what was confirmed was.
    def recorded(cs: list[Call]) -> int:
        numbers = ",".join(f"'{c.nhs_number}'" for c in cs)
        query = f"SELECT count(*) FROM patients WHERE nhs_number IN ({numbers})"
        return int(trust.db.scalar(query))

    refused = [c for c in away if c.kind == "write"]
    made = [c for c in calls if c.kind == "write" and c.response and c.response.status_code == 201]
    assert refused and recorded(refused) == 0
    assert made and recorded(made) == len(made)
