"""One transaction owner: the handler commits (deps.commit); get_session commits nothing,
and the tests' session fails a request that flushed and never committed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import deps
from app.db import get_session
from app.wards.models import Locality


def _locality(code: str) -> Locality:
    return Locality(code=code, name=f"Probe {code}", latitude=51.5, longitude=-0.1)


@pytest.fixture
def probes(app):  # type: ignore[no-untyped-def]
    """Routes that write and commit, write and forget, write in an undone savepoint."""

    @app.post("/_probe/committed")
    async def committed(session: AsyncSession = Depends(get_session)) -> dict[str, str]:
        session.add(_locality("PROBE-C"))
        await session.flush()
        await deps.commit(session)
        return {"ok": "yes"}

    @app.post("/_probe/forgotten")
    async def forgotten(session: AsyncSession = Depends(get_session)) -> dict[str, str]:
        session.add(_locality("PROBE-F"))
        await session.flush()
        return {"ok": "yes"}

    @app.post("/_probe/undone")
    async def undone(session: AsyncSession = Depends(get_session)) -> dict[str, str]:
        nested = await session.begin_nested()
        session.add(_locality("PROBE-U"))
        await session.flush()
        await nested.rollback()
        return {"ok": "yes"}

    @app.get("/_probe/read")
    async def read(session: AsyncSession = Depends(get_session)) -> dict[str, int]:
        return {"n": int(await session.scalar(select(func.count(Locality.id))) or 0)}

    return app


async def _count(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(func.count(Locality.id)).where(Locality.code == code))
    return int(found or 0)


async def test_a_request_that_commits_or_writes_nothing_passes(probes, client, session) -> None:
    assert (await client.post("/_probe/committed")).status_code == 200
    assert (await client.get("/_probe/read")).status_code == 200
    assert (await client.post("/_probe/undone")).status_code == 200
    assert probes.state.unsaved_requests == []
    assert await _count(session, "PROBE-C") == 1
    assert await _count(session, "PROBE-U") == 0


async def test_a_request_that_flushed_and_never_committed_fails(probes, client, session) -> None:
    with pytest.raises(AssertionError, match="flushed changes and never committed"):
        await client.post("/_probe/forgotten")
    assert probes.state.unsaved_requests == ["POST /_probe/forgotten"]
    probes.state.unsaved_requests.clear()  # seen: the fixture's own check would fail too
    assert await _count(session, "PROBE-F") == 0  # what production keeps: nothing


async def test_get_session_commits_nothing_on_exit(database_url: str) -> None:
    """Production's session: work not committed by the handler is rolled back on exit."""
    from app.db import dispose_engine, get_sessionmaker

    try:
        sessions: AsyncIterator[AsyncSession] = get_session()
        session = await anext(sessions)
        session.add(_locality("PROBE-G"))
        await session.flush()
        with pytest.raises(StopAsyncIteration):
            await anext(sessions)
        async with get_sessionmaker()() as check:
            assert await _count(check, "PROBE-G") == 0
    finally:
        await dispose_engine()
