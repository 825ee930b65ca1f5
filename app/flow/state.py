"""The trust's bed state, as the bed manager's page shows it: every site and ward with its
open, occupied and closed beds, expected discharges, people ready for discharge, the waiting
list and open out-of-area placements. Set-based queries, so the page costs the same number
of queries whatever the trust's size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import access, scope
from app.auth.models import User
from app.clock import age_on, local_date, midnights_between
from app.deadlines import Interval
from app.discharge.codes import ATTRIBUTABLE_TO, DELAY_REASONS
from app.discharge.models import ReadyForDischarge
from app.flow import people, placements, requests, schemas
from app.rules.catalogue import RuleCode
from app.rules.settings import parameters_in_force
from app.wards import service as wards_service
from app.wards.models import Admission, Bed, Patient, Site, Ward, WardStay


@dataclass(frozen=True)
class Thresholds:
    """The rules' thresholds in force, so the page marks what the alerts would."""

    occupancy: float  # a fraction: 0.85
    wait: str  # ISO 8601 duration, "PT12H"

    def wait_due(self, decided: datetime) -> datetime:
        return Interval.parse(self.wait).after(decided)


@dataclass
class WardState:
    code: str
    name: str
    ward_type: str
    sex: str
    min_age: int
    max_age: int
    beds: int
    open: int
    occupied: int
    out_today: int = 0
    out_this_week: int = 0

    @property
    def closed(self) -> int:
        return self.beds - self.open

    @property
    def empty(self) -> int:
        return self.open - self.occupied

    @property
    def rate(self) -> float | None:
        return self.occupied / self.open if self.open else None


@dataclass
class SiteState:
    code: str
    name: str
    wards: list[WardState] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(w, name) for w in self.wards)

    @property
    def rate(self) -> float | None:
        open_ = self.total("open")
        return self.total("occupied") / open_ if open_ else None


@dataclass(frozen=True)
class ReadyPerson:
    person: str  # initials, sex and age band: never a name
    ward_code: str
    ward_name: str
    bed_label: str
    since: datetime
    days: int
    reason: str
    attributable_to: str


@dataclass
class BedState:
    today: date
    week_end: date
    thresholds: Thresholds
    sites: list[SiteState]
    ready: list[ReadyPerson]
    waiting: list[schemas.BedRequestOut]
    placements: list[schemas.PlacementOut]

    def total(self, name: str) -> int:
        return sum(s.total(name) for s in self.sites)

    @property
    def rate(self) -> float | None:
        open_ = self.total("open")
        return self.total("occupied") / open_ if open_ else None


def describe(initials: str, sex: str, age_band: str) -> str:
    """'JS, female, 35-44': what a bed manager needs to know to find a bed."""
    return f"{initials}, {sex.replace('_', ' ')}, {age_band}"


async def thresholds(session: AsyncSession) -> Thresholds:
    parameters = await parameters_in_force(session)
    return Thresholds(
        occupancy=float(parameters[RuleCode.WARD_OCCUPANCY]["threshold"]) / 100,
        wait=str(parameters[RuleCode.ADM_WAIT]["threshold"]),
    )


async def _expected_out(
    session: AsyncSession, today: date, week_end: date
) -> dict[int, tuple[int, int]]:
    """(today, by Sunday) expected discharges per ward, from the people in its beds now."""
    rows = await session.execute(
        select(WardStay.ward_id, Admission.expected_discharge_date, func.count())
        .join(Admission, Admission.id == WardStay.admission_id)
        .where(
            WardStay.ended_at.is_(None),
            Admission.expected_discharge_date >= today,
            Admission.expected_discharge_date <= week_end,
        )
        .group_by(WardStay.ward_id, Admission.expected_discharge_date)
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for ward_id, expected, n in rows:
        if expected == today:
            counts[ward_id][0] += n
        counts[ward_id][1] += n
    return {ward_id: (a, b) for ward_id, (a, b) in counts.items()}


async def _ready(session: AsyncSession, actor: User, now: datetime) -> list[ReadyPerson]:
    """People clinically ready for discharge, the longest delayed first; for ward staff,
    only those whose admission they may read (app/auth/scope.py): ward and bed name them."""
    today = local_date(now)
    query = select(ReadyForDischarge, Patient, Ward.code, Ward.name, Bed.label)
    readable = scope.admission_condition(actor, now, Admission.id)
    if readable is not None:
        query = query.where(readable)
    rows = await session.execute(
        query.join(Admission, Admission.id == ReadyForDischarge.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .join(WardStay, (WardStay.admission_id == Admission.id) & WardStay.ended_at.is_(None))
        .join(Ward, Ward.id == WardStay.ward_id)
        .join(Bed, Bed.id == WardStay.bed_id)
        .where(ReadyForDischarge.ended_at.is_(None), ReadyForDischarge.started_at <= now)
        .order_by(ReadyForDischarge.started_at, ReadyForDischarge.id)
    )
    return [
        ReadyPerson(
            person=describe(
                people.initials(patient),
                patient.sex,
                people.age_band(age_on(patient.date_of_birth, today)),
            ),
            ward_code=ward_code,
            ward_name=ward_name,
            bed_label=label,
            since=period.started_at,
            days=midnights_between(period.started_at, now),
            reason=DELAY_REASONS.get(period.reason_code, period.reason_code),
            attributable_to=ATTRIBUTABLE_TO.get(period.attributable_to, period.attributable_to),
        )
        for period, patient, ward_code, ward_name, label in rows
    ]


async def bed_state(session: AsyncSession, *, actor: User, now: datetime) -> BedState:
    access.require_role(actor, access.CLINICAL_READERS, "see the trust's bed state")
    today = local_date(now)
    # Monday to Sunday, as the weekly report counts weeks.
    week_end = today + timedelta(days=6 - today.weekday())
    sites = {
        s.id: SiteState(s.code, s.name)
        for s in await session.scalars(select(Site).order_by(Site.name, Site.code))
    }
    counts = await wards_service.ward_bed_counts(session)
    out = await _expected_out(session, today, week_end)
    for ward in await session.scalars(select(Ward).order_by(Ward.name, Ward.code)):
        beds, open_, occupied = counts.get(ward.id, (0, 0, 0))
        out_today, out_week = out.get(ward.id, (0, 0))
        sites[ward.site_id].wards.append(
            WardState(
                ward.code,
                ward.name,
                ward.ward_type,
                ward.sex,
                ward.min_age,
                ward.max_age,
                beds,
                open_,
                occupied,
                out_today,
                out_week,
            )
        )
    waiting = await requests.list_requests(session, actor=actor, open_only=True, now=now)
    open_placements = await placements.list_placements(
        session, actor=actor, open_only=True, now=now
    )
    return BedState(
        today=today,
        week_end=week_end,
        thresholds=await thresholds(session),
        sites=list(sites.values()),
        ready=await _ready(session, actor, now),
        waiting=await requests.requests_out(session, waiting, now),
        placements=[placements.placement_out(p, now) for p in open_placements],
    )
