"""The seclusion and segregation forms, described once: the fields each shows and how a
submitted form becomes the API's request body. One template draws them all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.forms import Errors, take_datetimes
from app.segregation.codes import (
    AUTHORISED_BY_ROLES,
    REVIEW_OUTCOMES,
    SECLUSION_REVIEW_KINDS,
    SEGREGATION_REVIEW_KINDS,
)


@dataclass(frozen=True)
class Field:
    kind: Literal["datetime", "radios", "textarea", "checkbox"]
    name: str
    label: str
    options: dict[str, str] = field(default_factory=dict)
    hint: str | None = None


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    submit: str
    fields: tuple[Field, ...]

    def parse(self, values: dict[str, Any], errors: Errors) -> dict[str, Any]:
        """The submitted values as the API schema expects them (times in UTC, blanks None)."""
        form = {f.name: values.get(f.name) for f in self.fields}
        take_datetimes(form, [f.name for f in self.fields if f.kind == "datetime"], errors)
        for f in self.fields:
            if f.kind == "checkbox":
                form[f.name] = values.get(f.name) == "yes"
            elif f.kind == "radios" and not form[f.name]:
                form[f.name] = None
        return form


def _at(label: str) -> Field:
    return Field("datetime", "at", label, hint="UK time")


NOTE = Field("textarea", "note", "Note")

START_SECLUSION = Form(
    "seclude",
    "Start seclusion",
    "Start seclusion",
    (
        Field("datetime", "started_at", "Started at", hint="UK time"),
        Field("radios", "authorised_by_role", "Authorised by", AUTHORISED_BY_ROLES),
        Field("textarea", "reason", "Reason for seclusion"),
    ),
)
SECLUSION_REVIEW = Form(
    "secl-review",
    "Record a seclusion review",
    "Record review",
    (
        Field("radios", "kind", "Review", SECLUSION_REVIEW_KINDS),
        _at("Reviewed at"),
        Field("radios", "outcome", "Outcome", REVIEW_OUTCOMES, hint="Optional"),
        NOTE,
    ),
)
OBSERVATION = Form(
    "observe",
    "Record an observation",
    "Record observation",
    (_at("Observed at"), NOTE),
)
END_SECLUSION = Form(
    "secl-end",
    "End seclusion",
    "End seclusion",
    (
        _at("Ended at"),
        NOTE,
        Field(
            "checkbox",
            "to_segregation",
            "Long-term segregation begins as seclusion ends",
            hint="Ends the seclusion and starts segregation at the same moment",
        ),
        Field(
            "textarea",
            "segregation_reason",
            "Reason for long-term segregation",
            hint="Only if segregation begins",
        ),
    ),
)
START_SEGREGATION = Form(
    "segregate",
    "Start long-term segregation",
    "Start segregation",
    (
        Field("datetime", "started_at", "Started at", hint="UK time"),
        Field("textarea", "reason", "Reason for long-term segregation"),
        Field("datetime", "commissioner_informed_at", "Commissioner informed at", hint="If done"),
        Field("datetime", "imha_informed_at", "IMHA informed at", hint="If done"),
    ),
)
SEGREGATION_REVIEW = Form(
    "lts-review",
    "Record a segregation review",
    "Record review",
    (Field("radios", "kind", "Review", SEGREGATION_REVIEW_KINDS), _at("Reviewed at"), NOTE),
)
END_SEGREGATION = Form(
    "lts-end", "End long-term segregation", "End segregation", (_at("Ended at"), NOTE)
)
NOTIFICATIONS = Form(
    "lts-notify",
    "Commissioner and IMHA informed",
    "Save",
    (
        Field("datetime", "commissioner_informed_at", "Commissioner informed at", hint="UK time"),
        Field("datetime", "imha_informed_at", "IMHA informed at", hint="UK time"),
    ),
)
