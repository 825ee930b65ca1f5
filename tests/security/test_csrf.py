"""Every form refuses a POST that does not carry its CSRF token, and writes nothing.

The routes are read from the application, so a form added later is covered without a new
line here: each page route that changes something (POST, PUT, PATCH, DELETE) is posted
by a signed-in admin (allowed everywhere, so a refusal can only be the token's doing) with
a valid form from the access table, but with no token, with a wrong one, and with another
person's. Each is refused 403 and changes no table (the audit log among them); the same
form with the right token is accepted, so the body really would have written something.
The JSON API, used from a browser session instead of a bearer token, asks for the token
in the X-CSRF-Token header in the same way.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.security.test_route_access import (
    ALL_ROWS,
    Row,
    Trust,
    _fill,
    app_routes,
    build_trust,
    record_counts,
    rolled_back,
    rows,
)

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _page_writes() -> list[tuple[str, str]]:
    from app.main import create_app

    return [
        (method, path)
        for method, path in app_routes(create_app())
        if method in WRITES and not path.startswith(("/api/", "/fhir/"))
    ]


def _api_writes() -> list[tuple[str, str]]:
    from app.main import create_app

    return [
        (method, path)
        for method, path in app_routes(create_app())
        if method in WRITES and path.startswith("/api/")
    ]


PAGE_WRITES = _page_writes()
API_WRITES = _api_writes()
TABLE = {r.key: r for r in ALL_ROWS}


@pytest.fixture
async def trust(session, client, world, clock) -> Trust:  # type: ignore[no-untyped-def]
    return await build_trust(session, client, world, clock.now)


def _row(trust: Trust, method: str, path: str) -> Row:
    """The access table's row (its url and a valid body), or, for a route it does not
    know yet, the path with every id 1 and an empty body."""
    for row in rows(trust.now):
        if row.key == (method, path):
            return row
    return Row(method, path, TABLE.get((method, path), ALL_ROWS[0]).who,
               url=re.sub(r"\{[^}]+\}", "1", path), body={})  # fmt: skip


async def _post_form(
    app: Any, trust: Trust, row: Row, token: str | None, *, user: str = "admin"
) -> httpx.Response:
    ids = trust.on["ASH"].ids
    form = dict(_fill(row.body, ids) or {})
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        cookies={"wardflow_session": trust.cookies[user]},
    ) as client:
        if row.path == "/login":
            await client.get("/login")  # the sign-in form's own token cookie
        if token is not None:
            form["csrf_token"] = token
        return await client.request(row.method, _fill(row.url or row.path, ids), data=form)


async def test_every_form_without_its_csrf_token_is_refused_and_writes_nothing(app, session, trust):
    assert PAGE_WRITES, "no forms found: the route listing is broken"
    failures: list[str] = []
    for method, path in PAGE_WRITES:
        failures += [
            f"{method} {path}: {f}" for f in await _try_form(app, session, trust, method, path)
        ]
    assert not failures, "\n".join(failures)


async def _try_form(app: Any, session: Any, trust: Trust, method: str, path: str) -> list[str]:
    failures = []
    row = _row(trust, method, path)
    tries = {"no token": None, "a wrong token": "not-the-token", "another's token": "OTHER"}
    for what, token in tries.items():
        if token == "OTHER":
            token = trust.csrf["nurse"]
        async with rolled_back(session):
            before = await record_counts(session)
            await session.commit()
            response = await _post_form(app, trust, row, token)
            after = await record_counts(session)
        if response.status_code != 403:
            failures.append(f"{what}: {response.status_code} {response.text[:200]}")
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        if changed:
            failures.append(f"{what}: refused, yet wrote {changed}")
    if (method, path) in TABLE:
        # The same form with its token is accepted: the refusal above was the token's.
        async with rolled_back(session):
            if path == "/login":
                response = await _post_login_with_token(app, trust, row)
            else:
                response = await _post_form(app, trust, row, trust.csrf["admin"])
        if response.status_code >= 400:
            failures.append(f"with its token: {response.status_code} {response.text[:200]}")
    return failures


async def _post_login_with_token(app: Any, trust: Trust, row: Row) -> httpx.Response:
    from tests.auth.helpers import hidden_csrf

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/login")
        return await client.post(
            "/login", data={**(row.body or {}), "csrf_token": hidden_csrf(page.text)}
        )


async def test_the_api_used_with_a_browser_session_needs_the_csrf_header(app, session, trust):
    """A page's own script may call the API with the session cookie; another site may not."""
    failures: list[str] = []
    for method, path in API_WRITES:
        failures += [
            f"{method} {path}: {f}" for f in await _try_api(app, session, trust, method, path)
        ]
    assert not failures, "\n".join(failures)


async def _try_api(app: Any, session: Any, trust: Trust, method: str, path: str) -> list[str]:
    failures = []
    row = _row(trust, method, path)
    ids = trust.on["ASH"].ids
    url, body = _fill(row.url or row.path, ids), _fill(row.body, ids)
    for what, header in {
        "no header": None,
        "a wrong one": "nope",
        "the right one": "RIGHT",
    }.items():
        headers = {}
        if header is not None:
            headers["X-CSRF-Token"] = trust.csrf["admin"] if header == "RIGHT" else header
        async with rolled_back(session):
            before = await record_counts(session)
            await session.commit()
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://testserver",
                cookies={"wardflow_session": trust.cookies["admin"]},
            ) as client:
                if row.content is not None:  # a raw HL7 v2 message, not JSON
                    headers["Content-Type"] = "application/hl7-v2"
                    response = await client.request(
                        method, url, content=row.content, headers=headers
                    )
                else:
                    response = await client.request(method, url, json=body, headers=headers)
            after = await record_counts(session)
        if header == "RIGHT":
            # Allowed: a success, or the table's own answer for one who may (a renewal of a
            # period admitted days ago is refused for its date, after the access check).
            if (
                (method, path) in TABLE
                and response.status_code >= 400
                and response.status_code != row.allowed_status
            ):
                failures.append(f"{what}: {response.status_code} {response.text[:200]}")
            continue
        if response.status_code != 403:
            failures.append(f"{what}: {response.status_code} {response.text[:200]}")
        if before != after:
            failures.append(f"{what}: refused, yet wrote something")
    return failures
