"""The demo trust's history: every bed's stays over about six months, the people in them,
and the admissions written with their ward stays, legal status and purpose reviews.

How the history stays consistent: every bed has a timeline of stays that never overlap.
Stays that tie two beds together (transfers) and the stays open now are reserved first; the
gaps around them are then filled backwards from now with past stays. Each admission is then
given a patient whose sex, age and needs fit every ward it used and who was not in hospital
at the time (some people come back: readmissions). NHS numbers come from the 999 range
that is never issued to real people.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import age_on
from app.demo.places import CLOSED_BEDS, LOCALITIES, SITES, WARDS, bed_labels
from app.demo.plan import (
    ETHNIC_WEIGHTS,
    MIN_DAYS_BETWEEN_ADMISSIONS,
    MIXED_WARD_SEXES,
    OPEN_TRANSFER_CHANCE,
    PROFILES,
    PURPOSE_NOT_NEEDED,
    PURPOSE_STILL_NEEDED,
    TRANSFER_ROUTES,
    BedBook,
    Person,
    Progress,
    Segment,
    Spell,
    WardSpec,
    add_earlier_stay,
    add_years,
    age_limits,
    clamp,
    clamp_stay,
    compatible,
    decision_to_admit,
    expected_discharge_date,
    fill_window,
    ld_and_autism,
    legal_history,
    name,
    nhs_number,
    reason_and_benefit,
    stay_length,
    to_minute,
    weighted,
)
from app.wards.codes import ETHNIC_CATEGORIES
from app.wards.models import (
    Admission,
    Bed,
    LegalStatusChange,
    Locality,
    Patient,
    PurposeReview,
    Ward,
    WardStay,
)

HISTORY_DAYS = 183  # about six months of discharged admissions
PAST_TRANSFERS = 20
READMISSION_CHANCE = 0.22


def plan_spells(rng: random.Random, now: datetime, report: Progress) -> list[Spell]:
    history_start = now - timedelta(days=HISTORY_DAYS)
    book = BedBook(now)
    open_beds = {spec.code: [b for b in bed_labels(spec) if b not in CLOSED_BEDS] for spec in WARDS}

    # 1. Who is in a bed now: a share of each ward's open beds, the stay begun some time ago.
    current: list[Spell] = []
    for spec in WARDS:
        beds = open_beds[spec.code]
        for bed in sorted(rng.sample(beds, round(len(beds) * spec.occupancy))):
            elapsed = max(timedelta(hours=2), stay_length(rng, spec) * rng.random())
            segment = Segment(spec, bed, to_minute(now - elapsed), None)
            book.take(segment)
            current.append(Spell([segment]))

    # 2. Transfers: some people now on a ward came from another one (an earlier stay), and
    # some past admissions moved ward. Reserve those first: they tie two beds together.
    for spell in current:
        chance = OPEN_TRANSFER_CHANCE.get(spell.segments[0].ward.ward_type, 0)
        if rng.random() < chance:
            add_earlier_stay(rng, spell, book, WARDS, open_beds)
    past = _past_transfers(rng, now, history_start, book, open_beds)

    # 3. Fill every bed's free stretches backwards from now with past, single-ward stays.
    all_beds = [(spec, bed) for spec in WARDS for bed in bed_labels(spec)]
    for done, (spec, bed) in enumerate(all_beds, start=1):
        until = now
        if bed in CLOSED_BEDS:
            until = now - timedelta(days=CLOSED_BEDS[bed][1])
        for after, before in book.windows(bed, until):
            for start, end in fill_window(rng, spec, after, before, history_start):
                past.append(Spell([Segment(spec, bed, start, end)]))
        report("bed histories", done, len(all_beds))
    return sorted(current + past, key=lambda s: (s.admitted_at, s.segments[0].bed))


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
            if compatible(a, b)
        ]
        if not pairs:
            continue
        from_ward, to_ward = rng.choice(pairs)
        moved_at = to_minute(history_start + (now - history_start) * rng.uniform(0.1, 0.9))
        began = to_minute(moved_at - clamp_stay(stay_length(rng, from_ward), 0.5, 30))
        ended = to_minute(moved_at + clamp_stay(stay_length(rng, to_ward), 0.5, 120))
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


def plan_people(
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
    ethnic = weighted(rng, ETHNIC_WEIGHTS.items())
    given, family = name(rng, ethnic, sex)
    learning_disability, autistic = ld_and_autism(
        rng, needs=_needs_ld_or_autism(spell), ward_type=first_ward.ward_type
    )
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
    return weighted(rng, MIXED_WARD_SEXES)


def _date_of_birth(
    rng: random.Random, spell: Spell, now: datetime, youngest: int | None = None
) -> date:
    """A birthday that keeps the person within every ward's ages from admission to the end."""
    low, high = age_limits(spell)
    low = max(low, youngest or low)
    oldest = min(high, 97)  # 130 is the ward's open upper bound, not a likely age
    mode = clamp(PROFILES[spell.wards[0].ward_type].age_mode, low, oldest)
    admitted = spell.admitted_at.date()
    for _ in range(100):
        age = int(rng.triangular(low, oldest + 0.999, mode))
        born = admitted - timedelta(days=int((age + rng.random()) * 365.25))
        if _fits(None, born, spell, now):
            return born
    # A long stay on a ward with a narrow age band: be as young as the band allows.
    return add_years(admitted, -low) - timedelta(days=1)


def _fits(sex: str | None, born: date, spell: Spell, now: datetime) -> bool:
    low, high = age_limits(spell)
    ends = (spell.ended_at or now).date()
    ages_fit = low <= age_on(born, spell.admitted_at.date()) and age_on(born, ends) <= high
    if sex is None:
        return ages_fit
    sexes_fit = all(w.sex in ("mixed", sex) for w in spell.wards)
    return ages_fit and sexes_fit


def _needs_ld_or_autism(spell: Spell) -> bool:
    return any(w.ward_type == "ld_autism" for w in spell.wards)


def _home_locality(rng: random.Random, ward: WardSpec) -> str:
    """Most people live near the hospital; regional services draw from the whole trust; a
    few were placed here from far away by other trusts."""
    roll = rng.random()
    if roll < 0.03:
        return rng.choice([spec.code for spec in LOCALITIES if spec.weight == 0])
    regional = ward.ward_type in ("forensic", "camhs", "ld_autism")
    if roll < 0.5 and not regional:
        return next(locality for code, _, locality in SITES if code == ward.site)
    return weighted(rng, ((spec.code, spec.weight) for spec in LOCALITIES if spec.weight))


def _cover_every_ethnic_category(rng: random.Random, people: list[Person]) -> None:
    """Reports break rights measures down by ethnic group, so the demo has every one."""
    present = {p.ethnic_category for p in people}
    for code in ETHNIC_CATEGORIES:
        if code in present:
            continue
        candidates = [p for p in people if p.ethnic_category == "A"]
        person = rng.choice(candidates)
        person.ethnic_category = code
        person.given_name, person.family_name = name(rng, code, person.sex)


def _give_nhs_numbers(rng: random.Random, people: list[Person]) -> None:
    used: set[str] = set()
    for person in people:
        person.nhs_number = nhs_number(rng, used)


# ---------------------------------------------------------------------------------------
# Writing people, admissions, stays, legal status and reviews
# ---------------------------------------------------------------------------------------


async def write_people_and_admissions(
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

    decisions = [decision_to_admit(rng, spell) for spell in spells]
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
            created_at=to_minute(first_decision[i] - timedelta(hours=rng.uniform(0.2, 3))),
        )
        for i, p in enumerate(people)
    ]
    session.add_all(patients)
    await session.flush()
    report("saving", 1, steps)

    admissions: list[Admission] = []
    histories: list[list[tuple[str, datetime]]] = []
    for spell, decided in zip(spells, decisions, strict=True):
        history = legal_history(rng, spell, now)
        reason, benefit = reason_and_benefit(rng, spell)
        destination = None
        if not spell.is_open:
            destination = weighted(rng, PROFILES[spell.wards[-1].ward_type].destinations)
        admissions.append(
            Admission(
                patient_id=patients[spell.person].id,
                admitted_at=spell.admitted_at,
                decision_to_admit_at=decided,
                reason=reason,
                expected_benefit=benefit,
                legal_status=history[-1][0],
                expected_discharge_date=expected_discharge_date(rng, spell, now),
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
            for at, still_needed, note in purpose_reviews(rng, spell, now)
        )
    session.add_all(rows)
    await session.flush()
    report("saving", 3, steps)


def purpose_reviews(
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
            reviews.append((to_minute(at), False, rng.choice(PURPOSE_NOT_NEEDED)))
        else:
            reviews.append((to_minute(at), True, rng.choice(PURPOSE_STILL_NEEDED)))
        at += timedelta(days=rng.uniform(4, 7.1) if rng.random() < 0.93 else rng.uniform(8, 12))
    return reviews
