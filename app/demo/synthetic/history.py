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
    OPEN_TRANSFER_CHANCE,
    PROFILES,
    TRANSFER_ROUTES,
    BedBook,
    Segment,
    Spell,
    WardSpec,
    add_earlier_stay,
    clamp_stay,
    compatible,
    fill_window,
    mean_stay_days,
    stay_length,
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
# A past stay shorter than this ends the bed's free stretch (its earlier part stays empty).
SHORTEST_STAY = timedelta(hours=1)


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


def admissions_per_year(wards: list[WardSpec]) -> float:
    """About how many admissions a year these wards take at their occupancy (a bed cycles
    through a stay and the gap after it in mean_stay / occupancy days)."""
    return sum(w.beds * w.occupancy * 365.25 / mean_stay_days(w.ward_type) for w in wards)


def _elapsed_now(rng: random.Random, ward: WardSpec) -> timedelta:
    """How long someone in a bed now has been there. People in hospital on a given day are
    the long stayers more often than admissions are (length-biased sampling: the stay is
    log-normal with its log-mean moved up by sigma squared), and they are part-way through."""
    profile = PROFILES[ward.ward_type]
    mu = math.log(profile.median_stay_days) + profile.stay_spread**2
    days = min(rng.lognormvariate(mu, profile.stay_spread), 1500) * rng.random()
    return max(timedelta(hours=2), timedelta(days=days))


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

    # The planner names beds by their key across the hospital.
    bed_keys = {w.code: [_key(w, label) for label in open_beds[w.code]] for w in site.wards}
    for spell in current:
        if rng.random() < OPEN_TRANSFER_CHANCE.get(spell.segments[0].ward.ward_type, 0):
            add_earlier_stay(rng, spell, book, site.wards, bed_keys, other_ward=True)
    years = (now - history_start) / timedelta(days=365.25)
    wanted = round(admissions_per_year(site.wards) * years * PAST_TRANSFER_SHARE)
    past = _past_transfers(rng, now, history_start, book, site, open_beds, wanted)

    for bed in beds:
        key = _key(bed.ward, bed.label)
        until = closed_since.get(key, now)
        for after, before in book.windows(key, until):
            for start, end in fill_window(
                rng, bed.ward, after, before, history_start, shortest=SHORTEST_STAY
            ):
                past.append(Spell([Segment(bed.ward, key, start, end)]))
    spells = sorted(current + past, key=lambda s: (s.admitted_at, s.segments[0].bed))
    return SiteHistory(beds, spells)


def _key(ward: WardSpec, label: str) -> str:
    """A bed's name across the hospital (labels repeat between wards)."""
    return f"{ward.code}/{label}"


def split_key(key: str) -> tuple[str, str]:
    ward, label = key.split("/", 1)
    return ward, label


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
            if compatible(a, b) and open_beds[a.code] and open_beds[b.code]
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
        first = clamp_stay(stay_length(rng, from_ward), 0.5, 30)
        second = clamp_stay(stay_length(rng, to_ward), 0.5, 120)
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
