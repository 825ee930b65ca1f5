"""Writing the planned restrictive practice in three bulk flushes.

Each flush is for the rows whose ids the next level needs: first the seclusions and
use-of-force records; then everything that points at them (seclusion reviews and
observations, the records' types, staff and first versions, and the segregations, which
may point at a seclusion); last the segregations' reviews. Entry times come from
`Planner.recorded`, so each was typed in a little after it happened and never after now.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.demo.restrictive.plan import MINUTE, Planner
from app.demo.restrictive.seclusion import OBSERVATIONS
from app.segregation.force.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
)
from app.segregation.force.service import snapshot
from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)


async def write(session: AsyncSession, planner: Planner) -> None:
    rng = planner.rng
    seclusions = []
    for plan in planner.seclusions:
        user = planner.user_for(plan.ward)
        plan.row = Seclusion(
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
                created_at=(created := planner.recorded(seg.started_at, 30)),
                created_by_id=user,
                ended_by_id=user if seg.ended_at is not None else None,
                updated_at=created,
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
                data=snapshot(record),
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
