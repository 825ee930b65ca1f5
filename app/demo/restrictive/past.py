"""The history of the discharged admissions: on each ward stay, by how likely it is on
that kind of ward, a long-term segregation (sometimes begun as a seclusion), seclusion
(often straight after a restraint, now and then again within two days) and uses of
force, a few of them never completed."""

from __future__ import annotations

from app.demo.plan import Person, Segment, Spell, weighted
from app.demo.restrictive.force import NEVER_COMPLETED, plan_scattered_force, plan_use_of_force
from app.demo.restrictive.plan import DAY, HOUR, MINUTE, Planner
from app.demo.restrictive.seclusion import TO_SEGREGATION_NOTE, plan_seclusion, seclusion_minutes
from app.demo.restrictive.segregation import plan_segregation

# How often it happens, per ward stay of a discharged admission, by ward type.
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


def plan_past(planner: Planner, spell: Spell, admission_id: int, person: Person) -> None:
    """What happened on each ward stay of one discharged admission."""
    rng = planner.rng
    for segment in spell.segments:
        assert segment.end is not None
        kind = segment.ward.ward_type
        if rng.random() < SEGREGATION_CHANCE.get(kind, 0):
            _past_segregation(planner, admission_id, segment, person)
        if rng.random() < SECLUSION_CHANCE.get(kind, 0):
            _past_seclusion(planner, admission_id, segment)
        if rng.random() < FORCE_CHANCE.get(kind, 0):
            count = weighted(rng, ((1, 65), (2, 25), (3, 10)))
            plan_scattered_force(planner, admission_id, segment, count, segment.end, complete=None)


def _past_seclusion(planner: Planner, admission_id: int, segment: Segment) -> None:
    assert segment.end is not None
    rng = planner.rng
    minutes = seclusion_minutes(rng, segment.ward.ward_type)
    start = planner.place(segment.start + HOUR * MINUTE, segment.end, minutes + HOUR)
    if start is None or not planner.free(admission_id, start - HOUR * MINUTE, start):
        return
    if not planner.free(admission_id, start, start + minutes * MINUTE):
        return
    ward = segment.ward.code
    if rng.random() < RESTRAINT_BEFORE_SECLUSION:
        plan_use_of_force(
            planner,
            admission_id,
            ward,
            None,
            picu=segment.ward.ward_type == "picu",
            before=start,
            complete=rng.random() >= NEVER_COMPLETED,
            limit=segment.end,
        )
    plan_seclusion(planner, admission_id, ward, start, minutes)
    # Intermittent seclusion: sometimes secluded again within two days.
    if rng.random() < 0.2:
        again = start + (minutes + rng.randint(3 * HOUR, 30 * HOUR)) * MINUTE
        more = rng.randint(HOUR, 6 * HOUR)
        if again + (more + HOUR) * MINUTE <= segment.end and planner.free(
            admission_id, again, again + more * MINUTE
        ):
            plan_seclusion(planner, admission_id, ward, again, more)


def _past_segregation(
    planner: Planner, admission_id: int, segment: Segment, person: Person
) -> None:
    assert segment.end is not None
    rng, ends = planner.rng, segment.end
    length = int((ends - segment.start) / MINUTE)
    minutes = min(rng.randint(3 * DAY, 35 * DAY), length - 2 * DAY)
    if minutes < 2 * DAY:
        return
    lead = rng.randint(6 * HOUR, 30 * HOUR) if rng.random() < SEGREGATION_FROM_SECLUSION else 0
    start = planner.place(segment.start + (HOUR + lead) * MINUTE, ends, minutes + 12 * HOUR)
    if start is None:
        return
    if not planner.free(admission_id, start - lead * MINUTE, start + minutes * MINUTE):
        return
    ward = segment.ward.code
    before = None
    if lead:
        before = plan_seclusion(
            planner, admission_id, ward, start - lead * MINUTE, lead, end_note=TO_SEGREGATION_NOTE
        )
    plan_segregation(
        planner, admission_id, ward, start, minutes, person=person, from_seclusion=before
    )
