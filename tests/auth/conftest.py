"""Fixtures for the sign-in and access tests: browsers that sign in through the form."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.auth.helpers import Browser


@pytest.fixture
async def browser(app) -> AsyncIterator[Callable[[], Browser]]:  # type: ignore[no-untyped-def]
    """Make browsers (each with its own cookies); all are closed after the test."""
    opened: list[Browser] = []

    def make() -> Browser:
        b = Browser(app)
        opened.append(b)
        return b

    yield make
    for b in opened:
        await b.aclose()


@pytest.fixture
async def signed_in(browser) -> Callable[[str], Awaitable[Browser]]:  # type: ignore[no-untyped-def]
    """signed_in("nurse") gives a browser signed in as that user, with its CSRF token."""

    async def sign_in(username: str) -> Browser:
        return await browser().sign_in(username)

    return sign_in
