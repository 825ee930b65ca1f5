"""The waiting list and out-of-area placements of one hospital: people waiting now, years
of cancelled requests, and people placed far from home (most off the waiting list),
reviewed about weekly until they come back."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from decimal import Decimal

from app.clock import age_on
from app.demo.plan import Person, to_minute, weighted
from app.demo.synthetic.records import DAY, HOUR, REQUEST_NOTES, SiteRecords
from app.flow import geo

# The waiting list now (share of a hospital's beds), cancelled requests a year (per bed),
# and out-of-area placements a year and open now (per adult, older adult or PICU bed).
WAITING_NOW = (0.008, 0.025)
CANCELLED_PER_BED_YEAR = 0.25
OAP_PER_BED_YEAR = 0.2
OAP_OPEN_PER_BED = 0.03
CANCEL_REASONS = (
    "Crisis resolved with the home treatment team; admission no longer needed.",
    "Admitted to a general hospital for physical health care first.",
    "Person declined informal admission; Mental Health Act assessment found no grounds.",
    "Family able to support at home with daily crisis team visits.",
    "Duplicate request made in error.",
)
OAP_BED_TYPES = {"adult_acute": "200", "older_adult_acute": "201", "picu": "202"}
OAP_REASONS = (("10", 80), ("11", 4), ("12", 2), ("13", 3), ("14", 6), ("99", 5))
OAP_OUTCOMES = (("repatriated", 55), ("discharged", 40), ("other", 5))
PROVIDERS = (
    "Meadowbank Independent Hospital", "Riverside Clinic", "Greenacres Hospital",
    "Thornfield House", "Larkspur Hospital", "Oakridge Mental Health Centre",
)  # fmt: skip
OAP_REVIEW_NOTES = (
    "Reviewed by phone with the placement's consultant: settling, no local bed yet.",
    "Care coordinator visited; family finding the travel hard. Repatriation requested.",
    "Weekly review: still unwell; local PICU bed requested for transfer back.",
    "Reviewed at the bed management meeting: first suitable local bed to be offered.",
)


class FlowRecords:
    """Adds its rows through the hospital's SiteRecords (same people, same patients)."""

    def __init__(self, records: SiteRecords) -> None:
        self.records = records
        self.ctx = records.ctx
        self.site = records.site
        self.people = records.people
        self.rows = records.rows

    def flow(self) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        beds = sum(w.beds for w in self.site.wards)
        years = (ctx.now - ctx.history_start) / timedelta(days=365.25)
        for _ in range(round(beds * rng.uniform(*WAITING_NOW))):
            self._waiting_now()
        for _ in range(_poisson(rng, beds * years * CANCELLED_PER_BED_YEAR)):
            self._cancelled()
        placeable = [w for w in self.site.wards if w.ward_type in OAP_BED_TYPES]
        eligible = sum(w.beds for w in placeable)
        if not placeable:
            return
        for _ in range(_poisson(rng, eligible * years * OAP_PER_BED_YEAR)):
            start = to_minute(ctx.history_start + (ctx.now - ctx.history_start) * rng.random())
            self._placement(rng.choice(placeable).ward_type, start)
        for _ in range(round(eligible * OAP_OPEN_PER_BED * rng.uniform(0.5, 1.5))):
            start = to_minute(ctx.now - DAY * rng.uniform(1, 90))
            self._placement(rng.choice(placeable).ward_type, start, active=True)

    def _request_type(self, person: Person) -> str:
        age = age_on(person.date_of_birth, self.ctx.now.date())
        if age >= 65:
            return "older_adult_acute"
        if age < 18:
            return "camhs"
        return "picu" if self.ctx.rng.random() < 0.08 else "adult_acute"

    def _waiting_now(self) -> None:
        """Someone waiting for a bed now: often known to the service (home since a past
        admission here), else new to it."""
        rng, now, rows = self.ctx.rng, self.ctx.now, self.rows
        roll = rng.random()
        hours = rng.uniform(0.5, 12) if roll < 0.6 else rng.uniform(12, 72)
        if roll > 0.9:
            hours = rng.uniform(72, 240)
        decided = to_minute(now - HOUR * hours)
        index = self.people.out_of_hospital(decided) if rng.random() < 0.5 else None
        if index is None:
            index = self.people.add(self.people.new_person(None, at=decided))
        person = self.people.people[index]
        patient_id = self.records.patient(index, decided - HOUR * rng.uniform(0.2, 3))
        rows.add(
            "bed_requests",
            (
                rows.next_id("bed_requests"), patient_id, decided, self._request_type(person),
                rng.choice(REQUEST_NOTES), "open", None, None, None, decided, None, decided,
            ),
        )  # fmt: skip

    def _cancelled(self) -> None:
        ctx, rng, rows = self.ctx, self.ctx.rng, self.rows
        decided = to_minute(ctx.history_start + (ctx.now - ctx.history_start) * rng.random())
        closed = to_minute(min(ctx.now, decided + HOUR * rng.uniform(2, 72)))
        index = self.people.add(self.people.new_person(None, at=decided))
        patient_id = self.records.patient(index, decided - HOUR * rng.uniform(0.2, 3))
        rows.add(
            "bed_requests",
            (
                rows.next_id("bed_requests"), patient_id, decided,
                self._request_type(self.people.people[index]), None, "cancelled", closed,
                rng.choice(CANCEL_REASONS), None, decided, None, closed,
            ),
        )  # fmt: skip

    def _placement(self, ward_type: str, start: datetime, *, active: bool = False) -> None:
        """A person placed with a provider far from home because no local bed was free,
        mostly off the waiting list; reviewed about weekly until they come back."""
        ctx, rng, rows, now = self.ctx, self.ctx.rng, self.rows, self.ctx.now
        ended: datetime | None = None
        if not active:
            ended = to_minute(start + DAY * min(rng.lognormvariate(math.log(30), 0.8), 400))
            if ended >= now:
                ended = None
        index = self.people.add(self.people.new_person(None, ward_type=ward_type, at=start))
        person = self.people.people[index]
        patient_id = self.records.patient(index, start - DAY * rng.uniform(0.3, 5))
        request_id = None
        if rng.random() < 0.85:
            request_id = rows.next_id("bed_requests")
            decided = to_minute(start - HOUR * rng.uniform(6, 120))
            rows.add(
                "bed_requests",
                (
                    request_id, patient_id, decided, ward_type, None, "placed_out_of_area",
                    start, None, None, decided, None, start,
                ),
            )  # fmt: skip
        home = next(t for t in ctx.places.towns if t.code == person.home_locality)
        far = ctx.places.far[home.code] or ctx.places.towns
        there = rng.choice(far[: max(1, len(far) // 2)])
        lat = round(there.latitude + rng.uniform(-0.05, 0.05), 4)
        lon = round(there.longitude + rng.uniform(-0.05, 0.05), 4)
        placement_id = rows.next_id("out_of_area_placements")
        created = min(now, start + timedelta(minutes=rng.randint(10, 600)))
        rows.add(
            "out_of_area_placements",
            (
                placement_id, patient_id, request_id,
                f"{rng.choice(PROVIDERS)}, {there.name}", lat, lon,
                geo.distance_km((home.latitude, home.longitude), (lat, lon)),
                OAP_BED_TYPES[ward_type], weighted(rng, OAP_REASONS),
                Decimal(rng.randint(480, 950)) if rng.random() < 0.9 else None,
                start, ended, weighted(rng, OAP_OUTCOMES) if ended is not None else None,
                created, None, ended if ended is not None else created,
            ),
        )  # fmt: skip
        at = start + DAY * rng.uniform(2, 7)
        until = ended or now
        while at < until:
            moment = to_minute(at)
            rows.add(
                "out_of_area_reviews",
                (
                    rows.next_id("out_of_area_reviews"), placement_id, moment,
                    rng.choice(OAP_REVIEW_NOTES),
                    min(now, moment + timedelta(minutes=rng.randint(0, 60))), None,
                ),
            )  # fmt: skip
            at += DAY * rng.uniform(6, 8)


def _poisson(rng: random.Random, mean: float) -> int:
    """A count with this mean (normal approximation above 30, exact below)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count
