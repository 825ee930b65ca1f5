"""The floor under every page: a bare FastAPI route that returns a page of a given size,
rendered once and kept, with no database, no sign-in and no middleware. Served by the
same uvicorn, with as many workers, as the service; a request to it costs what HTTP, the
server and the client cost, so the service's time above it is the service's own work."""

from __future__ import annotations

from functools import lru_cache

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@lru_cache(maxsize=64)
def _page(size: int) -> bytes:
    line = b"<p>" + b"x" * 72 + b"</p>\n"
    return (line * (size // len(line) + 1))[:size]


@app.get("/html/{size}")
async def html(size: int) -> Response:
    return Response(_page(size), media_type="text/html; charset=utf-8")


@app.get("/json/{size}")
async def json_page(size: int) -> Response:
    return Response(_page(size), media_type="application/json")


@app.post("/json/{size}")
async def json_post(size: int, request: Request) -> Response:
    await request.body()  # the same request body is read as the service reads it
    return Response(_page(size), status_code=201, media_type="application/json")
