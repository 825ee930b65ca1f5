"""Clinically ready for discharge in the demo: about one in eight people on the wards now
(through the service, as the nurse records it), and a few past delays that ended at a
discharge (rows: the service refuses a discharged admission)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.flow.plan import (
    DAY,
    PAST_READY,
    PAST_REASONS,
    READY_REASONS,
    READY_WARDS,
    REVIEW_REASONS,
    Recorder,
    agency_for,
)
from app.demo.plan import Spell, weighted
from app.discharge import ready
from app.discharge.models import ReadyForDischarge
from app.discharge.schemas import ReadyIn
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, PurposeReview, Ward, WardStay

# Delays a purpose review points to that began longer ago than this are mostly left out:
# a few very long delays are real, a board full of them is not.
LONG_AGO = 45 * DAY
LONG_DELAYS = 2


async def ready_now(
    session: AsyncSession, recorder: Recorder, current: list[tuple[Spell, int]]
) -> int:
    """Mark people on the wards ready for discharge. Those whose purpose review already
    found hospital no longer needed come first, ready since that review, waiting for what
    it names; the others became ready in the last weeks. Nobody secluded or segregated."""
    rng, now = recorder.rng, recorder.now
    restricted = set(
        await session.scalars(select(Seclusion.admission_id).where(Seclusion.ended_at.is_(None)))
    ) | set(
        await session.scalars(
            select(Segregation.admission_id).where(Segregation.ended_at.is_(None))
        )
    )
    not_needed: dict[int, tuple[datetime, str]] = {}
    for admission_id, at, note in await session.execute(
        select(PurposeReview.admission_id, PurposeReview.at, PurposeReview.note)
        .where(PurposeReview.still_needed.is_(False))
        .order_by(PurposeReview.at, PurposeReview.id)
    ):
        not_needed.setdefault(admission_id, (at, note))

    eligible = [
        (spell, admission_id)
        for spell, admission_id in current
        if spell.segments[-1].ward.ward_type in READY_WARDS
        and admission_id not in restricted
        and now - spell.segments[-1].start > 5 * DAY
    ]
    wanted = round(len(current) * rng.uniform(0.11, 0.14))
    recent = [e for e in eligible if e[1] in not_needed and now - not_needed[e[1]][0] < LONG_AGO]
    long_ago = [e for e in eligible if e[1] in not_needed and e not in recent]
    others = [e for e in eligible if e[1] not in not_needed]
    chosen = rng.sample(recent, min(len(recent), round(wanted * 0.5)))
    chosen += rng.sample(long_ago, min(len(long_ago), LONG_DELAYS))
    chosen += rng.sample(others, min(len(others), wanted - len(chosen)))
    chosen.sort(key=lambda e: e[1])

    for n, (spell, admission_id) in enumerate(chosen):
        ward = spell.segments[-1].ward
        earliest = spell.admitted_at + 3 * DAY
        reason = weighted(rng, READY_REASONS[ward.ward_type])
        if admission_id in not_needed:
            reviewed_at, note = not_needed[admission_id]
            reason = next((c for k, c in REVIEW_REASONS.items() if k in note), reason)
            since = recorder.working_hours(reviewed_at, earliest)
        else:
            # Mostly days; every third over the 7-day threshold; now and then over a month.
            if n % 3 == 0:
                days = rng.uniform(8, 21)
            elif n % 7 == 1:
                days = rng.uniform(21, 40)
            else:
                days = rng.uniform(0, 6.5)
            since = recorder.working_hours(now - days * DAY, earliest)
        await ready.start(
            session,
            actor=recorder.nurse_for(ward.code),
            admission_id=admission_id,
            data=ReadyIn.model_validate(
                {
                    "started_at": since,
                    "reason_code": reason,
                    "attributable_to": agency_for(rng, reason),
                }
            ),
            now=recorder.recorded(since, 120),
        )
    return len(chosen)


async def ready_in_the_past(session: AsyncSession, recorder: Recorder) -> int:
    """Delays on admissions discharged in the last five months, matching where the person
    went (a care home, supported accommodation...), ended at the discharge; two ended
    earlier, when the person became unwell again for a while."""
    rng, now = recorder.rng, recorder.now
    rows = (
        await session.execute(
            select(
                Admission.id,
                Admission.admitted_at,
                Admission.discharged_at,
                Admission.discharge_destination,
                Ward.code,
            )
            .join(WardStay, WardStay.admission_id == Admission.id)
            .join(Ward, Ward.id == WardStay.ward_id)
            .where(
                Admission.discharged_at.is_not(None),
                Admission.discharged_at > now - 150 * DAY,
                WardStay.ended_at == Admission.discharged_at,
                Admission.discharge_destination.in_(list(PAST_REASONS)),
                Ward.ward_type.in_(READY_WARDS),
            )
            .order_by(Admission.id)
        )
    ).all()
    long_enough = [r for r in rows if r.discharged_at - r.admitted_at > 10 * DAY]
    elsewhere = [r for r in long_enough if r.discharge_destination != "usual_residence"]
    home = [r for r in long_enough if r.discharge_destination == "usual_residence"]
    chosen = rng.sample(elsewhere, min(len(elsewhere), PAST_READY - 3))
    chosen += rng.sample(home, min(len(home), PAST_READY - len(chosen)))
    chosen.sort(key=lambda r: r.id)

    periods = []
    for n, row in enumerate(chosen):
        reason = weighted(rng, PAST_REASONS[row.discharge_destination])
        ended = row.discharged_at
        earliest = row.admitted_at + 3 * DAY
        if n < 2 and ended - 8 * DAY > earliest:
            ended = recorder.working_hours(ended - rng.uniform(2, 6) * DAY)
        started = recorder.working_hours(ended - rng.uniform(1, 35) * DAY, earliest)
        started = min(started, ended)
        periods.append(
            ReadyForDischarge(
                admission_id=row.id,
                started_at=started,
                ended_at=ended,
                reason_code=reason,
                attributable_to=agency_for(rng, reason),
                created_at=recorder.recorded(started, 120),
                created_by_id=recorder.nurse_for(row.code).id,
                updated_at=recorder.recorded(ended, 60),
            )
        )
    session.add_all(periods)
    await session.flush()
    return len(periods)
