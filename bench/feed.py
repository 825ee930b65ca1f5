"""The PAS feed at national volume: a day of England's ADT traffic, planned against the set
as it is (`app.demo.adt`, what `wardflow adt demo-day` writes), sent through MLLP to the
real listener (`wardflow adt listen`, its own process on the set's database) one message at
a time, each waiting for its ACK as an integration engine does; then the same messages to
the bare MLLP listener (`bench.bare_mllp`), the limit.

England admits about 100,000 people a year to mental health beds; with their transfers,
leave and updates that is a few thousand messages a day, under 0.1 a second. What matters
is the burst after a PAS outage, when the engine sends its backlog at once: the figure is how
long a whole day's backlog takes to drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bench.config import ROOT, WORK
from bench.sets import WARDFLOW, _env

ACK_WAIT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _plan(url: str) -> list[str]:
    from app.db import make_engine
    from app.demo import adt

    engine = make_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            day = await adt.day_of_traffic(session, datetime.now(UTC), seed=1, quirks=False)
    finally:
        await engine.dispose()
    return [m.text for m in day]


@contextlib.contextmanager
def _listening(command: list[str], env: dict[str, str], port: int, log: str):  # type: ignore[no-untyped-def]
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / log).open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command} stopped at start; see {WORK / log}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{command} did not listen within a minute")
                time.sleep(0.2)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _send_all(port: int, messages: list[str]) -> dict[str, Any]:
    """Each message and its ACK in turn over one connection: rate, ACK latency, non-AA."""
    from app.pas.listener import END, START, decode
    from bench.measure import latency

    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**22)
    samples: list[float] = []
    refused: list[str] = []
    started = time.perf_counter()
    try:
        for message in messages:
            sent = time.perf_counter()
            writer.write(START + message.encode("utf-8") + END)
            await writer.drain()
            ack = decode(await asyncio.wait_for(reader.readuntil(END), ACK_WAIT))
            samples.append(time.perf_counter() - sent)
            msa = next((s for s in ack.split("\r") if s.startswith("MSA|")), "MSA|?")
            if msa.split("|")[1] != "AA":
                refused.append(msa[:160])
    finally:
        writer.close()
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "per_second": round(len(messages) / seconds, 1),
        "ack": latency(samples),
        "not_accepted": len(refused),
    }
    if refused:
        out["examples"] = refused[:5]
    return out


def measure(url: str) -> dict[str, Any]:
    messages = asyncio.run(_plan(url))
    events: dict[str, int] = {}
    for text in messages:
        event = text.split("\r", 1)[0].split("|")[8].split("^")[1]
        events[event] = events.get(event, 0) + 1
    out: dict[str, Any] = {"messages": len(messages), "events": dict(sorted(events.items()))}
    port = _free_port()
    with _listening(
        [WARDFLOW, "adt", "listen", "--port", str(port)], _env(url), port, "adt-listen.log"
    ):
        out["listener"] = asyncio.run(_send_all(port, messages))
    bare = _free_port()
    with _listening(
        [sys.executable, "-m", "bench.bare_mllp", str(bare)], _env(url), bare, "bare-mllp.log"
    ):
        out["bare"] = asyncio.run(_send_all(bare, messages))
    out["listener"]["failed"] = out["listener"]["not_accepted"]
    rate = out["listener"]["per_second"]
    out["day_drains_in_s"] = round(len(messages) / rate, 1) if rate else None
    return out
