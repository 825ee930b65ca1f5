"""Rule scenarios: records made through the JSON API (as staff would make them), rule runs
called directly with the as_of and now each test needs, alerts read back from the database.

The test clock is the time records are typed in (their ``created_at`` / ``recorded_at``);
the times in the bodies are when things happened. Moving ``clock.now`` between calls is how
a test says "this was recorded late".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import engine
from app.alerts.engine import RunResult
from app.alerts.models import Alert
from app.rules import settings
from tests.factories import World, patient_body

API = "/api/v1"
SEC = timedelta(seconds=1)
MIN = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
LONDON = ZoneInfo("Europe/London")


async def start_seclusion(
    client: httpx.AsyncClient, world: World, admission_id: int, start: datetime, user: str = "admin"
) -> dict[str, Any]:
    """A seclusion through the JSON API, authorised by the nurse in charge (so the first
    medical review is due an hour after ``start``)."""
    r = await client.post(
        f"{API}/admissions/{admission_id}/seclusions",
        headers=world.auth(user),
        json={
            "started_at": start.isoformat(),
            "authorised_by_role": "nurse_in_charge",
            "reason": "Assaulted a member of staff; continuing risk to others",
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def run_via_api(client: httpx.AsyncClient, world: World, **body: Any) -> dict[str, Any]:
    """POST /rules/run as the admin; every rule must have run without error."""
    r = await client.post(f"{API}/rules/run", headers=world.auth("admin"), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == {}
    return dict(r.json())


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UK wall-clock time as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def force_record(start: datetime, end: datetime, **overrides: Any) -> dict[str, Any]:
    """A complete use-of-force record (nothing the Act requires is missing); an override of
    ... drops an item."""
    body: dict[str, Any] = {
        "started_at": iso(start),
        "ended_at": iso(end),
        "reason_code": "10",
        "types": [{"type_code": "07"}],
        "staff": [{"name": "Sam Okafor", "job_title": "Staff nurse"}],
        "description": "Held standing by two staff.",
        "in_care_plan": True,
        "non_unit_staff_reason": "No one from outside the unit's staff took part.",
        "outcome": "Settled; reviewed by the duty doctor.",
        "avoidance_efforts": "Talked down; offered PRN and a quiet room.",
        "patient_injury": False,
        "staff_injury": False,
        "care_plan_notification_sent": True,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@dataclass
class Scenario:
    session: AsyncSession
    client: httpx.AsyncClient
    world: World
    clock: Any

    # --- the API -----------------------------------------------------------------------

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, user: str = "admin"
    ) -> dict[str, Any]:
        r = await self.client.request(
            method, f"{API}{path}", json=body, headers=self.world.auth(user)
        )
        assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    async def patient(self, **overrides: Any) -> int:
        return (await self.call("POST", "/patients", patient_body(**overrides)))["id"]

    async def ward(self, code: str, ward_type: str, sex: str, min_age: int, beds: int) -> None:
        await self.call(
            "POST",
            "/wards",
            {
                "code": code,
                "name": f"{code.title()} Ward",
                "site_code": "STJ",
                "ward_type": ward_type,
                "sex": sex,
                "min_age": min_age,
                "max_age": 120,
            },
        )
        for i in range(1, beds + 1):
            await self.call("POST", f"/wards/{code}/beds", {"label": f"{code[0]}{i}"})

    async def admit(
        self,
        at: datetime,
        *,
        ward: str = "ASH",
        bed: str | None = None,
        patient_id: int | None = None,
        decision_to_admit_at: datetime | None = None,
        **patient: Any,
    ) -> int:
        if patient_id is None:
            patient_id = await self.patient(**patient)
        body: dict[str, Any] = {
            "patient_id": patient_id,
            "ward_code": ward,
            "bed_label": bed or f"{ward[0]}1",
            "admitted_at": iso(at),
            "legal_status": "s2",
            "reason": "Psychotic relapse, not safe at home",
            "expected_benefit": "Restart medication and stabilise",
        }
        if decision_to_admit_at is not None:
            body["decision_to_admit_at"] = iso(decision_to_admit_at)
        return (await self.call("POST", "/admissions", body))["id"]

    async def transfer(self, admission_id: int, at: datetime, ward: str, bed: str) -> None:
        await self.call(
            "POST",
            f"/admissions/{admission_id}/transfer",
            {"ward_code": ward, "bed_label": bed, "at": iso(at), "reason": "Clinical need"},
        )

    async def discharge(self, admission_id: int, at: datetime) -> None:
        await self.call(
            "POST",
            f"/admissions/{admission_id}/discharge",
            {"at": iso(at), "destination": "usual_residence"},
        )

    async def purpose_review(self, admission_id: int, at: datetime) -> None:
        await self.call(
            "POST",
            f"/admissions/{admission_id}/purpose-reviews",
            {"at": iso(at), "still_needed": True, "note": "Still needs hospital care"},
        )

    async def seclusion(
        self, admission_id: int, start: datetime, role: str = "nurse_in_charge"
    ) -> int:
        body = {"started_at": iso(start), "authorised_by_role": role, "reason": "Assault"}
        return (await self.call("POST", f"/admissions/{admission_id}/seclusions", body))["id"]

    async def seclusion_review(self, seclusion_id: int, kind: str, at: datetime) -> None:
        body = {"kind": kind, "at": iso(at), "note": f"{kind} review"}
        await self.call("POST", f"/seclusions/{seclusion_id}/reviews", body)

    async def observe(self, seclusion_id: int, at: datetime) -> None:
        body = {"at": iso(at), "note": "Sitting on the mattress"}
        await self.call("POST", f"/seclusions/{seclusion_id}/observations", body)

    async def end_seclusion(self, seclusion_id: int, at: datetime) -> None:
        await self.call("POST", f"/seclusions/{seclusion_id}/end", {"at": iso(at), "note": "Calm"})

    async def segregation(
        self,
        admission_id: int,
        start: datetime,
        *,
        commissioner: datetime | None = None,
        imha: datetime | None = None,
    ) -> int:
        body: dict[str, Any] = {"started_at": iso(start), "reason": "Sustained risk to others"}
        if commissioner is not None:
            body["commissioner_informed_at"] = iso(commissioner)
        if imha is not None:
            body["imha_informed_at"] = iso(imha)
        return (await self.call("POST", f"/admissions/{admission_id}/segregations", body))["id"]

    async def inform(self, segregation_id: int, **informed_at: datetime) -> None:
        body = {f"{who}_informed_at": iso(at) for who, at in informed_at.items()}
        await self.call("PATCH", f"/segregations/{segregation_id}", body)

    async def segregation_review(self, segregation_id: int, kind: str, at: datetime) -> None:
        body = {"kind": kind, "at": iso(at), "note": f"{kind} review"}
        await self.call("POST", f"/segregations/{segregation_id}/reviews", body)

    async def end_segregation(self, segregation_id: int, at: datetime) -> None:
        await self.call(
            "POST", f"/segregations/{segregation_id}/end", {"at": iso(at), "note": "Back on ward"}
        )

    async def force(self, admission_id: int, body: dict[str, Any]) -> int:
        path = f"/admissions/{admission_id}/restrictive-interventions"
        return (await self.call("POST", path, body))["id"]

    async def patch_force(self, intervention_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PATCH", f"/restrictive-interventions/{intervention_id}", body)

    async def close_bed(self, ward: str, label: str) -> None:
        await self.call(
            "PATCH", f"/wards/{ward}/beds/{label}", {"status": "closed", "reason": "Repairs"}
        )

    async def change_rule(
        self,
        code: str,
        parameters: dict[str, Any] | None = None,
        *,
        severity: str | None = None,
        enabled: bool | None = None,
    ) -> None:
        await settings.change_rule(
            self.session,
            actor=self.world.users["lead"],
            code=code,
            parameters=parameters,
            severity=severity,
            enabled=enabled,
            now=self.clock.now,
        )
        await self.session.commit()

    # --- rule runs and their alerts ----------------------------------------------------

    async def run(self, as_of: datetime, now: datetime | None = None) -> RunResult:
        """One run, as the scheduler makes it: at ``now`` (the clock, or as_of if later)."""
        now = now or max(as_of, self.clock.now)
        result = await engine.run_rules(self.session, as_of=as_of, now=now, trigger="test")
        await self.session.commit()
        return result

    async def alerts(self, rule: str, subject_id: int | None = None) -> list[Alert]:
        query = select(Alert).where(Alert.rule == rule)
        if subject_id is not None:
            query = query.where(Alert.subject_id == subject_id)
        found = await self.session.scalars(
            query.order_by(Alert.due_at).execution_options(populate_existing=True)
        )
        return list(found)

    async def dues(self, rule: str, subject_id: int | None = None) -> list[datetime]:
        return [a.due_at for a in await self.alerts(rule, subject_id)]

    async def states(
        self, rule: str, subject_id: int | None = None
    ) -> list[tuple[datetime, str, datetime | None]]:
        """(due_at, status, cleared_at) of each alert, oldest first."""
        return [(a.due_at, a.status, a.cleared_at) for a in await self.alerts(rule, subject_id)]


# --- bed flow (issue 5): the waiting list, out-of-area placements, ready for discharge ----

HOME_LEEDS = (53.8, -1.55)  # the LDS locality every test patient lives in
PRIORY_LONDON = (51.5074, -0.1278)  # about 272 km from Leeds
YORK_CLINIC = (53.96, -1.08)  # about 36 km from Leeds


class FlowScenario(Scenario):
    """Bed flow's records through the API, and runs through ``POST /rules/run``."""

    async def bed_request(self, patient_id: int, decided: datetime, user: str = "beds") -> int:
        body = {
            "patient_id": patient_id,
            "decision_to_admit_at": iso(decided),
            "ward_type": "adult_acute",
            "note": "Assessed in A&E, needs an acute bed",
        }
        return (await self.call("POST", "/bed-requests", body, user=user))["id"]

    async def cancel_request(self, request_id: int, at: datetime) -> None:
        body = {"at": iso(at), "reason": "Crisis team will support at home"}
        await self.call("POST", f"/bed-requests/{request_id}/cancel", body, user="beds")

    async def admit_from_request(
        self,
        request_id: int,
        patient_id: int,
        at: datetime,
        *,
        ward: str = "ASH",
        bed: str = "A1",
        decision_to_admit_at: datetime | None = None,
    ) -> int:
        body: dict[str, Any] = {
            "patient_id": patient_id,
            "ward_code": ward,
            "bed_label": bed,
            "admitted_at": iso(at),
            "legal_status": "s2",
            "reason": "Psychotic relapse, not safe at home",
            "expected_benefit": "Restart medication and stabilise",
            "bed_request_id": request_id,
        }
        if decision_to_admit_at is not None:
            body["decision_to_admit_at"] = iso(decision_to_admit_at)
        return (await self.call("POST", "/admissions", body))["id"]

    async def place(
        self,
        patient_id: int,
        start: datetime,
        *,
        reason: str = "10",
        where: tuple[float, float] = PRIORY_LONDON,
        request_id: int | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "patient_id": patient_id,
            "provider_name": "Priory Hospital Roehampton",
            "latitude": where[0],
            "longitude": where[1],
            "bed_type": "200",
            "reason_code": reason,
            "started_at": iso(start),
            "daily_cost": "750.00",
        }
        if request_id is not None:
            body["bed_request_id"] = request_id
        return await self.call("POST", "/out-of-area-placements", body, user="beds")

    async def review_placement(self, placement_id: int, at: datetime) -> None:
        body = {"at": iso(at), "note": "Reviewed with the provider: still needs this bed"}
        await self.call("POST", f"/out-of-area-placements/{placement_id}/reviews", body, "beds")

    async def end_placement(self, placement_id: int, at: datetime) -> None:
        body = {"at": iso(at), "outcome": "repatriated"}
        await self.call("POST", f"/out-of-area-placements/{placement_id}/end", body, "beds")

    async def ready(self, admission_id: int, start: datetime) -> int:
        body = {"started_at": iso(start), "reason_code": "15", "attributable_to": "social_care"}
        return (await self.call("POST", f"/admissions/{admission_id}/ready-for-discharge", body))[
            "id"
        ]

    async def end_ready(self, period_id: int, at: datetime) -> None:
        await self.call("POST", f"/ready-for-discharge/{period_id}/end", {"at": iso(at)})

    async def patch_rule(self, code: str, body: dict[str, Any]) -> None:
        """A rule change through the API, as the safeguarding lead makes it."""
        await self.call("PATCH", f"/rules/{code}", body, user="lead")

    async def run_api(self, as_of: datetime) -> dict[str, Any]:
        """A run through ``POST /rules/run``. The run happens now, and as_of cannot be in the
        future, so the clock moves on to as_of if it is behind (it never moves back):
        whatever is recorded afterwards is recorded after this run."""
        self.clock.now = max(self.clock.now, as_of)
        return await run_via_api(self.client, self.world, as_of=iso(as_of))

    async def alerts_on(self, rule: str, subject_type: str, subject_id: int) -> list[Alert]:
        """One subject's alerts (ADM_WAIT is raised on admissions and on bed requests, whose
        ids overlap)."""
        return [a for a in await self.alerts(rule, subject_id) if a.subject_type == subject_type]

    async def states_on(
        self, rule: str, subject_type: str, subject_id: int
    ) -> list[tuple[datetime, str, datetime | None]]:
        return [
            (a.due_at, a.status, a.cleared_at)
            for a in await self.alerts_on(rule, subject_type, subject_id)
        ]
