"""Flow figures for every week of a span: beds and occupancy, admissions and discharges,
long stays, waits for a bed, delayed discharge and out-of-area placements.

Each reads its records once for the whole span (a fixed number of queries, whatever the
number of stays or weeks) and shares them out by week in one pass.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import local_date, midnights_between
from app.discharge.models import ReadyForDischarge
from app.flow.codes import INAPPROPRIATE_REASON
from app.flow.models import BedRequest, OutOfAreaPlacement
from app.reports.period import Scope, local_midnight
from app.reports.span import Span, count_in, intersect, median
from app.wards import beds
from app.wards.models import Admission, Patient, WardStay

# The national figures the report compares against. They are fixed here on purpose, not
# read from the trust's rule parameters (WARD_OCCUPANCY, ADM_WAIT, LOS_LONG, OAP_DISTANCE):
# a trust tightens those to be alerted sooner, while the report must stay comparable with
# other trusts' and with its own earlier weeks, whatever the rules page says today.
RCPSYCH_OCCUPANCY = 0.85  # Royal College of Psychiatrists' recommended maximum occupancy
NHS_WAIT_STANDARD = timedelta(hours=12)  # decision to admit to a bed: the 12-hour standard
NHS_DIGITAL_LONG_STAYS = (60, 90)  # days: NHS Digital's long-stay measures
MHSDS_DISTANCE_BANDS = ((20, "0-19"), (50, "20-49"), (100, "50-99"))  # km from home


class Person(NamedTuple):
    id: int
    ethnic_category: str
    sex: str
    date_of_birth: date
    learning_disability: bool
    autistic: bool


PERSON_COLUMNS = (
    Patient.id,
    Patient.ethnic_category,
    Patient.sex,
    Patient.date_of_birth,
    Patient.learning_disability,
    Patient.autistic,
)


def person(row: Any, offset: int) -> Person:
    return Person(*row[offset : offset + 6])


@dataclass
class Stay:
    admission_id: int
    bed_id: int
    admitted_at: datetime
    days: tuple[int, int] | None
    person: Person


def in_scope(query: Any, column: Any, scope: Scope) -> Any:
    return query if scope.ward_ids is None else query.where(column.in_(scope.ward_ids))


async def load_stays(session: AsyncSession, scope: Scope, span: Span) -> list[Stay]:
    query = (
        select(
            WardStay.admission_id,
            WardStay.bed_id,
            WardStay.started_at,
            WardStay.ended_at,
            Admission.admitted_at,
            *PERSON_COLUMNS,
        )
        .join(Admission, Admission.id == WardStay.admission_id)
        .join(Patient, Patient.id == Admission.patient_id)
        .where(
            WardStay.started_at < span.end,
            or_(WardStay.ended_at.is_(None), WardStay.ended_at >= span.start),
        )
    )
    rows = await session.execute(in_scope(query, WardStay.ward_id, scope))
    return [Stay(r[0], r[1], r[4], span.day_range(r[2], r[3]), person(r, 5)) for r in rows.all()]


# --- beds ------------------------------------------------------------------------------


async def available_per_day(
    session: AsyncSession, scope: Scope, span: Span, stays: list[Stay]
) -> list[int]:
    """Beds open at each midnight: opened by then (app/wards/beds.py) and not inside one of
    their closures. A bed occupied at a midnight counts as open then, whatever else is
    recorded. Two to four queries, whatever the number of beds or weeks."""
    midnights = [local_midnight(span.day(i)) for i in range(span.days)]
    if not midnights:
        return []
    openings = await beds.openings(session, scope.ward_ids)
    closed = await beds.closures(session, scope.ward_ids, midnights[0], midnights[-1])
    per_day = [0] * span.days
    # Open at every midnight, with no closure in the span: counted once, not per night.
    steady = 0
    eventful = []
    for bed in openings:
        if bed.opened_at <= midnights[0] and bed.bed_id not in closed:
            steady += 1
        else:
            eventful.append(bed)
    if eventful:
        wanted = {bed.bed_id for bed in eventful}
        occupied: dict[int, set[int]] = defaultdict(set)
        for stay in stays:
            if stay.bed_id in wanted and stay.days is not None:
                occupied[stay.bed_id].update(range(stay.days[0], stay.days[1] + 1))
        for bed in eventful:
            periods = closed.get(bed.bed_id, [])
            for i, midnight in enumerate(midnights):
                per_day[i] += i in occupied[bed.bed_id] or beds.is_open(bed, periods, midnight)
    return [steady + n for n in per_day]


def occupancy(span: Span, stays: list[Stay], available: list[int]) -> list[dict[str, Any]]:
    counter = span.counter()
    for stay in stays:
        counter.add(stay.days)
    occupied = counter.per_day()
    result = []
    for i, _week in enumerate(span.weeks):
        days = span.week_days(i)
        obd = sum(occupied[d] for d in days)
        abd = sum(available[d] for d in days)
        nights = [
            {
                "midnight": span.day(d).isoformat(),
                "occupied": occupied[d],
                "open": available[d],
                "rate": round(occupied[d] / available[d], 4) if available[d] else None,
            }
            for d in days
        ]
        over = sum(
            1 for d in days if available[d] and occupied[d] > RCPSYCH_OCCUPANCY * available[d]
        )
        result.append(
            {
                "occupied_bed_days": obd,
                "available_bed_days": abd,
                "occupancy_rate": round(obd / abd, 4) if abd else None,
                "occupancy_nights": nights,
                "nights_over_85": over,
            }
        )
    return result


def in_hospital_long(span: Span, stays: list[Stay]) -> list[dict[str, int]]:
    """People in hospital at the week's last midnight who had been in 60+ and 90+ days."""
    result = [
        dict.fromkeys(("in_hospital_over_60_days", "in_hospital_over_90_days"), 0)
        for _ in span.weeks
    ]
    for stay in stays:
        if stay.days is None:
            continue
        for i in range(stay.days[0] // 7, stay.days[1] // 7 + 1):
            last = 7 * i + 6
            if not stay.days[0] <= last <= stay.days[1]:
                continue
            length = (span.day(last) - local_date(stay.admitted_at)).days
            for limit in NHS_DIGITAL_LONG_STAYS:
                if length >= limit:
                    result[i][f"in_hospital_over_{limit}_days"] += 1
    return result


# --- admissions and discharges ----------------------------------------------------------


async def admissions_and_discharges(
    session: AsyncSession, scope: Scope, span: Span
) -> list[dict[str, int]]:
    """Admissions whose first ward is in scope; discharges whose last ward is, with the
    long stays among them (NHS Digital: discharges after 60+ and 90+ days)."""
    result = [
        {"admissions": 0, "discharges": 0, "over_60_days": 0, "over_90_days": 0} for _ in span.weeks
    ]
    first = in_scope(
        select(Admission.id, Admission.admitted_at)
        .join(
            WardStay,
            and_(
                WardStay.admission_id == Admission.id, WardStay.started_at == Admission.admitted_at
            ),
        )
        .where(Admission.admitted_at >= span.start, Admission.admitted_at < span.end)
        .distinct(),
        WardStay.ward_id,
        scope,
    )
    for _id, admitted_at in await session.execute(first):
        week = span.week_of(admitted_at)
        if week is not None:
            result[week]["admissions"] += 1
    last = in_scope(
        select(Admission.id, Admission.admitted_at, Admission.discharged_at)
        .join(
            WardStay,
            and_(
                WardStay.admission_id == Admission.id,
                WardStay.ended_at == Admission.discharged_at,
            ),
        )
        .where(Admission.discharged_at >= span.start, Admission.discharged_at < span.end)
        .distinct(),
        WardStay.ward_id,
        scope,
    )
    for _id, admitted_at, discharged_at in await session.execute(last):
        week = span.week_of(discharged_at)
        if week is None:
            continue
        result[week]["discharges"] += 1
        length = midnights_between(admitted_at, discharged_at)
        for limit in NHS_DIGITAL_LONG_STAYS:
            if length >= limit:
                result[week][f"over_{limit}_days"] += 1
    return result


# --- waits (trust-wide: a request waits for any suitable bed, not a ward's) ---------------


async def waits(session: AsyncSession, span: Span) -> list[dict[str, Any]]:
    """Each decision to admit: a bed request, or an admission that recorded its decision time
    without one. `requests`: decisions made in the week; `over_12h`: waits that passed 12
    hours in the week (however they ended); `median_minutes`: of the waits that ended in a
    bed (here or out of area) in the week; `waiting_at_end`: still waiting at its end."""
    since = span.start - NHS_WAIT_STANDARD
    requests = await session.execute(
        select(BedRequest.decision_to_admit_at, BedRequest.closed_at, BedRequest.status).where(
            BedRequest.decision_to_admit_at < span.end,
            or_(BedRequest.closed_at.is_(None), BedRequest.closed_at >= since),
        )
    )
    direct = await session.execute(
        select(Admission.decision_to_admit_at, Admission.admitted_at).where(
            Admission.decision_to_admit_at.is_not(None),
            Admission.decision_to_admit_at < span.end,
            Admission.admitted_at >= since,
            ~exists(select(BedRequest.id).where(BedRequest.admission_id == Admission.id)),
        )
    )
    spells: list[tuple[datetime, datetime | None, bool]] = [
        (decided, closed, status in ("admitted", "placed_out_of_area"))
        for decided, closed, status in requests
    ]
    spells += [(decided, admitted, True) for decided, admitted in direct if decided]
    result: list[dict[str, Any]] = [
        {"requests": 0, "over_12h": 0, "waiting_at_end": 0, "_minutes": []} for _ in span.weeks
    ]
    for decided, ended, got_a_bed in spells:
        week = span.week_of(decided)
        if week is not None:
            result[week]["requests"] += 1
        breach = decided + NHS_WAIT_STANDARD
        week = span.week_of(breach)
        if week is not None and (ended is None or ended > breach):
            result[week]["over_12h"] += 1
        week = span.week_of(ended)
        if week is not None and got_a_bed and ended is not None:
            result[week]["_minutes"].append((ended - decided).total_seconds() // 60)
        # Waiting at the end of each week from the one decided in to the one it ended in.
        first = 0 if decided < span.start else span.week_of(decided)
        if first is None:
            continue
        for i in range(first, len(span.weeks)):
            if ended is not None and ended <= span.weeks[i].end:
                break
            result[i]["waiting_at_end"] += 1
    for figures in result:
        minutes = figures.pop("_minutes")
        figures["median_minutes"] = median(minutes)
    return result


# --- delayed discharge --------------------------------------------------------------------


async def delays(session: AsyncSession, span: Span, stays: list[Stay]) -> list[dict[str, Any]]:
    """Days of delay (MHS26): midnights a person clinically ready for discharge spent on a
    ward in scope, by reason and by the agency the delay is attributable to."""
    rows = await session.execute(
        select(
            ReadyForDischarge.admission_id,
            ReadyForDischarge.started_at,
            ReadyForDischarge.ended_at,
            ReadyForDischarge.reason_code,
            ReadyForDischarge.attributable_to,
        ).where(
            ReadyForDischarge.started_at < span.end,
            or_(ReadyForDischarge.ended_at.is_(None), ReadyForDischarge.ended_at >= span.start),
        )
    )
    by_admission: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for stay in stays:
        if stay.days is not None:
            by_admission[stay.admission_id].append(stay.days)
    result: list[dict[str, Any]] = [
        {"delay_days": 0, "people_at_end": 0, "by_reason": Counter(), "by_attributable": Counter()}
        for _ in span.weeks
    ]
    for admission_id, started, ended, reason, attributable in rows:
        period = span.day_range(started, ended)
        for stay_days in by_admission.get(admission_id, []):
            days = intersect(period, stay_days)
            for i in range(len(span.weeks)):
                n = count_in(days, i)
                if n:
                    result[i]["delay_days"] += n
                    result[i]["by_reason"][reason] += n
                    result[i]["by_attributable"][attributable] += n
                if days is not None and days[0] <= 7 * i + 6 <= days[1]:
                    result[i]["people_at_end"] += 1
    for figures in result:
        figures["by_reason"] = dict(sorted(figures["by_reason"].items()))
        figures["by_attributable"] = dict(sorted(figures["by_attributable"].items()))
    return result


# --- out-of-area placements (trust-wide) ---------------------------------------------------


def distance_band(km: float) -> str:
    for upper, band in MHSDS_DISTANCE_BANDS:
        if km < upper:
            return band
    return "100+"


async def out_of_area(session: AsyncSession, span: Span) -> list[dict[str, Any]]:
    """NHS Digital's OAP01-04 for inappropriate placements (reason 10, no local bed),
    placement days counted by midnights; `all_active_at_end` counts every reason."""
    rows = await session.execute(
        select(
            OutOfAreaPlacement.started_at,
            OutOfAreaPlacement.ended_at,
            OutOfAreaPlacement.reason_code,
            OutOfAreaPlacement.distance_km,
        ).where(
            OutOfAreaPlacement.started_at < span.end,
            or_(OutOfAreaPlacement.ended_at.is_(None), OutOfAreaPlacement.ended_at >= span.start),
        )
    )
    result: list[dict[str, Any]] = [
        {
            "inappropriate_started": 0,
            "inappropriate_bed_days": 0,
            "active_at_end": 0,
            "ended": 0,
            "all_active_at_end": 0,
            "active_at_end_by_distance": dict.fromkeys(("0-19", "20-49", "50-99", "100+"), 0),
        }
        for _ in span.weeks
    ]
    for started, ended, reason, km in rows:
        inappropriate = reason == INAPPROPRIATE_REASON
        days = span.day_range(started, ended)
        for i in range(len(span.weeks)):
            active = days is not None and days[0] <= 7 * i + 6 <= days[1]
            result[i]["all_active_at_end"] += active
            if inappropriate:
                result[i]["inappropriate_bed_days"] += count_in(days, i)
                if active:
                    result[i]["active_at_end"] += 1
                    result[i]["active_at_end_by_distance"][distance_band(km)] += 1
        if inappropriate:
            week = span.week_of(started)
            if week is not None:
                result[week]["inappropriate_started"] += 1
            week = span.week_of(ended)
            if week is not None:
                result[week]["ended"] += 1
    return result
