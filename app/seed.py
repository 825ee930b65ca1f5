"""A realistic demo trust: places, people, six months of admissions and the demo accounts.

The CLI calls `seed_demo` on an empty database and commits. Everything is planned in memory
first from one `random.Random`, so the same `rng_seed` and `now` always give the same trust,
and then written with a handful of bulk flushes, so seeding takes seconds.

How the history stays consistent: every bed has a timeline of stays that never overlap.
Stays that tie two beds together (transfers) and the stays open now are reserved first; the
gaps around them are then filled backwards from now with past stays. Each admission is then
given a patient whose sex, age and needs fit every ward it used and who was not in hospital
at the time (some people come back: readmissions).

Everything is synthetic: names are drawn from lists, NHS numbers come from the 999 range
that is never issued to real people, and the hospitals are invented.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import nhs_number
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.audit.service import SYSTEM
from app.auth.models import User
from app.auth.service import create_user
from app.wards.codes import ETHNIC_CATEGORIES
from app.wards.models import (
    Admission,
    Bed,
    BedClosure,
    LegalStatusChange,
    Locality,
    Patient,
    PurposeReview,
    Site,
    Ward,
    WardStay,
)

# ---------------------------------------------------------------------------------------
# Data tables
# ---------------------------------------------------------------------------------------

# One password for every demo account, printed by the CLI. Demo data only: never production.
DEMO_PASSWORD = "wardflow-demo"  # noqa: S105 (documented demo password, not a secret)

# (username, role, ward codes). Ward staff see only their wards; the others see the trust.
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admin", "admin", ()),
    ("nurse", "ward_staff", ("ASH", "BIRCH")),
    ("bedmanager", "bed_manager", ()),
    ("safeguarding", "safeguarding_lead", ()),
    ("director", "director", ()),
)

HISTORY_DAYS = 183  # about six months of discharged admissions


@dataclass(frozen=True)
class LocalitySpec:
    code: str
    name: str
    latitude: float
    longitude: float
    # Share of the trust's patients who live here; 0 for places outside the trust.
    weight: float


LOCALITIES: tuple[LocalitySpec, ...] = (
    LocalitySpec("LEEDS", "Leeds", 53.7997, -1.5492, 30),
    LocalitySpec("BRADFORD", "Bradford", 53.7960, -1.7594, 20),
    LocalitySpec("WAKEFIELD", "Wakefield", 53.6830, -1.4977, 13),
    LocalitySpec("HUDDERSFIELD", "Huddersfield", 53.6458, -1.7850, 10),
    LocalitySpec("HALIFAX", "Halifax", 53.7248, -1.8658, 8),
    LocalitySpec("HARROGATE", "Harrogate", 53.9921, -1.5418, 6),
    LocalitySpec("YORK", "York", 53.9600, -1.0873, 10),
    LocalitySpec("SCARBOROUGH", "Scarborough", 54.2831, -0.3998, 4),
    # Far from the trust: where out-of-area placements go, and home to a few people
    # placed here by other trusts.
    LocalitySpec("NORTHAMPTON", "Northampton", 52.2405, -0.9027, 0),
    LocalitySpec("BRISTOL", "Bristol", 51.4545, -2.5879, 0),
    LocalitySpec("NORWICH", "Norwich", 52.6309, 1.2974, 0),
)

# (code, name, locality code). Invented hospitals in real towns.
SITES: tuple[tuple[str, str, str], ...] = (
    ("AIRE", "Aire Valley Hospital", "LEEDS"),
    ("MOOR", "Moorside Hospital", "BRADFORD"),
    ("CALDER", "Calder Park Hospital", "WAKEFIELD"),
    ("OUSE", "Ouse Bank Hospital", "YORK"),
)


@dataclass(frozen=True)
class WardSpec:
    code: str
    site: str
    ward_type: str
    sex: str
    min_age: int
    max_age: int
    beds: int
    # Share of the ward's open beds occupied now; the trust comes out at about 85 %.
    occupancy: float

    @property
    def name(self) -> str:
        return f"{self.code.title()} Ward"


WARDS: tuple[WardSpec, ...] = (
    WardSpec("ASH", "AIRE", "adult_acute", "male", 18, 64, 20, 0.95),
    WardSpec("BIRCH", "AIRE", "adult_acute", "female", 18, 64, 18, 0.94),
    WardSpec("CEDAR", "AIRE", "picu", "male", 18, 64, 10, 0.90),
    WardSpec("ELM", "AIRE", "older_adult_acute", "female", 65, 130, 16, 0.80),
    WardSpec("HAZEL", "MOOR", "adult_acute", "male", 18, 64, 18, 0.94),
    WardSpec("HOLLY", "MOOR", "adult_acute", "female", 18, 64, 18, 0.88),
    WardSpec("IVY", "MOOR", "picu", "female", 18, 64, 8, 0.75),
    WardSpec("JUNIPER", "MOOR", "rehabilitation", "mixed", 18, 130, 14, 0.80),
    WardSpec("LARCH", "CALDER", "forensic", "male", 18, 130, 16, 0.90),
    WardSpec("MAPLE", "CALDER", "ld_autism", "mixed", 18, 130, 10, 0.70),
    WardSpec("OAK", "CALDER", "camhs", "mixed", 12, 17, 12, 0.67),
    WardSpec("ROWAN", "OUSE", "adult_acute", "mixed", 18, 130, 22, 0.86),
    WardSpec("WILLOW", "OUSE", "older_adult_acute", "mixed", 65, 130, 16, 0.75),
)

# Bed label -> (why it is closed, how many days ago it closed).
CLOSED_BEDS: dict[str, tuple[str, int]] = {
    "ASH-07": ("Ligature work: en-suite door being replaced", 6),
    "HOLLY-12": ("Deep clean after a norovirus outbreak", 2),
    "LARCH-03": ("Window repair after damage", 11),
    "ROWAN-15": ("Closed to keep safe staffing levels", 20),
}


@dataclass(frozen=True)
class WardProfile:
    """How admissions to one type of ward tend to look."""

    median_stay_days: float
    stay_spread: float  # sigma of the log-normal length of stay
    age_mode: float
    legal_statuses: tuple[tuple[str, float], ...]  # status at admission, weight
    destinations: tuple[tuple[str, float], ...]  # discharge destination, weight


_COMMUNITY = (
    ("usual_residence", 70),
    ("temporary_residence", 6),
    ("supported_accommodation", 8),
    ("care_home", 2),
    ("other_hospital", 6),
    ("prison", 1),
    ("died", 0.3),
    ("other", 2),
    ("not_known", 1),
)

PROFILES: dict[str, WardProfile] = {
    "adult_acute": WardProfile(
        median_stay_days=26,
        stay_spread=0.85,
        age_mode=33,
        legal_statuses=(
            ("s2", 34), ("s3", 28), ("informal", 28), ("s37", 3), ("s5_2", 2), ("s136", 2),
            ("s4", 1),
        ),
        destinations=_COMMUNITY,
    ),
    "older_adult_acute": WardProfile(
        median_stay_days=50,
        stay_spread=0.7,
        age_mode=78,
        legal_statuses=(("informal", 40), ("s2", 38), ("s3", 20), ("s5_2", 2)),
        destinations=(
            ("usual_residence", 50), ("care_home", 30), ("other_hospital", 10),
            ("supported_accommodation", 3), ("died", 2), ("other", 3), ("not_known", 2),
        ),
    ),
    "picu": WardProfile(
        median_stay_days=14,
        stay_spread=0.8,
        age_mode=29,
        legal_statuses=(("s3", 50), ("s2", 38), ("s37", 6), ("s37_41", 3), ("s136", 1)),
        destinations=_COMMUNITY,
    ),
    "camhs": WardProfile(
        median_stay_days=45,
        stay_spread=0.7,
        age_mode=16,
        legal_statuses=(("informal", 35), ("s2", 35), ("s3", 28), ("s136", 2)),
        destinations=(
            ("usual_residence", 85), ("other_hospital", 8), ("temporary_residence", 3),
            ("other", 4),
        ),
    ),
    "ld_autism": WardProfile(
        median_stay_days=150,
        stay_spread=0.8,
        age_mode=27,
        legal_statuses=(("s3", 55), ("s2", 25), ("informal", 12), ("s37", 6), ("s37_41", 2)),
        destinations=(
            ("supported_accommodation", 50), ("usual_residence", 25), ("care_home", 10),
            ("other_hospital", 10), ("other", 5),
        ),
    ),
    "rehabilitation": WardProfile(
        median_stay_days=200,
        stay_spread=0.5,
        age_mode=38,
        legal_statuses=(("s3", 50), ("informal", 35), ("s37", 10), ("s37_41", 5)),
        destinations=(
            ("supported_accommodation", 55), ("usual_residence", 30), ("other_hospital", 5),
            ("temporary_residence", 5), ("other", 5),
        ),
    ),
    "forensic": WardProfile(
        median_stay_days=500,
        stay_spread=0.6,
        age_mode=34,
        legal_statuses=(
            ("s37_41", 40), ("s37", 15), ("s3", 10), ("s47_49", 15), ("s48_49", 6), ("s38", 8),
            ("s36", 3),
        ),
        destinations=(
            ("other_hospital", 30), ("prison", 25), ("supported_accommodation", 25),
            ("usual_residence", 15), ("other", 5),
        ),
    ),
}  # fmt: skip

# Holding powers run out, so the status at admission often changes:
# status -> (chance it changes, earliest and latest hours after it began, (new, weight)...).
LEGAL_CHANGES: dict[str, tuple[float, float, float, tuple[tuple[str, float], ...]]] = {
    "s136": (1.0, 4, 23, (("s2", 6), ("informal", 3), ("s3", 1))),  # lasts 24 hours
    "s4": (1.0, 12, 71, (("s2", 1),)),  # lasts 72 hours
    "s5_2": (1.0, 12, 71, (("s2", 7), ("s3", 2), ("informal", 1))),  # lasts 72 hours
    "s2": (1.0, 14 * 24, 27 * 24, (("s3", 5), ("informal", 5))),  # lasts 28 days
    "s3": (0.15, 30 * 24, 120 * 24, (("informal", 1),)),  # section discharged, stays on
}

# (reason for admission, expected benefit). Gender-neutral so any patient can carry them.
REASONS: dict[str, tuple[tuple[str, str], ...]] = {
    "general": (
        (
            "Relapse of schizophrenia after stopping medication; hearing voices telling them "
            "to harm themself and not eating.",
            "Safe restart of antipsychotic medication and return home with the community team "
            "within about four weeks.",
        ),
        (
            "Severe depression with active suicidal plans; unable to keep safe at home despite "
            "daily crisis team visits.",
            "Keep safe while treatment for depression starts to work; agree a safety plan with "
            "family before discharge.",
        ),
        (
            "Manic episode with no sleep for five days, heavy overspending and risky driving.",
            "Settle mood with a mood stabiliser, restore sleep, and return home with the "
            "community team.",
        ),
        (
            "First episode of psychosis: paranoid beliefs about neighbours, barricaded in flat.",
            "Assessment and diagnosis, start treatment, and link with the early intervention "
            "in psychosis service.",
        ),
        (
            "Repeated serious self-harm over two weeks; the crisis plan is no longer keeping "
            "them safe.",
            "Short admission to reduce immediate risk and rewrite the crisis and safety plan "
            "with the community team.",
        ),
        (
            "Stopped eating and drinking because of delusional guilt; physical health "
            "deteriorating.",
            "Restore eating and drinking and treat psychotic depression; consider ECT if there "
            "is no response.",
        ),
        (
            "Psychotic relapse with aggression towards family, who can no longer support them "
            "at home.",
            "Stabilise mental state, carer's assessment for the family, and plan supported "
            "accommodation if needed.",
        ),
        (
            "Detained by police in a public place, acutely distressed and disorganised; needs "
            "assessment in a safe setting.",
            "Full assessment of mental state and risk to decide whether hospital care is needed.",
        ),
        (
            "Drinking heavily with worsening low mood and suicidal thoughts; unsafe to withdraw "
            "from alcohol at home.",
            "Supported alcohol withdrawal with mental state monitoring and referral to "
            "community alcohol services.",
        ),
        (
            "Relapse of bipolar disorder with lithium levels out of range; needs medication "
            "review under close observation.",
            "Safe review and re-titration of medication with regular blood tests, then home "
            "treatment team follow-up.",
        ),
    ),
    "picu": (
        (
            "Cannot be kept safe on an open acute ward: repeated assaults on staff while "
            "acutely psychotic.",
            "Short period of intensive care to reduce risk, then return to the acute ward.",
        ),
        (
            "Repeated attempts to abscond from the acute ward while at high risk of suicide.",
            "Keep safe in a more secure setting until the risk falls, then step down.",
        ),
    ),
    "older_adult_acute": (
        (
            "Rapidly worsening confusion and distress with night-time wandering; dementia with "
            "psychotic symptoms.",
            "Assess and treat distress, review medication, and find a care setting that can "
            "meet their needs.",
        ),
        (
            "Severe late-life depression: refusing food and fluids and losing weight.",
            "Treat depression, restore nutrition, and return home with a package of care.",
        ),
        (
            "Paranoid psychosis in later life; accusing neighbours and refusing carers.",
            "Treat psychosis and rebuild trust with carers so that care at home can restart.",
        ),
    ),
    "camhs": (
        (
            "Escalating self-harm and suicidal intent; community CAMHS and home treatment "
            "could not keep them safe.",
            "Keep safe, keep up education on the ward, and go home with a plan agreed with "
            "family and school.",
        ),
        (
            "Severe anorexia nervosa with medical instability.",
            "Restore physical stability and start weight restoration with the family involved.",
        ),
        (
            "First episode of psychosis with severe distress; not sleeping or attending school.",
            "Assessment, start treatment, and a gradual return home and to school.",
        ),
    ),
    "ld_autism": (
        (
            "Placement breakdown with severe distress and behaviour that challenges; the "
            "community team could not keep them safe.",
            "Understand the causes of distress, adapt the environment, and plan a new "
            "community placement through a care and treatment review.",
        ),
        (
            "Sensory overload and distress after a change of carers, with self-injury.",
            "Reduce distress and self-injury and agree a sensory and communication plan with "
            "the new carers.",
        ),
    ),
    "rehabilitation": (
        (
            "Long history of psychosis with repeated admissions; needs to rebuild daily living "
            "skills before living independently.",
            "Relearn cooking, budgeting and managing medication, then move to supported "
            "accommodation.",
        ),
        (
            "Treatment-resistant schizophrenia; starting clozapine.",
            "Stabilise on clozapine with monitoring, then move on to supported living.",
        ),
    ),
    "forensic": (
        (
            "Serious violence when unwell; hospital order made by the court.",
            "Treatment and risk management in secure care, with gradual leave towards "
            "community rehabilitation.",
        ),
        (
            "Became acutely unwell in prison and needs treatment that prison cannot give.",
            "Treat mental illness, then return to prison or progress along the secure pathway.",
        ),
    ),
}

# Where a transfer goes: (from ward type, to ward type, why). Sex and age must be compatible.
TRANSFER_ROUTES: tuple[tuple[str, str, str], ...] = (
    (
        "adult_acute",
        "picu",
        "Escalating risk to others on the open ward; needs psychiatric intensive care.",
    ),
    ("picu", "adult_acute", "Settled in PICU; stepped down to an acute ward."),
    (
        "adult_acute",
        "rehabilitation",
        "Acute illness treated; recovery continues on the rehabilitation ward.",
    ),
    ("adult_acute", "adult_acute", "Moved to a ward nearer home when a bed came free."),
    ("older_adult_acute", "older_adult_acute", "Moved to a ward nearer family."),
)
# Chance that a person in a bed on this type of ward now came by transfer.
OPEN_TRANSFER_CHANCE = {"picu": 0.6, "rehabilitation": 0.4, "adult_acute": 0.08}
PAST_TRANSFERS = 20

PURPOSE_STILL_NEEDED = (
    "Reason still applies: mental state improving but not yet safe for leave.",
    "Still needs hospital; benefit partly achieved: sleeping better and joining ward groups.",
    "Still needs hospital; medication changed this week, review effect next week.",
    "Reason and benefit discussed with the patient and family; both still hold.",
    "Still needs hospital: risk to self remains high; observations reduced to hourly.",
    "Progress slow; benefit still expected. Second opinion requested.",
    "Still needs hospital; unescorted ground leave started and going well.",
)
PURPOSE_NOT_NEEDED = (
    "Expected benefit achieved; now waiting for supported accommodation.",
    "No longer needs hospital; waiting for a package of care at home.",
    "Benefit achieved; discharge planning meeting booked.",
)

# Given names (male, female) and family names by heritage, for the patient's ethnic group.
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "british": (
        (
            "Jack",
            "Thomas",
            "James",
            "Daniel",
            "Liam",
            "Ryan",
            "Craig",
            "Gary",
            "Paul",
            "Mark",
            "David",
            "Stephen",
            "Andrew",
            "Kevin",
            "Michael",
            "Peter",
            "John",
            "George",
            "Harry",
            "Callum",
            "Jordan",
            "Dean",
            "Alan",
            "Brian",
            "Kenneth",
        ),
        (
            "Emma",
            "Sarah",
            "Laura",
            "Rebecca",
            "Jessica",
            "Hannah",
            "Charlotte",
            "Amy",
            "Gemma",
            "Claire",
            "Nicola",
            "Karen",
            "Susan",
            "Margaret",
            "Jean",
            "Sandra",
            "Chloe",
            "Olivia",
            "Ellie",
            "Lauren",
            "Joan",
            "Pauline",
            "Dorothy",
            "Kirsty",
        ),
        (
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Wilson",
            "Walker",
            "Wood",
            "Thompson",
            "Wright",
            "Robinson",
            "Hall",
            "Green",
            "Clarke",
            "Jackson",
            "Hill",
            "Ward",
            "Turner",
            "Shaw",
            "Atkinson",
            "Holmes",
            "Barker",
            "Sykes",
            "Firth",
            "Haigh",
            "Ackroyd",
            "Hirst",
            "Priestley",
            "Booth",
            "Marsden",
            "Oldroyd",
        ),
    ),
    "irish": (
        ("Sean", "Patrick", "Ciaran", "Declan", "Conor", "Eoin"),
        ("Siobhan", "Niamh", "Aoife", "Roisin", "Mairead", "Orla"),
        ("Murphy", "Kelly", "O'Brien", "Byrne", "Doyle", "McCarthy", "Gallagher", "Kennedy"),
    ),
    "european": (
        ("Piotr", "Tomasz", "Andrei", "Mateusz", "Lukas", "Marco", "Jan", "Stefan"),
        ("Agnieszka", "Katarzyna", "Ioana", "Elena", "Monika", "Giulia", "Ewa"),
        ("Kowalski", "Nowak", "Wisniewski", "Popescu", "Kazlauskas", "Rossi", "Horvath"),
    ),
    "caribbean": (
        ("Marcus", "Andre", "Tyrone", "Delroy", "Winston", "Jermaine", "Leon"),
        ("Marcia", "Janelle", "Shanice", "Paulette", "Simone", "Beverley"),
        ("Campbell", "Williams", "Francis", "Grant", "Henry", "Reid", "Bailey", "Thomas"),
    ),
    "african": (
        ("Kwame", "Chinedu", "Emeka", "Tendai", "Abdi", "Kofi", "Samuel", "Tunde"),
        ("Amara", "Chiamaka", "Adaeze", "Fatuma", "Blessing", "Grace", "Nneka"),
        ("Okafor", "Mensah", "Adeyemi", "Osei", "Mutasa", "Abdullahi", "Nwosu", "Hassan"),
    ),
    "indian": (
        ("Rajesh", "Sanjay", "Arjun", "Vikram", "Harpreet", "Gurpreet", "Amit", "Ravi"),
        ("Priya", "Anjali", "Neha", "Sunita", "Kiran", "Simran", "Meera"),
        ("Patel", "Sharma", "Singh", "Gill", "Sandhu", "Mistry", "Chauhan", "Kaur"),
    ),
    "pakistani": (
        ("Imran", "Bilal", "Asif", "Tariq", "Zahid", "Usman", "Hamza", "Adnan", "Shabir"),
        ("Ayesha", "Nadia", "Saima", "Rubina", "Zara", "Fatima", "Shazia", "Nasima"),
        ("Khan", "Hussain", "Akhtar", "Iqbal", "Mahmood", "Rashid", "Ali", "Shah", "Malik"),
    ),
    "bangladeshi": (
        ("Rahim", "Shahid", "Jamal", "Kamal", "Mizanur", "Abdul"),
        ("Nasreen", "Taslima", "Shirin", "Rokeya", "Salma", "Runa"),
        ("Miah", "Uddin", "Begum", "Rahman", "Chowdhury", "Islam", "Ahmed"),
    ),
    "chinese": (
        ("Wei", "Jun", "Hao", "Ming", "Kai", "Jian"),
        ("Mei", "Li", "Xin", "Yan", "Hui", "Ling"),
        ("Chen", "Wang", "Zhang", "Liu", "Wong", "Cheung", "Lam"),
    ),
    "other_asian": (
        ("Rohan", "Jose", "Minh", "Prakash", "Tharshan", "Bikash"),
        ("Maria", "Lan", "Sita", "Ramya", "Thi", "Anusha"),
        ("Santos", "Nguyen", "Gurung", "Perera", "Fernando", "Tamang", "Reyes"),
    ),
    "middle_eastern": (
        ("Omar", "Ahmad", "Karim", "Reza", "Dara", "Yusuf", "Hassan"),
        ("Leila", "Maryam", "Noor", "Zeynep", "Rania", "Soraya"),
        ("Ahmadi", "Hosseini", "Rahimi", "Yilmaz", "Saleh", "Abbas", "Haddad"),
    ),
}

# Ethnic category -> heritages its names are drawn from. Mixed groups mix a given name from
# one heritage with a family name from another.
HERITAGE: dict[str, tuple[str, ...]] = {
    "A": ("british",),
    "B": ("irish",),
    "C": ("european",),
    "D": ("british", "caribbean"),
    "E": ("british", "african"),
    "F": ("british", "indian", "pakistani"),
    "G": ("british", "chinese", "middle_eastern", "european", "caribbean"),
    "H": ("indian",),
    "J": ("pakistani",),
    "K": ("bangladeshi",),
    "L": ("other_asian",),
    "M": ("caribbean",),
    "N": ("african",),
    "P": ("caribbean", "african"),
    "R": ("chinese",),
    "S": ("middle_eastern",),
    "Z": ("british", "british", "british", "pakistani", "european", "african"),
    "99": ("british", "british", "british", "pakistani", "european", "african"),
}

# Roughly West and North Yorkshire's inpatient mix: mostly White British, a large Pakistani
# community, every group present.
ETHNIC_WEIGHTS: dict[str, float] = {
    "A": 66, "B": 1, "C": 4, "D": 1.5, "E": 0.7, "F": 1, "G": 1, "H": 2, "J": 8, "K": 1,
    "L": 1, "M": 1.5, "N": 2.5, "P": 0.7, "R": 0.5, "S": 1, "Z": 2.5, "99": 2,
}  # fmt: skip

# Sexes of people on mixed wards; single-sex wards take only their own sex.
MIXED_WARD_SEXES = (("male", 49), ("female", 49), ("other", 1.2), ("not_known", 0.8))

READMISSION_CHANCE = 0.22
MIN_DAYS_BETWEEN_ADMISSIONS = 7
MIN_BED_GAP = timedelta(hours=2)  # cleaning and making up a bed between people
MIN_STAY = timedelta(hours=12)

Progress = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclass
class DemoSummary:
    """What seed_demo made, for the CLI to print (including the demo sign-ins)."""

    sites: int
    wards: int
    beds: int
    open_admissions: int
    patients: int
    past_admissions: int
    users: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, password
    localities: int = 0
    closed_beds: int = 0
    transfers: int = 0
    seclusions: int = 0
    segregations: int = 0
    uses_of_force: int = 0
    waiting_for_a_bed: int = 0
    out_of_area: int = 0  # open placements
    ready_for_discharge: int = 0  # people on the wards now


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------


async def database_is_empty(session: AsyncSession) -> bool:
    """True when there are no wards and no users (so seeding cannot clash with real data)."""
    has_ward = await session.scalar(select(Ward.id).limit(1))
    has_user = await session.scalar(select(User.id).limit(1))
    return has_ward is None and has_user is None


async def seed_demo(
    session: AsyncSession,
    *,
    now: datetime,
    progress: Progress | None = None,
    rng_seed: int = 2026,
) -> DemoSummary:
    """Fill an empty database with the demo trust. Adds and flushes; the caller commits."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not await database_is_empty(session):
        raise RuntimeError("The database already has wards or users; demo data needs it empty.")
    report = progress or (lambda _step, _done, _total: None)
    now = now.astimezone(UTC)
    rng = random.Random(rng_seed)  # noqa: S311 (repeatable demo data, not security)

    # Clinical times are whole minutes, rounded down so none is after `now`.
    clock = _minute(now)

    beds = await _write_places(session, report, clock)
    users = await _write_users(session, now, report)
    spells = _plan_spells(rng, clock, report)
    people = _plan_people(rng, spells, clock, report)
    await _write_people_and_admissions(session, rng, spells, people, clock, beds, report)
    await _close_beds(session, beds, clock)
    # Imported here: it builds on this module's plans (Spell, Person).
    from app.segregation.demo import seed_restrictive

    restrictive = await seed_restrictive(session, rng, clock, spells, people)
    from app.flow.demo import seed_flow

    flow = await seed_flow(session, rng, clock, spells, people)
    # Last, so the rules see everything above.
    from app.alerts.demo import seed_alerts

    await session.flush()
    await seed_alerts(session, clock, "safeguarding")

    open_count = sum(1 for s in spells if s.is_open)
    summary = DemoSummary(
        sites=len(SITES),
        wards=len(WARDS),
        beds=len(beds),
        open_admissions=open_count,
        patients=len(people) + flow.new_patients,
        past_admissions=len(spells) - open_count,
        users=users,
        localities=len(LOCALITIES),
        closed_beds=len(CLOSED_BEDS),
        transfers=sum(1 for s in spells if len(s.segments) > 1),
        seclusions=restrictive.seclusions,
        segregations=restrictive.segregations,
        uses_of_force=restrictive.uses_of_force,
        waiting_for_a_bed=flow.waiting,
        out_of_area=flow.open_placements,
        ready_for_discharge=flow.ready_for_discharge,
    )
    session.add(
        AuditEntry(
            at=now,
            user_id=None,
            username=SYSTEM,
            action="seed.demo",
            entity_type="trust",
            entity_id="demo",
            before=None,
            # Counts only: the demo passwords stay out of the audit log.
            after={**asdict(summary), "users": [u[0] for u in users], "rng_seed": rng_seed},
        )
    )
    await session.flush()
    return summary


# ---------------------------------------------------------------------------------------
# Places and accounts
# ---------------------------------------------------------------------------------------


async def _write_places(session: AsyncSession, report: Progress, now: datetime) -> dict[str, Bed]:
    """Localities, sites, wards and beds; returns the beds by label. One flush per level."""
    total = 4
    localities = {
        spec.code: Locality(
            code=spec.code, name=spec.name, latitude=spec.latitude, longitude=spec.longitude
        )
        for spec in LOCALITIES
    }
    session.add_all(localities.values())
    await session.flush()
    report("places", 1, total)

    sites = {
        code: Site(code=code, name=name, locality_id=localities[locality].id)
        for code, name, locality in SITES
    }
    session.add_all(sites.values())
    await session.flush()
    report("places", 2, total)

    wards = {
        spec.code: Ward(
            code=spec.code,
            name=spec.name,
            site_id=sites[spec.site].id,
            ward_type=spec.ward_type,
            sex=spec.sex,
            min_age=spec.min_age,
            max_age=spec.max_age,
            # Made now with years of history: app/wards/beds.py counts them open from
            # their first stay.
            created_at=now,
        )
        for spec in WARDS
    }
    session.add_all(wards.values())
    await session.flush()
    report("places", 3, total)

    # Every bed starts open: the database refuses any stay, even a past one, in a closed
    # bed, so the closures are made after the history is written (_close_beds).
    beds = {
        label: Bed(
            ward_id=wards[spec.code].id,
            label=label,
            status="open",
            closed_reason=None,
            created_at=now,
        )
        for spec in WARDS
        for label in _bed_labels(spec)
    }
    session.add_all(beds.values())
    await session.flush()
    report("places", 4, total)
    return beds


async def _write_users(
    session: AsyncSession, now: datetime, report: Progress
) -> list[tuple[str, str, str]]:
    """The demo accounts, through create_user so passwords are hashed and audited as usual."""
    created = []
    for done, (username, role, ward_codes) in enumerate(DEMO_USERS, start=1):
        await create_user(
            session,
            username=username,
            role=role,
            password=DEMO_PASSWORD,
            ward_codes=list(ward_codes),
            now=now,
            # Past the breached-password check (its password is public); flagged until changed.
            demo=True,
        )
        created.append((username, role, DEMO_PASSWORD))
        report("accounts", done, len(DEMO_USERS))
    return created


async def _close_beds(session: AsyncSession, beds: dict[str, Bed], now: datetime) -> None:
    """Close the beds out of use now, each with its closure since the day it closed (the
    weekly report counts open beds from bed_closures); their last stays ended before."""
    for label, (reason, days_ago) in CLOSED_BEDS.items():
        beds[label].status = "closed"
        beds[label].closed_reason = reason
        session.add(
            BedClosure(
                bed_id=beds[label].id, closed_at=now - timedelta(days=days_ago), reason=reason
            )
        )
    await session.flush()


def _bed_labels(spec: WardSpec) -> list[str]:
    return [f"{spec.code}-{n:02d}" for n in range(1, spec.beds + 1)]


# ---------------------------------------------------------------------------------------
# Planning stays: bed timelines that never overlap
# ---------------------------------------------------------------------------------------


@dataclass
class Segment:
    """A planned ward stay: one bed, from start to end (None while still there)."""

    ward: WardSpec
    bed: str
    start: datetime
    end: datetime | None
    transfer_reason: str | None = None


@dataclass
class Spell:
    """A planned admission: one or more segments back to back."""

    segments: list[Segment]
    person: int = -1  # index into the planned people

    @property
    def admitted_at(self) -> datetime:
        return self.segments[0].start

    @property
    def ended_at(self) -> datetime | None:
        return self.segments[-1].end

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def wards(self) -> list[WardSpec]:
        return [s.ward for s in self.segments]


class BedBook:
    """Which intervals each bed is already taken for, so new stays can be fitted around them."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.taken: dict[str, list[tuple[datetime, datetime]]] = {}

    def is_free(self, bed: str, start: datetime, end: datetime | None) -> bool:
        end = end or self.now
        return all(
            end + MIN_BED_GAP <= s or start >= e + MIN_BED_GAP for s, e in self.taken.get(bed, [])
        )

    def take(self, segment: Segment) -> None:
        self.taken.setdefault(segment.bed, []).append((segment.start, segment.end or self.now))

    def windows(self, bed: str, until: datetime) -> list[tuple[datetime | None, datetime]]:
        """The free stretches of a bed up to `until`: (after, before); after=None is open-ended."""
        cursor: datetime | None = None
        free: list[tuple[datetime | None, datetime]] = []
        for start, end in sorted(self.taken.get(bed, [])):
            free.append((cursor, start))
            cursor = end
        if cursor is None or cursor < until:
            free.append((cursor, until))
        return free


def _plan_spells(rng: random.Random, now: datetime, report: Progress) -> list[Spell]:
    history_start = now - timedelta(days=HISTORY_DAYS)
    book = BedBook(now)
    open_beds = {
        spec.code: [b for b in _bed_labels(spec) if b not in CLOSED_BEDS] for spec in WARDS
    }

    # 1. Who is in a bed now: a share of each ward's open beds, the stay begun some time ago.
    current: list[Spell] = []
    for spec in WARDS:
        beds = open_beds[spec.code]
        for bed in sorted(rng.sample(beds, round(len(beds) * spec.occupancy))):
            elapsed = max(timedelta(hours=2), _stay_length(rng, spec) * rng.random())
            segment = Segment(spec, bed, _minute(now - elapsed), None)
            book.take(segment)
            current.append(Spell([segment]))

    # 2. Transfers: some people now on a ward came from another one (an earlier stay), and
    # some past admissions moved ward. Reserve those first: they tie two beds together.
    for spell in current:
        chance = OPEN_TRANSFER_CHANCE.get(spell.segments[0].ward.ward_type, 0)
        if rng.random() < chance:
            _add_earlier_stay(rng, spell, book, open_beds)
    past = _past_transfers(rng, now, history_start, book, open_beds)

    # 3. Fill every bed's free stretches backwards from now with past, single-ward stays.
    all_beds = [(spec, bed) for spec in WARDS for bed in _bed_labels(spec)]
    for done, (spec, bed) in enumerate(all_beds, start=1):
        until = now
        if bed in CLOSED_BEDS:
            until = now - timedelta(days=CLOSED_BEDS[bed][1])
        for after, before in book.windows(bed, until):
            for start, end in _fill_window(rng, spec, after, before, history_start):
                past.append(Spell([Segment(spec, bed, start, end)]))
        report("bed histories", done, len(all_beds))
    return sorted(current + past, key=lambda s: (s.admitted_at, s.segments[0].bed))


def _add_earlier_stay(
    rng: random.Random, spell: Spell, book: BedBook, open_beds: dict[str, list[str]]
) -> None:
    """Prefix an open spell with a stay on another ward that ended when this one began."""
    to_ward = spell.segments[0].ward
    routes = [r for r in TRANSFER_ROUTES if r[1] == to_ward.ward_type]
    if not routes:
        return
    from_type, _, reason = rng.choice(routes)
    sources = [w for w in WARDS if w.ward_type == from_type and _compatible(w, to_ward)]
    if not sources:
        return
    from_ward = rng.choice(sources)
    moved_at = spell.admitted_at
    began = _minute(moved_at - _clamp_stay(_stay_length(rng, from_ward), 0.5, 30))
    for bed in rng.sample(open_beds[from_ward.code], min(5, len(open_beds[from_ward.code]))):
        if book.is_free(bed, began, moved_at):
            earlier = Segment(from_ward, bed, began, moved_at)
            book.take(earlier)
            spell.segments[0].transfer_reason = reason
            spell.segments.insert(0, earlier)
            return


def _past_transfers(
    rng: random.Random,
    now: datetime,
    history_start: datetime,
    book: BedBook,
    open_beds: dict[str, list[str]],
) -> list[Spell]:
    """Discharged admissions that moved ward once, placed wherever two beds were free."""
    spells: list[Spell] = []
    for _attempt in range(PAST_TRANSFERS * 10):
        if len(spells) >= PAST_TRANSFERS:
            break
        from_type, to_type, reason = rng.choice(TRANSFER_ROUTES)
        pairs = [
            (a, b)
            for a in WARDS
            for b in WARDS
            if a.ward_type == from_type and b.ward_type == to_type and a.code != b.code
            if _compatible(a, b)
        ]
        if not pairs:
            continue
        from_ward, to_ward = rng.choice(pairs)
        moved_at = _minute(history_start + (now - history_start) * rng.uniform(0.1, 0.9))
        began = _minute(moved_at - _clamp_stay(_stay_length(rng, from_ward), 0.5, 30))
        ended = _minute(moved_at + _clamp_stay(_stay_length(rng, to_ward), 0.5, 120))
        if began < history_start or ended > now - timedelta(days=1):
            continue
        from_bed = rng.choice(open_beds[from_ward.code])
        to_bed = rng.choice(open_beds[to_ward.code])
        if book.is_free(from_bed, began, moved_at) and book.is_free(to_bed, moved_at, ended):
            first = Segment(from_ward, from_bed, began, moved_at)
            second = Segment(to_ward, to_bed, moved_at, ended, transfer_reason=reason)
            book.take(first)
            book.take(second)
            spells.append(Spell([first, second]))
    return spells


def _fill_window(
    rng: random.Random,
    ward: WardSpec,
    after: datetime | None,
    before: datetime,
    history_start: datetime,
) -> list[tuple[datetime, datetime]]:
    """Past stays in one free stretch of a bed, laid backwards from its end.

    With no lower bound (the bed's earliest stretch) it stops once it reaches back past the
    start of the history, so the earliest stay may have begun before it, as in real life.
    """
    stays: list[tuple[datetime, datetime]] = []
    cursor = before
    while True:
        end = cursor - _bed_gap(rng, ward)
        if after is None:
            if end <= history_start:
                break
            start = end - _stay_length(rng, ward)
        else:
            if end - after < MIN_STAY + MIN_BED_GAP:
                break
            start = max(end - _stay_length(rng, ward), after + MIN_BED_GAP)
        stays.append((_minute(start), _minute(end)))
        cursor = start
    stays.reverse()
    return stays


def _stay_length(rng: random.Random, ward: WardSpec) -> timedelta:
    profile = PROFILES[ward.ward_type]
    days = rng.lognormvariate(math.log(profile.median_stay_days), profile.stay_spread)
    return timedelta(days=_clamp(days, 0.3, 1500))


def _bed_gap(rng: random.Random, ward: WardSpec) -> timedelta:
    """Time a bed stands empty between people; short on busy wards, keeping past occupancy
    near the ward's present occupancy."""
    profile = PROFILES[ward.ward_type]
    mean_stay = profile.median_stay_days * math.exp(profile.stay_spread**2 / 2)
    mean_gap = max(0.1, mean_stay * (1 - ward.occupancy) / ward.occupancy)
    return MIN_BED_GAP + timedelta(days=rng.expovariate(1 / mean_gap))


def _compatible(a: WardSpec, b: WardSpec) -> bool:
    """Could one person be on both wards (same sex rules, overlapping ages)?"""
    sexes_fit = a.sex == b.sex or "mixed" in (a.sex, b.sex)
    return sexes_fit and max(a.min_age, b.min_age) <= min(a.max_age, b.max_age)


# ---------------------------------------------------------------------------------------
# Planning people: who was in each spell
# ---------------------------------------------------------------------------------------


@dataclass
class Person:
    sex: str
    date_of_birth: date
    ethnic_category: str
    given_name: str
    family_name: str
    home_locality: str
    learning_disability: bool
    autistic: bool
    last_ended_at: datetime | None = None  # None while in hospital
    nhs_number: str = ""


def _plan_people(
    rng: random.Random, spells: list[Spell], now: datetime, report: Progress
) -> list[Person]:
    """Give every spell a person; about a fifth of spells are someone coming back."""
    people: list[Person] = []
    returnable: list[int] = []  # people out of hospital who could be readmitted
    # The CAMHS board should show young people soon to turn 18 (transition to adult care).
    older_teens_wanted = 2
    for done, spell in enumerate(spells, start=1):
        index = None
        if returnable and rng.random() < READMISSION_CHANCE:
            index = _find_returning(rng, spell, people, returnable, now)
        if index is None:
            youngest = None
            if older_teens_wanted and spell.is_open and spell.wards[0].ward_type == "camhs":
                youngest, older_teens_wanted = 16, older_teens_wanted - 1
            people.append(_new_person(rng, spell, now, youngest))
            index = len(people) - 1
        else:
            returnable.remove(index)
        spell.person = index
        people[index].last_ended_at = spell.ended_at
        if spell.ended_at is not None:
            returnable.append(index)  # an open admission keeps them out of the pool for good
        if done % 50 == 0 or done == len(spells):
            report("people", done, len(spells))
    _cover_every_ethnic_category(rng, people)
    _give_nhs_numbers(rng, people)
    return people


def _find_returning(
    rng: random.Random, spell: Spell, people: list[Person], returnable: list[int], now: datetime
) -> int | None:
    earliest_return = timedelta(days=MIN_DAYS_BETWEEN_ADMISSIONS)
    for index in rng.sample(returnable, min(30, len(returnable))):
        person = people[index]
        ended = person.last_ended_at
        if ended is None or ended + earliest_return > spell.admitted_at:
            continue
        if _fits(person.sex, person.date_of_birth, spell, now) and (
            not _needs_ld_or_autism(spell) or person.learning_disability or person.autistic
        ):
            return index
    return None


def _new_person(
    rng: random.Random, spell: Spell, now: datetime, youngest: int | None = None
) -> Person:
    first_ward = spell.wards[0]
    sex = _sex_for(rng, spell)
    date_of_birth = _date_of_birth(rng, spell, now, youngest)
    ethnic = _weighted(rng, ETHNIC_WEIGHTS.items())
    given, family = _name(rng, ethnic, sex)
    learning_disability, autistic = _ld_and_autism(rng, spell)
    return Person(
        sex=sex,
        date_of_birth=date_of_birth,
        ethnic_category=ethnic,
        given_name=given,
        family_name=family,
        home_locality=_home_locality(rng, first_ward),
        learning_disability=learning_disability,
        autistic=autistic,
    )


def _sex_for(rng: random.Random, spell: Spell) -> str:
    single = [w.sex for w in spell.wards if w.sex != "mixed"]
    if single:
        return single[0]  # transfers only join compatible wards, so they agree
    return _weighted(rng, MIXED_WARD_SEXES)


def _age_limits(spell: Spell) -> tuple[int, int]:
    return max(w.min_age for w in spell.wards), min(w.max_age for w in spell.wards)


def _date_of_birth(
    rng: random.Random, spell: Spell, now: datetime, youngest: int | None = None
) -> date:
    """A birthday that keeps the person within every ward's ages from admission to the end."""
    low, high = _age_limits(spell)
    low = max(low, youngest or low)
    oldest = min(high, 97)  # 130 is the ward's open upper bound, not a likely age
    mode = _clamp(PROFILES[spell.wards[0].ward_type].age_mode, low, oldest)
    admitted = spell.admitted_at.date()
    for _ in range(100):
        age = int(rng.triangular(low, oldest + 0.999, mode))
        born = admitted - timedelta(days=int((age + rng.random()) * 365.25))
        if _fits(None, born, spell, now):
            return born
    # A long stay on a ward with a narrow age band: be as young as the band allows.
    return _add_years(admitted, -low) - timedelta(days=1)


def _fits(sex: str | None, born: date, spell: Spell, now: datetime) -> bool:
    low, high = _age_limits(spell)
    ends = (spell.ended_at or now).date()
    ages_fit = low <= _age_on(born, spell.admitted_at.date()) and _age_on(born, ends) <= high
    if sex is None:
        return ages_fit
    sexes_fit = all(w.sex in ("mixed", sex) for w in spell.wards)
    return ages_fit and sexes_fit


def _needs_ld_or_autism(spell: Spell) -> bool:
    return any(w.ward_type == "ld_autism" for w in spell.wards)


def _ld_and_autism(rng: random.Random, spell: Spell) -> tuple[bool, bool]:
    if _needs_ld_or_autism(spell):
        kind = _weighted(rng, (("ld", 45), ("autistic", 30), ("both", 25)))
        return kind in ("ld", "both"), kind in ("autistic", "both")
    # Autism is diagnosed more often among young people on CAMHS wards.
    autistic_rate = 0.15 if spell.wards[0].ward_type == "camhs" else 0.045
    return rng.random() < 0.045, rng.random() < autistic_rate


def _home_locality(rng: random.Random, ward: WardSpec) -> str:
    """Most people live near the hospital; regional services draw from the whole trust; a
    few were placed here from far away by other trusts."""
    roll = rng.random()
    if roll < 0.03:
        return rng.choice([spec.code for spec in LOCALITIES if spec.weight == 0])
    regional = ward.ward_type in ("forensic", "camhs", "ld_autism")
    if roll < 0.5 and not regional:
        return next(locality for code, _, locality in SITES if code == ward.site)
    return _weighted(rng, ((spec.code, spec.weight) for spec in LOCALITIES if spec.weight))


def _name(rng: random.Random, ethnic: str, sex: str) -> tuple[str, str]:
    heritages = HERITAGE[ethnic]
    males, females, _ = NAMES[rng.choice(heritages)]
    if sex == "male":
        given_names = males
    elif sex == "female":
        given_names = females
    else:
        given_names = rng.choice((males, females))
    return rng.choice(given_names), rng.choice(NAMES[rng.choice(heritages)][2])


def _cover_every_ethnic_category(rng: random.Random, people: list[Person]) -> None:
    """Reports break rights measures down by ethnic group, so the demo has every one."""
    present = {p.ethnic_category for p in people}
    for code in ETHNIC_CATEGORIES:
        if code in present:
            continue
        candidates = [p for p in people if p.ethnic_category == "A"]
        person = rng.choice(candidates)
        person.ethnic_category = code
        person.given_name, person.family_name = _name(rng, code, person.sex)


def _give_nhs_numbers(rng: random.Random, people: list[Person]) -> None:
    """Valid check digits in the 999 range, which is never issued to real people."""
    used: set[str] = set()
    for person in people:
        while True:
            stem = f"999{rng.randrange(1_000_000):06d}"
            check = nhs_number.calculate_checksum(stem)
            candidate = f"{stem}{check}"
            # A check digit of 10 means that stem cannot be an NHS number.
            if check != 10 and candidate not in used and nhs_number.is_valid(candidate):
                break
        used.add(candidate)
        person.nhs_number = candidate


# ---------------------------------------------------------------------------------------
# Writing people, admissions, stays, legal status and reviews
# ---------------------------------------------------------------------------------------


async def _write_people_and_admissions(
    session: AsyncSession,
    rng: random.Random,
    spells: list[Spell],
    people: list[Person],
    now: datetime,
    beds: dict[str, Bed],
    report: Progress,
) -> None:
    steps = 3
    localities = {loc.code: loc.id for loc in await session.scalars(select(Locality))}
    wards = {ward.code: ward.id for ward in await session.scalars(select(Ward))}

    decisions = [_decision_to_admit(rng, spell) for spell in spells]
    first_decision: dict[int, datetime] = {}
    for spell, decided in zip(spells, decisions, strict=True):
        first_decision.setdefault(spell.person, decided)
    patients = [
        Patient(
            nhs_number=p.nhs_number,
            given_name=p.given_name,
            family_name=p.family_name,
            date_of_birth=p.date_of_birth,
            sex=p.sex,
            ethnic_category=p.ethnic_category,
            home_locality_id=localities[p.home_locality],
            learning_disability=p.learning_disability,
            autistic=p.autistic,
            # Registered when first referred, shortly before the first decision to admit.
            created_at=_minute(first_decision[i] - timedelta(hours=rng.uniform(0.2, 3))),
        )
        for i, p in enumerate(people)
    ]
    session.add_all(patients)
    await session.flush()
    report("saving", 1, steps)

    admissions: list[Admission] = []
    histories: list[list[tuple[str, datetime]]] = []
    for spell, decided in zip(spells, decisions, strict=True):
        history = _legal_history(rng, spell, now)
        reason, benefit = _reason_and_benefit(rng, spell)
        destination = None
        if not spell.is_open:
            destination = _weighted(rng, PROFILES[spell.wards[-1].ward_type].destinations)
        admissions.append(
            Admission(
                patient_id=patients[spell.person].id,
                admitted_at=spell.admitted_at,
                decision_to_admit_at=decided,
                reason=reason,
                expected_benefit=benefit,
                legal_status=history[-1][0],
                expected_discharge_date=_expected_discharge_date(rng, spell, now),
                discharged_at=spell.ended_at,
                discharge_destination=destination,
                created_at=spell.admitted_at,
            )
        )
        histories.append(history)
    session.add_all(admissions)
    await session.flush()
    report("saving", 2, steps)

    rows: list[WardStay | LegalStatusChange | PurposeReview] = []
    for spell, admission, history in zip(spells, admissions, histories, strict=True):
        rows.extend(
            WardStay(
                admission_id=admission.id,
                ward_id=wards[segment.ward.code],
                bed_id=beds[segment.bed].id,
                started_at=segment.start,
                ended_at=segment.end,
                transfer_reason=segment.transfer_reason,
            )
            for segment in spell.segments
        )
        rows.extend(
            LegalStatusChange(
                admission_id=admission.id,
                legal_status=status,
                at=at,
                recorded_at=min(now, at + timedelta(minutes=rng.randint(2, 45))),
            )
            for status, at in history
        )
        rows.extend(
            PurposeReview(
                admission_id=admission.id,
                at=at,
                still_needed=still_needed,
                note=note,
                recorded_at=at,
            )
            for at, still_needed, note in _purpose_reviews(rng, spell, now)
        )
    session.add_all(rows)
    await session.flush()
    report("saving", 3, steps)


def _decision_to_admit(rng: random.Random, spell: Spell) -> datetime:
    """Usually a few hours before admission; sometimes a long wait for a bed."""
    hours = rng.uniform(12, 96) if rng.random() < 0.15 else rng.uniform(0.5, 10)
    return _minute(spell.admitted_at - timedelta(hours=hours))


def _reason_and_benefit(rng: random.Random, spell: Spell) -> tuple[str, str]:
    """Recorded at admission, so it suits the ward the person was first admitted to."""
    ward_type = spell.wards[0].ward_type
    if ward_type == "adult_acute" or (ward_type == "picu" and rng.random() < 0.5):
        return rng.choice(REASONS["general"])
    return rng.choice(REASONS[ward_type])


def _legal_history(rng: random.Random, spell: Spell, now: datetime) -> list[tuple[str, datetime]]:
    """Status at admission, then the changes holding powers and tribunals force."""
    # A secure or intensive-care ward decides the status: nobody there is informal.
    types = [w.ward_type for w in spell.wards]
    decisive = next((t for t in types if t in ("forensic", "picu")), types[0])
    detained_throughout = decisive in ("forensic", "picu")
    status = _weighted(rng, PROFILES[decisive].legal_statuses)
    at = spell.admitted_at
    history = [(status, at)]
    ends = spell.ended_at or now
    for _ in range(3):
        rule = LEGAL_CHANGES.get(status)
        if rule is None:
            break
        chance, earliest, latest, choices = rule
        if detained_throughout:
            choices = tuple(c for c in choices if c[0] != "informal")
        if not choices:
            break
        change_at = _minute(at + timedelta(hours=rng.uniform(earliest, latest)))
        if rng.random() >= chance or change_at >= ends:
            break
        status, at = _weighted(rng, choices), change_at
        history.append((status, at))
    return history


def _expected_discharge_date(rng: random.Random, spell: Spell, now: datetime) -> date | None:
    # Dates stay at least a day after admission so a time zone never puts one before it.
    earliest = spell.admitted_at.date() + timedelta(days=1)
    if spell.ended_at is None:
        if rng.random() >= 0.4:
            return None
        # Mostly ahead; a quarter already passed, which the board shows as overdue.
        offset = rng.randint(-10, -1) if rng.random() < 0.25 else rng.randint(1, 28)
        return max(earliest, now.date() + timedelta(days=offset))
    if rng.random() >= 0.3:
        return None
    return max(earliest, spell.ended_at.date() + timedelta(days=rng.randint(-7, 7)))


def _purpose_reviews(
    rng: random.Random, spell: Spell, now: datetime
) -> list[tuple[datetime, bool, str]]:
    """Reviews within three days of admission, then about weekly, for most admissions
    (recent six months only); a few are late or missing: what ADM_PURPOSE_REVIEW catches."""
    if rng.random() < 0.08:
        return []  # reviews not recorded
    ends = spell.ended_at or now
    at = max(spell.admitted_at + timedelta(days=rng.uniform(1, 3.2)), ends - timedelta(days=180))
    reviews = []
    waiting_to_leave = False
    while at < ends:
        # Late in a long stay a review may find hospital no longer needed; from then on the
        # person is waiting to leave (a delayed discharge), and later reviews say so too.
        long_stay = at - spell.admitted_at > timedelta(days=45)
        waiting_to_leave = waiting_to_leave or (long_stay and rng.random() < 0.2)
        if waiting_to_leave:
            reviews.append((_minute(at), False, rng.choice(PURPOSE_NOT_NEEDED)))
        else:
            reviews.append((_minute(at), True, rng.choice(PURPOSE_STILL_NEEDED)))
        at += timedelta(days=rng.uniform(4, 7.1) if rng.random() < 0.93 else rng.uniform(8, 12))
    return reviews


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------


def _weighted(rng: random.Random, choices: Iterable[tuple[T, float]]) -> T:
    items = list(choices)
    values = [value for value, _ in items]
    weights = [weight for _, weight in items]
    return rng.choices(values, weights=weights)[0]


def _minute(moment: datetime) -> datetime:
    """Clinical times are recorded to the minute; rounding down keeps order and the past."""
    return moment.replace(second=0, microsecond=0)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _clamp_stay(length: timedelta, low_days: float, high_days: float) -> timedelta:
    return timedelta(days=_clamp(length / timedelta(days=1), low_days, high_days))


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)
