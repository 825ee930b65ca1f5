"""The rows of one hospital's admissions: patients, admissions with their ward stays, legal
status, purpose reviews, clinically-ready-for-discharge periods and the bed requests they
met (the waiting list and placements are in flow.py). Rows are plain tuples in the column
order of `writer.COLUMNS`, with ids given here, so they are copied in bulk with no round
trip per row.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.demo.plan import (
    PROFILES,
    PURPOSE_NOT_NEEDED,
    PURPOSE_STILL_NEEDED,
    Spell,
    decision_to_admit,
    expected_discharge_date,
    legal_history,
    reason_and_benefit,
    to_minute,
    weighted,
)
from app.demo.synthetic.history import split_key
from app.demo.synthetic.people import People
from app.demo.synthetic.places import Places, SitePlan
from app.demo.synthetic.writer import Rows

DAY = timedelta(days=1)
DAY_MINUTES = 1440
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

# Clinically ready for discharge, by ward type: the chance a discharged stay had a delay
# at its end, and the chance someone in a bed now is waiting to leave.
READY_PAST = {
    "older_adult_acute": 0.32, "ld_autism": 0.38, "rehabilitation": 0.25, "forensic": 0.15,
    "adult_acute": 0.12, "camhs": 0.1, "picu": 0.02,
}  # fmt: skip
READY_NOW = {
    "older_adult_acute": 0.22, "ld_autism": 0.35, "rehabilitation": 0.18, "forensic": 0.12,
    "adult_acute": 0.09, "camhs": 0.08, "picu": 0.01,
}  # fmt: skip
DELAY_REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    "older_adult_acute": (("08", 30), ("07", 20), ("09", 15), ("04", 15), ("05", 8), ("11", 5),
                          ("27", 4), ("98", 3)),
    "ld_autism": (("32", 35), ("33", 20), ("04", 15), ("12", 10), ("34", 10), ("26", 5),
                  ("98", 5)),
    "forensic": (("24", 35), ("32", 15), ("18", 15), ("04", 15), ("06", 10), ("28", 10)),
    "camhs": (("20", 20), ("21", 15), ("22", 10), ("23", 10), ("29", 20), ("30", 15),
              ("04", 10)),
    "general": (("18", 22), ("15", 15), ("14", 8), ("19", 8), ("01", 7), ("09", 7), ("04", 10),
                ("33", 5), ("11", 6), ("05", 6), ("35", 3), ("98", 3)),
}  # fmt: skip
ATTRIBUTABLE = (("nhs", 45), ("social_care", 35), ("both", 20))

REQUEST_SHARE = 0.55  # admissions that came off the waiting list (a bed request)
REQUEST_NOTES = (
    None,
    None,
    "Needs a ground-floor room (mobility).",
    "Prefers a female-only ward.",
    "Has a dog at home; family arranging care.",
    "Crisis team visiting twice daily while waiting.",
)


@dataclass
class Context:
    rng: random.Random
    now: datetime
    history_start: datetime
    places: Places
    ward_ids: dict[str, int]
    bed_ids: dict[str, int]  # "ward code/label" -> id
    locality_ids: dict[str, int]
    user_for: Callable[[str], int | None]


class SiteRecords:
    """Builds one hospital's rows into `rows`; remembers each spell's admission id."""

    def __init__(self, ctx: Context, site: SitePlan, people: People, rows: Rows) -> None:
        self.ctx = ctx
        self.site = site
        self.people = people
        self.rows = rows
        self.patient_ids: dict[int, int] = {}  # person index -> patient id
        self.admission_ids: list[int] = []

    # --- patients -----------------------------------------------------------------------

    def patient(self, index: int, registered: datetime) -> int:
        found = self.patient_ids.get(index)
        if found is not None:
            return found
        p = self.people.people[index]
        patient_id = self.rows.next_id("patients")
        self.patient_ids[index] = patient_id
        self.rows.add(
            "patients",
            (
                patient_id, p.nhs_number, p.given_name, p.family_name, p.date_of_birth, p.sex,
                p.ethnic_category, self.ctx.locality_ids[p.home_locality],
                p.learning_disability, p.autistic, min(registered, self.ctx.now),
            ),
        )  # fmt: skip
        return patient_id

    # --- admissions ---------------------------------------------------------------------

    def admissions(self, spells: list[Spell]) -> None:
        for spell in spells:
            self.admission_ids.append(self._admission(spell))

    def _admission(self, spell: Spell) -> int:
        ctx, rng, rows = self.ctx, self.ctx.rng, self.rows
        now = ctx.now
        admitted = spell.admitted_at
        decided = decision_to_admit(rng, spell)
        patient_id = self.patient(spell.person, decided - HOUR * rng.uniform(0.2, 3))
        history = legal_history(rng, spell, now)
        first_type = spell.wards[0].ward_type
        reason, benefit = reason_and_benefit(rng, spell)
        ended = spell.ended_at
        destination = None
        if ended is not None:
            destination = weighted(rng, PROFILES[spell.wards[-1].ward_type].destinations)
        admission_id = rows.next_id("admissions")
        user = ctx.user_for(spell.wards[0].code)
        rows.add(
            "admissions",
            (
                admission_id, patient_id, admitted, decided, reason, benefit, history[-1][0],
                expected_discharge_date(rng, spell, now), ended, destination, admitted, user,
            ),
        )  # fmt: skip
        for segment in spell.segments:
            ward_code, _ = split_key(segment.bed)
            rows.add(
                "ward_stays",
                (
                    rows.next_id("ward_stays"), admission_id, ctx.ward_ids[ward_code],
                    ctx.bed_ids[segment.bed], segment.start, segment.end, segment.transfer_reason,
                ),
            )  # fmt: skip
        for status, at in history:
            recorded = min(now, at + timedelta(minutes=rng.randint(2, 45)))
            rows.add(
                "legal_status_changes",
                (rows.next_id("legal_status_changes"), admission_id, status, at, recorded, user),
            )
        ready_from = self._ready(spell, admission_id)
        self._purpose_reviews(spell, admission_id, ready_from, user)
        if rng.random() < REQUEST_SHARE:
            rows.add(
                "bed_requests",
                (
                    rows.next_id("bed_requests"), patient_id, decided, first_type,
                    rng.choice(REQUEST_NOTES), "admitted", admitted, None, admission_id,
                    decided, None, admitted,
                ),
            )  # fmt: skip
        return admission_id

    def _ready(self, spell: Spell, admission_id: int) -> datetime | None:
        """A clinically-ready-for-discharge period: at the end of a past stay (ending at
        discharge), or open now for someone waiting to leave. Returns when it began."""
        rng, now = self.ctx.rng, self.ctx.now
        ward_type = spell.wards[-1].ward_type
        admitted, ended = spell.admitted_at, spell.ended_at
        if ended is None:
            if rng.random() >= READY_NOW.get(ward_type, 0) or now - admitted < 10 * DAY:
                return None
            room = min((now - admitted) / DAY - 3, 150)
            started = to_minute(now - DAY * rng.uniform(0.5, room))
        else:
            if rng.random() >= READY_PAST.get(ward_type, 0) or ended - admitted < 4 * DAY:
                return None
            days = min(rng.lognormvariate(math.log(12), 0.9), (ended - admitted) / DAY - 2)
            started = to_minute(ended - DAY * max(days, 1))
        if started <= admitted:
            return None
        key = ward_type if ward_type in DELAY_REASONS else "general"
        created = min(now, started + timedelta(minutes=rng.randint(5, 600)))
        if ended is not None:
            created = min(created, ended)
        updated = (
            created if ended is None else min(now, ended + timedelta(minutes=rng.randint(0, 90)))
        )
        self.rows.add(
            "ready_for_discharge",
            (
                self.rows.next_id("ready_for_discharge"), admission_id, started, ended,
                weighted(rng, DELAY_REASONS[key]), weighted(rng, ATTRIBUTABLE), created,
                self.ctx.user_for(spell.wards[-1].code), updated,
            ),
        )  # fmt: skip
        return started

    def _purpose_reviews(
        self, spell: Spell, admission_id: int, ready_from: datetime | None, user: int | None
    ) -> None:
        """Within three days of admission, then about weekly; a few late or never done
        (what ADM_PURPOSE_REVIEW catches). Once ready for discharge, hospital is no longer
        needed, and the reviews say so."""
        rng, now, rows = self.ctx.rng, self.ctx.now, self.rows
        rnd = rng.random
        if rnd() < 0.05:
            return
        # Whole minutes after admission (the hot loop of a national build: plain ints).
        admitted = spell.admitted_at
        span = int(((spell.ended_at or now) - admitted) / MINUTE)
        offset = int(DAY_MINUTES * (1 + 2 * rnd()))
        add, next_id = rows.pending["purpose_reviews"].append, rows.next_id
        while offset < span:
            moment = admitted + MINUTE * offset
            waiting = ready_from is not None and moment >= ready_from
            notes = PURPOSE_NOT_NEEDED if waiting else PURPOSE_STILL_NEEDED
            recorded = min(now, moment + MINUTE * int(rnd() * 121))
            note = notes[int(rnd() * len(notes))]
            add(
                (
                    next_id("purpose_reviews"),
                    admission_id,
                    moment,
                    not waiting,
                    note,
                    recorded,
                    user,
                )
            )
            late = rnd() < 0.06
            offset += int(DAY_MINUTES * ((8 + 4 * rnd()) if late else (5.5 + 1.5 * rnd())))
