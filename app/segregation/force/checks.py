"""Use-of-force records: what the Act requires and what a record lacks, and the checks a
draft must pass before it is written. Pure: no database, no HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from app.clock import check_not_future
from app.errors import FieldError, Invalid
from app.segregation.force import schemas
from app.segregation.force.models import RestrictiveIntervention
from app.wards import admissions
from app.wards.models import Admission

# The record's own values, as the API names them: everything in a body but the two lists.
SCALARS = tuple(n for n in schemas.InterventionIn.model_fields if n not in ("types", "staff"))

# The Act's items a record can lack, in the order s.6(5) lists them. Patient name, NHS
# number, characteristics and learning disability or autism come from the patient record.
MISSING_LABELS: dict[str, str] = {
    "reason_code": "Why force was used (reason)",
    "ended_at": "When it ended (duration)",
    "types": "Type of force used",
    "in_care_plan": "Whether it was in the care plan",
    "description": "How force was used",
    "staff": "Staff who took part (name and job title)",
    "non_unit_staff_reason": "Why anyone not on the unit's staff took part",
    "outcome": "Outcome",
    "patient_injury": "Whether the patient was injured",
    "staff_injury": "Whether staff were injured",
    "avoidance_efforts": "Efforts made to avoid using force",
    "care_plan_notification_sent": "Whether the care-plan notification was sent",
}


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def missing_items(record: RestrictiveIntervention) -> list[str]:
    """The API names of the Act's items the record still lacks (types and staff loaded)."""
    present = {"types": bool(record.types), "staff": bool(record.staff)}
    return [
        item
        for item in MISSING_LABELS
        if not present.get(item, _present(getattr(record, item, None)))
    ]


class TypeEntry(NamedTuple):
    type_code: str
    started_at: datetime
    ended_at: datetime | None


class StaffEntry(NamedTuple):
    name: str
    job_title: str


@dataclass(frozen=True)
class Draft:
    """A record as it would stand after a write, checked whole before anything is written."""

    values: dict[str, Any]
    types: list[TypeEntry]
    staff: list[StaffEntry]

    @classmethod
    def of(cls, record: RestrictiveIntervention) -> Draft:
        return cls(
            {name: getattr(record, name) for name in SCALARS},
            [TypeEntry(t.type_code, t.started_at, t.ended_at) for t in record.types],
            [StaffEntry(s.name, s.job_title) for s in record.staff],
        )

    def differs(self, other: Draft) -> bool:
        return (
            self.values != other.values
            or Counter(self.types) != Counter(other.types)
            or Counter(self.staff) != Counter(other.staff)
        )


def types_from(given: list[schemas.TypeIn] | None, values: dict[str, Any]) -> list[TypeEntry]:
    """A type without its own times lasted as long as the whole intervention."""
    return [
        TypeEntry(
            t.type_code,
            values["started_at"] if t.started_at is None else t.started_at,
            values["ended_at"] if t.ended_at is None else t.ended_at,
        )
        for t in given or []
    ]


def staff_from(given: list[schemas.StaffIn] | None) -> list[StaffEntry]:
    return [StaffEntry(s.name, s.job_title) for s in given or []]


def _follow(entry: TypeEntry, old: dict[str, Any], new: dict[str, Any]) -> TypeEntry:
    """A type that kept the incident's times keeps them when those times are corrected."""
    return entry._replace(
        started_at=new["started_at"] if entry.started_at == old["started_at"] else entry.started_at,
        ended_at=new["ended_at"] if entry.ended_at == old["ended_at"] else entry.ended_at,
    )


def patched(old: Draft, data: schemas.InterventionPatch, fields: set[str]) -> Draft:
    values = {**old.values, **{name: getattr(data, name) for name in fields & set(SCALARS)}}
    if "types" in fields:
        types = types_from(data.types, values)
    else:
        types = [_follow(t, old.values, values) for t in old.types]
    return Draft(values, types, staff_from(data.staff) if "staff" in fields else old.staff)


def corrected(old: Draft, new: Draft, fields: set[str]) -> list[str]:
    """Items that already had a value and would now differ: these need a reason."""
    changed = [n for n in SCALARS if old.values[n] is not None and new.values[n] != old.values[n]]
    # A type that only follows a corrected incident time is not a change of its own.
    if "types" in fields and old.types and Counter(old.types) != Counter(new.types):
        changed.append("types")
    if old.staff and Counter(old.staff) != Counter(new.staff):
        changed.append("staff")
    return changed


# --- checks -----------------------------------------------------------------------------


def _gather(errors: list[FieldError], check: Callable[[], None]) -> None:
    """Run a check that raises Invalid, keeping its errors so the form can show them all."""
    try:
        check()
    except Invalid as exc:
        errors.extend(exc.errors)


def _type_errors(
    index: int, entry: TypeEntry, start: datetime, end: datetime | None, now: datetime
) -> list[FieldError]:
    field = f"types.{index}"
    errors: list[FieldError] = []
    if entry.started_at < start:
        errors.append(FieldError(f"{field}.started_at", "cannot be before the use of force began"))
    elif end is not None and entry.started_at > end:
        errors.append(FieldError(f"{field}.started_at", "cannot be after the use of force ended"))
    _gather(errors, lambda: check_not_future(entry.started_at, now, f"{field}.started_at"))
    if entry.ended_at is not None:
        if entry.ended_at < entry.started_at:
            errors.append(FieldError(f"{field}.ended_at", "must be at or after this type began"))
        elif end is not None and entry.ended_at > end:
            errors.append(FieldError(f"{field}.ended_at", "cannot be after the use of force ended"))
        ended = entry.ended_at
        _gather(errors, lambda: check_not_future(ended, now, f"{field}.ended_at"))
    return errors


def check_draft(admission: Admission, draft: Draft, now: datetime, *, types_given: bool) -> None:
    """Times inside the admission, not in the future, each type inside the intervention."""
    errors: list[FieldError] = []
    start, end = draft.values["started_at"], draft.values["ended_at"]
    debriefed = draft.values["debriefed_at"]
    _gather(errors, lambda: admissions.check_within(admission, start, now, "started_at"))
    if end is not None:
        if end < start:
            errors.append(FieldError("ended_at", "must be at or after when it began"))
        else:
            _gather(errors, lambda: admissions.check_within(admission, end, now, "ended_at"))
    if debriefed is not None:
        if debriefed < start:
            errors.append(FieldError("debriefed_at", "cannot be before the use of force began"))
        else:
            _gather(errors, lambda: check_not_future(debriefed, now, "debriefed_at"))
    type_errors = [
        error
        for index, entry in enumerate(draft.types)
        for error in _type_errors(index, entry, start, end, now)
    ]
    if type_errors and not types_given:
        # The caller did not send the types, so "types.0" would name nothing they sent.
        type_errors = [
            FieldError(
                "types",
                "a type's own times would fall outside the new start and end; correct them too",
            )
        ]
    errors += type_errors
    if errors:
        raise Invalid(errors)
