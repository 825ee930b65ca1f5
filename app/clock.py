"""The clock is a dependency, so rules, "days on ward" and tests never read time globally.

Local time is the trust's one zone (settings.timezone): rules, pages and reports all read
it from `local_tz`, so they cannot disagree on where midnight falls.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.config import get_settings
from app.errors import FieldError, Invalid


def utcnow() -> datetime:
    return datetime.now(UTC)


def get_now() -> datetime:
    """FastAPI dependency; tests override it with a fixed instant."""
    return utcnow()


def local_tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_tz()).date()


def midnights_between(start: datetime, end: datetime) -> int:
    """Local midnights passed after ``start`` up to and including ``end``: how bed days,
    delay days and placement days are counted (a stay from Monday 14:00 to Wednesday 10:00
    is 2 days)."""
    return max(0, (local_date(end) - local_date(start)).days)


def age_on(date_of_birth: date, on: date) -> int:
    return (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )


def check_not_future(at: datetime, now: datetime, field: str) -> None:
    tolerance = timedelta(minutes=get_settings().future_tolerance_minutes)
    if at > now + tolerance:
        raise Invalid(FieldError(field, "cannot be in the future"))
