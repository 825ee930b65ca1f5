"""Restrictive practice in the demo trust: seclusion, long-term segregation and use of force.

`seed_demo` calls `seed_restrictive` last, with the admissions it planned. Past admissions
get a realistic history: seclusion mostly on PICU and adult acute wards, reviewed at about
the right rhythm with a minority of late or missing reviews (so the episode pages show
missed deadlines), a few long-term segregations on forensic, PICU and learning disability
or autism wards, and use-of-force records, a few of them never completed. The people on
the wards now are given a picture worth looking at on the board: two people in seclusion
(one review overdue, one due in about 20 minutes), one in long-term segregation whose IMHA
has not been told, a seclusion that ended earlier today, and recent uses of force, one
still to be completed within its 24 hours and an older one that never was.

Everything is planned in memory from the shared `random.Random` (so the same seed gives
the same records), every time is a whole minute inside the ward stay it belongs to and
not after `now`, and it is written with three bulk flushes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import User
from app.seed import DEMO_USERS, NAMES, Person, Segment, Spell, _minute, _weighted
from app.segregation import force
from app.segregation.codes import PRONE
from app.segregation.deadlines import LONDON
from app.segregation.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.segregation.models import Seclusion as SeclusionRow
from app.wards.models import Bed, Ward, WardStay

# ---------------------------------------------------------------------------------------
# How often it happens (per ward stay of a discharged admission)
# ---------------------------------------------------------------------------------------

SECLUSION_CHANCE = {
    "picu": 0.10,
    "adult_acute": 0.055,
    "forensic": 0.05,
    "ld_autism": 0.05,
    "camhs": 0.02,
    "older_adult_acute": 0.005,
    "rehabilitation": 0.01,
}
SEGREGATION_CHANCE = {
    "forensic": 0.25,
    "ld_autism": 0.25,
    "picu": 0.02,
    "adult_acute": 0.002,
    "camhs": 0.01,
}
FORCE_CHANCE = {
    "picu": 0.35,
    "adult_acute": 0.12,
    "forensic": 0.22,
    "ld_autism": 0.30,
    "camhs": 0.15,
    "older_adult_acute": 0.05,
    "rehabilitation": 0.04,
}
# Chance that a use of force led straight into the seclusion (restraint, escort to the room).
RESTRAINT_BEFORE_SECLUSION = 0.6
# Chance that a past segregation began as the seclusion before it ended.
SEGREGATION_FROM_SECLUSION = 0.4
# Share of past use-of-force records that were never completed.
NEVER_COMPLETED = 0.12

MINUTE = timedelta(minutes=1)
HOUR = 60  # minutes
DAY = 24 * HOUR

# ---------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------

SECLUSION_REASONS = (
    "Assaulted a member of staff and continued to threaten others; could not be safely "
    "managed in the ward area.",
    "Punched another patient in the lounge and remained highly aroused, targeting others.",
    "Threatening staff with a broken piece of furniture; de-escalation and PRN medication "
    "did not reduce the risk to others.",
    "Repeated attempts to assault staff after rapid tranquillisation; others on the ward "
    "at serious risk.",
    "Smashing the dining room and throwing objects at other patients; would not accept "
    "time in the low-stimulus area.",
    "Sexually disinhibited and assaultive towards other patients; unsafe in the communal area.",
)
SECLUSION_END_NOTES = (
    "Calm and talking with staff for over an hour; seclusion ended after review. Returned "
    "to bedroom on 1:1 observations.",
    "Settled after sleep; engaged in a debrief conversation and agreed a plan for the "
    "evening. Seclusion ended.",
    "No longer a risk to others: calm, eating and drinking, accepted oral medication. "
    "Seclusion ended; back to the ward with enhanced observations.",
    "Ended after review: reorientated, apologetic and asking to rejoin the ward.",
)
TO_SEGREGATION_NOTE = (
    "Risk to others remains high and sustained; seclusion ended as long-term segregation "
    "began, agreed by the MDT with the commissioner."
)
SECLUSION_NOTES: dict[str, tuple[str, ...]] = {
    "medical": (
        "Seen through the vision panel and at the door: still hostile and threatening; "
        "physical health stable.",
        "Reviewed with the nurse in charge: calmer but still making threats; continue.",
        "Mental state reviewed; accepted oral medication through the hatch. Risk remains.",
        "Physical observations within normal range after rapid tranquillisation; remains "
        "agitated and preoccupied.",
        "Talking more calmly but still expressing intent to harm staff; continue for now.",
    ),
    "nursing": (
        "Two-person nursing review (RN and HCA): shouting at the door, fluids offered.",
        "Two-person nursing review: lying on the mattress, calmer, declined food.",
        "Two-person nursing review: pacing, verbally abusive; toilet offered and used.",
        "Two-person nursing review: resting quietly, accepted a drink and a sandwich.",
    ),
    "mdt": (
        "MDT review with consultant, nurse in charge and patient: risk to others still "
        "high; plan for gradual reintegration agreed.",
        "MDT review: calmer today; trial periods out of seclusion to be tried tomorrow.",
    ),
    "independent_mdt": (
        "Independent MDT review by clinicians not involved in the incident: seclusion "
        "still necessary and proportionate; care plan reviewed.",
        "Independent review (consultant from another ward and senior nurse): agreed to "
        "continue with two-hourly step-down attempts.",
    ),
}
SECLUSION_END_REVIEW = "Calm and no longer posing a risk to others; seclusion to end."
OBSERVATIONS = (
    "Lying on the mattress, eyes open, breathing regular.",
    "Sitting on the floor, calm.",
    "Pacing the room, muttering.",
    "Shouting at the door and kicking it.",
    "Asleep, breathing observed.",
    "Standing at the window, quiet.",
    "Banging on the vision panel, demanding to leave.",
    "Drinking water, calmer.",
)
SEGREGATION_REASONS = (
    "Sustained risk of serious violence to others over several weeks; cannot mix with "
    "other patients on the ward without serious risk. Agreed by the MDT with the "
    "commissioner.",
    "Repeated serious assaults whenever in communal areas despite a full positive "
    "behaviour support plan; long-term segregation agreed by the MDT and commissioner.",
    "Persistent predatory behaviour towards vulnerable patients; needs to be kept apart "
    "from others while treatment continues.",
)
SEGREGATION_END_NOTES = (
    "Reintegrated gradually over a week with no incidents; long-term segregation ended by the MDT.",
    "Spending most of the day on the main ward safely; segregation ended.",
)
SEGREGATION_NOTES: dict[str, tuple[str, ...]] = {
    "approved_clinician": (
        "Approved clinician review: still assaultive when approached; continue.",
        "Approved clinician review: calmer, engaged in an hour of activity in the "
        "segregation area's garden.",
        "Approved clinician review: physical health checked; mood low, risk unchanged.",
    ),
    "mdt": (
        "Weekly MDT review with the patient's views: segregation still needed; plan for "
        "short supported periods on the ward.",
        "MDT review: reduced incidents this week; reintegration plan updated.",
    ),
    "icetr": (
        "Independent care and treatment review: recommendations on sensory environment "
        "and a community discharge plan.",
    ),
}

PLACES = (
    "Ward lounge",
    "Corridor outside the bedrooms",
    "Patient's bedroom",
    "Dining room",
    "Ward garden",
    "Outside the nursing office",
    "Ward entrance (airlock)",
)
REASON_CODES = (
    ("10", 50), ("17", 15), ("11", 12), ("13", 9), ("16", 4), ("12", 3), ("18", 2),
    ("19", 3), ("14", 1), ("98", 1),
)  # fmt: skip
PHYSICAL = (
    ("07", 26), ("09", 20), ("08", 18), ("11", 9), ("01", 8), ("10", 8), ("12", 5), ("13", 4),
)  # fmt: skip
FLOOR_HOLDS = ("01", "09", "10", "12")
TYPE_PHRASES = {
    "01": "went to the floor face down and was held prone, then rolled onto their side",
    "04": "handcuffs applied by police until ward staff took over the hold",
    "07": "held standing by staff using approved holds on both arms",
    "08": "escorted by staff holding both arms to a quieter area",
    "09": "guided to the floor and held supine, head supported by a nurse",
    "10": "held on their side on the floor, head supported",
    "11": "held seated on the sofa by staff on each side",
    "12": "held kneeling while staff talked them down",
    "13": "arms held briefly to stop them hitting out",
    "14": "rapid tranquillisation by intramuscular injection given by the nurse in charge",
    "16": "accepted oral medication offered to reduce severe agitation",
}
OUTCOMES = (
    "Settled within minutes of the hold ending; returned to their bedroom with 1:1 observations.",
    "Calmer after medication; physical observations taken and within normal range.",
    "Settled after the hold; apologised to staff later in the shift.",
    "Remained agitated after the hold and was secluded.",
    "Calm after rapid tranquillisation; post-RT observations completed for one hour.",
    "Stopped self-harming; wound cleaned and dressed by the nurse.",
)
AVOIDANCE = (
    "Verbal de-escalation by the named nurse; offered PRN oral medication; other patients "
    "moved away.",
    "Offered time in the low-stimulus room and a walk in the garden; distraction tried.",
    "Positive behaviour support plan followed: sensory box offered, quiet space, familiar staff.",
    "Talked down for twenty minutes by the nurse in charge; choices offered throughout.",
    "Family phoned at the patient's request; oral medication offered and declined.",
)
POLICE_REASONS = (
    "Police were called by the ward when the person assaulted staff and the team could "
    "not hold them safely; they stood down once ward staff took over.",
    "Police were bringing the person back to the ward after they absconded and helped "
    "with the escort from the van to the ward.",
)
NURSES = ("Staff nurse", "Staff nurse", "Charge nurse", "Deputy ward manager")
SUPPORT = (
    ("Healthcare assistant", 40), ("Staff nurse", 20), ("Senior healthcare assistant", 15),
    ("Student nurse", 5), ("Charge nurse", 5), ("Ward doctor", 5),
    ("Occupational therapist", 3), ("Activity coordinator", 2),
)  # fmt: skip
STAFF_HERITAGES = (
    ("british", 60), ("pakistani", 8), ("indian", 7), ("african", 8), ("european", 8),
    ("caribbean", 4), ("irish", 4), ("other_asian", 3),
)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Plans: everything decided in memory, written at the end
# ---------------------------------------------------------------------------------------


@dataclass
class RestrictiveSummary:
    seclusions: int
    segregations: int
    uses_of_force: int
    open_seclusions: int
    open_segregations: int
    incomplete_uses_of_force: int


@dataclass
class SeclusionPlan:
    admission_id: int
    ward: str
    started_at: datetime
    ended_at: datetime | None
    authorised_by_role: str
    reason: str
    end_note: str | None
    reviews: list[tuple[str, datetime, str, str | None]]  # kind, at, note, outcome
    observations: list[datetime]
    row: SeclusionRow | None = None


@dataclass
class SegregationPlan:
    admission_id: int
    ward: str
    started_at: datetime
    ended_at: datetime | None
    reason: str
    end_note: str | None
    commissioner_informed_at: datetime | None
    imha_informed_at: datetime | None
    reviews: list[tuple[str, datetime, str]]  # kind, at, note
    from_seclusion: SeclusionPlan | None = None


@dataclass
class ForcePlan:
    admission_id: int
    ward: str
    started_at: datetime
    ended_at: datetime
    types: list[tuple[str, datetime, datetime]]
    staff: list[tuple[str, str]]
    values: dict[str, object]
    created_at: datetime


@dataclass
class Quality:
    """How reliably one episode's reviews were done on time."""

    late: float
    missed: float


GOOD = Quality(late=0.03, missed=0.01)
POOR = Quality(late=0.15, missed=0.06)
PERFECT = Quality(late=0.0, missed=0.0)


@dataclass
class Planner:
    rng: random.Random
    now: datetime
    ward_ids: dict[str, int]
    staff_users: dict[str, int]  # ward code -> a demo ward-staff user who works there
    seclusions: list[SeclusionPlan] = field(default_factory=list)
    segregations: list[SegregationPlan] = field(default_factory=list)
    forces: list[ForcePlan] = field(default_factory=list)
    # Per admission, the times already taken by an episode or use of force.
    busy: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    # --- helpers -------------------------------------------------------------------------

    def free(self, admission_id: int, start: datetime, end: datetime) -> bool:
        return all(end <= s or start >= e for s, e in self.busy.get(admission_id, []))

    def take(self, admission_id: int, start: datetime, end: datetime) -> None:
        self.busy.setdefault(admission_id, []).append((start, end))

    def recorded(self, at: datetime, most: int = 30) -> datetime:
        """When something done at `at` was typed in: soon after, never after now."""
        return min(self.now, at + timedelta(minutes=self.rng.randint(0, most)))

    def user_for(self, ward: str) -> int | None:
        return self.staff_users.get(ward)

    # --- seclusion -----------------------------------------------------------------------

    def seclusion(
        self,
        admission_id: int,
        ward: str,
        start: datetime,
        minutes: int,
        *,
        ongoing: bool = False,
        quality: Quality | None = None,
        role: str | None = None,
        end_note: str | None = None,
    ) -> SeclusionPlan:
        rng = self.rng
        role = role or _weighted(
            rng, (("nurse_in_charge", 50), ("psychiatrist", 25), ("approved_clinician", 25))
        )
        quality = quality or (GOOD if rng.random() < 0.75 else POOR)
        offsets, observations = seclusion_rhythm(
            rng, minutes, psychiatrist=role == "psychiatrist", quality=quality, ongoing=ongoing
        )
        reviews = [
            (
                kind,
                start + offset * MINUTE,
                SECLUSION_END_REVIEW if outcome == "end" else rng.choice(SECLUSION_NOTES[kind]),
                outcome,
            )
            for kind, offset, outcome in offsets
        ]
        ended = None if ongoing else start + minutes * MINUTE
        plan = SeclusionPlan(
            admission_id=admission_id,
            ward=ward,
            started_at=start,
            ended_at=ended,
            authorised_by_role=role,
            reason=rng.choice(SECLUSION_REASONS),
            end_note=None if ongoing else end_note or rng.choice(SECLUSION_END_NOTES),
            reviews=reviews,
            observations=[start + o * MINUTE for o in observations],
        )
        self.seclusions.append(plan)
        self.take(admission_id, start, ended or self.now)
        return plan

    # --- long-term segregation -----------------------------------------------------------

    def segregation(
        self,
        admission_id: int,
        ward: str,
        start: datetime,
        minutes: int,
        *,
        needs_icetr: bool,
        ongoing: bool = False,
        from_seclusion: SeclusionPlan | None = None,
        imha_told: bool = True,
    ) -> SegregationPlan:
        rng = self.rng
        reviews: list[tuple[str, datetime, str]] = []

        def add(kind: str, offset: int) -> None:
            reviews.append((kind, start + offset * MINUTE, rng.choice(SEGREGATION_NOTES[kind])))

        # The MDT that decided it meets within hours, then weekly; an approved clinician
        # sees the person daily (an MDT day counts), now and then late or missed.
        mdts = [rng.randint(60, 5 * HOUR)]
        while (nxt := mdts[-1] + rng.randint(5 * DAY, 7 * DAY - HOUR)) < minutes:
            mdts.append(nxt)
        for offset in mdts:
            add("mdt", offset)
        daily = rhythm(
            rng,
            first_due=DAY,
            interval=DAY,
            limit=minutes if ongoing else minutes - 1,
            early=(60, 5 * HOUR),
            late=(30, 8 * HOUR),
            quality=GOOD,
            also=mdts,
        )
        for offset in daily:
            add("approved_clinician", offset)
        if needs_icetr and minutes > 14 * DAY and rng.random() < 0.7:
            add("icetr", rng.randint(10 * DAY, min(minutes - 1, 27 * DAY)))
        reviews.sort(key=lambda r: r[1])
        ends = start + minutes * MINUTE

        def told(on_time: float) -> datetime:
            late = rng.random() >= on_time
            offset = rng.randint(25 * HOUR, 80 * HOUR) if late else rng.randint(30, 20 * HOUR)
            return min(start + offset * MINUTE, ends, self.now)

        plan = SegregationPlan(
            admission_id=admission_id,
            ward=ward,
            started_at=start,
            ended_at=None if ongoing else ends,
            reason=rng.choice(SEGREGATION_REASONS),
            end_note=None if ongoing else rng.choice(SEGREGATION_END_NOTES),
            commissioner_informed_at=told(0.85),
            imha_informed_at=told(0.75) if imha_told else None,
            reviews=reviews,
            from_seclusion=from_seclusion,
        )
        self.segregations.append(plan)
        self.take(admission_id, start, plan.ended_at or self.now)
        return plan

    # --- use of force --------------------------------------------------------------------

    def use_of_force(
        self,
        admission_id: int,
        ward: str,
        start: datetime | None,
        *,
        picu: bool,
        before: datetime | None = None,
        complete: bool = True,
        missing: tuple[str, ...] = (),
        debrief: bool | None = None,
        limit: datetime | None = None,
        prone: bool | None = None,
        rapid: bool | None = None,
    ) -> ForcePlan:
        """One use of force from `start`, or ending exactly at `before` (a restraint that
        led into seclusion). `limit` is the latest any follow-up may be (discharge)."""
        rng = self.rng
        police = rng.random() < 0.03
        types = force_types(
            rng, start, picu=picu, police=police, end=before, prone=prone, rapid=rapid
        )
        start, ended = types[0][1], max(t[2] for t in types)
        codes = [code for code, _, _ in types]
        staff = staff_for(rng, codes, police=police)
        latest = min(self.now, limit or self.now)
        debriefed = None
        if debrief is None:
            debrief = rng.random() < 0.8
        if debrief:
            hours = rng.uniform(1, 60) if rng.random() < 0.85 else rng.uniform(73, 120)
            at = _minute(ended + timedelta(hours=hours))
            debriefed = at if at <= latest else None
        values: dict[str, object] = {
            "place": "Seclusion room corridor" if before else rng.choice(PLACES),
            "reason_code": _weighted(rng, REASON_CODES),
            "description": describe(codes, to_seclusion=before is not None),
            "in_care_plan": rng.random() < 0.45,
            "non_unit_staff_reason": rng.choice(POLICE_REASONS)
            if police
            else force.NO_NON_UNIT_STAFF,
            "outcome": "Remained agitated after the hold and was secluded."
            if before
            else rng.choice(OUTCOMES),
            "avoidance_efforts": rng.choice(AVOIDANCE),
            "patient_injury": rng.random() < 0.07,
            "staff_injury": rng.random() < 0.09,
            "care_plan_notification_sent": rng.random() < 0.97,
            "debriefed_at": debriefed,
        }
        if not complete:
            if not missing:
                optional = (
                    "outcome", "avoidance_efforts", "care_plan_notification_sent",
                    "in_care_plan", "description", "staff_injury",
                )  # fmt: skip
                missing = tuple(rng.sample(optional, rng.randint(1, 3)))
            for item in missing:
                values[item] = None
        created = min(self.now, ended + timedelta(minutes=rng.randint(10, 4 * HOUR)))
        plan = ForcePlan(
            admission_id=admission_id,
            ward=ward,
            started_at=start,
            ended_at=ended,
            types=types,
            staff=staff,
            values=values,
            created_at=_minute(created),
        )
        self.forces.append(plan)
        self.take(admission_id, start, ended)
        return plan

    # --- discharged admissions -----------------------------------------------------------

    def past(self, spell: Spell, admission_id: int, person: Person) -> None:
        rng = self.rng
        for segment in spell.segments:
            assert segment.end is not None
            kind = segment.ward.ward_type
            if rng.random() < SEGREGATION_CHANCE.get(kind, 0):
                self.past_segregation(admission_id, segment, person)
            if rng.random() < SECLUSION_CHANCE.get(kind, 0):
                self.past_seclusion(admission_id, segment)
            if rng.random() < FORCE_CHANCE.get(kind, 0):
                count = _weighted(rng, ((1, 65), (2, 25), (3, 10)))
                self.scattered_force(admission_id, segment, count, segment.end, complete=None)

    def past_seclusion(self, admission_id: int, segment: Segment) -> None:
        assert segment.end is not None
        rng = self.rng
        minutes = seclusion_minutes(rng, segment.ward.ward_type)
        start = self.place(segment.start + HOUR * MINUTE, segment.end, minutes + HOUR)
        if start is None or not self.free(admission_id, start - HOUR * MINUTE, start):
            return
        if not self.free(admission_id, start, start + minutes * MINUTE):
            return
        ward = segment.ward.code
        if rng.random() < RESTRAINT_BEFORE_SECLUSION:
            self.use_of_force(
                admission_id,
                ward,
                None,
                picu=segment.ward.ward_type == "picu",
                before=start,
                complete=rng.random() >= NEVER_COMPLETED,
                limit=segment.end,
            )
        self.seclusion(admission_id, ward, start, minutes)
        # Intermittent seclusion: sometimes secluded again within two days.
        if rng.random() < 0.2:
            again = start + (minutes + rng.randint(3 * HOUR, 30 * HOUR)) * MINUTE
            more = rng.randint(HOUR, 6 * HOUR)
            if again + (more + HOUR) * MINUTE <= segment.end and self.free(
                admission_id, again, again + more * MINUTE
            ):
                self.seclusion(admission_id, ward, again, more)

    def past_segregation(self, admission_id: int, segment: Segment, person: Person) -> None:
        assert segment.end is not None
        rng, ends = self.rng, segment.end
        length = int((ends - segment.start) / MINUTE)
        minutes = min(rng.randint(3 * DAY, 35 * DAY), length - 2 * DAY)
        if minutes < 2 * DAY:
            return
        lead = rng.randint(6 * HOUR, 30 * HOUR) if rng.random() < SEGREGATION_FROM_SECLUSION else 0
        start = self.place(segment.start + (HOUR + lead) * MINUTE, ends, minutes + 12 * HOUR)
        if start is None:
            return
        if not self.free(admission_id, start - lead * MINUTE, start + minutes * MINUTE):
            return
        ward = segment.ward.code
        before = None
        if lead:
            before = self.seclusion(
                admission_id, ward, start - lead * MINUTE, lead, end_note=TO_SEGREGATION_NOTE
            )
        self.segregation(
            admission_id,
            ward,
            start,
            minutes,
            needs_icetr=person.learning_disability or person.autistic,
            from_seclusion=before,
        )

    def scattered_force(
        self,
        admission_id: int,
        segment: Segment,
        count: int,
        until: datetime,
        *,
        complete: bool | None,
    ) -> None:
        """Uses of force at random moments of a ward stay, over well before `until`."""
        rng = self.rng
        for _ in range(count):
            start = self.place(segment.start + 30 * MINUTE, until, 2 * HOUR)
            if start is None or not self.free(admission_id, start, start + 90 * MINUTE):
                continue
            self.use_of_force(
                admission_id,
                segment.ward.code,
                start,
                picu=segment.ward.ward_type == "picu",
                complete=rng.random() >= NEVER_COMPLETED if complete is None else complete,
                limit=segment.end,
            )

    def place(self, earliest: datetime, latest_end: datetime, minutes: int) -> datetime | None:
        """A whole-minute start from `earliest` leaving `minutes` before `latest_end`;
        earlier in the stay is likelier (people are most unwell soon after admission)."""
        room = int((latest_end - earliest) / MINUTE) - minutes
        if room < 0:
            return None
        return _minute(earliest + int(room * self.rng.random() ** 1.5) * MINUTE)


# ---------------------------------------------------------------------------------------
# Rhythms: when reviews and observations happened, in minutes from the start
# ---------------------------------------------------------------------------------------


def rhythm(
    rng: random.Random,
    *,
    first_due: int,
    interval: int,
    limit: int,
    early: tuple[int, int],
    late: tuple[int, int],
    quality: Quality,
    also: list[int] | None = None,
) -> list[int]:
    """Actions of an "at least every `interval`" chain up to `limit` (inclusive).

    Mostly a little before each deadline; sometimes late; now and then not done at all,
    when the next deadline is a whole interval on. `also` holds other actions that count
    (an MDT review is also an approved clinician's), which move the chain on as well.
    """
    others = sorted(also or [])
    times: list[int] = []
    anchor, due = 0, first_due
    while due <= limit + late[1]:
        covering = [t for t in others if anchor < t <= due]
        if covering:
            anchor = covering[-1]
            due = anchor + interval
            continue
        roll = rng.random()
        if roll < quality.missed:
            due += interval
            continue
        if roll < quality.missed + quality.late:
            at = due + rng.randint(*late)
        else:
            at = max(anchor + 1, due - rng.randint(*early))
        if at > limit:
            break
        times.append(at)
        anchor, due = at, at + interval
    return times


def seclusion_rhythm(
    rng: random.Random, minutes: int, *, psychiatrist: bool, quality: Quality, ongoing: bool
) -> tuple[list[tuple[str, int, str | None]], list[int]]:
    """Reviews (kind, minute, outcome) and observations of a seclusion lasting `minutes`.

    Nursing every 2 h; medical within the first hour (unless a psychiatrist authorised it)
    then every 4 h, every 12 h after the first MDT; MDT every 24 h; an independent MDT
    for most episodes that pass 8 h; observations every 15 min. A past episode ends with
    the review that ended it.
    """
    limit = minutes if ongoing else minutes - 1
    mdts = rhythm(
        rng,
        first_due=DAY,
        interval=DAY,
        limit=limit,
        early=(HOUR, 6 * HOUR),
        late=(30, 6 * HOUR),
        quality=quality,
    )
    independent: list[int] = []
    if minutes > 8 * HOUR and rng.random() < 0.7:
        # Mostly before the 8 hours are up; some came after (a late independent review).
        if rng.random() < 0.65:
            at = rng.randint(6 * HOUR, 8 * HOUR)
        else:
            at = 8 * HOUR + rng.randint(15, 4 * HOUR)
        if at <= limit:
            independent.append(at)
    first_mdt = mdts[0] if mdts else None
    medical = []
    anchor = 0
    due = 4 * HOUR if psychiatrist else HOUR
    counting = sorted(mdts + independent)

    def step(at: int) -> int:
        return 12 * HOUR if first_mdt is not None and first_mdt <= at else 4 * HOUR

    while due <= limit + 2 * HOUR:
        covering = [t for t in counting if anchor < t <= due]
        if covering:
            anchor = covering[-1]
            due = anchor + step(anchor)
            continue
        first = anchor == 0 and not psychiatrist
        roll = rng.random()
        if roll < quality.missed:
            due += step(due)
            continue
        if roll < quality.missed + quality.late:
            at = due + rng.randint(5, 70)
        elif first:
            at = rng.randint(15, 55)
        else:
            at = max(anchor + 1, due - rng.randint(5, 50))
        if at > limit:
            break
        medical.append(at)
        anchor, due = at, at + step(at)
    nursing = rhythm(
        rng,
        first_due=2 * HOUR,
        interval=2 * HOUR,
        limit=limit,
        early=(0, 25),
        late=(5, 40),
        quality=quality,
    )
    observations = rhythm(
        rng,
        first_due=15,
        interval=15,
        limit=limit,
        early=(0, 4),
        late=(1, 10),
        # Observations are many and mostly on time: a late one is noticed.
        quality=Quality(late=quality.late / 5, missed=quality.missed / 5),
    )
    reviews: list[tuple[str, int, str | None]] = [
        *(("mdt", t, "continue") for t in mdts),
        *(("independent_mdt", t, "continue") for t in independent),
        *(("medical", t, "continue") for t in medical),
        *(("nursing", t, "continue") for t in nursing),
    ]
    if not ongoing:
        reviews.append(("medical", minutes, "end"))
    reviews.sort(key=lambda r: r[1])
    return reviews, observations


def seclusion_minutes(rng: random.Random, ward_type: str) -> int:
    """Mostly 1 to 8 hours; some longer than 8; on PICU and forensic wards, rarely more
    than a day (so an MDT review falls due)."""
    roll = rng.random()
    if roll < (0.12 if ward_type in ("picu", "forensic") else 0.03):
        return rng.randint(25 * HOUR, 44 * HOUR)
    if roll < 0.14:
        return rng.randint(8 * HOUR + 10, 12 * HOUR)
    return int(min(max(rng.lognormvariate(math.log(3 * HOUR), 0.5), HOUR), 8 * HOUR))


# ---------------------------------------------------------------------------------------
# What a use of force consisted of, and who took part
# ---------------------------------------------------------------------------------------


def force_types(
    rng: random.Random,
    start: datetime | None,
    *,
    picu: bool,
    police: bool,
    end: datetime | None,
    prone: bool | None = None,
    rapid: bool | None = None,
) -> list[tuple[str, datetime, datetime]]:
    """The types, each with its own minutes, back to back from `start`, or ending at
    `end` (then no longer than 40 minutes). The first type starts the use of force."""
    if end is None and prone is None and rapid is None and rng.random() < 0.05:
        # Oral medication accepted to calm severe agitation, with no hold at all.
        assert start is not None
        return [("16", start, start + rng.randint(1, 5) * MINUTE)]
    physical = [(c, w) for c, w in PHYSICAL if not (prone is False and c == PRONE)]
    first = "07" if prone else _weighted(rng, physical)
    holds = [first]
    if prone or (first in ("07", "11") and rng.random() < 0.45):
        floor = [(c, w) for c, w in physical if c in FLOOR_HOLDS and c != first]
        holds.append(PRONE if prone else _weighted(rng, floor))
    if police and rng.random() < 0.4:
        holds.insert(0, "04")  # handcuffs, by the police who brought them in
    if end is not None and holds[-1] != "08" and rng.random() < 0.7:
        holds.append("08")  # escorted to the seclusion room
    minutes = []
    for code in holds:
        if code == PRONE:
            # Prone is kept short; a few went past 10 minutes (what RI_PRONE grades high).
            minutes.append(rng.randint(11, 16) if rng.random() < 0.15 else rng.randint(1, 6))
        elif code == "08":
            minutes.append(rng.randint(2, 6))
        else:
            minutes.append(int(min(max(rng.lognormvariate(math.log(5), 0.6), 2), 30)))
    if end is not None:
        total = sum(minutes)
        if total > 40:
            minutes = [max(1, m * 40 // total) for m in minutes]
        start = end - sum(minutes) * MINUTE
    assert start is not None
    types: list[tuple[str, datetime, datetime]] = []
    cursor = start
    for code, length in zip(holds, minutes, strict=True):
        types.append((code, cursor, cursor + length * MINUTE))
        cursor += length * MINUTE
    if rapid is None:
        rapid = rng.random() < (0.4 if picu else 0.22)
    if rapid:
        # Given while held: in the last minute of the last hold that was not the escort.
        held = next((t for t in reversed(types) if t[0] != "08"), types[-1])
        at = max(held[1], held[2] - MINUTE)
        types.append(("14", at, at))
    return types


def staff_for(rng: random.Random, codes: list[str], *, police: bool) -> list[tuple[str, str]]:
    """Two to four people: a registered nurse leads; floor holds need more hands."""
    if any(c in FLOOR_HOLDS for c in codes):
        count = rng.choice((3, 3, 4, 4, 4))
    elif codes == ["16"] or codes == ["08"]:
        count = 2
    else:
        count = rng.choice((2, 3, 3))
    titles = [rng.choice(NURSES)] + [_weighted(rng, SUPPORT) for _ in range(count - 1)]
    names: list[str] = []
    while len(names) < count:
        given, family = _person_name(rng)
        name = f"{given} {family}"
        if name not in names:
            names.append(name)
    staff = list(zip(names, titles, strict=True))
    if police:
        given, family = _person_name(rng)
        staff[-1] = (f"PC {given} {family}", "Police constable")
    return staff


def _person_name(rng: random.Random) -> tuple[str, str]:
    heritage = _weighted(rng, STAFF_HERITAGES)
    males, females, families = NAMES[heritage]
    return rng.choice(rng.choice((males, females))), rng.choice(families)


def describe(codes: list[str], *, to_seclusion: bool = False) -> str:
    phrases = [TYPE_PHRASES.get(code, "held by staff") for code in codes]
    if to_seclusion and "08" in codes:
        phrases[codes.index("08")] = "escorted by staff holding both arms to the seclusion room"
    text = "; then ".join(phrases)
    return f"{text[0].upper()}{text[1:]}. Holds from the trust's approved training throughout."


# ---------------------------------------------------------------------------------------
# The people on the wards now
# ---------------------------------------------------------------------------------------


def _open_segment(spell: Spell) -> Segment:
    return spell.segments[-1]


def _pick(
    rng: random.Random,
    candidates: list[tuple[Spell, int]],
    used: set[int],
    *,
    ward_types: tuple[str, ...] = (),
    wards: tuple[str, ...] = (),
    since: datetime,
) -> tuple[Spell, int] | None:
    """An open admission on one of these wards (else ward types, else any) on its ward
    since at least `since`, not already used for something else."""

    def fits(item: tuple[Spell, int]) -> bool:
        return item[1] not in used and _open_segment(item[0]).start <= since

    for test in (
        lambda s: _open_segment(s).ward.code in wards,
        lambda s: _open_segment(s).ward.ward_type in ward_types,
        lambda _s: True,
    ):
        pool = [c for c in candidates if fits(c) and test(c[0])]
        if pool:
            chosen = rng.choice(pool)
            used.add(chosen[1])
            return chosen
    return None


def present(planner: Planner, current: list[tuple[Spell, int]], people: list[Person]) -> None:
    """The scenes a person trying Wardflow should find on the board today."""
    rng, now = planner.rng, planner.now
    used: set[int] = set()

    # 1. Secluded on a PICU for 6 h 10 min: the last nursing review was 2 h 25 min ago, so
    # the next one is 25 minutes overdue (red on the board). A psychiatrist authorised it.
    chosen = _pick(
        rng, current, used, wards=("CEDAR",), ward_types=("picu",), since=now - timedelta(days=2)
    )
    if chosen is not None:
        spell, admission_id = chosen
        ward = _open_segment(spell).ward
        start = now - 370 * MINUTE
        # Held (briefly prone), given rapid tranquillisation and taken to the room.
        planner.use_of_force(
            admission_id,
            ward.code,
            None,
            picu=True,
            before=start,
            prone=True,
            rapid=True,
            debrief=False,
        )
        plan = planner.seclusion(
            admission_id, ward.code, start, 370, ongoing=True, quality=PERFECT, role="psychiatrist"
        )
        plan.reviews = [
            ("nursing", start + 110 * MINUTE, SECLUSION_NOTES["nursing"][0], "continue"),
            ("nursing", start + 225 * MINUTE, SECLUSION_NOTES["nursing"][2], "continue"),
            ("medical", start + 235 * MINUTE, SECLUSION_NOTES["medical"][1], "continue"),
        ]

    # 2. Secluded on an acute ward (the demo nurse's) for 1 h 40 min after a restraint
    # whose record is still being finished: the first nursing review is due in 20 minutes.
    chosen = _pick(
        rng,
        current,
        used,
        wards=("ASH", "BIRCH"),
        ward_types=("adult_acute",),
        since=now - timedelta(hours=6),
    )
    if chosen is not None:
        spell, admission_id = chosen
        ward = _open_segment(spell).ward
        start = now - 100 * MINUTE
        planner.use_of_force(
            admission_id,
            ward.code,
            None,
            picu=False,
            before=start,
            complete=False,
            missing=("outcome", "avoidance_efforts", "care_plan_notification_sent"),
            debrief=False,
            prone=False,
            rapid=False,
        )
        plan = planner.seclusion(
            admission_id,
            ward.code,
            start,
            100,
            ongoing=True,
            quality=PERFECT,
            role="nurse_in_charge",
        )
        plan.reviews = [
            ("medical", start + 40 * MINUTE, SECLUSION_NOTES["medical"][3], "continue"),
        ]

    # 3. In long-term segregation on a learning disability and autism (or forensic) ward
    # for nine days, after a seclusion: the commissioner was told, the IMHA not yet.
    lts_days = 9
    chosen = _pick(
        rng,
        current,
        used,
        wards=("MAPLE",),
        ward_types=("ld_autism", "forensic"),
        since=now - timedelta(days=lts_days + 3),
    )
    if chosen is not None:
        spell, admission_id = chosen
        ward = _open_segment(spell).ward
        minutes = lts_days * DAY - rng.randint(2 * HOUR, 10 * HOUR)
        start = now - minutes * MINUTE
        lead = rng.randint(14 * HOUR, 22 * HOUR)
        before = planner.seclusion(
            admission_id,
            ward.code,
            start - lead * MINUTE,
            lead,
            quality=GOOD,
            end_note=TO_SEGREGATION_NOTE,
        )
        person = people[spell.person]
        segregation = planner.segregation(
            admission_id,
            ward.code,
            start,
            minutes,
            needs_icetr=person.learning_disability or person.autistic,
            ongoing=True,
            from_seclusion=before,
            imha_told=False,
        )
        segregation.commissioner_informed_at = start + rng.randint(3 * HOUR, 8 * HOUR) * MINUTE

    # 4. A seclusion earlier today on an open admission, ended after about two and a half
    # hours; the first medical review came late.
    chosen = _pick(
        rng,
        current,
        used,
        ward_types=("picu", "adult_acute"),
        wards=("IVY", "HAZEL"),
        since=now - timedelta(days=1),
    )
    if chosen is not None:
        spell, admission_id = chosen
        ward = _open_segment(spell).ward
        minutes = rng.randint(130, 170)
        midnight = datetime.combine(now.astimezone(LONDON).date(), time(0), tzinfo=LONDON)
        earliest = _minute(midnight.astimezone(UTC) + 10 * MINUTE)
        start = now - (minutes + rng.randint(60, 4 * HOUR)) * MINUTE
        if start < earliest and earliest + (minutes + 30) * MINUTE <= now:
            start = earliest
        plan = planner.seclusion(
            admission_id, ward.code, start, minutes, quality=PERFECT, role="nurse_in_charge"
        )
        # Move the first medical review past its hour (done late, shown as such).
        for index, review in enumerate(plan.reviews):
            if review[0] == "medical":
                plan.reviews[index] = (
                    "medical",
                    start + 78 * MINUTE,
                    review[2],
                    review[3],
                )
                break

    # 5. An older use of force, four days ago on an acute ward, never completed.
    chosen = _pick(
        rng,
        current,
        used,
        wards=("BIRCH", "ASH"),
        ward_types=("adult_acute",),
        since=now - timedelta(days=5),
    )
    if chosen is not None:
        spell, admission_id = chosen
        ward = _open_segment(spell).ward
        start = _minute(now - timedelta(days=4, hours=rng.uniform(0, 6)))
        planner.use_of_force(
            admission_id,
            ward.code,
            start,
            picu=False,
            complete=False,
            missing=("avoidance_efforts", "care_plan_notification_sent"),
            debrief=False,
        )

    # 6. Yesterday on a PICU: complete and debriefed.
    chosen = _pick(
        rng,
        current,
        used,
        wards=("IVY", "CEDAR"),
        ward_types=("picu",),
        since=now - timedelta(days=2),
    )
    if chosen is not None:
        spell, admission_id = chosen
        ward = _open_segment(spell).ward
        start = _minute(now - timedelta(hours=rng.uniform(20, 30)))
        plan_force = planner.use_of_force(
            admission_id, ward.code, start, picu=True, debrief=False, rapid=True
        )
        plan_force.values["debriefed_at"] = _minute(
            min(now, plan_force.ended_at + timedelta(hours=rng.uniform(3, 8)))
        )

    # Earlier uses of force on the people here now: all recorded in full.
    for spell, admission_id in current:
        if admission_id in used:
            continue
        for segment in spell.segments:
            chance = FORCE_CHANCE.get(segment.ward.ward_type, 0)
            until = min(segment.end or now, now - timedelta(days=3))
            if rng.random() < chance and until > segment.start:
                count = _weighted(rng, ((1, 70), (2, 22), (3, 8)))
                planner.scattered_force(admission_id, segment, count, until, complete=True)


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


async def seed_restrictive(
    session: AsyncSession,
    rng: random.Random,
    now: datetime,
    spells: list[Spell],
    people: list[Person],
) -> RestrictiveSummary:
    """Add seclusion, segregation and use of force to the admissions seed_demo wrote.

    `now` is seed_demo's clock (whole minutes). Three flushes: episodes and use-of-force
    records; their reviews, observations, types, staff, versions and the segregations;
    the segregations' reviews.
    """
    admission_ids = await _admission_ids(session, spells)
    ward_ids = dict((await session.execute(select(Ward.code, Ward.id))).all())
    planner = Planner(rng, now, ward_ids, await _staff_users(session))

    current: list[tuple[Spell, int]] = []
    for spell, admission_id in zip(spells, admission_ids, strict=True):
        if spell.is_open:
            current.append((spell, admission_id))
        else:
            planner.past(spell, admission_id, people[spell.person])
    present(planner, current, people)

    await _write(session, planner)
    return RestrictiveSummary(
        seclusions=len(planner.seclusions),
        segregations=len(planner.segregations),
        uses_of_force=len(planner.forces),
        open_seclusions=sum(1 for s in planner.seclusions if s.ended_at is None),
        open_segregations=sum(1 for s in planner.segregations if s.ended_at is None),
        incomplete_uses_of_force=sum(1 for f in planner.forces if _incomplete(f)),
    )


def _incomplete(plan: ForcePlan) -> bool:
    return any(value is None for key, value in plan.values.items() if key != "debriefed_at")


async def _admission_ids(session: AsyncSession, spells: list[Spell]) -> list[int]:
    """Each planned spell's admission, found by the bed and start of its first stay."""
    rows = await session.execute(
        select(Bed.label, WardStay.started_at, WardStay.admission_id).join(
            Bed, Bed.id == WardStay.bed_id
        )
    )
    by_start = {(label, started): admission for label, started, admission in rows}
    return [by_start[(s.segments[0].bed, s.segments[0].start)] for s in spells]


async def _staff_users(session: AsyncSession) -> dict[str, int]:
    """Ward code -> the demo ward-staff account that works there (it records their events)."""
    ward_staff = [(name, wards) for name, role, wards in DEMO_USERS if role == "ward_staff"]
    names = [name for name, _ in ward_staff]
    rows = await session.execute(select(User.username, User.id).where(User.username.in_(names)))
    ids: dict[str, int] = dict(rows.all())
    return {ward: ids[name] for name, wards in ward_staff for ward in wards if name in ids}


async def _write(session: AsyncSession, planner: Planner) -> None:
    rng = planner.rng
    seclusions = []
    for plan in planner.seclusions:
        user = planner.user_for(plan.ward)
        plan.row = SeclusionRow(
            admission_id=plan.admission_id,
            started_at=plan.started_at,
            ended_at=plan.ended_at,
            authorised_by_role=plan.authorised_by_role,
            reason=plan.reason,
            end_note=plan.end_note,
            created_at=planner.recorded(plan.started_at + 5 * MINUTE, 40),
            created_by_id=user,
            ended_by_id=user if plan.ended_at is not None else None,
        )
        seclusions.append(plan.row)
    records = [
        RestrictiveIntervention(
            admission_id=plan.admission_id,
            ward_id=planner.ward_ids[plan.ward],
            started_at=plan.started_at,
            ended_at=plan.ended_at,
            version=1,
            created_at=plan.created_at,
            created_by_id=planner.user_for(plan.ward),
            **plan.values,
        )
        for plan in planner.forces
    ]
    session.add_all(seclusions)
    session.add_all(records)
    await session.flush()

    rows: list[object] = []
    for plan in planner.seclusions:
        assert plan.row is not None
        user = planner.user_for(plan.ward)
        rows += [
            SeclusionReview(
                seclusion_id=plan.row.id,
                kind=kind,
                at=at,
                note=note,
                outcome=outcome,
                recorded_at=planner.recorded(at, 45),
                recorded_by_id=user,
            )
            for kind, at, note, outcome in plan.reviews
        ]
        rows += [
            SeclusionObservation(
                seclusion_id=plan.row.id,
                at=at,
                note=rng.choice(OBSERVATIONS),
                recorded_at=planner.recorded(at, 10),
                recorded_by_id=user,
            )
            for at in plan.observations
        ]
    segregations = []
    for seg in planner.segregations:
        user = planner.user_for(seg.ward)
        segregations.append(
            Segregation(
                admission_id=seg.admission_id,
                started_at=seg.started_at,
                ended_at=seg.ended_at,
                reason=seg.reason,
                end_note=seg.end_note,
                commissioner_informed_at=seg.commissioner_informed_at,
                imha_informed_at=seg.imha_informed_at,
                from_seclusion_id=seg.from_seclusion.row.id
                if seg.from_seclusion is not None and seg.from_seclusion.row is not None
                else None,
                created_at=planner.recorded(seg.started_at, 30),
                created_by_id=user,
                ended_by_id=user if seg.ended_at is not None else None,
            )
        )
    for record_plan, record in zip(planner.forces, records, strict=True):
        types = [
            InterventionType(intervention_id=record.id, type_code=c, started_at=s, ended_at=e)
            for c, s, e in record_plan.types
        ]
        staff = [
            InterventionStaff(intervention_id=record.id, name=name, job_title=title)
            for name, title in record_plan.staff
        ]
        # The record's current types and staff, as the app would load them, so the first
        # version is the same snapshot the app keeps when a person records it.
        set_committed_value(record, "types", types)
        set_committed_value(record, "staff", staff)
        rows += [*types, *staff]
        rows.append(
            InterventionVersion(
                intervention_id=record.id,
                version=1,
                data=force.snapshot(record),
                reason=None,
                recorded_at=record.created_at,
                recorded_by_id=record.created_by_id,
            )
        )
    session.add_all(rows)
    session.add_all(segregations)
    await session.flush()

    session.add_all(
        SegregationReview(
            segregation_id=row.id,
            kind=kind,
            at=at,
            note=note,
            recorded_at=planner.recorded(at, 60),
            recorded_by_id=planner.user_for(plan.ward),
        )
        for plan, row in zip(planner.segregations, segregations, strict=True)
        for kind, at, note in plan.reviews
    )
    await session.flush()
