"""Shared pydantic building blocks."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

# Blank or whitespace-only text is refused: "reason" must say something.
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# A time with no offset is refused (422): never guess the zone of a clinical event.
Instant = AwareDatetime


class In(BaseModel):
    """Request bodies: unknown fields are refused so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)
