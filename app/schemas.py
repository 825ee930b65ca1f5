"""Shared pydantic building blocks."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, field_validator

# Blank or whitespace-only text is refused: "reason" must say something.
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
# Codes (ward, site, locality, bed labels, type and reason codes) go into addresses, file
# names of downloads and CSV cells: letters, digits, "-" and "_" only (422 otherwise).
CODE_PATTERN = r"^[A-Za-z0-9_-]+$"
CODE_MESSAGE = "may contain only letters, digits, - and _"
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=CODE_PATTERN),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A time with no offset is refused (422): never guess the zone of a clinical event.
Instant = AwareDatetime


def storable(value: Any) -> Any:
    """Text PostgreSQL can keep: no NUL character and no unpaired surrogate (JSON can carry
    both; the database refuses them mid-write). Refused as input, on both databases."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("cannot contain a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("cannot contain an unpaired surrogate character") from None
    elif isinstance(value, list | tuple | set):
        for item in value:
            storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            storable(item)
    return value


class In(BaseModel):
    """Request bodies: unknown fields are refused so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)
