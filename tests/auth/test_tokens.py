"""API tokens (issue 17, finding 5): who may make them, their name, expiry and cap, listing
and revoking one's own, the service role, and a token's use from a new client (finding 9).

Before the fix any signed-in person (ward staff on a shared PC included) could make any
number of tokens at /account/tokens, which never ended and could not be seen or revoked.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import ApiToken, User
from tests.auth.helpers import parse
from tests.factories import _PASSWORD_HASH, PASSWORD


async def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def make(browser, name: str = "bed feed", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return await browser.post("/account/tokens", {"name": name, "password": password})


def new_token(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return parse(response.text).by_id("new-token").text()


@pytest.fixture
async def service_user(world, session) -> User:  # type: ignore[no-untyped-def]
    user = User(
        username="feed",
        role="service",
        password_hash=_PASSWORD_HASH,
        created_at=world.now,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    await session.commit()
    return user


# --- who may make one ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["nurse", "beds", "lead", "director"])
async def test_people_who_do_not_integrate_cannot_make_tokens(world, session, signed_in, username):
    person = await signed_in(username)
    before = await count(session, ApiToken)

    page = await person.get("/account")
    response = await make(person)

    assert page.status_code == 200
    assert parse(page.text).find("form", action="/account/tokens") is None
    assert response.status_code == 403
    assert await count(session, ApiToken) == before


async def test_making_a_token_needs_the_password_again(world, session, signed_in):
    admin = await signed_in("admin")
    before = await count(session, ApiToken)

    response = await make(admin, password="not-the-password")

    assert response.status_code == 422
    doc = parse(response.text)
    assert doc.find(id="new-token") is None
    assert "password is not right" in doc.by_id("token-password").parent.text()  # type: ignore[union-attr]
    assert await count(session, ApiToken) == before


async def test_a_token_needs_a_name(world, session, signed_in):
    admin = await signed_in("admin")
    before = await count(session, ApiToken)

    response = await make(admin, name="   ")

    assert response.status_code == 422
    assert await count(session, ApiToken) == before


# --- name, expiry, cap -----------------------------------------------------------------------


async def test_a_token_has_its_name_and_ends_after_90_days(world, client, signed_in, clock):
    admin = await signed_in("admin")
    token = new_token(await make(admin, name="bed-state feed"))
    bearer = {"Authorization": f"Bearer {token}"}

    listed = parse((await admin.get("/account")).text).by_id("tokens").text()
    assert "bed-state feed" in listed and "Live" in listed

    clock.now += timedelta(days=89, hours=23)
    assert (await client.get("/api/v1/wards", headers=bearer)).status_code == 200
    clock.now += timedelta(hours=1)
    assert (await client.get("/api/v1/wards", headers=bearer)).status_code == 401


async def test_a_person_holds_at_most_five_live_tokens(world, session, signed_in, clock):
    admin = await signed_in("admin")  # holds one already (tests/factories.World)
    for i in range(4):
        new_token(await make(admin, name=f"feed {i}"))

    refused = await make(admin, name="one too many")

    assert refused.status_code == 422
    assert "revoke one first" in refused.text
    assert parse(refused.text).find(id="new-token") is None
    live = ApiToken.user_id == world.users["admin"].id
    assert await count(session, ApiToken, live) == 5
    # An ended token no longer counts.
    clock.now += timedelta(days=91)
    admin = await signed_in("admin")  # the old session was idle too long
    new_token(await make(admin, name="after the others ended"))


# --- listing and revoking one's own -----------------------------------------------------------


async def test_a_person_revokes_their_own_token_and_it_stops_at_once(
    world, client, session, signed_in
):
    admin = await signed_in("admin")
    token = new_token(await make(admin, name="to revoke"))
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/wards", headers=bearer)).status_code == 200
    row = await session.scalar(select(ApiToken).where(ApiToken.name == "to revoke"))
    assert row is not None

    response = await admin.post(f"/account/tokens/{row.id}/revoke")

    assert response.status_code == 200
    assert "Revoked" in parse(response.text).by_id(f"token-{row.id}").text()
    assert (await client.get("/api/v1/wards", headers=bearer)).status_code == 401
    # The token the admin did not revoke still works.
    assert (await client.get("/api/v1/wards", headers=world.auth("admin"))).status_code == 200


async def test_ward_staff_list_and_revoke_a_token_an_admin_made_for_them(
    world, client, session, signed_in
):
    nurse = await signed_in("nurse")
    [row] = list(
        await session.scalars(select(ApiToken).where(ApiToken.user_id == world.users["nurse"].id))
    )
    page = await nurse.get("/account")
    assert "API token" in parse(page.text).by_id(f"token-{row.id}").text()

    assert (await nurse.post(f"/account/tokens/{row.id}/revoke")).status_code == 200
    assert (await client.get("/api/v1/wards", headers=world.auth("nurse"))).status_code == 401


async def test_no_one_revokes_or_sees_another_persons_token(world, client, session, signed_in):
    nurse = await signed_in("nurse")
    [admins] = list(
        await session.scalars(select(ApiToken).where(ApiToken.user_id == world.users["admin"].id))
    )

    response = await nurse.post(f"/account/tokens/{admins.id}/revoke")

    assert response.status_code == 404
    assert parse((await nurse.get("/account")).text).find(id=f"token-{admins.id}") is None
    assert (await client.get("/api/v1/wards", headers=world.auth("admin"))).status_code == 200


# --- the service role -------------------------------------------------------------------------


async def test_a_service_account_reads_the_api_but_no_pages_and_writes_nothing(
    world, client, browser, service_user
):
    signing_in = await browser().submit_login("feed")
    assert signing_in.headers["location"] == "/account"  # its only page
    feed = await browser().sign_in("feed")
    token = new_token(await make(feed, name="nightly extract"))
    bearer = {"Authorization": f"Bearer {token}"}

    assert (await client.get("/api/v1/wards/BIRCH/board", headers=bearer)).status_code == 200
    assert (await client.get("/api/v1/alerts", headers=bearer)).status_code == 200
    write = await client.post(
        "/api/v1/localities",
        json={"code": "HGT", "name": "Harrogate", "latitude": 54.0, "longitude": -1.5},
        headers=bearer,
    )
    assert write.status_code == 403
    assert (await feed.get("/wards")).status_code == 403
    assert (await feed.get("/wards/ASH")).status_code == 403
    assert (await feed.get("/account")).status_code == 200
    assert (await feed.post("/logout")).status_code == 303


# --- a token used from a new client (finding 9) ----------------------------------------------


async def test_a_tokens_use_from_a_new_client_is_audited_once_per_change(app, world, session):
    token = world.tokens["lead"]
    headers = {"Authorization": f"Bearer {token}"}

    async def call_from(address: str) -> None:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert (await c.get("/api/v1/wards", headers=headers)).status_code == 200

    await call_from("127.0.0.1")  # where it has been used from
    await call_from("10.7.7.7")
    await call_from("10.7.7.7")
    await call_from("10.8.8.8")

    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "api_token.new_client")
            .order_by(AuditEntry.id)
        )
    )
    assert [e.after["client"] for e in entries] == ["10.7.7.7", "10.8.8.8"]  # type: ignore[index]
    assert entries[0].after["previous"] == "127.0.0.1"  # type: ignore[index]
    assert {e.username for e in entries} == {"lead"}
    assert all(token not in repr(e.after) for e in entries)
