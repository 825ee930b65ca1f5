"""Session cookies and idle expiry: Secure whenever the request came over HTTPS (directly,
or through the trusted proxy's X-Forwarded-Proto), HttpOnly, SameSite; a session idle
longer than the setting is refused, for pages and for the API, and stays ended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.auth.models import UserSession
from tests.auth.helpers import LOGIN_CSRF_COOKIE, SESSION_COOKIE, hidden_csrf, set_cookie_headers
from tests.factories import PASSWORD


def attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


@pytest.fixture
def settings(monkeypatch) -> Iterator[pytest.MonkeyPatch]:  # type: ignore[no-untyped-def]
    """Change a setting through the environment, as production does; undone afterwards."""
    from app.config import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def set_env(settings: pytest.MonkeyPatch, name: str, value: str) -> None:
    from app.config import get_settings

    settings.setenv(name, value)
    get_settings.cache_clear()


async def sign_in(client: httpx.AsyncClient, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    form = await client.get("/login", headers=headers)
    assert form.status_code == 200
    token = hidden_csrf(form.text)
    # Sent by hand: a Secure cookie is not sent back over the test's plain-HTTP leg to the
    # proxy (a browser would be talking HTTPS to the proxy).
    client.cookies.clear()
    response = await client.post(
        "/login",
        data={"username": "nurse", "password": PASSWORD, "csrf_token": token},
        headers={**(headers or {}), "Cookie": f"{LOGIN_CSRF_COOKIE}={token}"},
    )
    assert response.status_code == 303, response.text
    return form, response


def one_cookie(response: httpx.Response, name: str) -> set[str]:
    [cookie] = set_cookie_headers(response, name)
    return attributes(cookie)


async def test_over_https_both_cookies_are_secure_httponly_and_same_site(app, world):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        form, signed_in = await sign_in(c)

        login_cookie = one_cookie(form, LOGIN_CSRF_COOKIE)
        assert {"secure", "httponly", "samesite=strict"} <= login_cookie
        session_cookie = one_cookie(signed_in, SESSION_COOKIE)
        assert {"secure", "httponly", "samesite=lax", "path=/"} <= session_cookie
        assert (await c.get("/wards")).status_code == 200


async def test_over_plain_http_the_cookie_is_not_secure_unless_the_setting_says(
    app, world, settings
):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        _, signed_in = await sign_in(c)
        cookie = one_cookie(signed_in, SESSION_COOKIE)
        assert "secure" not in cookie
        assert {"httponly", "samesite=lax"} <= cookie

    set_env(settings, "WARDFLOW_COOKIE_SECURE", "true")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        form = await c.get("/login")
        assert "secure" in one_cookie(form, LOGIN_CSRF_COOKIE)


def behind_proxy(app, client_ip: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    """The app as `wardflow serve` runs it (uvicorn's proxy_headers with the setting's
    forwarded_allow_ips), reached from `client_ip` over plain HTTP."""
    from app.config import get_settings

    wrapped = ProxyHeadersMiddleware(app, trusted_hosts=get_settings().forwarded_allow_ips)
    transport = httpx.ASGITransport(app=wrapped, client=(client_ip, 51000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_behind_the_trusted_proxy_x_forwarded_proto_https_makes_the_cookie_secure(app, world):
    https = {"X-Forwarded-Proto": "https"}
    async with behind_proxy(app, "127.0.0.1") as c:
        form, signed_in = await sign_in(c, headers=https)
        assert "secure" in one_cookie(form, LOGIN_CSRF_COOKIE)
        assert "secure" in one_cookie(signed_in, SESSION_COOKIE)
        assert "strict-transport-security" in signed_in.headers


async def test_x_forwarded_proto_from_anyone_else_is_not_believed(app, world):
    async with behind_proxy(app, "10.1.2.3") as c:
        _, signed_in = await sign_in(c, headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in one_cookie(signed_in, SESSION_COOKIE)


async def test_sign_out_clears_the_cookie_with_the_same_attributes(app, world):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        await sign_in(c)
        account = await c.get("/account")
        response = await c.post("/logout", data={"csrf_token": hidden_csrf(account.text)})
        assert response.status_code == 303
        cleared = one_cookie(response, SESSION_COOKIE)
        assert {"secure", "httponly", "samesite=lax", "max-age=0"} <= cleared


# --- idle expiry, with the test clock ------------------------------------------------------


async def test_a_session_idle_longer_than_the_setting_is_refused_and_stays_ended(
    world, signed_in, clock, session, settings
):
    set_env(settings, "WARDFLOW_SESSION_IDLE_MINUTES", "10")
    nurse = await signed_in("nurse")

    clock.now += timedelta(minutes=10)  # exactly the limit: still in use
    assert (await nurse.get("/wards")).status_code == 200
    clock.now += timedelta(minutes=10, seconds=1)

    page = await nurse.get("/wards")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/wards"
    row = await session.scalar(
        select(UserSession).execution_options(populate_existing=True).limit(1)
    )
    assert row is not None and row.ended_at == clock.now

    # It is ended, not merely stale: nothing brings it back.
    clock.now += timedelta(seconds=30)
    assert (await nurse.get("/wards")).status_code == 303


async def test_an_idle_session_cannot_call_the_api_or_post_a_form(
    world, signed_in, clock, settings
):
    set_env(settings, "WARDFLOW_SESSION_IDLE_MINUTES", "5")
    nurse = await signed_in("nurse")
    clock.now += timedelta(minutes=6)

    api = await nurse.client.get("/api/v1/wards", headers={"X-CSRF-Token": nurse.csrf})
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/problem+json"

    clock.now += timedelta(minutes=1)
    posted = await nurse.post("/logout")
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login")


async def test_using_the_service_keeps_the_session_alive_past_the_limit(
    world, signed_in, clock, settings
):
    set_env(settings, "WARDFLOW_SESSION_IDLE_MINUTES", "5")
    nurse = await signed_in("nurse")
    for _ in range(6):  # 24 minutes in all, never more than 4 idle
        clock.now += timedelta(minutes=4)
        assert (await nurse.get("/wards")).status_code == 200
