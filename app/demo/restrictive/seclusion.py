"""What one seclusion in the demo looks like: who authorised it and why, its reviews and
its 15-minute observations, at about the rhythm the Code of Practice asks for.

`plan_seclusion` is used for past episodes and for the ones on the board today; the
timing lives here because it is the rules of seclusion (nursing every 2 hours, medical
within the first hour then every 4, MDT daily, an independent MDT after 8 hours).
"""

from __future__ import annotations

import math
import random
from datetime import datetime

from app.demo.plan import weighted
from app.demo.restrictive.plan import (
    DAY,
    GOOD,
    HOUR,
    MINUTE,
    POOR,
    Planner,
    Quality,
    SeclusionPlan,
    rhythm,
)

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


def plan_seclusion(
    planner: Planner,
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
    """A seclusion from `start` lasting `minutes` (still going at `now` when `ongoing`)."""
    rng = planner.rng
    role = role or weighted(
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
    planner.seclusions.append(plan)
    planner.take(admission_id, start, ended or planner.now)
    return plan


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

    def medical_interval(at: int) -> int:
        return 12 * HOUR if first_mdt is not None and first_mdt <= at else 4 * HOUR

    # MDT and independent MDT reviews include a doctor, so they count as medical reviews.
    medical = rhythm(
        rng,
        first_due=4 * HOUR if psychiatrist else HOUR,
        interval=medical_interval,
        limit=limit,
        early=(5, 50),
        late=(5, 70),
        quality=quality,
        also=mdts + independent,
        # Authorised by someone else, a doctor comes at any time within the first hour.
        first=None if psychiatrist else (15, 55),
        horizon=2 * HOUR,
    )
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
