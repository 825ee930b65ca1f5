"""Shared fixtures of the report tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def no_suppression(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The arithmetic tests' scenario has a handful of people: show every count (a
    threshold of 1), so the figures themselves can be checked. Suppression has its own
    tests (tests/reports/test_suppression.py)."""
    from app.config import get_settings

    monkeypatch.setenv("WARDFLOW_EQUALITY_MIN_COUNT", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("WARDFLOW_EQUALITY_MIN_COUNT")
    get_settings.cache_clear()
