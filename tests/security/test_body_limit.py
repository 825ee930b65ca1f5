"""Oversized bodies are refused with 413 before they are read whole: at once from their
Content-Length, or, sent chunked without one, as soon as the limit is passed. Nothing
changes; the limit comes from WARDFLOW_MAX_BODY_BYTES (1 MB by default)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from app.wards.models import Patient
from tests.factories import patient_body

CHUNK = 64 * 1024


@pytest.fixture
def limit(monkeypatch) -> Iterator[int]:  # type: ignore[no-untyped-def]
    from app.config import get_settings

    monkeypatch.setenv("WARDFLOW_MAX_BODY_BYTES", "4096")
    get_settings.cache_clear()
    yield 4096
    monkeypatch.undo()
    get_settings.cache_clear()


async def patients(session) -> int:  # type: ignore[no-untyped-def]
    return int(await session.scalar(select(func.count()).select_from(Patient)) or 0)


def padded_patient(size: int) -> bytes:
    """A valid patient, padded (in a field the API would refuse anyway) to `size` bytes."""
    body = patient_body()
    body["padding"] = ""
    base = len(json.dumps(body).encode())
    body["padding"] = "x" * (size - base)
    encoded = json.dumps(body).encode()
    assert len(encoded) == size
    return encoded


def assert_413_problem(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413 and problem["title"] == "Request too large"
    assert str(limit) in problem["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_default_limit_is_one_megabyte():
    from app.config import Settings

    assert Settings().max_body_bytes == 1_048_576


async def test_a_body_over_the_default_limit_is_refused_from_its_content_length(
    client, world, session
):
    before = await patients(session)
    response = await client.post(
        "/api/v1/patients",
        content=padded_patient(1_048_577),
        headers={**world.auth("admin"), "Content-Type": "application/json"},
    )
    assert_413_problem(response, 1_048_576)
    assert await patients(session) == before


async def test_a_body_at_the_limit_is_read(client, world, limit):
    response = await client.post(
        "/api/v1/patients",
        content=padded_patient(limit),
        headers={**world.auth("admin"), "Content-Type": "application/json"},
    )
    # Read and judged on its merits: the padding is not a field patients have.
    assert response.status_code == 422
    assert "padding" in response.text


async def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(
    app, world, limit
):
    """The app answers from the header alone: the body is never asked for."""
    asked = 0

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": b"{}", "more_body": False}

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/patients",
        "raw_path": b"/api/v1/patients",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(limit * 1000).encode()),
            (b"authorization", world.auth("admin")["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)

    assert sent[0]["status"] == 413
    assert asked == 0


async def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(
    client, world, session, limit
):
    before = await patients(session)
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        yield b'{"given_name": "'
        for _ in range(1000):  # 64 MB if it were all read
            produced += CHUNK
            yield b"x" * CHUNK

    response = await client.post(
        "/api/v1/patients",
        content=endless(),
        headers={**world.auth("admin"), "Content-Type": "application/json"},
    )

    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_413_problem(response, limit)
    assert produced <= limit + CHUNK  # stopped at the first chunk past the limit
    assert await patients(session) == before


async def test_a_chunked_form_post_to_a_page_is_refused_with_an_error_page(nurse, limit):
    async def big_form() -> AsyncIterator[bytes]:
        yield b"csrf_token=" + nurse.csrf.encode() + b"&reason="
        for _ in range(100):
            yield b"x" * CHUNK

    response = await nurse.client.post(
        "/wards/ASH/beds/A2/admit",
        content=big_form(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]
    assert "Request too large" in response.text


async def test_a_declared_length_over_the_limit_on_a_page_is_an_error_page(nurse, limit):
    response = await nurse.client.post(
        "/wards/ASH/beds/A2/admit",
        content=b"csrf_token=" + nurse.csrf.encode() + b"&reason=" + b"x" * (2 * limit),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "Request too large" in response.text
    assert "content-security-policy" in response.headers
