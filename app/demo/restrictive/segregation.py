"""What one long-term segregation in the demo looks like: why, who was told and when,
and its reviews (an approved clinician daily, the MDT weekly, an independent care and
treatment review for a person with a learning disability or autism)."""

from __future__ import annotations

from datetime import datetime

from app.demo.plan import Person
from app.demo.restrictive.plan import (
    DAY,
    GOOD,
    HOUR,
    MINUTE,
    Planner,
    SeclusionPlan,
    SegregationPlan,
    rhythm,
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


def plan_segregation(
    planner: Planner,
    admission_id: int,
    ward: str,
    start: datetime,
    minutes: int,
    *,
    person: Person,
    ongoing: bool = False,
    from_seclusion: SeclusionPlan | None = None,
    imha_told: bool = True,
) -> SegregationPlan:
    """A segregation from `start` lasting `minutes` (still going at `now` when `ongoing`),
    perhaps begun as the seclusion `from_seclusion` ended."""
    rng = planner.rng
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
    # Independent care and treatment reviews are for people with a learning disability
    # or autism.
    needs_icetr = person.learning_disability or person.autistic
    if needs_icetr and minutes > 14 * DAY and rng.random() < 0.7:
        add("icetr", rng.randint(10 * DAY, min(minutes - 1, 27 * DAY)))
    reviews.sort(key=lambda r: r[1])
    ends = start + minutes * MINUTE

    def told(on_time: float) -> datetime:
        late = rng.random() >= on_time
        offset = rng.randint(25 * HOUR, 80 * HOUR) if late else rng.randint(30, 20 * HOUR)
        return min(start + offset * MINUTE, ends, planner.now)

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
    planner.segregations.append(plan)
    planner.take(admission_id, start, plan.ended_at or planner.now)
    return plan
