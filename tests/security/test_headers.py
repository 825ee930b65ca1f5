"""Security headers on every kind of response: a Content Security Policy with no inline
script (not even by nonce), no framing, nosniff, a referrer policy, no caching of patient
details, HSTS over HTTPS; and pages that really contain no inline script."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.web import STATIC_DIR
from tests.auth.helpers import parse


def directives(csp: str) -> dict[str, list[str]]:
    result = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


def assert_protected(response: httpx.Response, *, cacheable: bool = False) -> None:
    headers = response.headers
    csp = directives(headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert not any(s.startswith("'nonce-") for s in scripts)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    if not cacheable:
        assert headers["cache-control"] == "no-store"


@pytest.fixture
async def https_nurse(app, world) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The ASH nurse signed in over HTTPS (her cookies are Secure, so only sent there)."""
    from tests.auth.helpers import Browser

    b = Browser(app)
    b.client.base_url = httpx.URL("https://testserver")
    await b.sign_in("nurse")
    b.client.headers["X-CSRF-Token"] = b.csrf
    yield b.client
    await b.aclose()


async def test_pages_fragments_and_redirects_carry_the_headers(nurse, world):
    page = await nurse.get("/wards/ASH")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert_protected(page)

    fragment = await nurse.get("/wards/ASH?refresh=1", htmx=True)
    assert fragment.status_code == 200
    assert_protected(fragment)

    redirect = await nurse.get("/")
    assert redirect.status_code == 303
    assert_protected(redirect)

    form = await nurse.get("/wards/ASH/beds/A2/admit")
    assert form.status_code == 200
    assert_protected(form)


async def test_the_sign_in_page_and_a_missing_page_carry_the_headers(client):
    login = await client.get("/login")
    assert login.status_code == 200
    assert_protected(login)

    missing = await client.get("/no-such-page")
    assert missing.status_code == 404
    assert_protected(missing)

    signed_out = await client.get("/wards")
    assert signed_out.status_code == 303
    assert_protected(signed_out)


async def test_json_problems_openapi_and_health_carry_the_headers(client, world):
    ok = await client.get("/api/v1/wards", headers=world.auth("admin"))
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/json"
    assert_protected(ok)

    refused = await client.get("/api/v1/wards")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert_protected(refused)

    invalid = await client.post("/api/v1/patients", json={}, headers=world.auth("admin"))
    assert invalid.status_code == 422
    assert_protected(invalid)

    for path in ("/openapi.json", "/healthz"):
        response = await client.get(path)
        assert response.status_code == 200
        assert_protected(response)


async def test_an_unexpected_error_is_a_problem_with_the_headers(app, world):
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/api/v1/boom")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "a bug" not in response.text  # nothing of the inside is shown
    assert_protected(response)


async def test_static_files_carry_the_headers_and_may_be_cached(client):
    response = await client.get("/static/app.js")
    assert response.status_code == 200
    assert_protected(response, cacheable=True)
    assert response.headers.get("cache-control") != "no-store"


async def test_the_api_documentation_allows_its_one_inline_script_by_hash_only(client):
    import base64
    import hashlib
    import re

    response = await client.get("/docs")
    assert response.status_code == 200
    assert_protected(response)
    [script] = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    scripts = directives(response.headers["content-security-policy"])["script-src"]
    assert f"'sha256-{digest}'" in scripts


async def test_over_https_the_browser_is_told_to_keep_to_https(https_nurse, client):
    secure = await https_nurse.get("/wards")
    assert secure.status_code == 200
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    assert_protected(secure)

    plain = await client.get("/login")
    assert "strict-transport-security" not in plain.headers


# --- no inline script in what the pages contain ------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/wards", "/wards/ASH", "/wards/ASH/beds/A2/admit", "/account", "/alerts", "/flow", "/rules"],
)
async def test_pages_hold_no_inline_script_or_inline_event_handler(nurse, world, path):
    response = await nurse.get(path)
    assert response.status_code == 200, path
    doc = parse(response.text)

    scripts = doc.find_all("script")
    assert scripts, "a page loads its scripts"
    for script in scripts:
        assert script.attrs.get("src", "").startswith("/static/"), script.attrs
        assert not script.text().strip()
    for node in doc.iter():
        handlers = [name for name in node.attrs if name.startswith("on")]
        assert not handlers, (node.tag, handlers)
        assert not node.attrs.get("href", "").lower().startswith("javascript:")


async def test_the_js_enabled_script_is_the_first_thing_in_the_body(client):
    doc = parse((await client.get("/login")).text)
    [body] = doc.find_all("body")
    first = next(body.iter())
    assert first.tag == "script" and first.attrs["src"] == "/static/js-enabled.js"
    assert "defer" not in first.attrs and "async" not in first.attrs  # before anything is drawn
    served = await client.get("/static/js-enabled.js")
    assert served.status_code == 200
    assert "javascript" in served.headers["content-type"]
    assert "js-enabled" in served.text and "nhsuk-frontend-supported" in served.text


def test_no_template_writes_an_inline_script():
    templates = Path(STATIC_DIR).parent / "templates"
    for template in templates.rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "nonce" not in text.lower(), template
