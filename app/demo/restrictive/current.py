"""The people on the wards now: the scenes a person trying Wardflow should find on the
board today, and the earlier uses of force of everyone else here.

Each scene goes to an open admission on the ward that shows it best (a named demo ward,
else a ward of the right type, else any), on that ward long enough for the story, and
no one is given two scenes. A scene with no one on a ward long enough is left out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from app.clock import local_tz
from app.demo.plan import Person, Segment, Spell, to_minute, weighted
from app.demo.restrictive.force import plan_scattered_force, plan_use_of_force
from app.demo.restrictive.past import FORCE_CHANCE
from app.demo.restrictive.plan import DAY, GOOD, HOUR, MINUTE, PERFECT, Planner
from app.demo.restrictive.seclusion import (
    SECLUSION_NOTES,
    TO_SEGREGATION_NOTE,
    plan_seclusion,
)
from app.demo.restrictive.segregation import plan_segregation

# How long the person in long-term segregation has been in it.
SEGREGATION_DAYS = 9


@dataclass(frozen=True)
class Inpatient:
    """The person a scene is given to: their open admission and the ward they are on."""

    admission_id: int
    ward: str
    person: Person


def _review_overdue(planner: Planner, here: Inpatient) -> None:
    """Secluded on a PICU for 6 h 10 min: the last nursing review was 2 h 25 min ago, so
    the next one is 25 minutes overdue (red on the board). A psychiatrist authorised it."""
    start = planner.now - 370 * MINUTE
    # Held (briefly prone), given rapid tranquillisation and taken to the room.
    plan_use_of_force(
        planner,
        here.admission_id,
        here.ward,
        None,
        picu=True,
        before=start,
        prone=True,
        rapid=True,
        debrief=False,
    )
    _still_secluded(
        planner,
        here,
        start,
        role="psychiatrist",
        reviews=[
            ("nursing", 110, SECLUSION_NOTES["nursing"][0]),
            ("nursing", 225, SECLUSION_NOTES["nursing"][2]),
            ("medical", 235, SECLUSION_NOTES["medical"][1]),
        ],
    )


def _review_due_soon(planner: Planner, here: Inpatient) -> None:
    """Secluded on an acute ward (the demo nurse's) for 1 h 40 min after a restraint whose
    record is still being finished: the first nursing review is due in 20 minutes."""
    start = planner.now - 100 * MINUTE
    plan_use_of_force(
        planner,
        here.admission_id,
        here.ward,
        None,
        picu=False,
        before=start,
        complete=False,
        missing=("outcome", "avoidance_efforts", "care_plan_notification_sent"),
        debrief=False,
        prone=False,
        rapid=False,
    )
    _still_secluded(
        planner,
        here,
        start,
        role="nurse_in_charge",
        reviews=[("medical", 40, SECLUSION_NOTES["medical"][3])],
    )


def _still_secluded(
    planner: Planner,
    here: Inpatient,
    start: datetime,
    *,
    role: str,
    reviews: list[tuple[str, int, str]],
) -> None:
    """In seclusion since `start` and still there, with exactly these reviews (kind,
    minutes after the start, note), so the board's countdown is the one the scene wants."""
    minutes = int((planner.now - start) / MINUTE)
    plan = plan_seclusion(
        planner,
        here.admission_id,
        here.ward,
        start,
        minutes,
        ongoing=True,
        quality=PERFECT,
        role=role,
    )
    plan.reviews = [
        (kind, start + offset * MINUTE, note, "continue") for kind, offset, note in reviews
    ]


def _segregated_imha_not_told(planner: Planner, here: Inpatient) -> None:
    """In long-term segregation on a learning disability and autism (or forensic) ward
    for nine days, after a seclusion: the commissioner was told, the IMHA not yet."""
    rng = planner.rng
    minutes = SEGREGATION_DAYS * DAY - rng.randint(2 * HOUR, 10 * HOUR)
    start = planner.now - minutes * MINUTE
    lead = rng.randint(14 * HOUR, 22 * HOUR)
    before = plan_seclusion(
        planner,
        here.admission_id,
        here.ward,
        start - lead * MINUTE,
        lead,
        quality=GOOD,
        end_note=TO_SEGREGATION_NOTE,
    )
    segregation = plan_segregation(
        planner,
        here.admission_id,
        here.ward,
        start,
        minutes,
        person=here.person,
        ongoing=True,
        from_seclusion=before,
        imha_told=False,
    )
    segregation.commissioner_informed_at = start + rng.randint(3 * HOUR, 8 * HOUR) * MINUTE


def _ended_today(planner: Planner, here: Inpatient) -> None:
    """A seclusion earlier today, ended after about two and a half hours; the first
    medical review came late."""
    rng, now = planner.rng, planner.now
    minutes = rng.randint(130, 170)
    midnight = datetime.combine(now.astimezone(local_tz()).date(), time(0), tzinfo=local_tz())
    earliest = to_minute(midnight.astimezone(UTC) + 10 * MINUTE)
    start = now - (minutes + rng.randint(60, 4 * HOUR)) * MINUTE
    if start < earliest and earliest + (minutes + 30) * MINUTE <= now:
        start = earliest
    plan = plan_seclusion(
        planner,
        here.admission_id,
        here.ward,
        start,
        minutes,
        quality=PERFECT,
        role="nurse_in_charge",
    )
    # Move the first medical review past its hour (done late, shown as such).
    for index, (kind, _at, note, outcome) in enumerate(plan.reviews):
        if kind == "medical":
            plan.reviews[index] = (kind, start + 78 * MINUTE, note, outcome)
            break


def _force_never_completed(planner: Planner, here: Inpatient) -> None:
    """An older use of force, four days ago on an acute ward, never completed."""
    start = to_minute(planner.now - timedelta(days=4, hours=planner.rng.uniform(0, 6)))
    plan_use_of_force(
        planner,
        here.admission_id,
        here.ward,
        start,
        picu=False,
        complete=False,
        missing=("avoidance_efforts", "care_plan_notification_sent"),
        debrief=False,
    )


def _force_debriefed(planner: Planner, here: Inpatient) -> None:
    """Yesterday on a PICU: complete and debriefed."""
    rng, now = planner.rng, planner.now
    start = to_minute(now - timedelta(hours=rng.uniform(20, 30)))
    plan = plan_use_of_force(
        planner, here.admission_id, here.ward, start, picu=True, debrief=False, rapid=True
    )
    plan.values["debriefed_at"] = to_minute(
        min(now, plan.ended_at + timedelta(hours=rng.uniform(3, 8)))
    )


@dataclass(frozen=True)
class Scene:
    show: Callable[[Planner, Inpatient], None]
    wards: tuple[str, ...]  # demo ward codes, best first
    ward_types: tuple[str, ...]  # else a ward of one of these types
    on_ward_for: timedelta  # at least this long on the ward, so the story fits in the stay


SCENES = (
    Scene(_review_overdue, ("CEDAR",), ("picu",), timedelta(days=2)),
    Scene(_review_due_soon, ("ASH", "BIRCH"), ("adult_acute",), timedelta(hours=6)),
    Scene(
        _segregated_imha_not_told,
        ("MAPLE",),
        ("ld_autism", "forensic"),
        timedelta(days=SEGREGATION_DAYS + 3),
    ),
    Scene(_ended_today, ("IVY", "HAZEL"), ("picu", "adult_acute"), timedelta(days=1)),
    Scene(_force_never_completed, ("BIRCH", "ASH"), ("adult_acute",), timedelta(days=5)),
    Scene(_force_debriefed, ("IVY", "CEDAR"), ("picu",), timedelta(days=2)),
)


def plan_current(planner: Planner, current: list[tuple[Spell, int]], people: list[Person]) -> None:
    """The scenes, then earlier uses of force (all recorded in full) for everyone else."""
    rng, now = planner.rng, planner.now
    used: set[int] = set()
    for scene in SCENES:
        chosen = _pick(
            rng,
            current,
            used,
            wards=scene.wards,
            ward_types=scene.ward_types,
            since=now - scene.on_ward_for,
        )
        if chosen is not None:
            spell, admission_id = chosen
            ward = _open_segment(spell).ward.code
            scene.show(planner, Inpatient(admission_id, ward, people[spell.person]))

    for spell, admission_id in current:
        if admission_id in used:
            continue
        for segment in spell.segments:
            chance = FORCE_CHANCE.get(segment.ward.ward_type, 0)
            until = min(segment.end or now, now - timedelta(days=3))
            if rng.random() < chance and until > segment.start:
                count = weighted(rng, ((1, 70), (2, 22), (3, 8)))
                plan_scattered_force(planner, admission_id, segment, count, until, complete=True)


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

    tests: tuple[Callable[[Any], bool], ...] = (
        lambda s: _open_segment(s).ward.code in wards,
        lambda s: _open_segment(s).ward.ward_type in ward_types,
        lambda _s: True,
    )
    for test in tests:
        pool = [c for c in candidates if fits(c) and test(c[0])]
        if pool:
            chosen = rng.choice(pool)
            used.add(chosen[1])
            return chosen
    return None
