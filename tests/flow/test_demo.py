"""The demo trust's bed flow, read back through the API as a bed manager or the board would:
people waiting (two past the 12-hour standard), people placed out of area at real
distances (one overdue its review, two brought back), people ready for discharge with the
reasons that hold people up; made through the services, and the same for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import User
from app.auth.service import make_api_token
from app.demo import seed_demo
from app.demo.places import LOCALITIES
from app.discharge.models import ReadyForDischarge
from app.flow.models import BedRequest, OutOfAreaPlacement, PlacementReview
from app.wards.models import Admission, Locality, Patient, Ward, WardStay
from tests.flow.helpers import reference_km

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # the clock fixture's time
API = "/api/v1"
TRUST = {spec.code for spec in LOCALITIES if spec.weight}
# What really holds people up: housing, care packages, care homes, funding.
USUAL_DELAYS = {"14", "15", "16", "17", "18", "19", "09", "07", "08", "04"}


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def seeded(session, clock) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Seed the demo as of the test clock; API headers for its bed manager and admin."""
    assert clock.now == NOW
    await seed_demo(session, now=NOW)
    headers = {}
    for username in ("bedmanager", "admin"):
        user = await session.scalar(select(User).where(User.username == username))
        token = await make_api_token(session, user=user, now=NOW)
        headers[username] = {"Authorization": f"Bearer {token}"}
    await session.commit()
    return headers


async def get(client, url: str, headers: dict[str, str]) -> Any:  # type: ignore[no-untyped-def]
    response = await client.get(f"{API}{url}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_demo_has_people_waiting_and_placed_out_of_area(session, clock, client):
    headers = (await seeded(session, clock))["bedmanager"]
    in_hospital = set(
        await session.scalars(select(Admission.patient_id).where(Admission.discharged_at.is_(None)))
    )

    waiting = await get(client, "/bed-requests?open=true", headers)
    assert 4 <= len(waiting) <= 8
    hours = [r["waiting_minutes"] / 60 for r in waiting]
    assert sum(h > 12 for h in hours) >= 2  # past the 12-hour standard
    assert sum(h <= 12 for h in hours) >= 2
    assert max(hours) <= 48  # decisions over the last day or two
    for request in waiting:
        assert request["status"] == "open"
        assert request["patient_id"] not in in_hospital
        assert request["person"]["home_locality_code"] in TRUST
        assert request["note"]
        assert request["waiting_minutes"] == (NOW - instant(request["decision_to_admit_at"])) / (
            timedelta(minutes=1)
        )
    kinds = Counter(r["ward_type"] for r in waiting)
    assert kinds["adult_acute"] + kinds["picu"] > len(waiting) / 2 and kinds["picu"] >= 1

    homes = {
        code: (lat, lon)
        for code, lat, lon in (
            await session.execute(select(Locality.code, Locality.latitude, Locality.longitude))
        ).all()
    }
    placed = await get(client, "/out-of-area-placements?open=true", headers)
    assert 2 <= len(placed) <= 5
    for placement in placed:
        assert placement["patient_id"] not in in_hospital
        assert 30 <= placement["distance_km"] <= 250
        home = homes[placement["person"]["home_locality_code"]]
        there = (placement["latitude"], placement["longitude"])
        assert abs(placement["distance_km"] - reference_km(home, there)) <= 0.1
        assert 600 <= float(placement["daily_cost"]) <= 900
        assert placement["bed_type"] in ("200", "202")
        # Each met a bed request, which it closed.
        request = await get(client, f"/bed-requests/{placement['bed_request_id']}", headers)
        assert request["status"] == "placed_out_of_area"
    reasons = Counter(p["reason_code"] for p in placed)
    assert reasons["11"] == 1 and reasons["10"] >= len(placed) - 1  # mostly "no local bed"
    assert any(p["reviews"] for p in placed)
    three_months_ago = NOW - timedelta(days=92)
    overdue = [
        p for p in placed if instant(p["last_reviewed_at"] or p["started_at"]) < three_months_ago
    ]
    assert len(overdue) == 1

    ended = [p for p in await get(client, "/out-of-area-placements?open=false", headers)]
    assert len(ended) >= 2
    for placement in ended:
        assert placement["outcome"] == "repatriated"
        # Brought back to a local bed: an admission here began as the placement ended.
        admitted = await session.scalar(
            select(Admission.admitted_at).where(
                Admission.patient_id == placement["patient_id"],
                Admission.admitted_at == instant(placement["ended_at"]),
            )
        )
        assert admitted is not None
        assert all(instant(r["at"]) <= instant(placement["ended_at"]) for r in placement["reviews"])

    cancelled = [r for r in await get(client, "/bed-requests?open=false", headers)]
    assert any(r["status"] == "cancelled" and r["cancel_reason"] for r in cancelled)

    # Made through the services: each is in the audit log as a bed manager's entry.
    actions = Counter(
        (
            await session.execute(
                select(AuditEntry.action, AuditEntry.username).where(
                    AuditEntry.action.in_(["bed_request.create", "out_of_area_placement.create"])
                )
            )
        ).all()
    )
    assert actions[("bed_request.create", "bedmanager")] == await session.scalar(
        select(func.count()).select_from(BedRequest)
    )
    assert actions[("out_of_area_placement.create", "bedmanager")] == len(placed) + len(ended)


async def test_demo_has_people_ready_for_discharge(session, clock, client):
    headers = (await seeded(session, clock))["admin"]
    open_admissions = {
        admission_id: ward
        for admission_id, ward in (
            await session.execute(
                select(Admission.id, Ward.code)
                .join(WardStay, WardStay.admission_id == Admission.id)
                .join(Ward, Ward.id == WardStay.ward_id)
                .where(Admission.discharged_at.is_(None), WardStay.ended_at.is_(None))
            )
        ).all()
    }
    periods = list(await session.scalars(select(ReadyForDischarge)))
    now_ready = [p for p in periods if p.ended_at is None]

    # About one in eight people on the wards, each on an admission still open.
    assert 0.09 * len(open_admissions) <= len(now_ready) <= 0.16 * len(open_admissions)
    assert all(p.admission_id in open_admissions for p in now_ready)
    reasons = Counter(p.reason_code for p in now_ready)
    assert sum(reasons[c] for c in USUAL_DELAYS) >= 0.7 * len(now_ready)
    assert len(reasons) >= 4
    assert {p.attributable_to for p in now_ready} >= {"social_care", "both"}

    # Read back as the API and the board show them: reason by name, days delayed so far.
    days = []
    for period in now_ready:
        admission = await get(client, f"/admissions/{period.admission_id}", headers)
        (shown,) = [r for r in admission["ready_for_discharge_periods"] if r["ended_at"] is None]
        assert shown["reason_code"] == period.reason_code and shown["reason"]
        days.append(shown["days_delayed"])
    assert sum(d > 7 for d in days) >= 3 and sum(d <= 7 for d in days) >= 3
    period = now_ready[0]
    board = await get(client, f"/wards/{open_admissions[period.admission_id]}/board", headers)
    (card,) = [
        b["occupant"]["ready_for_discharge"]
        for b in board["beds"]
        if b["occupant"] and b["occupant"]["admission_id"] == period.admission_id
    ]
    assert card["id"] == period.id and card["reason_code"] == period.reason_code

    # A few in the history, each inside its discharged admission.
    past = [p for p in periods if p.ended_at is not None]
    assert len(past) >= 5
    rows = await session.execute(
        select(Admission.id, Admission.admitted_at, Admission.discharged_at).where(
            Admission.id.in_([p.admission_id for p in past])
        )
    )
    spans = {admission_id: (admitted, discharged) for admission_id, admitted, discharged in rows}
    for p in past:
        admitted, discharged = spans[p.admission_id]
        assert discharged is not None
        assert admitted <= p.started_at <= p.ended_at <= discharged
    assert sum(p.ended_at == spans[p.admission_id][1] for p in past) >= len(past) - 2

    # Those on the wards now were marked through the service, by the ward's nurse or admin.
    starts = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "ready_for_discharge.start")
    )
    assert starts == len(now_ready)


async def _fingerprint(session) -> tuple:  # type: ignore[no-untyped-def]
    """What was made, without ids (PostgreSQL does not give ids back on a rollback)."""
    return (
        (
            await session.execute(
                select(
                    BedRequest.decision_to_admit_at, BedRequest.ward_type, BedRequest.status
                ).order_by(BedRequest.id)
            )
        ).all(),
        (
            await session.execute(
                select(
                    OutOfAreaPlacement.provider_name,
                    OutOfAreaPlacement.started_at,
                    OutOfAreaPlacement.daily_cost,
                    OutOfAreaPlacement.ended_at,
                ).order_by(OutOfAreaPlacement.id)
            )
        ).all(),
        (await session.execute(select(PlacementReview.at).order_by(PlacementReview.id))).all(),
        (
            await session.execute(
                select(
                    Admission.admitted_at,
                    ReadyForDischarge.started_at,
                    ReadyForDischarge.reason_code,
                    ReadyForDischarge.attributable_to,
                )
                .join(Admission, Admission.id == ReadyForDischarge.admission_id)
                .order_by(Admission.admitted_at, ReadyForDischarge.started_at)
            )
        ).all(),
        (await session.execute(select(Patient.nhs_number).order_by(Patient.id))).all(),
    )


async def test_demo_bed_flow_is_the_same_for_the_same_seed(session):
    nested = await session.begin_nested()
    await seed_demo(session, now=NOW, rng_seed=11)
    first = await _fingerprint(session)
    await nested.rollback()

    await seed_demo(session, now=NOW, rng_seed=11)

    assert first[0] and first[1] and first[3]
    assert await _fingerprint(session) == first
