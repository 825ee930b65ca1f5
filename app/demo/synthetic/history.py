"""Every bed's history at one hospital: who is in it now, and the stays before, back to the
start of the history. Planned per hospital from the hospital's own random stream.

As in the demo trust (app.demo.trust), every bed has a timeline of stays that never overlap:
the stays open now and the transfers (which tie two beds together) are reserved first, and
the gaps around them are filled backwards from now with past stays whose lengths follow
the ward type's profile, with the bed standing empty between people for about as long as
keeps its past occupancy near its present one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.demo.plan import (
    MIN_BED_GAP,
    MIN_STAY,
    OPEN_TRANSFER_CHANCE,
    PROFILES,
    TRANSFER_ROUTES,
    BedBook,
    Segment,
    Spell,
    WardSpec,
    to_minute,
)
from app.demo.synthetic.places import SitePlan, bed_labels

# About one bed in eighty is closed now (repairs, staffing, infection control).
CLOSED_SHARE = 0.0125
CLOSED_REASONS = (
    "Ligature reduction work in the en-suite",
    "Deep clean after an infection outbreak",
    "Window repair after damage",
    "Closed to keep safe staffing levels",
    "Flood damage from a burst pipe above the room",
    "Door and lock replacement",
)
# Discharged admissions that moved ward, as a share of a hospital's stays.
PAST_TRANSFER_SHARE = 0.05


@dataclass
class BedPlan:
    ward: WardSpec
    label: str
    closed_reason: str | None = None
    closed_at: datetime | None = None


@dataclass
class SiteHistory:
    beds: list[BedPlan]
    spells: list[Spell]  # by admission time


def mean_stay_days(ward_type: str) -> float:
    profile = PROFILES[ward_type]
    return profile.median_stay_days * math.exp(profile.stay_spread**2 / 2)


def admissions_per_year(wards: list[WardSpec]) -> float:
    """About how many admissions a year these wards take at their occupancy (a bed cycles
    through a stay and the gap after it in mean_stay / occupancy days)."""
    return sum(w.beds * w.occupancy * 365.25 / mean_stay_days(w.ward_type) for w in wards)


def stay_length(rng: random.Random, ward: WardSpec) -> timedelta:
    profile = PROFILES[ward.ward_type]
    days = rng.lognormvariate(math.log(profile.median_stay_days), profile.stay_spread)
    return timedelta(days=min(max(days, 0.3), 1500))


def _elapsed_now(rng: random.Random, ward: WardSpec) -> timedelta:
    """How long someone in a bed now has been there. People in hospital on a given day are
    the long stayers more often than admissions are (length-biased sampling: the stay is
    log-normal with its log-mean moved up by sigma squared), and they are part-way through."""
    profile = PROFILES[ward.ward_type]
    mu = math.log(profile.median_stay_days) + profile.stay_spread**2
    days = min(rng.lognormvariate(mu, profile.stay_spread), 1500) * rng.random()
    return max(timedelta(hours=2), timedelta(days=days))


def _bed_gap(rng: random.Random, ward: WardSpec) -> timedelta:
    mean_gap = max(0.1, mean_stay_days(ward.ward_type) * (1 - ward.occupancy) / ward.occupancy)
    return MIN_BED_GAP + timedelta(days=rng.expovariate(1 / mean_gap))


def _compatible(a: WardSpec, b: WardSpec) -> bool:
    sexes_fit = a.sex == b.sex or "mixed" in (a.sex, b.sex)
    return sexes_fit and max(a.min_age, b.min_age) <= min(a.max_age, b.max_age)


def plan_site(
    rng: random.Random, site: SitePlan, now: datetime, history_start: datetime
) -> SiteHistory:
    book = BedBook(now)
    beds = [BedPlan(ward, label) for ward in site.wards for label in bed_labels(ward)]
    open_beds: dict[str, list[str]] = {}
    closed_since: dict[str, datetime] = {}
    for ward in site.wards:
        labels = [b.label for b in beds if b.ward is ward]
        closed = {label for label in labels if rng.random() < CLOSED_SHARE}
        for bed in beds:
            if bed.ward is ward and bed.label in closed:
                bed.closed_reason = rng.choice(CLOSED_REASONS)
                bed.closed_at = closed_since[_key(ward, bed.label)] = to_minute(
                    now - timedelta(days=rng.uniform(1, 30))
                )
        open_beds[ward.code] = [label for label in labels if label not in closed]

    current: list[Spell] = []
    for ward in site.wards:
        labels = open_beds[ward.code]
        for label in sorted(rng.sample(labels, round(len(labels) * ward.occupancy))):
            segment = Segment(
                ward, _key(ward, label), to_minute(now - _elapsed_now(rng, ward)), None
            )
            book.take(segment)
            current.append(Spell([segment]))

    for spell in current:
        if rng.random() < OPEN_TRANSFER_CHANCE.get(spell.segments[0].ward.ward_type, 0):
            _add_earlier_stay(rng, spell, book, site, open_beds)
    years = (now - history_start) / timedelta(days=365.25)
    wanted = round(admissions_per_year(site.wards) * years * PAST_TRANSFER_SHARE)
    past = _past_transfers(rng, now, history_start, book, site, open_beds, wanted)

    for bed in beds:
        key = _key(bed.ward, bed.label)
        until = closed_since.get(key, now)
        for after, before in book.windows(key, until):
            for start, end in _fill_window(rng, bed.ward, after, before, history_start):
                past.append(Spell([Segment(bed.ward, key, start, end)]))
    spells = sorted(current + past, key=lambda s: (s.admitted_at, s.segments[0].bed))
    return SiteHistory(beds, spells)


def _key(ward: WardSpec, label: str) -> str:
    """A bed's name across the hospital (labels repeat between wards)."""
    return f"{ward.code}/{label}"


def split_key(key: str) -> tuple[str, str]:
    ward, label = key.split("/", 1)
    return ward, label


def _add_earlier_stay(
    rng: random.Random,
    spell: Spell,
    book: BedBook,
    site: SitePlan,
    open_beds: dict[str, list[str]],
) -> None:
    """Someone in a bed now came from another ward of the hospital (acute to PICU, say)."""
    to_ward = spell.segments[0].ward
    routes = [r for r in TRANSFER_ROUTES if r[1] == to_ward.ward_type]
    if not routes:
        return
    from_type, _, reason = rng.choice(routes)
    sources = [
        w
        for w in site.wards
        if w.ward_type == from_type and w is not to_ward and _compatible(w, to_ward)
    ]
    if not sources:
        return
    from_ward = rng.choice(sources)
    moved_at = spell.admitted_at
    length = min(max(stay_length(rng, from_ward), timedelta(hours=12)), timedelta(days=30))
    began = to_minute(moved_at - length)
    labels = open_beds[from_ward.code]
    for label in rng.sample(labels, min(5, len(labels))):
        key = _key(from_ward, label)
        if book.is_free(key, began, moved_at):
            earlier = Segment(from_ward, key, began, moved_at)
            book.take(earlier)
            spell.segments[0].transfer_reason = reason
            spell.segments.insert(0, earlier)
            return


def _past_transfers(
    rng: random.Random,
    now: datetime,
    history_start: datetime,
    book: BedBook,
    site: SitePlan,
    open_beds: dict[str, list[str]],
    wanted: int,
) -> list[Spell]:
    """Discharged admissions that moved ward once, placed where two beds were free."""
    pairs_by_route = {
        route: [
            (a, b)
            for a in site.wards
            for b in site.wards
            if a.ward_type == route[0] and b.ward_type == route[1] and a is not b
            if _compatible(a, b) and open_beds[a.code] and open_beds[b.code]
        ]
        for route in TRANSFER_ROUTES
    }
    routes = [r for r in TRANSFER_ROUTES if pairs_by_route[r]]
    spells: list[Spell] = []
    if not routes:
        return spells
    for _attempt in range(wanted * 5):
        if len(spells) >= wanted:
            break
        route = rng.choice(routes)
        from_ward, to_ward = rng.choice(pairs_by_route[route])
        moved_at = to_minute(history_start + (now - history_start) * rng.uniform(0.02, 0.98))
        first = min(max(stay_length(rng, from_ward), timedelta(hours=12)), timedelta(days=30))
        second = min(max(stay_length(rng, to_ward), timedelta(hours=12)), timedelta(days=120))
        began, ended = to_minute(moved_at - first), to_minute(moved_at + second)
        if ended > now - timedelta(days=1):
            continue
        from_bed = _key(from_ward, rng.choice(open_beds[from_ward.code]))
        to_bed = _key(to_ward, rng.choice(open_beds[to_ward.code]))
        if book.is_free(from_bed, began, moved_at) and book.is_free(to_bed, moved_at, ended):
            a = Segment(from_ward, from_bed, began, moved_at)
            b = Segment(to_ward, to_bed, moved_at, ended, transfer_reason=route[2])
            book.take(a)
            book.take(b)
            spells.append(Spell([a, b]))
    return spells


def _fill_window(
    rng: random.Random,
    ward: WardSpec,
    after: datetime | None,
    before: datetime,
    history_start: datetime,
) -> list[tuple[datetime, datetime]]:
    """Past stays in one free stretch of a bed, laid backwards from its end. The bed's
    earliest stretch has no lower bound: it stops once it reaches back past the start of
    the history, so the earliest stay may have begun before it, as in real life."""
    stays: list[tuple[datetime, datetime]] = []
    cursor = before
    while True:
        end = cursor - _bed_gap(rng, ward)
        if after is None:
            if end <= history_start:
                break
            start = end - stay_length(rng, ward)
        else:
            if end - after < MIN_STAY + MIN_BED_GAP:
                break
            start = max(end - stay_length(rng, ward), after + MIN_BED_GAP)
        start, end = to_minute(start), to_minute(end)
        if end - start < timedelta(hours=1):
            break
        stays.append((start, end))
        cursor = start
    stays.reverse()
    return stays
