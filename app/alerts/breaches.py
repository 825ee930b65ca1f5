"""What a rule check returns, and what it is given: the plain values between the checks
(pure functions of the records and ``as_of``) and the engine that stores alerts."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from app.rules.catalogue import Severity

# An alert's identity: rule, subject type, subject id, due_at (unique in the database).
Key = tuple[str, str, int, datetime]


@dataclass(frozen=True)
class Breach:
    """A deadline that passed without its action (or a condition that held) at ``due_at``."""

    rule: str
    subject_type: str
    subject_id: int
    due_at: datetime
    admission_id: int | None
    ward_id: int | None
    # When the missing action happened, or the episode ended, if by as_of: the alert is
    # then raised already cleared (RULES.md 1.1).
    cleared_at: datetime | None = None
    detail: str = ""
    # Set where the rule's severity depends on the breach (a long prone restraint).
    severity: Severity | None = None

    @property
    def key(self) -> Key:
        return (self.rule, self.subject_type, self.subject_id, self.due_at)


@dataclass(frozen=True)
class Typed:
    """A record as it was typed in: which row, what it is (for a sentence), when it
    happened, and when it was typed (None for an end or discharge: a change to the episode
    or admission, whose time of typing the audit log keeps)."""

    table: str
    id: int
    what: str
    at: datetime
    recorded_at: datetime | None
    # The end of the episode (or the discharge): after it nothing is owed, whatever the
    # thresholds (an alert raised under others is withdrawn by it too).
    ends: bool = False


# The records of one subject that can move a rule's chain (given the rule's code): read only
# for an alert to withdraw.
Evidence = Callable[[str], list[Typed]]


@dataclass(frozen=True)
class RunContext:
    as_of: datetime
    # Every rule's parameters in force, by code (a disabled rule's too: the seclusion
    # chains need all of them to walk any one).
    parameters: Mapping[str, Mapping[str, str | float]]
    enabled: frozenset[str]
    # A run looks at the whole history, but a subject that finished before the previous
    # complete run's as_of (and was recorded before it) already gave all its breaches:
    # checks skip it unless it still has an alert to clear. None: look at everything.
    window_start: datetime | None = None
    recorded_since: datetime | None = None
    # Open or acknowledged alerts by rule: (subject_id, due_at), for clearing.
    pending: Mapping[str, list[tuple[int, datetime]]] = field(default_factory=dict)
    # Filled by the checks of rules with a deadline chain or an end, as they read: for each
    # rule, the subjects judged whole (every deadline up to as_of) and how to find their
    # records. The engine withdraws such a subject's alerts that are no longer a breach
    # (RULES.md 1.1, "late-typed records move alerts both ways"). Emptied before each check.
    examined: dict[str, dict[tuple[str, int], Evidence]] = field(default_factory=dict)

    def examine(
        self, codes: Iterable[str], subject_type: str, subject_id: int, evidence: Evidence
    ) -> None:
        for code in codes:
            if code in self.enabled:
                self.examined.setdefault(code, {})[(subject_type, subject_id)] = evidence

    def pending_ids(self, *codes: str) -> set[int]:
        return {subject for code in codes for subject, _ in self.pending.get(code, [])}

    @cached_property
    def _pending_by_subject(self) -> dict[tuple[str, int], list[datetime]]:
        index: dict[tuple[str, int], list[datetime]] = {}
        for code, items in self.pending.items():
            for subject_id, due in items:
                index.setdefault((code, subject_id), []).append(due)
        return index

    def pending_dues(self, code: str, subject_id: int) -> list[datetime]:
        """When this subject's open or acknowledged alerts of this rule fell due."""
        return self._pending_by_subject.get((code, subject_id), [])


# A check covers one or more rules that share their records (all six seclusion rules
# come from one walk of each episode) and returns breaches for those rules only.
Check = Callable[[AsyncSession, RunContext], Awaitable[list[Breach]]]


@dataclass(frozen=True)
class CheckSpec:
    codes: tuple[str, ...]
    run: Check


def happened(moment: datetime | None, as_of: datetime) -> datetime | None:
    """An event counts only if its own time is at or before as_of (RULES.md 1)."""
    return moment if moment is not None and moment <= as_of else None


def earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


@dataclass
class Stays:
    """Which ward each admission was on when: for the ward that owns an alert."""

    by_admission: dict[int, list[tuple[datetime, datetime | None, int]]] = field(
        default_factory=dict
    )
    _starts: dict[int, list[datetime]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, datetime, datetime | None, int]]) -> Stays:
        stays = cls()
        for admission_id, started_at, ended_at, ward_id in rows:
            stays.by_admission.setdefault(admission_id, []).append((started_at, ended_at, ward_id))
        for admission_id, items in stays.by_admission.items():
            items.sort(key=lambda item: item[0])
            stays._starts[admission_id] = [start for start, _, _ in items]
        return stays

    def ward_at(self, admission_id: int, at: datetime) -> int | None:
        """The ward of the stay holding ``at``; before the first, the first; after, the last."""
        items = self.by_admission.get(admission_id)
        if not items:
            return None
        index = bisect_right(self._starts[admission_id], at) - 1
        return items[max(index, 0)][2]
