"""A constructed week for the weekly report, built through the JSON API, with every figure
worked out by hand below (tests/reports/test_figures.py checks them).

The week: Monday 23 March 2026 00:00 GMT to Monday 30 March 2026 00:00 BST, the week the
clocks go forward (Sunday 29 March, 01:00 GMT becomes 02:00 BST): 167 hours long. Its
midnights, ending each day: Tue 24, Wed 25, Thu 26, Fri 27, Sat 28, Sun 29, Mon 30.

The world (tests/factories.py): wards ASH (6 beds, female), BIRCH (4, male), CEDAR (3,
mixed) on site STJ; 13 beds.

- P1, White (A), female, ASH A1: admitted Fri 20 Mar, still in: 7 bed days.
- P2, Black (M), female, ASH A2: admitted Tue 24 Mar 14:00, discharged Thu 26 Mar 09:00
  (inside the week): 2 (Wed 25, Thu 26).
- P3, Asian (H), male, learning disability, BIRCH B1: waited 14 h for a bed; admitted Sat 28
  Mar 22:00, discharged Tue 31 Mar (after the week): 2 (Sun 29, Mon 30).
- P4, Mixed (D), female, CEDAR C1: admitted 10 Jan, discharged Mon 23 Mar 10:00 (72 days,
  a long stay): 0.
- P5, Other (R), male: placed out of area (no local bed) Fri 27 Mar 10:00, still there.

Occupied bed days 7 + 2 + 2 + 0 = 11. Bed C3 closed Thu 26 12:00 to Sat 28 12:00: closed at
the midnights of Fri 27 and Sat 28, so open bed days 13 x 7 - 2 = 89.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from tests.factories import World, patient_body

API = "/api/v1"
WEEK_ENDING = date(2026, 3, 29)
AFTER = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def t(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant (GMT before 29 March 01:00 UTC, BST = UTC+1 after)."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Built:
    patients: dict[str, int] = field(default_factory=dict)
    admissions: dict[str, int] = field(default_factory=dict)


async def post(client: httpx.AsyncClient, world: World, path: str, body: dict[str, Any]) -> Any:
    r = await client.post(f"{API}{path}", headers=world.auth(), json=body)
    assert r.status_code in (200, 201), (path, r.text)
    return r.json()


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def build(client: httpx.AsyncClient, world: World, clock: Any) -> Built:
    built = Built()
    # Bed C3 closed and opened again: its audit entries carry the time (the clock's).
    for moment, status, reason in (
        (t(3, 26, 12), "closed", "Ligature point repair"),
        (t(3, 28, 12), "open", None),
    ):
        clock.now = moment
        r = await client.patch(
            f"{API}/wards/CEDAR/beds/C3",
            headers=world.auth(),
            json={"status": status, **({"reason": reason} if reason else {})},
        )
        assert r.status_code == 200, r.text
    clock.now = AFTER
    world.now = AFTER

    people = {
        "P1": {"ethnic_category": "A", "sex": "female", "date_of_birth": "1990-01-02"},
        "P2": {"ethnic_category": "M", "sex": "female", "date_of_birth": "1985-06-15"},
        "P3": {"ethnic_category": "H", "sex": "male", "date_of_birth": "1970-03-01",
               "learning_disability": True},
        "P4": {"ethnic_category": "D", "sex": "female", "date_of_birth": "1950-05-05"},
        "P5": {"ethnic_category": "R", "sex": "male", "date_of_birth": "1995-07-07"},
    }  # fmt: skip
    for name, fields in people.items():
        built.patients[name] = (await post(client, world, "/patients", patient_body(**fields)))[
            "id"
        ]

    async def admit(name: str, ward: str, bed: str, at: datetime, **extra: Any) -> int:
        body = {
            "patient_id": built.patients[name],
            "ward_code": ward,
            "bed_label": bed,
            "admitted_at": iso(at),
            "legal_status": "s2",
            "reason": "Relapse, not safe at home",
            "expected_benefit": "Stabilise and go home",
            **extra,
        }
        admission_id = (await post(client, world, "/admissions", body))["id"]
        built.admissions[name] = admission_id
        return int(admission_id)

    p4 = await admit("P4", "CEDAR", "C1", t(1, 10, 10))
    await post(client, world, f"/admissions/{p4}/discharge",
               {"at": iso(t(3, 23, 10)), "destination": "usual_residence"})  # fmt: skip
    p1 = await admit("P1", "ASH", "A1", t(3, 20, 10))
    p2 = await admit("P2", "ASH", "A2", t(3, 24, 14))
    await post(client, world, f"/admissions/{p2}/discharge",
               {"at": iso(t(3, 26, 9)), "destination": "usual_residence"})  # fmt: skip
    request = await post(
        client,
        world,
        "/bed-requests",
        {"patient_id": built.patients["P3"], "decision_to_admit_at": iso(t(3, 28, 8)),
         "ward_type": "adult_acute"},
    )  # fmt: skip
    p3 = await admit("P3", "BIRCH", "B1", t(3, 28, 22), bed_request_id=request["id"])

    # Seclusion of P1: Sun 22 Mar 20:00 to Mon 23 Mar 02:00 (2 h of it in the week), and
    # Sun 29 Mar 00:30 GMT to 03:30 BST (00:30 to 02:30 UTC: 2 h, the clocks went forward).
    for start, end in ((t(3, 22, 20), t(3, 23, 2)), (t(3, 29, 0, 30), t(3, 29, 2, 30))):
        seclusion = await post(
            client,
            world,
            f"/admissions/{p1}/seclusions",
            {"started_at": iso(start), "authorised_by_role": "psychiatrist",
             "reason": "Assaulted a member of staff"},
        )  # fmt: skip
        await post(client, world, f"/seclusions/{seclusion['id']}/end",
                   {"at": iso(end), "note": "Calm, returned to the ward"})  # fmt: skip

    # Segregation of P3 from Sun 29 Mar 12:00 BST (11:00 UTC) to Tue 31 Mar 08:00 UTC:
    # 12 hours (0.5 days) of it in the week.
    segregation = await post(
        client, world, f"/admissions/{p3}/segregations",
        {"started_at": iso(t(3, 29, 11)), "reason": "Sustained risk to others"},
    )  # fmt: skip
    await post(client, world, f"/segregations/{segregation['id']}/end",
               {"at": iso(t(3, 31, 8)), "note": "Mixing safely again"})  # fmt: skip
    await post(client, world, f"/admissions/{p3}/discharge",
               {"at": iso(t(3, 31, 10)), "destination": "usual_residence"})  # fmt: skip

    # Uses of force: P2 prone on Wed 25 Mar; P1 standing on Fri 27 Mar; P1 one before the week.
    for admission, at, code in ((p2, t(3, 25, 10), "01"), (p1, t(3, 27, 15), "07"),
                                (p1, t(3, 21, 15), "07")):  # fmt: skip
        await post(
            client,
            world,
            f"/admissions/{admission}/restrictive-interventions",
            {
                "started_at": iso(at),
                "ended_at": iso(at.replace(minute=10)),
                "reason_code": "10",
                "types": [{"type_code": code}],
                "staff": [{"name": "Sam Nurse", "job_title": "Staff nurse"}],
            },
        )

    # P1 clinically ready for discharge from Thu 26 Mar 15:00 (waiting for a care package):
    # the midnights of Fri 27, Sat 28, Sun 29, Mon 30: 4 days.
    await post(client, world, f"/admissions/{p1}/ready-for-discharge",
               {"started_at": iso(t(3, 26, 15)), "reason_code": "09",
                "attributable_to": "social_care"})  # fmt: skip

    # P5 placed out of area, no local bed (Manchester, about 58 km from Leeds).
    await post(
        client,
        world,
        "/out-of-area-placements",
        {"patient_id": built.patients["P5"], "provider_name": "Elsewhere Hospital",
         "latitude": 53.48, "longitude": -2.24, "bed_type": "200", "reason_code": "10",
         "started_at": iso(t(3, 27, 10))},
    )  # fmt: skip
    return built


async def add_alerts(session: Any, world: World, admission_id: int) -> None:
    """Two alerts on ASH: one raised in the week and still open at its end; one raised the
    week before, cleared then, resolved in the week."""
    from app.alerts.models import Alert

    ward = world.wards["ASH"].id
    common = {"severity": "high", "subject_type": "admission", "subject_id": admission_id,
              "admission_id": admission_id, "ward_id": ward, "parameters": {}}  # fmt: skip
    session.add_all(
        [
            Alert(rule="ADM_PURPOSE_REVIEW", status="open", due_at=t(3, 24, 9),
                  raised_at=t(3, 24, 9, 1), message="Purpose review overdue", **common),
            Alert(rule="ADM_WAIT", status="resolved", due_at=t(3, 18, 9),
                  raised_at=t(3, 18, 9, 1), cleared_at=t(3, 19, 9), resolved_at=t(3, 24, 11),
                  resolved_by="lead", resolve_note="Seen at the weekly meeting",
                  message="Waited too long", **common),
        ]
    )  # fmt: skip
    await session.commit()
