"""A day of the trust's PAS feed: HL7 v2 ADT messages planned against what the database
holds now, for the demo (`wardflow adt demo-day`, then `wardflow adt replay`) and for the
benchmark's feed measurement.

The day ends at `end` and every message describes something that could have happened on
the wards as they are: people on the board are discharged (about once per mean stay of
their ward type), go on leave and come back, move to a suitable free bed on another ward,
have their details updated; free beds take new people of the ward's sex and ages, some of
them registered in the PAS (A28) a little before. Beds are never given to two people, no
event precedes the stay it changes, and a bed stays empty for the gap the planner keeps
between people. With `quirks`, two things a real feed does are added: one message is sent
twice (the same control id: its second ACK must change nothing) and one transfer arrives
before the admission it follows (the listener holds it, then applies it).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.plan import (
    ETHNIC_WEIGHTS,
    MIN_BED_GAP,
    MIXED_WARD_SEXES,
    mean_stay_days,
    name,
    nhs_number,
    weighted,
)
from app.discharge.models import ReadyForDischarge
from app.segregation.force.models import RestrictiveIntervention
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, Bed, Patient, Ward, WardStay

ORGANISATION = "RXX"  # the sending trust's code in MSH-4 and PV1-3.4
SEX_CODES = {"male": "M", "female": "F", "other": "O", "not_known": "U"}
# Chances a day, for each person on the board (discharge: once per mean stay of the ward).
LEAVE_A_DAY = 0.12
TRANSFER_A_DAY = 0.015
UPDATE_A_DAY = 0.03
REFILL_AFTER_DISCHARGE = 0.35
REGISTERED_FIRST = 0.3  # new people the PAS registers (A28) before their admission


@dataclass
class WardPlace:
    code: str
    ward_type: str
    sex: str
    min_age: int
    max_age: int


@dataclass
class BedPlace:
    ward: WardPlace
    label: str
    free_from: datetime | None  # None: occupied now (or booked for someone in the plan)


@dataclass
class Resident:
    nhs_number: str
    local_number: str
    family_name: str
    given_name: str
    date_of_birth: date
    sex: str
    ethnic_category: str
    bed: BedPlace
    # The start of the current stay, or the end of a later seclusion or segregation:
    # nothing about the stay may come earlier.
    since: datetime
    restricted: bool = False  # in seclusion or segregation now: not discharged or moved
    on_leave: bool = False
    gone: bool = False


@dataclass
class WardsNow:
    """What the feed's plan starts from."""

    beds: list[BedPlace]
    residents: list[Resident]
    nhs_numbers: set[str] = field(default_factory=set)


async def wards_now(session: AsyncSession) -> WardsNow:
    """The open beds (free since when), the people in them, and the NHS numbers in use."""
    wards = {
        w.id: WardPlace(w.code, w.ward_type, w.sex, w.min_age, w.max_age)
        for w in await session.scalars(select(Ward))
    }
    last_left = dict(
        (
            await session.execute(
                select(WardStay.bed_id, func.max(WardStay.ended_at)).group_by(WardStay.bed_id)
            )
        ).all()
    )
    occupied = set(
        await session.scalars(select(WardStay.bed_id).where(WardStay.ended_at.is_(None)))
    )
    beds: dict[int, BedPlace] = {}
    for bed in await session.scalars(select(Bed).where(Bed.status == "open").order_by(Bed.id)):
        free_from = None if bed.id in occupied else (last_left.get(bed.id) or bed.created_at)
        beds[bed.id] = BedPlace(wards[bed.ward_id], bed.label, free_from)
    latest: dict[int, datetime] = {}
    restricted: set[int] = set()
    # A discharge or a move may not come before what is recorded in the stay: its
    # restrictive practice, and when the person became ready for discharge.
    for model in (Seclusion, Segregation, RestrictiveIntervention, ReadyForDischarge):
        episodes = await session.execute(
            select(model.admission_id, model.started_at, model.ended_at)
            .join(Admission, Admission.id == model.admission_id)
            .where(Admission.discharged_at.is_(None))
        )
        for admission_id, started_at, ended_at in episodes:
            if ended_at is None and model in (Seclusion, Segregation):
                restricted.add(admission_id)
            moment = ended_at or started_at
            latest[admission_id] = max(moment, latest.get(admission_id, moment))
    rows = await session.execute(
        select(Patient, Admission.id, WardStay.bed_id, WardStay.started_at)
        .join(Admission, Admission.patient_id == Patient.id)
        .join(WardStay, WardStay.admission_id == Admission.id)
        .where(Admission.discharged_at.is_(None), WardStay.ended_at.is_(None))
        .order_by(Patient.id)
    )
    residents = [
        Resident(
            nhs_number=patient.nhs_number,
            local_number=f"P{patient.id:07d}",
            family_name=patient.family_name,
            given_name=patient.given_name,
            date_of_birth=patient.date_of_birth,
            sex=patient.sex,
            ethnic_category=patient.ethnic_category,
            bed=beds[bed_id],
            since=max(started_at, latest.get(admission_id, started_at)),
            restricted=admission_id in restricted,
        )
        for patient, admission_id, bed_id, started_at in rows
        if bed_id in beds
    ]
    numbers = set(await session.scalars(select(Patient.nhs_number)))
    return WardsNow(list(beds.values()), residents, numbers)


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    kind: str = field(compare=False)
    resident: Resident | None = field(compare=False, default=None)
    bed: BedPlace | None = field(compare=False, default=None)


@dataclass
class Message:
    at: datetime
    event: str
    text: str


class _Writer:
    """ER7 text for each event, with control ids unique to this day's plan."""

    def __init__(self, end: datetime) -> None:
        self.prefix = f"WF{end:%y%m%d%H%M%S}"  # MSH-10 holds 20 characters
        self.numbers = itertools.count(1)

    def message(self, event: str, at: datetime, person: Resident, pv1: dict[int, str]) -> Message:
        stamp = f"{at.astimezone(UTC):%Y%m%d%H%M%S}+0000"
        structure = {"A02": "ADT_A02", "A03": "ADT_A03"}.get(event, "ADT_A01")
        control_id = f"{self.prefix}{next(self.numbers):06d}"
        pid = _segment(
            "PID",
            {
                1: "1",
                3: f"{person.nhs_number}^^^NHS^NH~{person.local_number}^^^{ORGANISATION}^PI",
                5: f"{_escape(person.family_name)}^{_escape(person.given_name)}",
                7: f"{person.date_of_birth:%Y%m%d}",
                8: SEX_CODES.get(person.sex, "U"),
                22: person.ethnic_category,
            },
        )
        segments = [
            f"MSH|^~\\&|PAS|{ORGANISATION}|WARDFLOW|{ORGANISATION}|{stamp}||"
            f"ADT^{event}^{structure}|{control_id}|P|2.4",
            f"EVN|{event}|{stamp}",
            pid,
            _segment("PV1", {1: "1", 2: "I", **pv1}),
        ]
        return Message(at, event, "\r".join(segments) + "\r")


def _escape(text: str) -> str:
    for char, code in (("\\", "E"), ("|", "F"), ("^", "S"), ("~", "R"), ("&", "T")):
        text = text.replace(char, f"\\{code}\\")
    return text


def _segment(name: str, fields: dict[int, str]) -> str:
    values = [""] * (max(fields) + 1)
    values[0] = name
    for n, value in fields.items():
        values[n] = value
    return "|".join(values)


def _place(bed: BedPlace) -> str:
    return f"{bed.ward.code}^^{bed.label}^{ORGANISATION}"


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _fits(ward: WardPlace, resident: Resident, on: date) -> bool:
    age = _age(resident.date_of_birth, on)
    return ward.min_age <= age <= ward.max_age and ward.sex in ("mixed", resident.sex)


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A time to the minute between start and end (None-safe callers check start < end)."""
    span = (end - start).total_seconds()
    return (start + timedelta(seconds=rng.uniform(0, span))).replace(second=0, microsecond=0)


def plan_day(
    wards: WardsNow,
    end: datetime,
    *,
    seed: int = 1,
    hours: float = 24,
    quirks: bool = True,
) -> list[Message]:
    """The feed's messages for the `hours` before `end`, in the order the PAS sends them."""
    rng = random.Random(seed)  # noqa: S311 (sample data, not secrets)
    start = end - timedelta(hours=hours)
    day = hours / 24
    order = itertools.count()
    queue: list[_Event] = []
    writer = _Writer(end)
    messages: list[Message] = []
    forced = itertools.count()

    def at_some_point(after: datetime, chance: float) -> datetime | None:
        begin = max(after + timedelta(minutes=1), start)
        if begin >= end or rng.random() >= chance:
            return None
        return _moment(rng, begin, end)

    def push(
        at: datetime | None,
        kind: str,
        resident: Resident | None = None,
        bed: BedPlace | None = None,
    ) -> None:
        if at is not None and at < end:
            heapq.heappush(queue, _Event(at, next(order), kind, resident, bed))

    def book(bed: BedPlace, chance: float) -> None:
        free = bed.free_from
        if free is None:
            return
        at = at_some_point(free + MIN_BED_GAP, chance)
        if at is not None:
            bed.free_from = None  # booked: nobody else is planned into it
            push(at, "admit", bed=bed)

    for resident in wards.residents:
        leave_rate = 1 / mean_stay_days(resident.bed.ward.ward_type)
        push(at_some_point(resident.since, leave_rate * day), "discharge", resident=resident)
        push(at_some_point(resident.since, LEAVE_A_DAY * day), "leave", resident=resident)
        push(at_some_point(resident.since, TRANSFER_A_DAY * day), "transfer", resident=resident)
        push(at_some_point(resident.since, UPDATE_A_DAY * day), "update", resident=resident)
    # Free beds fill at the rate people leave, so the wards stay about as full as they are
    # (and at least one a day, so that a small trust's day shows an admission).
    leaving = max(day, sum(1 / mean_stay_days(r.bed.ward.ward_type) for r in wards.residents) * day)
    free = [bed for bed in wards.beds if bed.free_from is not None]
    for bed in free:
        book(bed, min(0.9, leaving / len(free)))

    def emit(event: str, at: datetime, person: Resident, **pv1: str) -> Message:
        fields = {3: _place(person.bed), **{int(k[1:]): v for k, v in pv1.items()}}
        message = writer.message(event, at, person, fields)
        messages.append(message)
        return message

    while queue:
        event = heapq.heappop(queue)
        at, person = event.at, event.resident
        stamp = f"{at:%Y%m%d%H%M%S}+0000"
        if event.kind == "admit":
            assert event.bed is not None
            person = _new_person(rng, event.bed, at, wards.nhs_numbers)
            if rng.random() < REGISTERED_FIRST:
                emit("A28", max(start, at - timedelta(hours=rng.uniform(1, 6))), person)
            emit("A01", at, person, f44=stamp)
            wards.residents.append(person)
            push(at_some_point(at, LEAVE_A_DAY * day / 2), "leave", resident=person)
            # With quirks, the first few new people move on the same day, so that one
            # move can be sent ahead of its admission.
            moves = TRANSFER_A_DAY * day if not quirks or next(forced) >= 3 else 1.0
            push(at_some_point(at, moves), "transfer", resident=person)
            continue
        assert person is not None
        if person.gone:
            continue
        if event.kind == "leave_back":
            person.on_leave = False
            emit("A22", at, person)
        elif person.on_leave:
            continue  # the PAS records nothing else while a person is away on leave
        elif person.restricted and event.kind in ("discharge", "transfer"):
            continue  # not while in seclusion or segregation
        elif event.kind == "discharge":
            person.gone = True
            emit("A03", at, person, f45=stamp, f37="19")
            person.bed.free_from = at
            book(person.bed, REFILL_AFTER_DISCHARGE)
        elif event.kind == "leave":
            person.on_leave = True
            emit("A21", at, person)
            push(at + timedelta(hours=rng.uniform(2, 8)), "leave_back", resident=person)
        elif event.kind == "update":
            emit("A08", at, person)
        elif event.kind == "transfer":
            _transfer(rng, wards, person, at, emit)
    messages.sort(key=lambda m: m.at)
    if quirks:
        _add_quirks(rng, messages)
    return messages


def _new_person(rng: random.Random, bed: BedPlace, at: datetime, used: set[str]) -> Resident:
    ward = bed.ward
    sex = ward.sex if ward.sex != "mixed" else weighted(rng, MIXED_WARD_SEXES)
    youngest, oldest = max(ward.min_age, 12), min(ward.max_age, 90)
    age = rng.randint(youngest, max(youngest, oldest))
    born = at.date() - timedelta(days=365 * age + rng.randrange(1, 360))
    while _age(born, at.date()) > ward.max_age:
        born += timedelta(days=1)
    while _age(born, at.date()) < youngest:
        born -= timedelta(days=1)
    ethnic = weighted(rng, ETHNIC_WEIGHTS.items())
    given, family = name(rng, ethnic, sex)
    number = nhs_number(rng, used)
    return Resident(
        nhs_number=number,
        local_number=f"N{number}",  # the PAS's own number: unique as the NHS number is
        family_name=family,
        given_name=given,
        date_of_birth=born,
        sex=sex,
        ethnic_category=ethnic,
        bed=bed,
        since=at,
    )


def _transfer(
    rng: random.Random,
    wards: WardsNow,
    person: Resident,
    at: datetime,
    emit: Callable[..., Message],
) -> None:
    """To a free bed on another ward that takes the person, if there is one."""
    choices = [
        bed
        for bed in wards.beds
        if bed.free_from is not None
        and bed.free_from + MIN_BED_GAP <= at
        and bed.ward.code != person.bed.ward.code
        and _fits(bed.ward, person, at.date())
    ]
    if not choices:
        return
    target = rng.choice(choices)
    before = person.bed
    target.free_from = None
    person.bed = target
    person.since = at
    emit("A02", at, person, f6=_place(before))
    before.free_from = at


def _add_quirks(rng: random.Random, messages: list[Message]) -> None:
    """One message sent twice, and one transfer (or discharge) sent before the admission
    it follows."""
    admissions = [i for i, m in enumerate(messages) if m.event == "A01"]
    if admissions:
        i = rng.choice(admissions)
        messages.insert(i + 1, messages[i])
    for i, message in enumerate(messages):
        if message.event not in ("A02", "A03"):
            continue
        nhs = _nhs_of(message.text)
        earlier = next(
            (
                j
                for j in range(i)
                if messages[j].event == "A01" and _nhs_of(messages[j].text) == nhs
            ),
            None,
        )
        if earlier is not None:
            messages.insert(earlier, messages.pop(i))
            return


def _nhs_of(text: str) -> str:
    pid = next(s for s in text.split("\r") if s.startswith("PID|"))
    return pid.split("|")[3].split("^")[0]


def counts(messages: list[Message]) -> Counter[str]:
    return Counter(m.event for m in messages)


async def day_of_traffic(
    session: AsyncSession, end: datetime, *, seed: int = 1, hours: float = 24, quirks: bool = True
) -> list[Message]:
    return plan_day(await wards_now(session), end, seed=seed, hours=hours, quirks=quirks)
