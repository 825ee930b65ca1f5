"""The API's authentication: bearer tokens (kept hashed) and browser sessions with CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.auth.models import ApiToken
from app.wards.models import Locality
from tests.auth.helpers import parse
from tests.factories import PASSWORD


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def all_text(session, table: str) -> str:  # type: ignore[no-untyped-def]
    """Every value in every row of a table, as one string (to search for a secret)."""
    rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
    assert rows, f"{table} is empty: the search would prove nothing"
    return "\n".join(repr(value) for row in rows for value in row)


async def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(model))


LOCALITY = {"code": "HGT", "name": "Harrogate", "latitude": 53.99, "longitude": -1.54}


# --- bearer tokens -----------------------------------------------------------------------


async def test_no_credentials_is_401_problem_json(world, client):
    response = await client.get("/api/v1/wards")

    assert_problem(response, 401)


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token", "Bearer ", "Basic YWRtaW46Y29ycmVjdC1ob3JzZQ==", "Token abc"],
)
async def test_bad_credentials_are_401_problem_json(world, client, header):
    response = await client.get("/api/v1/wards", headers={"Authorization": header})

    assert_problem(response, 401)


async def test_a_good_token_is_accepted(world, client):
    response = await client.get("/api/v1/wards", headers=world.auth("nurse"))

    assert response.status_code == 200
    assert {w["code"] for w in response.json()} == {"ASH", "BIRCH", "CEDAR"}


async def test_a_token_acts_as_its_own_user(world, client):
    own = await client.get("/api/v1/wards/ASH/board", headers=world.auth("nurse"))
    other = await client.get("/api/v1/wards/BIRCH/board", headers=world.auth("nurse"))

    assert own.status_code == 200
    assert_problem(other, 403)


async def test_a_deactivated_users_token_stops_working(world, client, session):
    user = world.users["nurse"]
    user.active = False
    await session.commit()

    response = await client.get("/api/v1/wards", headers=world.auth("nurse"))

    assert_problem(response, 401)


async def test_tokens_are_stored_hashed_and_never_audited(world, client, session):
    # A request with the token, so "last used" is written too.
    assert (await client.get("/api/v1/wards", headers=world.auth("lead"))).status_code == 200

    tokens_table = await all_text(session, "api_tokens")
    audit_table = await all_text(session, "audit_log")
    for username, token in world.tokens.items():
        assert token not in tokens_table, username
        assert token not in audit_table, username


# --- tokens from the account page --------------------------------------------------------


async def test_account_page_makes_a_token_shown_once_that_works_as_bearer(
    world, client, session, signed_in
):
    admin = await signed_in("admin")
    before = await count(session, ApiToken)

    response = await admin.post("/account/tokens", {"name": "bed feed", "password": PASSWORD})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    token = parse(response.text).by_id("new-token").text()
    assert len(token) >= 32
    assert await count(session, ApiToken) == before + 1
    bearer = {"Authorization": f"Bearer {token}"}
    wards = await client.get("/api/v1/wards", headers=bearer)
    assert wards.status_code == 200
    # It is the admin's token: admin-only calls work with it.
    assert (await client.get("/api/v1/rule-runs", headers=bearer)).status_code == 200
    # Shown once: the account page does not show it again, and it is kept only hashed.
    again = await admin.get("/account")
    assert again.status_code == 200
    assert token not in again.text
    assert parse(again.text).find(id="new-token") is None
    assert token not in await all_text(session, "api_tokens")
    assert token not in await all_text(session, "audit_log")


async def test_each_token_made_is_different(world, signed_in):
    admin = await signed_in("admin")
    body = {"name": "feed", "password": PASSWORD}
    first = parse((await admin.post("/account/tokens", body)).text).by_id("new-token").text()
    second = parse((await admin.post("/account/tokens", body)).text).by_id("new-token").text()

    assert first != second


async def test_session_cookies_are_stored_hashed(world, session, signed_in):
    nurse = await signed_in("nurse")
    cookie = nurse.session_cookie
    assert cookie

    assert cookie not in await all_text(session, "user_sessions")
    assert cookie not in await all_text(session, "audit_log")


# --- browser sessions on the API ---------------------------------------------------------


async def test_a_browser_session_may_read_the_api(world, signed_in):
    nurse = await signed_in("nurse")

    response = await nurse.client.get("/api/v1/wards/ASH/board")

    assert response.status_code == 200
    assert response.json()["ward"]["code"] == "ASH"


@pytest.mark.parametrize("csrf_header", [None, "", "not-the-token"])
async def test_cookie_api_writes_need_the_csrf_header(world, session, signed_in, csrf_header):
    admin = await signed_in("admin")
    before = await count(session, Locality)
    headers = {} if csrf_header is None else {"X-CSRF-Token": csrf_header}

    response = await admin.client.post("/api/v1/localities", json=LOCALITY, headers=headers)

    assert_problem(response, 403)
    assert await count(session, Locality) == before


async def test_cookie_api_write_with_the_csrf_header_succeeds(world, session, signed_in):
    admin = await signed_in("admin")
    before = await count(session, Locality)

    response = await admin.client.post(
        "/api/v1/localities", json=LOCALITY, headers={"X-CSRF-Token": admin.csrf}
    )

    assert response.status_code == 201
    assert response.json()["code"] == "HGT"
    assert await count(session, Locality) == before + 1


async def test_another_sessions_csrf_token_is_refused(world, session, signed_in):
    admin = await signed_in("admin")
    nurse = await signed_in("nurse")
    assert admin.csrf != nurse.csrf
    before = await count(session, Locality)

    response = await admin.client.post(
        "/api/v1/localities", json=LOCALITY, headers={"X-CSRF-Token": nurse.csrf}
    )

    assert_problem(response, 403)
    assert await count(session, Locality) == before


async def test_the_csrf_token_is_in_every_page_for_htmx(world, signed_in):
    nurse = await signed_in("nurse")

    page = await nurse.get("/wards/ASH")

    body = parse(page.text).find("body")
    assert body is not None
    assert f'"X-CSRF-Token": "{nurse.csrf}"' in body.attrs["hx-headers"]
