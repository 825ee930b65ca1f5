"""What one use of force in the demo looks like: its types minute by minute, the staff
who took part, the record's words, and whether it was ever completed.

A use of force either stands alone at some moment of a ward stay or leads straight into
a seclusion (the restraint and the escort to the room end as the seclusion starts).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from app.demo.plan import NAMES, Segment, to_minute, weighted
from app.demo.restrictive.plan import HOUR, MINUTE, ForcePlan, Planner
from app.segregation.codes import PRONE
from app.segregation.force.service import NO_NON_UNIT_STAFF

# Share of past use-of-force records that were never completed.
NEVER_COMPLETED = 0.12

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


def plan_use_of_force(
    planner: Planner,
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
    rng = planner.rng
    police = rng.random() < 0.03
    types = force_types(rng, start, picu=picu, police=police, end=before, prone=prone, rapid=rapid)
    start, ended = types[0][1], max(t[2] for t in types)
    codes = [code for code, _, _ in types]
    staff = staff_for(rng, codes, police=police)
    latest = min(planner.now, limit or planner.now)
    debriefed = None
    if debrief is None:
        debrief = rng.random() < 0.8
    if debrief:
        hours = rng.uniform(1, 60) if rng.random() < 0.85 else rng.uniform(73, 120)
        at = to_minute(ended + timedelta(hours=hours))
        debriefed = at if at <= latest else None
    values: dict[str, object] = {
        "place": "Seclusion room corridor" if before else rng.choice(PLACES),
        "reason_code": weighted(rng, REASON_CODES),
        "description": describe(codes, to_seclusion=before is not None),
        "in_care_plan": rng.random() < 0.45,
        "non_unit_staff_reason": rng.choice(POLICE_REASONS) if police else NO_NON_UNIT_STAFF,
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
    created = min(planner.now, ended + timedelta(minutes=rng.randint(10, 4 * HOUR)))
    plan = ForcePlan(
        admission_id=admission_id,
        ward=ward,
        started_at=start,
        ended_at=ended,
        types=types,
        staff=staff,
        values=values,
        created_at=to_minute(created),
    )
    planner.forces.append(plan)
    planner.take(admission_id, start, ended)
    return plan


def plan_scattered_force(
    planner: Planner,
    admission_id: int,
    segment: Segment,
    count: int,
    until: datetime,
    *,
    complete: bool | None,
) -> None:
    """Uses of force at random moments of a ward stay, over well before `until`; when
    `complete` is None, a few are never completed."""
    rng = planner.rng
    for _ in range(count):
        start = planner.place(segment.start + 30 * MINUTE, until, 2 * HOUR)
        if start is None or not planner.free(admission_id, start, start + 90 * MINUTE):
            continue
        plan_use_of_force(
            planner,
            admission_id,
            segment.ward.code,
            start,
            picu=segment.ward.ward_type == "picu",
            complete=rng.random() >= NEVER_COMPLETED if complete is None else complete,
            limit=segment.end,
        )


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
    first = "07" if prone else weighted(rng, physical)
    holds = [first]
    if prone or (first in ("07", "11") and rng.random() < 0.45):
        floor = [(c, w) for c, w in physical if c in FLOOR_HOLDS and c != first]
        holds.append(PRONE if prone else weighted(rng, floor))
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
    titles = [rng.choice(NURSES)] + [weighted(rng, SUPPORT) for _ in range(count - 1)]
    names: list[str] = []
    while len(names) < count:
        name = _staff_name(rng)
        if name not in names:
            names.append(name)
    staff = list(zip(names, titles, strict=True))
    if police:
        staff[-1] = (f"PC {_staff_name(rng)}", "Police constable")
    return staff


def _staff_name(rng: random.Random) -> str:
    heritage = weighted(rng, STAFF_HERITAGES)
    males, females, families = NAMES[heritage]
    return f"{rng.choice(rng.choice((males, females)))} {rng.choice(families)}"


def describe(codes: list[str], *, to_seclusion: bool = False) -> str:
    phrases = [TYPE_PHRASES.get(code, "held by staff") for code in codes]
    if to_seclusion and "08" in codes:
        phrases[codes.index("08")] = "escorted by staff holding both arms to the seclusion room"
    text = "; then ".join(phrases)
    return f"{text[0].upper()}{text[1:]}. Holds from the trust's approved training throughout."
