"""An admission's detention periods and their legal deadlines, from its records alone.

Pure: the legal status history, the renewals and the rights records in; the periods
(with their computed expiry and renewal window) and every deadline still to meet out.
The legal record (`GET /admissions/{id}/mha`), the diary and the rules read it, so what
the Mental Health Act office sees coming is exactly what is alerted on when missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from app.mha.clocks import Window, day_of, start_of_day
from app.mha.due import (
    Provision,
    consent_three_month_point,
    referral_applicable_day,
    rights_due,
    tribunal_referral_due,
)
from app.mha.periods import (
    RENEWABLE_PROVISIONS,
    PeriodLengths,
    Shape,
    clock_start_day,
    is_detaining,
    period_expiry,
    shape_of,
    window_for_renewal,
)


class StatusChange(Protocol):
    id: int
    legal_status: str
    at: datetime
    clock_start_day: date | None


class RenewalRecord(Protocol):
    id: int
    period_id: int
    examined_at: datetime
    agreed_at: datetime
    furnished_at: datetime


class RightsRecord(Protocol):
    kind: str
    given_at: datetime
    oral: bool
    written: bool


class TribunalRecord(Protocol):
    kind: str
    at: datetime
    withdrawn_at: datetime | None


class MedicineRecord(Protocol):
    at: datetime


class CertificateRecord(Protocol):
    issued_at: datetime
    fallen_at: datetime | None


# Part 4 (consent to treatment) does not apply to the short holding powers, remands for
# a report, and places of safety (s.56(3)).
PART_4 = frozenset({"s2", "s3", "s36", "s37", "s37_41", "s38", "s47", "s47_49", "s48", "s48_49"})


@dataclass(frozen=True, slots=True)
class Period:
    id: int
    legal_status: str
    started_at: datetime
    clock_start_day: date
    ended_at: datetime | None
    end_reason: str | None  # "regraded" or "discharged"
    expires_at: datetime | None
    renewal_window: Window | None
    # The renewals that extended it; a renewal furnished late or examined outside its
    # window is kept as a record but extends nothing.
    renewals: tuple[int, ...] = ()

    @property
    def open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class Deadline:
    rule: str
    due_at: datetime
    what: str
    period_id: int | None = None
    opens_at: datetime | None = field(default=None)


def periods_of(
    changes: Iterable[StatusChange],
    renewals: Iterable[RenewalRecord],
    *,
    discharged_at: datetime | None,
    lengths: PeriodLengths | None = None,
) -> list[Period]:
    """Each legal status change as the period it opened, oldest first."""
    lengths = lengths or PeriodLengths()
    ordered = sorted(changes, key=lambda c: (c.at, c.id))
    by_period: dict[int, list[RenewalRecord]] = {}
    for renewal in renewals:
        by_period.setdefault(renewal.period_id, []).append(renewal)
    periods = []
    for index, change in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        ended_at, reason = (
            (following.at, "regraded")
            if following is not None
            else (discharged_at, "discharged" if discharged_at else None)
        )
        start_day = change.clock_start_day or clock_start_day(
            change.legal_status, admitted_at=change.at
        )
        expires_at, window, counted = _expiry(
            change, start_day, by_period.get(change.id, []), lengths
        )
        periods.append(
            Period(
                id=change.id,
                legal_status=change.legal_status,
                started_at=change.at,
                clock_start_day=start_day,
                ended_at=ended_at,
                end_reason=reason,
                expires_at=expires_at,
                renewal_window=window,
                renewals=counted,
            )
        )
    return periods


def _expiry(
    change: StatusChange,
    start_day: date,
    renewals: Sequence[RenewalRecord],
    lengths: PeriodLengths,
) -> tuple[datetime | None, Window | None, tuple[int, ...]]:
    def expiry(count: int) -> datetime | None:
        return period_expiry(
            change.legal_status,
            started_at=change.at,
            clock_start=start_day,
            renewals=count,
            lengths=lengths,
        )

    current = expiry(0)
    if current is None or change.legal_status not in RENEWABLE_PROVISIONS:
        return current, None, ()
    counted: list[int] = []
    for renewal in sorted(renewals, key=lambda r: (r.furnished_at, r.id)):
        window = window_for_renewal(current)
        if renewal.furnished_at < current and window.holds(renewal.examined_at):
            counted.append(renewal.id)
            current = expiry(len(counted))
            assert current is not None
    return current, window_for_renewal(current), tuple(counted)


def deadlines(
    periods: Sequence[Period],
    rights: Iterable[RightsRecord],
    tribunal: Iterable[TribunalRecord] = (),
    medicine: Iterable[MedicineRecord] = (),
    certificates: Iterable[CertificateRecord] = (),
) -> list[Deadline]:
    """The legal deadlines of the period in force, soonest first. A deadline already met
    by a record is not listed; one already passed still is (it is a right missed)."""
    current = periods[-1] if periods else None
    if current is None or not current.open or not is_detaining(current.legal_status):
        return []
    found: list[Deadline] = []
    shape = shape_of(current.legal_status)
    if current.expires_at is not None:
        if shape is Shape.DAYS:
            found.append(
                Deadline(
                    "MHA_S2_EXPIRY",
                    current.expires_at,
                    "Section 2 ends: before then a s.3 application, or discharge",
                    current.id,
                )
            )
        elif shape is Shape.HOURS:
            found.append(
                Deadline(
                    "MHA_HOLDING_EXPIRY",
                    current.expires_at,
                    "The holding power ends: before then an application or the end recorded",
                    current.id,
                )
            )
        elif current.renewal_window is not None:
            window = current.renewal_window
            found.append(
                Deadline(
                    "MHA_S3_RENEWAL",
                    current.expires_at,
                    "Renewal report furnished to the managers (examination in the window"
                    f" from {day_of(window.opens_at):%d %b %Y})",
                    current.id,
                    opens_at=window.opens_at,
                )
            )
    given = [r for r in rights if r.kind == "s132" and r.given_at >= current.started_at]
    if not (any(r.oral for r in given) and any(r.written for r in given)):
        found.append(
            Deadline(
                "MHA_S132_RIGHTS",
                rights_due(current.started_at),
                "Rights (s.132) given orally and in writing",
                current.id,
            )
        )
    run = _liability_run(periods)
    applicable = referral_applicable_day(Provision(p.legal_status, p.clock_start_day) for p in run)
    if applicable is not None and not _tribunal_considered(periods, tribunal, applicable):
        found.append(
            Deadline(
                "MHA_TRIBUNAL_REFERRAL",
                tribunal_referral_due(applicable),
                "Tribunal: an application by the person (not under s.2) or a reference by"
                " the managers",
                current.id,
            )
        )
    consent = consent_due(run, medicine, certificates)
    if consent is not None:
        found.append(
            Deadline(
                "MHA_CONSENT_3_MONTH",
                consent,
                "A T2 or T3 certificate for medicine given after the three-month point"
                " (or urgent treatment under s.62)",
                current.id,
            )
        )
    return sorted(found, key=lambda d: d.due_at)


def _tribunal_considered(
    periods: Sequence[Period], tribunal: Iterable[TribunalRecord], applicable: date
) -> bool:
    """s.68(2)-(4): within the six months, a reference, or an application by the person
    that was not withdrawn and was not made under s.2."""
    opens = start_of_day(applicable)
    closes = tribunal_referral_due(applicable)
    for event in tribunal:
        if not opens <= event.at < closes:
            continue
        if event.kind == "reference":
            return True
        if event.kind == "application" and event.withdrawn_at is None:
            held_under = _in_force(periods, event.at)
            if held_under is not None and held_under.legal_status != "s2":
                return True
    return False


def _in_force(periods: Sequence[Period], at: datetime) -> Period | None:
    for period in reversed(periods):
        if period.started_at <= at:
            return period
    return None


def consent_due(
    run: Sequence[Period],
    medicine: Iterable[MedicineRecord],
    certificates: Iterable[CertificateRecord],
) -> datetime | None:
    """When medicine next needs a certificate in the current period of liability, or None:
    the three-month point from the first medicine in it (s.58(1)(b)), or, once every
    certificate has fallen, the moment the last one fell."""
    if not run or run[-1].legal_status not in PART_4:
        return None
    since = run[0].started_at
    first = min((m.at for m in medicine if m.at >= since), default=None)
    if first is None:
        return None
    point = consent_three_month_point(first)
    held = [c for c in certificates if c.issued_at >= since]
    if any(c.fallen_at is None for c in held):
        return None
    fallen = max((c.fallen_at for c in held if c.fallen_at is not None), default=None)
    return point if fallen is None else max(point, fallen)


def _liability_run(periods: Sequence[Period]) -> list[Period]:
    """The periods of the current, unbroken liability to be detained (back to the last
    informal period)."""
    run: list[Period] = []
    for period in reversed(periods):
        if not is_detaining(period.legal_status):
            break
        run.append(period)
    return list(reversed(run))
