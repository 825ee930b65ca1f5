"""The planner behind both sample data sets: the demo trust (`app.demo`) and the synthetic
nation (`app.demo.synthetic`) plan their stays, people and admissions with these types,
tables and functions, each from its own `random.Random`.

What a ward type's admissions look like (`PROFILES`), how legal status changes, why people
are admitted and moved, names by heritage; the planned records (`Segment`, `Spell`,
`Person`) and the bed timelines that keep stays from overlapping (`BedBook`); and the small
draws both sets make in the same way (`stay_length`, `bed_gap`, `fill_window`,
`legal_history`, `name`, `weighted`, `to_minute`, ...).

Everything is synthetic: names are drawn from lists, and the hospitals are invented.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from nhs_number import validate as nhs_validate

Progress = Callable[[str, int, int], None]


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

MIN_DAYS_BETWEEN_ADMISSIONS = 7
MIN_BED_GAP = timedelta(hours=2)  # cleaning and making up a bed between people
MIN_STAY = timedelta(hours=12)

T = TypeVar("T")


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


def stay_length(rng: random.Random, ward: WardSpec) -> timedelta:
    profile = PROFILES[ward.ward_type]
    days = rng.lognormvariate(math.log(profile.median_stay_days), profile.stay_spread)
    return timedelta(days=clamp(days, 0.3, 1500))


def mean_stay_days(ward_type: str) -> float:
    """The mean of the ward type's log-normal length of stay."""
    profile = PROFILES[ward_type]
    return profile.median_stay_days * math.exp(profile.stay_spread**2 / 2)


def bed_gap(rng: random.Random, ward: WardSpec) -> timedelta:
    """Time a bed stands empty between people; short on busy wards, keeping past occupancy
    near the ward's present occupancy."""
    mean_stay = mean_stay_days(ward.ward_type)
    mean_gap = max(0.1, mean_stay * (1 - ward.occupancy) / ward.occupancy)
    return MIN_BED_GAP + timedelta(days=rng.expovariate(1 / mean_gap))


def compatible(a: WardSpec, b: WardSpec) -> bool:
    """Could one person be on both wards (same sex rules, overlapping ages)?"""
    sexes_fit = a.sex == b.sex or "mixed" in (a.sex, b.sex)
    return sexes_fit and max(a.min_age, b.min_age) <= min(a.max_age, b.max_age)


def add_earlier_stay(
    rng: random.Random,
    spell: Spell,
    book: BedBook,
    wards: Iterable[WardSpec],
    open_beds: dict[str, list[str]],
    *,
    other_ward: bool = False,
) -> None:
    """Prefix an open spell with a stay on another ward that ended when this one began.

    `wards` are where the person may have come from, and `open_beds` each ward's open beds
    (by ward code, as the spell names beds). With `other_ward` (the synthetic set) the
    earlier stay is never on the spell's own ward.
    """
    to_ward = spell.segments[0].ward
    routes = [r for r in TRANSFER_ROUTES if r[1] == to_ward.ward_type]
    if not routes:
        return
    from_type, _, reason = rng.choice(routes)
    sources = [
        w
        for w in wards
        if w.ward_type == from_type and compatible(w, to_ward) and not (other_ward and w is to_ward)
    ]
    if not sources:
        return
    from_ward = rng.choice(sources)
    moved_at = spell.admitted_at
    began = to_minute(moved_at - clamp_stay(stay_length(rng, from_ward), 0.5, 30))
    for bed in rng.sample(open_beds[from_ward.code], min(5, len(open_beds[from_ward.code]))):
        if book.is_free(bed, began, moved_at):
            earlier = Segment(from_ward, bed, began, moved_at)
            book.take(earlier)
            spell.segments[0].transfer_reason = reason
            spell.segments.insert(0, earlier)
            return


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


def nhs_number(rng: random.Random, used: set[str]) -> str:
    """A valid number in the 999 range, which is never issued to real people, not in
    `used` (and added to it)."""
    while True:
        stem = f"999{rng.randrange(1_000_000):06d}"
        check = nhs_validate.calculate_checksum(stem)
        candidate = f"{stem}{check}"
        # A check digit of 10 means that stem cannot be an NHS number.
        if check != 10 and candidate not in used and nhs_validate.is_valid(candidate):
            used.add(candidate)
            return candidate


def age_limits(spell: Spell) -> tuple[int, int]:
    """The ages every ward of the spell takes: (youngest, oldest)."""
    return max(w.min_age for w in spell.wards), min(w.max_age for w in spell.wards)


def name(rng: random.Random, ethnic: str, sex: str) -> tuple[str, str]:
    """A given and a family name for someone of this ethnic category and sex."""
    heritages = HERITAGE[ethnic]
    males, females, _ = NAMES[rng.choice(heritages)]
    if sex == "male":
        given_names = males
    elif sex == "female":
        given_names = females
    else:
        given_names = rng.choice((males, females))
    return rng.choice(given_names), rng.choice(NAMES[rng.choice(heritages)][2])


def ld_and_autism(rng: random.Random, *, needs: bool, ward_type: str) -> tuple[bool, bool]:
    """Learning disability and autism: one or both for someone who `needs` a learning
    disability or autism ward; otherwise rare, autism more often on CAMHS wards."""
    if needs:
        kind = weighted(rng, (("ld", 45), ("autistic", 30), ("both", 25)))
        return kind in ("ld", "both"), kind in ("autistic", "both")
    # Autism is diagnosed more often among young people on CAMHS wards.
    autistic_rate = 0.15 if ward_type == "camhs" else 0.045
    return rng.random() < 0.045, rng.random() < autistic_rate


def decision_to_admit(rng: random.Random, spell: Spell) -> datetime:
    """Usually a few hours before admission; sometimes a long wait for a bed."""
    hours = rng.uniform(12, 96) if rng.random() < 0.15 else rng.uniform(0.5, 10)
    return to_minute(spell.admitted_at - timedelta(hours=hours))


def reason_and_benefit(rng: random.Random, spell: Spell) -> tuple[str, str]:
    """Recorded at admission, so it suits the ward the person was first admitted to."""
    ward_type = spell.wards[0].ward_type
    if ward_type == "adult_acute" or (ward_type == "picu" and rng.random() < 0.5):
        return rng.choice(REASONS["general"])
    return rng.choice(REASONS[ward_type])


def legal_history(rng: random.Random, spell: Spell, now: datetime) -> list[tuple[str, datetime]]:
    """Status at admission, then the changes holding powers and tribunals force."""
    # A secure or intensive-care ward decides the status: nobody there is informal.
    types = [w.ward_type for w in spell.wards]
    decisive = next((t for t in types if t in ("forensic", "picu")), types[0])
    detained_throughout = decisive in ("forensic", "picu")
    status = weighted(rng, PROFILES[decisive].legal_statuses)
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
        change_at = to_minute(at + timedelta(hours=rng.uniform(earliest, latest)))
        if rng.random() >= chance or change_at >= ends:
            break
        status, at = weighted(rng, choices), change_at
        history.append((status, at))
    return history


def expected_discharge_date(rng: random.Random, spell: Spell, now: datetime) -> date | None:
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


def weighted(rng: random.Random, choices: Iterable[tuple[T, float]]) -> T:
    items = list(choices)
    values = [value for value, _ in items]
    weights = [weight for _, weight in items]
    return rng.choices(values, weights=weights)[0]


def to_minute(moment: datetime) -> datetime:
    """Clinical times are recorded to the minute; rounding down keeps order and the past."""
    return moment.replace(second=0, microsecond=0)


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def clamp_stay(length: timedelta, low_days: float, high_days: float) -> timedelta:
    return timedelta(days=clamp(length / timedelta(days=1), low_days, high_days))


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def fill_window(
    rng: random.Random,
    ward: WardSpec,
    after: datetime | None,
    before: datetime,
    history_start: datetime,
    *,
    shortest: timedelta | None = None,
) -> list[tuple[datetime, datetime]]:
    """Past stays in one free stretch of a bed, laid backwards from its end.

    With no lower bound (the bed's earliest stretch) it stops once it reaches back past the
    start of the history, so the earliest stay may have begun before it, as in real life.
    With `shortest` (the synthetic set) the next stay is laid back from the previous one's
    start in whole minutes, and a stay shorter than `shortest` ends the stretch.
    """
    stays: list[tuple[datetime, datetime]] = []
    cursor = before
    while True:
        end = cursor - bed_gap(rng, ward)
        if after is None:
            if end <= history_start:
                break
            start = end - stay_length(rng, ward)
        else:
            if end - after < MIN_STAY + MIN_BED_GAP:
                break
            start = max(end - stay_length(rng, ward), after + MIN_BED_GAP)
        stay = (to_minute(start), to_minute(end))
        if shortest is not None:
            if stay[1] - stay[0] < shortest:
                break
            start = stay[0]
        stays.append(stay)
        cursor = start
    stays.reverse()
    return stays
