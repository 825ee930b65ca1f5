"""Reading FHIR search parameters: tokens, references, dates with prefixes, paging.

A value we cannot read is a 400 (``BadSearch``), never a guess and never a 500. Unknown
parameters are refused too (FHIR's strict handling): a client filtering on something we do
not support must not silently receive everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from app.config import get_settings
from app.errors import DomainError

DEFAULT_COUNT = 50
MAX_COUNT = 200
MAX_ID = 2**31 - 1
COMMON = {"_count", "_offset", "_format"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}


class BadSearch(DomainError):
    status = 400
    title = "Bad search"


@dataclass(frozen=True)
class Token:
    system: str | None
    code: str


@dataclass(frozen=True)
class Paging:
    count: int
    offset: int


def read(items: list[tuple[str, str]], allowed: set[str]) -> tuple[dict[str, list[str]], Paging]:
    """The request's parameters by name (repeats kept), checked against ``allowed``."""
    values: dict[str, list[str]] = {}
    for name, value in items:
        if name not in allowed | COMMON:
            supported = ", ".join(sorted(allowed | COMMON))
            raise BadSearch(f"Unknown search parameter '{name}'. Supported: {supported}.")
        values.setdefault(name, []).append(value)
    for fmt in values.get("_format", []):
        if fmt not in JSON_FORMATS:
            raise BadSearch("Only JSON is served (_format=json).")
    # FHIR search: "the server ... SHALL NOT return more than the server's maximum" and
    # pages the rest: a larger _count is clamped (its next link says the count used).
    count = min(_single_int(values, "_count", DEFAULT_COUNT, 0, 10_000_000), MAX_COUNT)
    offset = _single_int(values, "_offset", 0, 0, 10_000_000)
    return values, Paging(count, offset)


def _single_int(values: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    given = values.get(name)
    if not given:
        return default
    if len(given) > 1:
        raise BadSearch(f"Give {name} once.")
    try:
        number = int(given[0])
    except ValueError:
        raise BadSearch(f"{name} must be a whole number.") from None
    if not low <= number <= high:
        raise BadSearch(f"{name} must be between {low} and {high}.")
    return number


def tokens(raw: str, name: str) -> list[Token]:
    """``code``, ``system|code`` or ``|code``, comma-separated (any of them matches)."""
    result = []
    for part in raw.split(","):
        if "|" in part:
            system, code = part.split("|", 1)
            token = Token(system or None, code)
        else:
            token = Token(None, part)
        if not token.code:
            raise BadSearch(f"{name} needs a code, e.g. {name}=code or {name}=system|code.")
        result.append(token)
    return result


def token_codes(raw: str, name: str, known: dict[str, str]) -> set[str]:
    """The codes asked for, from ``known`` ({code: its system}); a code not known is a 400,
    a known code under another system matches nothing."""
    codes = set()
    for token in tokens(raw, name):
        if token.code not in known:
            raise BadSearch(f"{name}: '{token.code}' is not one of {', '.join(sorted(known))}.")
        if token.system is None or token.system == known[token.code]:
            codes.add(token.code)
    return codes


def int_id(value: str) -> int | None:
    """A numeric id, or None when it cannot name any record."""
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


_LOCAL_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def reference(raw: str, resource_type: str, name: str) -> str:
    """The id in ``Type/id``, ``id`` or an absolute ``.../Type/id`` reference."""
    value = raw.strip()
    if "/" in value:
        parts = value.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != resource_type:
            raise BadSearch(f"{name} must reference a {resource_type}, e.g. {resource_type}/1.")
        value = parts[-1]
    if not _LOCAL_ID.match(value):
        raise BadSearch(f"{name}: '{raw}' is not a {resource_type} reference.")
    return value


# --- dates -----------------------------------------------------------------------------

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _local_midnight(day: date) -> datetime:
    zone = ZoneInfo(get_settings().timezone)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def date_range(raw: str, name: str) -> tuple[str, datetime, datetime]:
    """(prefix, start, end) with end exclusive: the instants the value stands for. Dates
    without a time are whole local (Europe/London) days, months or years; a time without
    an offset is local time too, as FHIR asks of a server."""
    prefix, value = ("eq", raw)
    if raw[:2] in PREFIXES and not raw[:2].isdigit():
        prefix, value = raw[:2], raw[2:]
    if prefix == "ap":
        raise BadSearch(f"{name}: the 'ap' prefix is not supported.")
    match = _DATE.match(value)
    try:
        if match:
            year, month, day = (int(g) if g else None for g in match.groups())
            assert year is not None
            if month is None:
                start, end = date(year, 1, 1), date(year + 1, 1, 1)
            elif day is None:
                start = date(year, month, 1)
                end = date(year + (month == 12), month % 12 + 1, 1)
            else:
                start = date(year, month, day)
                end = start + timedelta(days=1)
            return prefix, _local_midnight(start), _local_midnight(end)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise BadSearch(
            f"{name}: '{raw}' is not a date; use e.g. ge2026-03-01 or lt2026-03-02T14:00:00Z."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(get_settings().timezone))
    clock = re.split(r"[Z+-]", value.split("T", 1)[1] if "T" in value else "", maxsplit=1)[0]
    step = [timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)][
        min(clock.count(":"), 2)
    ]
    if "." in clock:
        step = timedelta(microseconds=1)
    moment = moment.astimezone(UTC)
    return prefix, moment, moment + step


def period_matches(raw: str, name: str, start: Any, end: Any) -> ColumnElement[bool]:
    """A SQL condition: the period [start, end] (end null while ongoing) against a date
    search value, as FHIR defines each prefix for a target that is a range."""
    prefix, low, high = date_range(raw, name)
    within = and_(start >= low, end.is_not(None), end < high)
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": within,
        "ne": not_(within),
        "gt": or_(end.is_(None), end >= high),
        "ge": or_(end.is_(None), end >= low),
        "lt": start < low,
        "le": start < high,
        "sa": start >= high,
        "eb": and_(end.is_not(None), end < low),
    }
    return conditions[prefix]


def all_of(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(true(), *conditions) if conditions else true()


def nothing() -> ColumnElement[bool]:
    return false()
