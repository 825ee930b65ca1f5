"""Save this form, or show it again: forms.attempt and web.done, on their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from app.db import flush
from app.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from app.forms import Attempt, attempt, validate
from app.wards import schemas
from app.wards.models import Locality
from app.web import BOARD_CHANGED, done


def _locality(code: str) -> Locality:
    return Locality(code=code, name=f"Probe {code}", latitude=51.5, longitude=-0.1)


async def _count(session: AsyncSession, code: str) -> int:
    found = await session.scalar(select(func.count(Locality.id)).where(Locality.code == code))
    return int(found or 0)


@pytest.fixture
def commits(session: AsyncSession) -> Iterator[list[int]]:
    """One entry per commit event of the session."""
    seen: list[int] = []

    def count(_session: object) -> None:
        seen.append(1)

    event.listen(session.sync_session, "after_commit", count)
    yield seen
    event.remove(session.sync_session, "after_commit", count)


async def test_a_write_that_succeeds_is_committed_and_its_result_returned(
    session: AsyncSession, commits: list[int]
) -> None:
    async def write() -> Locality:
        place = _locality("FORM-OK")
        session.add(place)
        await flush(session)
        return place

    saved = await attempt(session, write)

    assert saved.ok and saved.status == 200
    assert saved.saved.code == "FORM-OK"
    assert saved.errors == {} and saved.problem is None
    assert commits and not session.in_transaction()
    # Committed: a rollback now does not take it away.
    await session.rollback()
    assert await _count(session, "FORM-OK") == 1


async def test_invalid_gives_field_errors_and_leaves_nothing_behind(
    session: AsyncSession, commits: list[int]
) -> None:
    async def write() -> Locality:
        session.add(_locality("FORM-BAD"))
        await flush(session)
        raise Invalid([FieldError("reason", "must not be blank")])

    saved = await attempt(session, write)

    assert not saved.ok and saved.status == 422
    assert saved.errors == {"reason": "Enter the reason for admission"}
    assert saved.problem is None
    assert commits == [] and session.in_transaction()
    assert await _count(session, "FORM-BAD") == 0
    with pytest.raises(RuntimeError):
        _ = saved.saved


async def test_a_refusal_undoes_only_the_attempt(session: AsyncSession) -> None:
    """What was written before the attempt (an audited lookup) stays, uncommitted."""
    session.add(_locality("FORM-BEFORE"))
    await flush(session)

    async def write() -> None:
        session.add(_locality("FORM-DURING"))
        await flush(session)
        raise Conflict("Bed 3 is taken.")

    saved = await attempt(session, write)

    assert saved.problem == "Bed 3 is taken." and saved.status == 409
    assert await _count(session, "FORM-DURING") == 0
    assert await _count(session, "FORM-BEFORE") == 1


async def test_not_found_is_a_problem_too(session: AsyncSession) -> None:
    async def write() -> None:
        raise NotFound("No bed request with id 9.")

    saved = await attempt(session, write)

    assert (saved.status, saved.problem) == (409, "No bed request with id 9.")


async def test_a_refusal_by_the_database_at_flush_is_a_conflict(session: AsyncSession) -> None:
    session.add(_locality("FORM-TWICE"))
    await flush(session)

    async def write() -> None:
        session.add(_locality("FORM-TWICE"))
        await flush(session)

    saved = await attempt(session, write)

    assert saved.status == 409 and saved.problem
    assert await _count(session, "FORM-TWICE") == 1


async def test_errors_found_before_writing_mean_nothing_is_tried(session: AsyncSession) -> None:
    tried: list[bool] = []

    async def write() -> None:
        tried.append(True)

    saved = await attempt(session, write, errors={"at": "Enter a date and time"})

    assert tried == []
    assert (saved.status, saved.errors, saved.problem) == (
        422,
        {"at": "Enter a date and time"},
        None,
    )


async def test_the_form_words_its_own_field_errors(session: AsyncSession) -> None:
    async def write() -> None:
        raise Invalid([FieldError("parameters.limit", "must be at least 1")])

    saved = await attempt(
        session, write, explain=lambda exc: {"param-limit": exc.errors[0].message}
    )

    assert saved.errors == {"param-limit": "must be at least 1"}


async def test_only_the_refusals_asked_for_are_caught(session: AsyncSession) -> None:
    async def forbidden() -> None:
        raise Forbidden("You can see alerts only on your own wards.")

    with pytest.raises(Forbidden):
        await attempt(session, forbidden)
    saved = await attempt(session, forbidden, refusals=(Conflict, Forbidden))
    assert saved.status == 403

    async def missing() -> None:
        raise NotFound("No alert with id 9.")

    with pytest.raises(NotFound):
        await attempt(session, missing, refusals=(Conflict,))


def test_an_attempt_with_no_result_is_still_saved() -> None:
    assert Attempt[None]().ok


# --- done ---------------------------------------------------------------------------------


def _request(*, htmx: bool) -> Request:
    headers = [(b"hx-request", b"true")] if htmx else []
    return Request(
        {"type": "http", "method": "POST", "path": "/x", "headers": headers, "query_string": b""}
    )


def test_done_without_javascript_is_a_303_to_the_page() -> None:
    response = done(
        _request(htmx=False), "Bed 3 closed.", trigger=BOARD_CHANGED, redirect="/wards/W1"
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/wards/W1"
    assert "hx-trigger" not in response.headers


def test_done_for_htmx_is_a_notice_and_the_event() -> None:
    response = done(
        _request(htmx=True), "Bed 3 <closed>.", trigger=BOARD_CHANGED, redirect="/wards/W1"
    )

    assert response.status_code == 200
    assert response.headers["hx-trigger"] == "board-changed"
    assert response.headers["vary"] == "HX-Request"
    assert "Bed 3 &lt;closed&gt;." in bytes(response.body).decode()


# --- validate(drop_blank=True) -------------------------------------------------------------


def test_drop_blank_leaves_out_what_was_not_given() -> None:
    """A blank field reads "is required" beside it, not "must be a date and time"."""
    data = {"at": None, "reason": "moving closer to home", "ward_code": "W1", "bed_label": "1"}
    kept: dict[str, str] = {}
    dropped: dict[str, str] = {}

    assert validate(schemas.TransferIn, data, kept) is None
    assert validate(schemas.TransferIn, data, dropped, drop_blank=True) is None

    assert kept == {"at": "Time must be a date and time like 2026-03-02T14:05:00Z"}
    assert dropped == {"at": "Time is required"}
