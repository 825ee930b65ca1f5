"""The demo's waiting list: people waiting for a bed now, through the service as the bed
manager records them, and one request cancelled two days ago."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.flow.plan import (
    CANCELLED_NOTE,
    CANCELLED_REASON,
    HOUR,
    WAITING,
    Recorder,
    new_patient,
    returning_patient,
)
from app.demo.plan import Person, to_minute
from app.flow import requests, schemas


async def waiting_list(
    session: AsyncSession, recorder: Recorder, people: list[Person]
) -> list[float]:
    """Returns the hours each person now waiting has waited since the decision to admit."""
    rng, now = recorder.rng, recorder.now
    waited = []
    for plan in WAITING:
        decided = to_minute(now - rng.uniform(*plan.hours_ago) * HOUR)
        patient = None
        # Some are known to the trust from an earlier admission.
        if plan.ward_type != "older_adult_acute" and rng.random() < 0.4:
            patient = await returning_patient(session, recorder, people)
        if patient is None:
            patient = await new_patient(session, recorder, plan.ward_type, decided)
        await requests.create_request(
            session,
            actor=recorder.bed_manager,
            data=schemas.BedRequestIn.model_validate(
                {
                    "patient_id": patient.id,
                    "decision_to_admit_at": decided,
                    "ward_type": plan.ward_type,
                    "note": plan.note,
                }
            ),
            now=recorder.recorded(decided),
        )
        waited.append((now - decided) / HOUR)

    decided = to_minute(now - rng.uniform(50, 70) * HOUR)
    patient = await new_patient(session, recorder, "adult_acute", decided)
    request = await requests.create_request(
        session,
        actor=recorder.bed_manager,
        data=schemas.BedRequestIn(
            patient_id=patient.id,
            decision_to_admit_at=decided,
            ward_type="adult_acute",
            note=CANCELLED_NOTE,
        ),
        now=recorder.recorded(decided),
    )
    cancelled = to_minute(decided + rng.uniform(4, 10) * HOUR)
    await requests.cancel_request(
        session,
        actor=recorder.bed_manager,
        request_id=request.id,
        data=schemas.CancelIn(at=cancelled, reason=CANCELLED_REASON),
        now=recorder.recorded(cancelled),
    )
    return waited
