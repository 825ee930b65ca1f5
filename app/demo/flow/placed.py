"""Out-of-area placements in the demo, through the services as the bed manager records
them: the request for a bed, the placement that met it, its reviews and its end."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.flow.plan import (
    BED_TYPES,
    DAY,
    ENDED_PLACEMENT,
    ENDED_PLACEMENTS,
    HOUR,
    OPEN_PLACEMENTS,
    PLACEMENT_REQUEST,
    PLACEMENT_REVIEWS,
    PROVIDERS,
    PlacementPlan,
    Recorder,
    in_trust,
    new_patient,
)
from app.demo.places import LOCALITIES
from app.demo.plan import Person, Spell, to_minute
from app.flow import geo, placements, requests, schemas
from app.wards.models import Patient


async def open_placements(session: AsyncSession, recorder: Recorder) -> int:
    """People placed out of area now: new to the trust, so not in hospital here."""
    for plan in OPEN_PLACEMENTS:
        placed_at = to_minute(recorder.now - recorder.rng.uniform(*plan.days_ago) * DAY)
        patient = await new_patient(session, recorder, plan.ward_type, placed_at - 2 * DAY)
        await place(session, recorder, patient, plan, placed_at, until=None)
    return len(OPEN_PLACEMENTS)


async def ended_placements(
    session: AsyncSession, recorder: Recorder, spells: list[Spell], people: list[Person]
) -> int:
    """Placements that ended when a local bed came free: the person's later admission here
    (a past one, so they are not in hospital now) is the bed they came back to, and they
    were in no other hospital bed here for a week before the placement."""
    rng, now = recorder.rng, recorder.now
    by_person: dict[int, list[Spell]] = {}
    for spell in spells:
        by_person.setdefault(spell.person, []).append(spell)
    candidates = [
        spell
        for spell in spells
        if spell.ended_at is not None
        and spell.wards[0].ward_type in ("adult_acute", "picu")
        and now - 150 * DAY < spell.admitted_at < now - 30 * DAY
        and people[spell.person].last_ended_at is not None  # not in hospital now
        and in_trust(people[spell.person].home_locality)
    ]
    done = 0
    for spell in rng.sample(candidates, len(candidates)):
        if done == ENDED_PLACEMENTS:
            break
        placed_at = to_minute(spell.admitted_at - rng.uniform(*ENDED_PLACEMENT.days_ago) * DAY)
        earlier = [s for s in by_person[spell.person] if s.admitted_at < spell.admitted_at]
        if spell.person in recorder.used or any(
            (s.ended_at or now) > placed_at - 7 * DAY for s in earlier
        ):
            continue
        recorder.used.add(spell.person)
        patient = await recorder.patient(session, people[spell.person])
        plan = ENDED_PLACEMENT
        if spell.wards[0].ward_type == "picu":
            plan = PlacementPlan("10", "picu", plan.days_ago, plan.km, plan.reviews, (820, 900))
        await place(session, recorder, patient, plan, placed_at, until=spell.admitted_at)
        done += 1
    return done


async def place(
    session: AsyncSession,
    recorder: Recorder,
    patient: Patient,
    plan: PlacementPlan,
    placed_at: datetime,
    until: datetime | None,
) -> None:
    """Ask for a bed, place the person with a provider the plan's distance from home,
    review the placement, and bring them back at ``until`` (None: still there)."""
    rng = recorder.rng
    home = next(spec for spec in LOCALITIES if spec.code == patient.home_locality.code)
    near = [
        p
        for p in PROVIDERS
        if plan.km[0]
        <= geo.distance_km((home.latitude, home.longitude), (p.latitude, p.longitude))
        <= plan.km[1]
    ]
    provider = rng.choice(near or PROVIDERS)
    decided = to_minute(placed_at - rng.uniform(4, 30) * HOUR)
    request = await requests.create_request(
        session,
        actor=recorder.bed_manager,
        data=schemas.BedRequestIn.model_validate(
            {
                "patient_id": patient.id,
                "decision_to_admit_at": decided,
                "ward_type": plan.ward_type,
                "note": PLACEMENT_REQUEST,
            }
        ),
        now=recorder.recorded(decided),
    )
    placement = await placements.create_placement(
        session,
        actor=recorder.bed_manager,
        data=schemas.PlacementIn.model_validate(
            {
                "patient_id": patient.id,
                "provider_name": provider.name,
                "latitude": provider.latitude,
                "longitude": provider.longitude,
                "bed_type": BED_TYPES[plan.ward_type],
                "reason_code": plan.reason,
                "started_at": placed_at,
                "daily_cost": Decimal(rng.randrange(plan.daily_cost[0], plan.daily_cost[1], 5)),
                "bed_request_id": request.id,
            }
        ),
        now=recorder.recorded(placed_at, 90),
    )
    end = until or recorder.now
    for days in plan.reviews:
        at = recorder.working_hours(placed_at + (days + rng.uniform(-1, 1)) * DAY, placed_at)
        if at >= end:
            break
        await placements.add_review(
            session,
            actor=recorder.bed_manager,
            placement_id=placement.id,
            data=schemas.PlacementReviewIn(at=at, note=rng.choice(PLACEMENT_REVIEWS)),
            now=recorder.recorded(at, 240),
        )
    if until is not None:
        await placements.end_placement(
            session,
            actor=recorder.bed_manager,
            placement_id=placement.id,
            data=schemas.PlacementEndIn(at=until, outcome="repatriated"),
            now=recorder.recorded(until, 60),
        )
