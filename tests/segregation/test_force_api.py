"""Use-of-force records through the API: what the Act requires, what may be missing, who may
write, every refusal (with nothing written), and corrections kept as versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEntry
from app.discharge import service as discharge_service
from app.segregation.force.checks import MISSING_LABELS, missing_items
from app.segregation.force.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
)
from app.wards import admissions
from app.wards import schemas as ward_schemas

API = "/api/v1"
START = "2026-03-09T10:00:00Z"
END = "2026-03-09T10:12:00Z"
ALL_ITEMS = [
    "reason_code",
    "ended_at",
    "types",
    "in_care_plan",
    "description",
    "staff",
    "non_unit_staff_reason",
    "outcome",
    "patient_injury",
    "staff_injury",
    "avoidance_efforts",
    "care_plan_notification_sent",
]


def complete_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "started_at": START,
        "ended_at": END,
        "reason_code": "10",
        "types": [
            {
                "type_code": "01",
                "started_at": "2026-03-09T10:02:00Z",
                "ended_at": "2026-03-09T10:05:00Z",
            },
            {"type_code": "07"},
        ],
        "staff": [
            {"name": "Sam Okafor", "job_title": "Staff nurse"},
            {"name": "Lee Chan", "job_title": "Healthcare assistant"},
        ],
        "description": "Held standing, then briefly prone while she was turned to the mat.",
        "in_care_plan": True,
        "non_unit_staff_reason": "No one from outside the unit's staff took part.",
        "outcome": "Settled after 12 minutes; reviewed by the duty doctor.",
        "avoidance_efforts": "Talked down for 20 minutes; offered PRN and a quiet room.",
        "patient_injury": False,
        "staff_injury": False,
        "care_plan_notification_sent": True,
        "debriefed_at": "2026-03-09T15:00:00Z",
        "place": "Ward lounge",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


async def counts(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        model.__name__: await session.scalar(select(func.count()).select_from(model))
        for model in (
            RestrictiveIntervention,
            InterventionType,
            InterventionStaff,
            InterventionVersion,
            AuditEntry,
        )
    }


async def create(client, world, admission_id: int, body: dict[str, Any], user: str = "nurse"):  # type: ignore[no-untyped-def]
    return await client.post(
        f"{API}/admissions/{admission_id}/restrictive-interventions",
        headers=world.auth(user),
        json=body,
    )


async def created(client, world, admission_id: int, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await create(client, world, admission_id, complete_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def patch(client, world, record_id: int, body: dict[str, Any], user: str = "nurse"):  # type: ignore[no-untyped-def]
    return await client.patch(
        f"{API}/restrictive-interventions/{record_id}", headers=world.auth(user), json=body
    )


@pytest.fixture
async def admission(world):  # type: ignore[no-untyped-def]
    return await world.admit()  # ASH, bed A1, admitted 2026-03-08T12:00Z


# --- creating ----------------------------------------------------------------------------


async def test_a_complete_record_holds_every_item_and_is_complete(
    client, world, admission, session
):
    r = await create(client, world, admission.id, complete_body())

    assert r.status_code == 201
    rec = r.json()
    assert rec["admission_id"] == admission.id and rec["patient_id"] == admission.patient_id
    assert rec["ward_code"] == "ASH" and rec["place"] == "Ward lounge"
    assert (rec["started_at"], rec["ended_at"]) == (START, END)
    assert rec["reason_code"] == "10"
    assert rec["types"] == [
        {
            "type_code": "01",
            "name": "Physical restraint - prone",
            "started_at": "2026-03-09T10:02:00Z",
            "ended_at": "2026-03-09T10:05:00Z",
        },
        # No times of its own: it lasted the whole intervention.
        {
            "type_code": "07",
            "name": "Physical restraint - standing",
            "started_at": START,
            "ended_at": END,
        },
    ]
    assert rec["staff"] == complete_body()["staff"]
    assert rec["in_care_plan"] is True and rec["patient_injury"] is False
    assert rec["missing"] == [] and rec["complete"] is True
    assert rec["version"] == 1
    assert rec["versions"] == [
        {
            "version": 1,
            "reason": None,
            "recorded_at": "2026-03-10T12:00:00Z",
            "recorded_by": "nurse",
        }
    ]
    assert rec["created_at"] == "2026-03-10T12:00:00Z"
    got = await client.get(
        f"{API}/restrictive-interventions/{rec['id']}", headers=world.auth("nurse")
    )
    assert got.json() == rec
    version = await session.scalar(select(InterventionVersion))
    assert version.data["description"] == complete_body()["description"]
    assert [t["type_code"] for t in version.data["types"]] == ["01", "07"]
    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "restrictive_intervention.create")
    )
    assert entry.username == "nurse" and entry.entity_id == str(rec["id"])


async def test_only_the_start_is_needed_at_first_and_missing_lists_the_acts_items_in_order(
    client, world, admission
):
    r = await create(client, world, admission.id, {"started_at": START})

    assert r.status_code == 201
    rec = r.json()
    assert rec["missing"] == ALL_ITEMS == list(MISSING_LABELS)
    assert rec["complete"] is False
    assert rec["types"] == [] and rec["staff"] == [] and rec["debriefed_at"] is None


@pytest.mark.parametrize(
    "field", ["description", "outcome", "avoidance_efforts", "non_unit_staff_reason"]
)
async def test_blank_text_counts_as_missing(client, world, admission, field):
    rec = await created(client, world, admission.id, **{field: "  \n "})

    assert rec[field] is None
    assert rec["missing"] == [field]


@pytest.mark.parametrize(
    "field", ["in_care_plan", "patient_injury", "staff_injury", "care_plan_notification_sent"]
)
async def test_a_yes_no_item_is_missing_only_when_null_not_when_false(
    client, world, admission, field
):
    assert (await created(client, world, admission.id, **{field: False}))["missing"] == []
    assert (await created(client, world, admission.id, **{field: None}))["missing"] == [field]


async def test_the_debrief_and_place_are_not_act_items(client, world, admission):
    rec = await created(client, world, admission.id, debriefed_at=None, place=None)
    assert rec["missing"] == [] and rec["complete"] is True


async def test_missing_items_reads_a_stored_record(client, world, admission, session):
    rec = await created(client, world, admission.id, staff=[], outcome=None)
    from app.segregation.force import service as force

    stored = await force.interventions_for_admission(session, admission.id)
    assert [r.id for r in stored] == [rec["id"]]
    assert missing_items(stored[0]) == ["staff", "outcome"]


# --- refusals ------------------------------------------------------------------------------


REFUSALS = [
    pytest.param({"reason_code": "20"}, "reason_code", "must be one of", id="unknown-reason"),
    pytest.param(
        {"types": [{"type_code": "02"}]}, "types.0.type_code", "must be one of", id="unknown-type"
    ),
    pytest.param(
        {"types": [{"type_code": "07"}, {"type_code": "05"}]},
        "types.1.type_code",
        "seclusion is recorded as an episode",
        id="seclusion",
    ),
    pytest.param(
        {"types": [{"type_code": "06"}]},
        "types.0.type_code",
        "segregation is recorded as an episode",
        id="segregation",
    ),
    pytest.param(
        {"types": [{"type_code": "01", "started_at": "2026-03-09T09:59:59Z"}]},
        "types.0.started_at",
        "before",
        id="type-starts-before",
    ),
    pytest.param(
        {"types": [{"type_code": "01", "ended_at": "2026-03-09T10:12:01Z"}]},
        "types.0.ended_at",
        "after the use of force ended",
        id="type-ends-after",
    ),
    pytest.param(
        {"types": [{"type_code": "01", "started_at": "2026-03-09T10:12:01Z"}]},
        "types.0.started_at",
        "after",
        id="type-starts-after-end",
    ),
    pytest.param(
        {
            "types": [
                {
                    "type_code": "01",
                    "started_at": "2026-03-09T10:05:00Z",
                    "ended_at": "2026-03-09T10:04:00Z",
                }
            ]
        },
        "types.0.ended_at",
        "at or after",
        id="type-ends-before-it-starts",
    ),
    pytest.param(
        {"ended_at": "2026-03-09T09:59:59Z", "types": []},
        "ended_at",
        "at or after",
        id="end-before-start",
    ),
    pytest.param(
        {"debriefed_at": "2026-03-09T09:59:00Z"},
        "debriefed_at",
        "before",
        id="debrief-before-start",
    ),
    pytest.param(
        {"started_at": "2026-03-08T11:59:59Z"},
        "started_at",
        "before the admission",
        id="before-admission",
    ),
    pytest.param({"started_at": "2026-03-09T10:00:00"}, "started_at", "offset", id="naive-start"),
    pytest.param({"ended_at": "2026-03-09T10:12:00"}, "ended_at", "offset", id="naive-end"),
    pytest.param({"started_at": ...}, "started_at", "required", id="no-start"),
    pytest.param({"in_care_plan": "yes"}, "in_care_plan", "", id="bool-as-text"),
    pytest.param(
        {"staff": [{"name": "Sam", "job_title": " "}]},
        "staff.0.job_title",
        "blank",
        id="staff-without-title",
    ),
    pytest.param({"restraint_minutes": 12}, "restraint_minutes", "not a field", id="unknown-field"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), REFUSALS)
async def test_refused_with_the_field_named_and_nothing_written(
    client, world, admission, session, overrides, field, message
):
    before = await counts(session)

    r = await create(client, world, admission.id, complete_body(**overrides))

    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert field in errors and message in errors[field], errors
    assert await counts(session) == before


@pytest.mark.parametrize(("minutes_ahead", "status"), [(0, 201), (5, 201), (6, 422)])
async def test_a_start_up_to_five_minutes_ahead_is_allowed(
    client, world, admission, clock, minutes_ahead, status
):
    at = (clock.now + timedelta(minutes=minutes_ahead)).isoformat()
    r = await create(client, world, admission.id, {"started_at": at})
    assert r.status_code == status
    if status == 422:
        assert r.json()["errors"] == [{"field": "started_at", "message": "cannot be in the future"}]


@pytest.mark.parametrize(("minutes_ahead", "status"), [(5, 201), (6, 422)])
async def test_an_end_debrief_or_type_time_too_far_ahead_is_refused(
    client, world, admission, clock, session, minutes_ahead, status
):
    ahead = (clock.now + timedelta(minutes=minutes_ahead)).isoformat()
    before = await counts(session)
    ended = await create(
        client, world, admission.id, complete_body(ended_at=ahead, types=[], debriefed_at=ahead)
    )
    # Still going on: a type's own times are checked against the clock, not an end.
    ongoing = await create(
        client,
        world,
        admission.id,
        complete_body(
            ended_at=None, debriefed_at=None, types=[{"type_code": "01", "started_at": ahead}]
        ),
    )

    assert (ended.status_code, ongoing.status_code) == (status, status)
    if status == 422:
        assert {e["field"] for e in ended.json()["errors"]} == {"ended_at", "debriefed_at"}
        assert [e["field"] for e in ongoing.json()["errors"]] == ["types.0.started_at"]
        assert await counts(session) == before


async def test_a_start_at_the_moment_of_admission_is_inside_it(client, world, admission):
    r = await create(client, world, admission.id, {"started_at": "2026-03-08T12:00:00Z"})
    assert r.status_code == 201


async def test_after_discharge_is_outside_the_admission(client, world, admission, session, clock):
    await discharge_service.discharge(
        session,
        actor=world.users["admin"],
        admission_id=admission.id,
        data=ward_schemas.DischargeIn(
            at=clock.now - timedelta(hours=1), destination="usual_residence"
        ),
        now=clock.now,
    )
    await session.commit()
    late = (clock.now - timedelta(minutes=59)).isoformat()
    r = await create(client, world, admission.id, {"started_at": late})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "started_at"
    # The record of an earlier incident can still be made after the person has gone home.
    assert (await create(client, world, admission.id, {"started_at": START})).status_code == 201


async def test_unknown_admission_and_record_are_404(client, world, admission):
    assert (await create(client, world, 99999, {"started_at": START})).status_code == 404
    for r in (
        await client.get(f"{API}/restrictive-interventions/99999", headers=world.auth("nurse")),
        await patch(client, world, 99999, {"outcome": "Settled"}),
        await client.get(f"{API}/admissions/99999/restrictive-interventions", headers=world.auth()),
    ):
        assert r.status_code == 404


@pytest.mark.parametrize("user", ["birchnurse", "beds", "director", "lead"])
async def test_only_staff_of_the_ward_and_admins_may_write(client, world, admission, session, user):
    rec = await created(client, world, admission.id)
    before = await counts(session)

    assert (
        await create(client, world, admission.id, complete_body(), user=user)
    ).status_code == 403
    assert (
        await patch(client, world, rec["id"], {"outcome": "Changed"}, user=user)
    ).status_code == 403
    assert await counts(session) == before


async def test_admin_may_write_on_any_ward(client, world, admission):
    assert (
        await create(client, world, admission.id, complete_body(), user="admin")
    ).status_code == 201


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("nurse", 200),
        ("lead", 200),
        ("beds", 200),
        ("admin", 200),
        ("birchnurse", 403),
        ("director", 403),
    ],
)
async def test_who_may_read(client, world, admission, user, status):
    rec = await created(client, world, admission.id)
    one = await client.get(f"{API}/restrictive-interventions/{rec['id']}", headers=world.auth(user))
    many = await client.get(
        f"{API}/admissions/{admission.id}/restrictive-interventions", headers=world.auth(user)
    )
    assert (one.status_code, many.status_code) == (status, status)


async def test_the_ward_is_where_the_person_was_when_it_happened(
    client, world, admission, session, clock
):
    moved_at = clock.now - timedelta(days=1)  # 2026-03-09T12:00Z, from ASH to BIRCH
    await admissions.transfer(
        session,
        actor=world.users["admin"],
        admission_id=admission.id,
        data=ward_schemas.TransferIn(
            ward_code="BIRCH", bed_label="B1", at=moved_at, reason="PICU bed"
        ),
        now=clock.now,
    )
    await session.commit()

    def at(moment: datetime) -> dict[str, Any]:
        return {"started_at": moment.isoformat()}

    before = await create(
        client, world, admission.id, at(moved_at - timedelta(seconds=1)), user="admin"
    )
    at_move = await create(client, world, admission.id, at(moved_at), user="admin")
    assert before.json()["ward_code"] == "ASH"
    assert at_move.json()["ward_code"] == "BIRCH"


async def test_staff_of_the_ward_where_it_happened_may_still_write_after_a_transfer(
    client, world, admission, session, clock
):
    incident = clock.now - timedelta(days=1, hours=2)  # on ASH
    moved_at = clock.now - timedelta(days=1)  # then moved to BIRCH
    # Before the move, BIRCH staff may not record on an ASH patient.
    refused = await create(
        client, world, admission.id, {"started_at": incident.isoformat()}, user="birchnurse"
    )
    assert refused.status_code == 403
    await admissions.transfer(
        session,
        actor=world.users["admin"],
        admission_id=admission.id,
        data=ward_schemas.TransferIn(
            ward_code="BIRCH", bed_label="B1", at=moved_at, reason="PICU bed"
        ),
        now=clock.now,
    )
    await session.commit()

    # ASH staff record the restraint that happened on ASH, and complete it later.
    made = await create(client, world, admission.id, {"started_at": incident.isoformat()})
    assert made.status_code == 201, made.text
    assert made.json()["ward_code"] == "ASH"
    completed = await patch(client, world, made.json()["id"], {"outcome": "Calm within minutes"})
    assert completed.status_code == 200, completed.text
    # The person's current ward may not: a record belongs to the stay it was made on, and
    # only those who may read it may change it (issue 17, finding 2; the answer is the
    # whole record).
    also = await patch(client, world, made.json()["id"], {"staff_injury": False}, user="birchnurse")
    assert also.status_code == 403
    # But ASH staff may not record something that happened after the person left ASH.
    later = await create(
        client, world, admission.id, {"started_at": (moved_at + timedelta(hours=1)).isoformat()}
    )
    assert later.status_code == 403


# --- listing -----------------------------------------------------------------------------


async def test_the_admissions_records_newest_first(client, world, admission):
    first = await created(client, world, admission.id, started_at=START, ended_at=END)
    later = await created(
        client,
        world,
        admission.id,
        started_at="2026-03-10T08:00:00Z",
        ended_at=None,
        types=[],
        debriefed_at=None,
    )
    other = await world.admit(bed="A2")
    await created(client, world, other.id)

    r = await client.get(
        f"{API}/admissions/{admission.id}/restrictive-interventions", headers=world.auth("nurse")
    )

    assert r.status_code == 200
    assert [x["id"] for x in r.json()] == [later["id"], first["id"]]
    assert r.json()[0]["missing"] == ["ended_at", "types"]


# --- completing and correcting -------------------------------------------------------------


async def test_filling_missing_items_needs_no_reason(client, world, admission, session):
    rec = (
        await create(
            client, world, admission.id, {"started_at": START, "types": [{"type_code": "09"}]}
        )
    ).json()

    r = await patch(
        client, world, rec["id"], {"ended_at": END, "reason_code": "11", "outcome": "Settled"}
    )

    assert r.status_code == 200, r.text
    got = r.json()
    assert got["version"] == 2 and got["ended_at"] == END and got["reason_code"] == "11"
    # A type that had no times of its own follows the intervention's end.
    assert [(t["started_at"], t["ended_at"]) for t in got["types"]] == [(START, END)]
    assert "ended_at" not in got["missing"] and "outcome" not in got["missing"]
    assert [(v["version"], v["reason"], v["recorded_by"]) for v in got["versions"]] == [
        (1, None, "nurse"),
        (2, None, "nurse"),
    ]
    versions = list(
        await session.scalars(select(InterventionVersion).order_by(InterventionVersion.version))
    )
    assert versions[0].data["ended_at"] is None
    assert versions[1].data["outcome"] == "Settled" and versions[1].data["version"] == 2
    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "restrictive_intervention.update")
    )
    assert entry.before["outcome"] is None and entry.after["outcome"] == "Settled"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"outcome": "Something else"}, id="text"),
        pytest.param({"outcome": None}, id="clearing"),
        pytest.param({"patient_injury": True}, id="yes-no"),
        pytest.param({"started_at": "2026-03-09T10:01:00Z"}, id="start"),
        pytest.param({"types": [{"type_code": "09"}]}, id="types"),
        pytest.param({"staff": [{"name": "Sam Okafor", "job_title": "Charge nurse"}]}, id="staff"),
    ],
)
async def test_changing_what_was_recorded_needs_a_reason(client, world, admission, session, change):
    rec = await created(client, world, admission.id)
    before = await counts(session)

    refused = await patch(client, world, rec["id"], change)

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["correction_reason"]
    assert await counts(session) == before
    blank = await patch(client, world, rec["id"], {**change, "correction_reason": "   "})
    assert blank.status_code == 422

    ok = await patch(
        client, world, rec["id"], {**change, "correction_reason": "Entered on the wrong record"}
    )

    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2
    assert ok.json()["versions"][1]["reason"] == "Entered on the wrong record"


async def test_sending_what_is_already_recorded_changes_nothing(client, world, admission, session):
    rec = await created(client, world, admission.id)
    before = await counts(session)

    r = await patch(client, world, rec["id"], {"outcome": rec["outcome"], "staff": rec["staff"]})

    assert r.status_code == 200 and r.json()["version"] == 1
    assert await counts(session) == before


async def test_replaced_types_and_staff_are_retired_not_deleted(
    client, world, admission, session, clock
):
    rec = await created(client, world, admission.id)
    clock.now += timedelta(hours=1)

    r = await patch(
        client,
        world,
        rec["id"],
        {
            "types": [{"type_code": "09"}],
            "staff": [{"name": "Ada Bello", "job_title": "Ward manager"}],
            "correction_reason": "Supine, not prone; the wrong nurse was named",
        },
    )

    assert r.status_code == 200
    assert [t["type_code"] for t in r.json()["types"]] == ["09"]
    assert r.json()["staff"] == [{"name": "Ada Bello", "job_title": "Ward manager"}]
    types = list(await session.scalars(select(InterventionType).order_by(InterventionType.id)))
    assert [(t.type_code, t.retired_at) for t in types] == [
        ("01", clock.now),
        ("07", clock.now),
        ("09", None),
    ]
    staff = list(await session.scalars(select(InterventionStaff).order_by(InterventionStaff.id)))
    assert [(s.name, s.retired_at) for s in staff] == [
        ("Sam Okafor", clock.now),
        ("Lee Chan", clock.now),
        ("Ada Bello", None),
    ]
    first = await session.scalar(
        select(InterventionVersion).where(InterventionVersion.version == 1)
    )
    assert [t["type_code"] for t in first.data["types"]] == ["01", "07"]


async def test_correcting_the_times_moves_the_types_that_followed_them(client, world, admission):
    rec = await created(client, world, admission.id)  # 01 has its own times; 07 follows

    r = await patch(
        client,
        world,
        rec["id"],
        {
            "started_at": "2026-03-09T09:58:00Z",
            "ended_at": "2026-03-09T10:20:00Z",
            "correction_reason": "Times from CCTV",
        },
    )

    assert r.status_code == 200, r.text
    assert [(t["type_code"], t["started_at"], t["ended_at"]) for t in r.json()["types"]] == [
        ("01", "2026-03-09T10:02:00Z", "2026-03-09T10:05:00Z"),
        ("07", "2026-03-09T09:58:00Z", "2026-03-09T10:20:00Z"),
    ]


async def test_new_times_that_leave_a_type_outside_are_refused(client, world, admission, session):
    rec = await created(client, world, admission.id)  # prone 10:02-10:05
    before = await counts(session)

    r = await patch(
        client, world, rec["id"], {"ended_at": "2026-03-09T10:04:00Z", "correction_reason": "Typo"}
    )

    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["types"]
    assert await counts(session) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"correction_reason": "Why"}, "body"),
        ({"started_at": None}, "started_at"),
        ({"reason_code": "05"}, "reason_code"),
    ],
)
async def test_a_patch_must_say_something_valid(client, world, admission, body, field):
    rec = await created(client, world, admission.id)
    r = await patch(client, world, rec["id"], body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field


async def test_the_database_refuses_to_delete_a_record(client, world, admission, session):
    rec = await created(client, world, admission.id)

    for table, column in (
        ("restrictive_interventions", "id"),
        ("intervention_types", "intervention_id"),
    ):
        with pytest.raises(DBAPIError, match="never_deleted"):
            async with session.begin_nested():
                await session.execute(
                    text(f"DELETE FROM {table} WHERE {column} = :id"), {"id": rec["id"]}
                )  # noqa: S608
    assert (
        await session.scalar(
            select(func.count())
            .select_from(RestrictiveIntervention)
            .where(RestrictiveIntervention.id == rec["id"])
        )
        == 1
    )


async def test_utc_offsets_are_stored_in_utc(client, world, admission):
    rec = await created(
        client, world, admission.id, started_at="2026-03-09T11:00:00+01:00", types=[]
    )
    assert rec["started_at"] == START
    assert datetime.fromisoformat(rec["started_at"]).astimezone(UTC).hour == 10
