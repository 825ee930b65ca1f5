"""Signing in and out: the login form, its cookie, lockout, CSRF, idle expiry, redirects."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from app.auth.models import UserSession
from app.wards.models import Bed, Ward
from tests.auth.helpers import (
    HTMX,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    hidden_csrf,
    parse,
    set_cookie_headers,
)

WRONG = "The username or password is not right."


def cookie_attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def lands_on_this_site(location: str) -> bool:
    """Where a browser would go: it reads a backslash as a slash in http(s) URLs."""
    target = urljoin("http://testserver/login", location.replace("\\", "/"))
    return urlsplit(target).netloc == "testserver"


async def session_rows(session) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(UserSession))


# --- the form and a good sign-in ---------------------------------------------------------


async def test_login_page_shows_the_form_with_its_own_csrf_token(browser):
    b = browser()
    response = await b.client.get("/login")

    assert response.status_code == 200
    form = parse(response.text).find("form", action="/login")
    assert form is not None and form.attrs["method"] == "post"
    inputs = {i.attrs["name"]: i for i in form.find_all("input")}
    assert {"username", "password", "csrf_token", "next"} <= set(inputs)
    assert inputs["password"].attrs["type"] == "password"
    # The hidden token is the one the login cookie carries (double-submit).
    assert inputs["csrf_token"].attrs["value"] == b.client.cookies.get(LOGIN_CSRF_COOKIE)
    assert inputs["csrf_token"].attrs["value"]


async def test_right_password_sets_an_httponly_lax_session_cookie_and_goes_to_wards(world, browser):
    b = browser()
    response = await b.submit_login("nurse")

    assert response.status_code == 303
    assert response.headers["location"] == "/wards"
    [cookie] = set_cookie_headers(response, SESSION_COOKIE)
    attributes = cookie_attributes(cookie)
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    wards = await b.client.get("/wards")
    assert wards.status_code == 200
    assert "Ash Ward" in wards.text


async def test_sign_in_returns_to_the_page_asked_for(world, browser):
    b = browser()
    asked = await b.client.get("/wards/ASH")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/wards/ASH"

    form = await b.client.get(asked.headers["location"])
    next_field = parse(form.text).find("input", name="next")
    assert next_field is not None and next_field.attrs["value"] == "/wards/ASH"
    response = await b.client.post(
        "/login",
        data={
            "username": "nurse",
            "password": "correct-horse-battery",
            "csrf_token": hidden_csrf(form.text),
            "next": "/wards/ASH",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/wards/ASH"
    board = await b.client.get("/wards/ASH")
    assert board.status_code == 200
    assert 'id="board"' in board.text


@pytest.mark.parametrize(
    "next_",
    [
        "https://evil.example",
        "https://evil.example/wards",
        "//evil.example",
        "/\\evil.example",
        "http:evil.example",
        "javascript:alert(1)",
    ],
)
async def test_sign_in_never_sends_the_person_to_another_site(world, browser, next_):
    response = await browser().submit_login("nurse", next_=next_)

    assert response.status_code == 303
    assert lands_on_this_site(response.headers["location"])
    if "://" in next_:
        assert response.headers["location"] == "/wards"


# --- failures and lockout ----------------------------------------------------------------


@pytest.mark.parametrize(
    "username, password", [("nurse", "not-the-password"), ("nobody", "correct-horse-battery")]
)
async def test_wrong_password_or_unknown_user_is_refused_with_one_message(
    world, browser, session, username, password
):
    b = browser()
    response = await b.submit_login(username, password)

    assert response.status_code == 401
    assert parse(response.text).by_id("login-error").text() == WRONG
    assert set_cookie_headers(response, SESSION_COOKIE) == []
    assert b.session_cookie is None
    assert password not in response.text  # the password is never echoed back
    assert await session_rows(session) == 0
    assert (await b.client.get("/wards")).status_code == 303


async def test_five_failures_stop_that_name_from_that_address_for_fifteen_minutes(
    world, browser, clock
):
    b = browser("10.0.0.66")
    for _ in range(5):
        response = await b.submit_login("nurse", "not-the-password")
        assert response.status_code == 401
        assert WRONG in response.text

    stopped = await b.submit_login("nurse")  # the right password, too late
    assert stopped.status_code == 401
    assert "too many failed sign-ins" in parse(stopped.text).by_id("login-error").text()
    assert set_cookie_headers(stopped, SESSION_COOKIE) == []
    assert (await b.client.get("/wards")).status_code == 303

    clock.now += timedelta(minutes=14)
    still = await b.submit_login("nurse")
    assert still.status_code == 401
    assert "too many failed sign-ins" in still.text

    clock.now += timedelta(minutes=1, seconds=1)  # 15 minutes and a second after the last
    response = await b.submit_login("nurse")
    assert response.status_code == 303
    assert (await b.client.get("/wards")).status_code == 200


async def test_guessing_from_one_address_never_locks_the_person_out_of_their_own(world, browser):
    """Finding 7: anyone could lock any account for 15 minutes. Now the guesser is slowed,
    and the nurse at her own PC signs in as usual."""
    attacker = browser("10.0.0.66")
    for _ in range(12):
        assert (await attacker.submit_login("nurse", "not-the-password")).status_code == 401

    nurse = browser("10.1.1.20")
    response = await nurse.submit_login("nurse")
    assert response.status_code == 303
    assert (await nurse.client.get("/wards")).status_code == 200


async def test_many_failures_from_one_address_stop_that_address_for_every_name(world, browser):
    """Per address as well as per account: trying one password against many names (each
    below the per-name limit) is stopped once the address has failed 30 times."""
    attacker = browser("10.0.0.66")
    for i in range(30):
        response = await attacker.submit_login(f"guess{i}", "not-the-password")
        assert response.status_code == 401
        assert parse(response.text).by_id("login-error").text() == WRONG

    stopped = await attacker.submit_login("birchnurse")  # right password, fresh name
    assert stopped.status_code == 401
    assert "too many failed sign-ins" in stopped.text
    # Another address is not affected.
    assert (await browser("10.1.1.21").submit_login("birchnurse")).status_code == 303


async def test_a_good_sign_in_clears_earlier_failures(world, browser):
    b = browser()
    for _ in range(4):
        assert (await b.submit_login("nurse", "not-the-password")).status_code == 401
    assert (await b.submit_login("nurse")).status_code == 303
    # The count started again: four more failures do not stop the name.
    other = browser()
    for _ in range(4):
        assert (await other.submit_login("nurse", "not-the-password")).status_code == 401
    assert (await other.submit_login("nurse")).status_code == 303


async def test_stopping_one_name_leaves_others_alone(world, browser):
    b = browser()
    for _ in range(5):
        await b.submit_login("nurse", "not-the-password")
    assert (await b.submit_login("birchnurse")).status_code == 303


# --- no telling which names exist ------------------------------------------------------------


async def _answers(b, username: str, tries: int) -> list[str]:  # type: ignore[no-untyped-def]
    texts = []
    for _ in range(tries):
        response = await b.submit_login(username, "not-the-password")
        assert response.status_code == 401
        texts.append(parse(response.text).by_id("login-error").text())
    return texts


async def test_a_real_name_and_a_made_up_one_get_the_same_answers_in_the_same_order(world, browser):
    """Finding 7: only real accounts ever said "locked". Now the sixth try from an address
    is stopped alike whether the name exists or not."""
    real = await _answers(browser("10.0.0.1"), "nurse", 7)
    made_up = await _answers(browser("10.0.0.2"), "no-such-person", 7)

    assert real == made_up
    assert real[0] == WRONG
    assert "too many failed sign-ins" in real[-1]


async def test_a_disabled_account_answers_as_a_wrong_password_does(world, browser, session):
    world.users["birchnurse"].active = False
    await session.commit()

    disabled = await _answers(browser("10.0.0.3"), "birchnurse", 1)
    assert disabled == [WRONG]
    right_password = await browser("10.0.0.4").submit_login("birchnurse")
    assert parse(right_password.text).by_id("login-error").text() == WRONG


@pytest.mark.parametrize("username", ["nurse", "no-such-person", "birchnurse"])
async def test_every_failed_sign_in_runs_one_argon2_verify(
    world, browser, session, monkeypatch, username
):
    """Finding 7: an unknown name answered in 6 ms and a real one in 165 ms, because the
    dummy argon2 check never ran. Counted, not timed: every failure verifies once."""
    from argon2 import PasswordHasher

    world.users["birchnurse"].active = False  # a disabled account, too
    await session.commit()
    calls: list[str] = []
    real_verify = PasswordHasher.verify

    def counting(self, hash_, password):  # type: ignore[no-untyped-def]
        calls.append(hash_)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    response = await browser().submit_login(username, "not-the-password")

    assert response.status_code == 401
    assert len(calls) == 1


async def test_failed_sign_ins_are_audited_with_the_name_typed_and_the_address(
    world, browser, session
):
    from app.audit.models import AuditEntry

    long_name = "x" * 300
    await browser("10.9.8.7").submit_login("nurse", "not-the-password")
    await browser("10.9.8.7").submit_login(long_name, "not-the-password")

    entries = list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "user.sign_in_failed")
            .order_by(AuditEntry.id)
        )
    )
    assert [e.username for e in entries] == ["nurse", "x" * 64]
    assert entries[0].entity_id == str(world.users["nurse"].id)
    assert entries[1].entity_id == ""
    assert all(e.after and e.after["client"] == "10.9.8.7" for e in entries)
    assert all("not-the-password" not in repr(e.after) for e in entries)


async def test_signing_out_is_audited_with_the_address(world, browser, session):
    from app.audit.models import AuditEntry

    b = await browser("10.4.4.4").sign_in("nurse")
    assert (await b.post("/logout")).status_code == 303

    [entry] = list(
        await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.sign_out"))
    )
    assert entry.username == "nurse"
    assert entry.user_id == world.users["nurse"].id
    assert entry.after == {"client": "10.4.4.4"}


# --- the login form's CSRF token ---------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_login_without_its_csrf_token_is_refused_and_signs_nobody_in(
    world, browser, session, token
):
    b = browser()
    await b.login_form()  # the login CSRF cookie is set
    data = {"username": "nurse", "password": "correct-horse-battery", "next": "/wards"}
    if token is not None:
        data["csrf_token"] = token

    response = await b.client.post("/login", data=data)

    assert response.status_code == 403
    assert set_cookie_headers(response, SESSION_COOKIE) == []
    assert await session_rows(session) == 0
    assert (await b.client.get("/wards")).status_code == 303


async def test_login_token_without_its_cookie_is_refused(world, browser, session):
    """A token lifted from someone else's form is no use without the matching cookie."""
    b = browser()
    _, token = await b.login_form()
    attacker = browser()

    response = await attacker.client.post(
        "/login",
        data={"username": "nurse", "password": "correct-horse-battery", "csrf_token": token},
    )

    assert response.status_code == 403
    assert await session_rows(session) == 0


# --- signing out and idle expiry ---------------------------------------------------------


async def test_sign_out_ends_the_session_for_the_old_cookie_too(world, browser, signed_in):
    nurse = await signed_in("nurse")
    cookie = nurse.session_cookie
    assert cookie

    response = await nurse.post("/logout")

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert nurse.session_cookie is None  # the browser was told to forget it
    replay = browser()
    replay.client.cookies.set(SESSION_COOKIE, cookie)
    page = await replay.client.get("/wards")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


async def test_sign_out_without_the_session_csrf_token_is_refused(world, signed_in):
    nurse = await signed_in("nurse")

    response = await nurse.post("/logout", csrf=False)

    assert response.status_code == 403
    assert (await nurse.get("/wards")).status_code == 200


async def test_a_session_idle_for_more_than_30_minutes_ends(world, signed_in, clock):
    nurse = await signed_in("nurse")

    clock.now += timedelta(minutes=29)
    assert (await nurse.get("/wards")).status_code == 200
    clock.now += timedelta(minutes=29)  # 58 minutes since sign-in, 29 since last use
    assert (await nurse.get("/wards")).status_code == 200

    clock.now += timedelta(minutes=31)
    expired = await nurse.get("/wards")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/login?next=/wards"
    # Ended for good: it does not come back.
    assert (await nurse.get("/account")).status_code == 303


async def test_the_boards_own_refresh_does_not_keep_an_idle_session_alive(world, signed_in, clock):
    nurse = await signed_in("nurse")
    # A board left open polls every 15 s; those refreshes are not a person using it.
    for _ in range(3):
        clock.now += timedelta(minutes=10)
        assert (await nurse.get("/wards/ASH?refresh=1", htmx=True)).status_code == 200
    clock.now += timedelta(minutes=1)  # 31 minutes since the person last did anything
    expired = await nurse.get("/wards/ASH?refresh=1", htmx=True)
    assert expired.status_code == 204 and expired.headers["HX-Redirect"].startswith("/login")


async def test_an_expired_session_cannot_call_the_api(world, signed_in, clock):
    nurse = await signed_in("nurse")
    clock.now += timedelta(minutes=31)

    response = await nurse.client.get("/api/v1/wards")

    assert response.status_code == 401


# --- pages without a session -------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/wards",
        "/wards/ASH",
        "/wards/ASH/beds/A2/admit",
        "/admissions/1",
        "/admissions/1/discharge",
        "/admin/audit",
        "/account",
    ],
)
async def test_pages_without_a_session_redirect_to_login(world, browser, path):
    response = await browser().client.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


async def test_a_form_post_without_a_session_redirects_to_login_and_writes_nothing(
    world, browser, session
):
    response = await browser().client.post(
        "/wards/ASH/beds/A6/status", data={"status": "closed", "reason": "Deep clean"}
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    status = await session.scalar(
        select(Bed.status).join(Ward).where(Ward.code == "ASH", Bed.label == "A6")
    )
    assert status == "open"


@pytest.mark.parametrize(
    "method, path", [("GET", "/wards/ASH"), ("POST", "/wards/ASH/beds/A2/admit")]
)
async def test_htmx_without_a_session_is_told_to_load_the_login_page(world, browser, method, path):
    response = await browser().client.request(method, path, headers=HTMX)

    assert response.headers.get("HX-Redirect") == f"/login?next={path}"
    # Not a redirect htmx would follow and swap into the panel.
    assert response.status_code < 300
    assert 'id="board"' not in response.text
