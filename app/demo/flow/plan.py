"""What the demo's bed flow looks like: the providers, the placements, the people waiting,
the delay reasons by ward; and the bookkeeping shared by every part (who records what,
when it was typed in, new people and returning ones)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.clock import local_tz
from app.demo.places import DEMO_USERS, LOCALITIES
from app.demo.plan import ETHNIC_WEIGHTS, Person, name, nhs_number, to_minute, weighted
from app.wards import service as wards_service
from app.wards.models import Patient
from app.wards.schemas import PatientIn

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
BED_TYPES = {"adult_acute": "200", "older_adult_acute": "201", "picu": "202"}
TRUST = tuple(spec for spec in LOCALITIES if spec.weight)


@dataclass(frozen=True)
class Provider:
    """An invented independent hospital in a real English town."""

    name: str
    latitude: float
    longitude: float


PROVIDERS: tuple[Provider, ...] = (
    Provider("Teesview Hospital, Middlesbrough", 54.5742, -1.2350),
    Provider("Trentside Clinic, Nottingham", 52.9548, -1.1581),
    Provider("Nene Park Hospital, Northampton", 52.2405, -0.9027),
    Provider("Mersey Vale Hospital, Stockport", 53.4106, -2.1575),
    Provider("Soar House, Leicester", 52.6369, -1.1398),
    Provider("Witham Lodge, Lincoln", 53.2307, -0.5406),
    Provider("Tyne Bank Hospital, Newcastle upon Tyne", 54.9783, -1.6178),
    Provider("Sheaf Hospital, Sheffield", 53.3811, -1.4701),
    Provider("Derwent Grange, Derby", 52.9225, -1.4746),
    Provider("Rea Valley Hospital, Birmingham", 52.4862, -1.8904),
)


@dataclass(frozen=True)
class PlacementPlan:
    reason: str
    ward_type: str  # the kind of bed asked for, which gives the bed type
    days_ago: tuple[float, float]  # when the placement began
    km: tuple[float, float]  # how far from home the provider is
    reviews: tuple[float, ...]  # days after the start of each review
    daily_cost: tuple[int, int]  # pounds


OPEN_PLACEMENTS: tuple[PlacementPlan, ...] = (
    PlacementPlan("10", "adult_acute", (6, 12), (55, 140), (), (620, 760)),
    PlacementPlan("10", "picu", (28, 45), (80, 200), (9,), (820, 900)),
    # Placed away from a known risk at home: near enough for the family to visit.
    PlacementPlan("11", "adult_acute", (55, 80), (30, 70), (12, 40), (600, 720)),
    # Began over four months ago, last reviewed two weeks in: the 3-monthly review is overdue.
    PlacementPlan("10", "adult_acute", (122, 140), (120, 250), (14,), (640, 780)),
)
# Placements that ended when a local bed came free (the start is set by the admission).
ENDED_PLACEMENTS = 2
ENDED_PLACEMENT = PlacementPlan("10", "adult_acute", (9, 30), (60, 200), (8,), (640, 880))

PLACEMENT_REVIEWS = (
    "Video review with the provider's consultant and the care coordinator: settling, no "
    "incidents this week. Still no suitable local bed; bring home when one frees.",
    "Care coordinator visited: the family find the journey hard and visit twice a week by "
    "train. Repatriate to the first suitable local bed.",
    "Reviewed with the provider's team: mental state improving, escorted leave started. "
    "Discharge planning to include the home community team.",
    "Placement reviewed by the out-of-area lead: care plan agreed and gatekeeping checked; "
    "cost and expected length of stay reported to the commissioner.",
)
PLACEMENT_REQUEST = "No suitable local bed: looking out of area."


@dataclass(frozen=True)
class WaitPlan:
    hours_ago: tuple[float, float]
    ward_type: str
    note: str


# Two past the 12-hour standard, the rest spread over the day; mostly acute and PICU.
WAITING: tuple[WaitPlan, ...] = (
    WaitPlan(
        (30, 44),
        "adult_acute",
        "Assessed in A&E overnight under the Mental Health Act; section 2 application made. "
        "Waiting in the A&E mental health suite with 1:1 staff.",
    ),
    WaitPlan(
        (13, 20),
        "picu",
        "Held in the place of safety under section 136; assessed and needs PICU after "
        "assaulting staff twice overnight.",
    ),
    WaitPlan(
        (6, 10),
        "adult_acute",
        "Severe depression with suicidal plans; the home treatment team cannot keep them "
        "safe at home. Informal admission agreed; at home with family until a bed is found.",
    ),
    WaitPlan(
        (3, 6),
        "older_adult_acute",
        "Dementia with psychotic symptoms; the care home has given notice after aggression "
        "towards residents. Older people's team ask for an assessment admission.",
    ),
    WaitPlan(
        (1, 3),
        "adult_acute",
        "Relapse of bipolar disorder, not slept for four days. Assessed at home by the "
        "crisis team; section 2.",
    ),
    WaitPlan(
        (0.2, 1),
        "picu",
        "In police custody after an assault while acutely psychotic; Mental Health Act "
        "assessment done, needs PICU.",
    ),
)
CANCELLED_NOTE = "Crisis team assessment at home; would prefer to stay with family."
CANCELLED_REASON = (
    "Crisis resolution team now visiting twice a day and the family can support at home: "
    "admission no longer needed."
)

# What keeps people in hospital once they are ready to leave, by the ward they are on:
# (MHSDS delay reason, weight). Housing, care and funding, as the national data shows.
READY_REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    "adult_acute": (
        ("18", 20), ("15", 14), ("19", 12), ("14", 6), ("16", 2), ("17", 3), ("09", 12),
        ("04", 10), ("05", 8), ("01", 6), ("11", 4),
    ),
    "older_adult_acute": (("07", 30), ("08", 30), ("09", 25), ("04", 15)),
    "rehabilitation": (("18", 45), ("15", 20), ("04", 15), ("32", 10), ("16", 5)),
    "ld_autism": (("32", 40), ("04", 30), ("33", 15), ("18", 15)),
    "forensic": (("24", 40), ("18", 30), ("04", 20), ("12", 10)),
}  # fmt: skip
READY_WARDS = tuple(READY_REASONS)
# A purpose review that found hospital no longer needed says what the person waits for.
REVIEW_REASONS = {"supported accommodation": "18", "package of care": "09"}
# Past delays match where the person went: (reason, weight) by discharge destination.
PAST_REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    "care_home": (("07", 5), ("08", 4), ("04", 2)),
    "supported_accommodation": (("18", 6), ("04", 1)),
    "temporary_residence": (("19", 1),),
    "usual_residence": (("09", 3), ("15", 2), ("14", 1), ("05", 1)),
}
PAST_READY = 10


def agency_for(rng: random.Random, reason: str) -> str:
    """Whose delay it is: housing and care are the council's, clinical services the NHS's,
    funding and disputes often both."""
    if reason in ("14", "15", "16", "17", "18", "19", "07", "08", "09", "03", "34"):
        return weighted(rng, (("social_care", 7), ("both", 3)))
    if reason in ("01", "02", "05", "24", "35"):
        return "nhs"
    if reason == "04":
        return weighted(rng, (("both", 6), ("nhs", 4)))
    return "both"


class Recorder:
    """The demo's people and clock: who records what, and when it was typed in."""

    def __init__(self, rng: random.Random, now: datetime, users: dict[str, User]) -> None:
        self.rng = rng
        self.now = now
        self.users = users
        self.bed_manager = next(u for u in users.values() if u.role == "bed_manager")
        self.admin = next(u for u in users.values() if u.role == "admin")
        # Patients by NHS number, and every number in use (new people get new ones).
        self.patient_ids: dict[str, int] = {}
        self.numbers: set[str] = set()
        # People already given a story are not given another.
        self.used: set[int] = set()

    def recorded(self, at: datetime, most_minutes: int = 30) -> datetime:
        """Typed in a few minutes after it happened, and never after now."""
        return min(self.now, to_minute(at + timedelta(minutes=self.rng.randint(2, most_minutes))))

    def working_hours(self, on: datetime, earliest: datetime | None = None) -> datetime:
        """A time in the working day (09:00 to 17:00 UK time) of the day of ``on``: ward
        rounds and reviews happen then. Never after now, nor before ``earliest``."""
        local = on.astimezone(local_tz())
        minutes = self.rng.randrange(9 * 60, 17 * 60)
        moment = local.replace(hour=minutes // 60, minute=minutes % 60, second=0, microsecond=0)
        result = moment.astimezone(UTC)
        if result > self.now:
            result -= DAY
        # Too early: the same time on a later day, as long as that day has come.
        while earliest is not None and result < earliest and result + DAY <= self.now:
            result += DAY
        if earliest is not None and result < earliest:
            result = to_minute(earliest)
        return min(result, self.now)

    def nurse_for(self, ward_code: str) -> User:
        """The demo's ward nurse on their own wards; the admin elsewhere."""
        for username, role, wards in DEMO_USERS:
            if role == "ward_staff" and ward_code in wards and username in self.users:
                return self.users[username]
        return self.admin

    async def patient(self, session: AsyncSession, person: Person) -> Patient:
        patient = await session.scalar(
            select(Patient)
            .where(Patient.id == self.patient_ids[person.nhs_number])
            .options(selectinload(Patient.home_locality))
        )
        assert patient is not None
        return patient


def in_trust(locality_code: str) -> bool:
    return any(spec.code == locality_code for spec in TRUST)


async def returning_patient(
    session: AsyncSession, recorder: Recorder, people: list[Person]
) -> Patient | None:
    """Someone discharged over two weeks ago, an adult of working age living in the trust:
    known to services, back in crisis."""
    now = recorder.now
    fits = [
        i
        for i, p in enumerate(people)
        if i not in recorder.used
        and p.last_ended_at is not None
        and p.last_ended_at < now - 14 * DAY
        and p.sex in ("male", "female")
        and 18 <= _age(p.date_of_birth, now.date()) <= 64
        and in_trust(p.home_locality)
    ]
    if not fits:
        return None
    index = recorder.rng.choice(fits)
    recorder.used.add(index)
    return await recorder.patient(session, people[index])


async def new_patient(
    session: AsyncSession, recorder: Recorder, ward_type: str, referred: datetime
) -> Patient:
    """A person not known to the trust, registered by the bed manager when referred."""
    rng = recorder.rng
    sex = rng.choice(("male", "female"))
    low, high, mode = (68, 91, 79) if ward_type == "older_adult_acute" else (19, 60, 32)
    age = int(rng.triangular(low, high, mode))
    born = referred.date() - timedelta(days=int((age + rng.random()) * 365.25))
    ethnic = weighted(rng, ETHNIC_WEIGHTS.items())
    given, family = name(rng, ethnic, sex)
    patient = await wards_service.create_patient(
        session,
        actor=recorder.bed_manager,
        data=PatientIn.model_validate(
            {
                "nhs_number": nhs_number(rng, recorder.numbers),
                "given_name": given,
                "family_name": family,
                "date_of_birth": born,
                "sex": sex,
                "ethnic_category": ethnic,
                "home_locality_code": weighted(rng, ((s.code, s.weight) for s in TRUST)),
            }
        ),
        now=recorder.recorded(referred - HOUR),
    )
    loaded = await session.scalar(
        select(Patient).where(Patient.id == patient.id).options(selectinload(Patient.home_locality))
    )
    assert loaded is not None
    return loaded


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
