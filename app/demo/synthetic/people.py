"""Who was in each stay: people whose sex and age fit every ward they used, who live near
the hospital (regional services draw from further), and who often come back.

NHS numbers are valid numbers from the 999 range, which is never issued to real people;
they are handed out in a fixed shuffled order, so a national set never repeats one and the
same seed always gives the same numbers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from app.clock import age_on
from app.demo.plan import (
    MIN_DAYS_BETWEEN_ADMISSIONS,
    MIXED_WARD_SEXES,
    PROFILES,
    Person,
    Spell,
    add_years,
    age_limits,
    ld_and_autism,
    name,
    weighted,
)
from app.demo.synthetic.places import Places, SitePlan, Town

# Inpatients in England by ethnic category (MHSDS, roughly): Black people are admitted,
# and detained, far more often than their share of the population.
ETHNIC_WEIGHTS: dict[str, float] = {
    "A": 62, "B": 1, "C": 6, "D": 1.5, "E": 0.8, "F": 0.8, "G": 1.2, "H": 2.2, "J": 2.8,
    "K": 1, "L": 1.5, "M": 3, "N": 4, "P": 1.5, "R": 0.4, "S": 2, "Z": 4, "99": 4,
}  # fmt: skip
ETHNIC_CODES = list(ETHNIC_WEIGHTS)
ETHNIC_CUMULATIVE = [sum(list(ETHNIC_WEIGHTS.values())[: i + 1]) for i in range(len(ETHNIC_CODES))]
# Over years of history many people are admitted more than once.
READMISSION_CHANCE = 0.32
REGIONAL = ("forensic", "camhs", "ld_autism")
OLDEST = 97

# The 999 range: stems 999000000-999999999. An affine step coprime to a million visits
# every stem once, in an order that looks shuffled.
STEMS = 1_000_000
STEP = 738_917
WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


class NhsNumbers:
    """Valid, never-repeated NHS numbers from the test range, in a fixed order."""

    def __init__(self, seed: int) -> None:
        self.position = seed % STEMS
        self.issued = 0

    def next(self) -> str:
        while True:
            if self.issued >= STEMS:
                raise RuntimeError(
                    "out of NHS numbers in the 999 test range (about 909,000 people)"
                )
            stem = f"999{(self.position * STEP) % STEMS:06d}"
            self.position = (self.position + 1) % STEMS
            self.issued += 1
            remainder = sum(int(d) * w for d, w in zip(stem, WEIGHTS, strict=True)) % 11
            check = (11 - remainder) % 11
            if check != 10:  # a stem whose check digit would be 10 is not a number
                return f"{stem}{check}"


def fits(person: Person, spell: Spell, now: datetime) -> bool:
    low, high = age_limits(spell)
    ends = (spell.ended_at or now).date()
    born = person.date_of_birth
    if not (low <= age_on(born, spell.admitted_at.date()) and age_on(born, ends) <= high):
        return False
    if any(w.ward_type == "ld_autism" for w in spell.wards) and not (
        person.learning_disability or person.autistic
    ):
        return False
    return all(w.sex in ("mixed", person.sex) for w in spell.wards)


class People:
    """The people of one hospital: new ones, and those who come back."""

    def __init__(
        self,
        rng: random.Random,
        site: SitePlan,
        places: Places,
        numbers: NhsNumbers,
        now: datetime,
    ) -> None:
        self.rng = rng
        self.site = site
        self.places = places
        self.numbers = numbers
        self.now = now
        self.people: list[Person] = []
        # People out of hospital who could come back (indices into people).
        self.returnable: list[int] = []

    def assign(self, spells: Sequence[Spell]) -> None:
        """Give every spell (in order of admission) a person."""
        for spell in spells:
            index = None
            if self.returnable and self.rng.random() < READMISSION_CHANCE:
                index = self._returning(spell.admitted_at, spell)
            if index is None:
                self.people.append(self.new_person(spell))
                index = len(self.people) - 1
            spell.person = index
            self.people[index].last_ended_at = spell.ended_at
            if spell.ended_at is not None:
                self.returnable.append(index)

    def _returning(self, at: datetime, spell: Spell | None) -> int | None:
        rng, pool = self.rng, self.returnable
        gap = timedelta(days=MIN_DAYS_BETWEEN_ADMISSIONS)
        for _ in range(min(30, len(pool))):
            slot = rng.randrange(len(pool))
            person = self.people[pool[slot]]
            ended = person.last_ended_at
            if ended is None or ended + gap > at:
                continue
            if spell is not None and not fits(person, spell, self.now):
                continue
            index = pool[slot]
            pool[slot] = pool[-1]
            pool.pop()
            return index
        return None

    def out_of_hospital(self, at: datetime) -> int | None:
        """Someone who has been in hospital here and is home at `at` (for the waiting list);
        taken out of the pool, since they are spoken for."""
        return self._returning(at, None)

    def new_person(
        self, spell: Spell | None, *, ward_type: str = "adult_acute", at: datetime | None = None
    ) -> Person:
        """A person for a spell, or (with no spell) someone needing a bed of `ward_type`
        at `at`: waiting, or placed out of area."""
        rng = self.rng
        if spell is not None:
            first = spell.wards[0]
            ward_type = first.ward_type
            low, high = age_limits(spell)
            single = [w.sex for w in spell.wards if w.sex != "mixed"]
            sex = single[0] if single else weighted(rng, MIXED_WARD_SEXES)
            admitted = spell.admitted_at.date()
            ends = (spell.ended_at or self.now).date()
        else:
            low, high = (65, OLDEST) if ward_type == "older_adult_acute" else (18, 64)
            sex = "male" if rng.random() < 0.55 else "female"
            admitted = ends = (at or self.now).date()
        born = self._date_of_birth(ward_type, low, high, admitted, ends)
        ethnic = ETHNIC_CODES[_bisect(ETHNIC_CUMULATIVE, rng.random() * ETHNIC_CUMULATIVE[-1])]
        given, family = name(rng, ethnic, sex)
        learning_disability, autistic = ld_and_autism(
            rng, needs=ward_type == "ld_autism", ward_type=ward_type
        )
        person = Person(
            sex=sex,
            date_of_birth=born,
            ethnic_category=ethnic,
            given_name=given,
            family_name=family,
            home_locality=self._home(ward_type).code,
            learning_disability=learning_disability,
            autistic=autistic,
        )
        person.nhs_number = self.numbers.next()
        return person

    def add(self, person: Person) -> int:
        self.people.append(person)
        return len(self.people) - 1

    def _date_of_birth(
        self, ward_type: str, low: int, high: int, admitted: date, ends: date
    ) -> date:
        """Within every ward's ages from admission to the end of the stay (or now)."""
        rng = self.rng
        oldest = min(high, OLDEST)
        mode = min(max(PROFILES[ward_type].age_mode, low), oldest)
        for _ in range(50):
            age = int(rng.triangular(low, oldest + 0.999, mode))
            born = admitted - timedelta(days=int((age + rng.random()) * 365.25))
            if low <= age_on(born, admitted) and age_on(born, ends) <= high:
                return born
        # A long stay on a ward with a narrow band of ages: as young as the band allows.
        return add_years(admitted, -low) - timedelta(days=1)

    def _home(self, ward_type: str) -> Town:
        """Most live in the hospital's town or the next towns; regional services draw from
        further; a few were placed here from far away."""
        rng, town = self.rng, self.site.town
        roll = rng.random()
        far = self.places.far[town.code]
        if roll < 0.03 and far:
            return rng.choice(far)
        near = self.places.near[town.code]
        if ward_type in REGIONAL:
            return rng.choice(near)
        if roll < 0.55:
            return town
        return rng.choice(near)


def _bisect(cumulative: list[float], value: float) -> int:
    for index, edge in enumerate(cumulative):
        if value < edge:
            return index
    return len(cumulative) - 1
