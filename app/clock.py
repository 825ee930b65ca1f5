"""The clock is a dependency, so rules, "days on ward" and tests never read time globally."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def get_now() -> datetime:
    """FastAPI dependency; tests override it with a fixed instant."""
    return utcnow()
