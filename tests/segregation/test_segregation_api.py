"""Long-term segregation through the JSON API (API.md "Restrictive practice"), and the move
from seclusion to segregation."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.wards.models import Admission
from tests.segregation.test_seclusion_api import (
    API,
    D,
    H,
    M,
    board,
    discharge,
    end,
    fingerprint,
    iso,
    missed,
    next_due,
    occupant,
    review,
    secluded,
    when,
)

LONDON = ZoneInfo("Europe/London")
SEGREGATION_KINDS = {"approved_clinician", "mdt", "external", "notification", "icetr"}


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def segregation_body(start: datetime, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "started_at": iso(start),
        "reason": "Sustained risk of serious harm to others on the ward",
    }
    body.update({k: iso(v) if isinstance(v, datetime) else v for k, v in overrides.items()})
    return {k: v for k, v in body.items() if v is not ...}


async def start_segregation(client, world, admission_id, start, user="nurse", **overrides):
    return await client.post(
        f"{API}/admissions/{admission_id}/segregations",
        headers=world.auth(user),
        json=segregation_body(start, **overrides),
    )


async def segregated(client, world, admission_id, start, **overrides) -> dict:
    r = await start_segregation(client, world, admission_id, start, **overrides)
    assert r.status_code == 201, r.json()
    return r.json()


async def lts_review(client, world, segregation_id, kind, at, user="nurse"):
    return await client.post(
        f"{API}/segregations/{segregation_id}/reviews",
        headers=world.auth(user),
        json={"kind": kind, "at": iso(at), "note": f"{kind} review"},
    )


async def lts_end(client, world, segregation_id, at, user="nurse"):
    return await client.post(
        f"{API}/segregations/{segregation_id}/end",
        headers=world.auth(user),
        json={"at": iso(at), "note": "Back on the open ward"},
    )


async def patch(client, world, segregation_id, user="nurse", **fields):
    return await client.patch(
        f"{API}/segregations/{segregation_id}",
        headers=world.auth(user),
        json={k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()},
    )


async def get(client, world, segregation_id, user="nurse") -> dict:
    r = await client.get(f"{API}/segregations/{segregation_id}", headers=world.auth(user))
    assert r.status_code == 200, r.json()
    return r.json()


async def to_segregation(client, world, seclusion_id, at, user="nurse", **extra):
    body = {"at": iso(at), "note": "Seclusion ends", "reason": "Long-term risk", **extra}
    return await client.post(
        f"{API}/seclusions/{seclusion_id}/to-segregation",
        headers=world.auth(user),
        json={k: iso(v) if isinstance(v, datetime) else v for k, v in body.items()},
    )


@pytest.fixture
async def admission_id(world, clock) -> int:
    return (await world.admit(bed="A1", at=clock.now - 10 * D)).id


async def admit_with(world, clock, **patient: object) -> int:
    person = await world.patient(**patient)
    return (await world.admit(patient=person, bed="A2", at=clock.now - 40 * D)).id


# --- start, read, review, notify, end ------------------------------------------------------


async def test_start_returns_201_with_the_episode(client, world, clock, session, admission_id):
    start = clock.now - 2 * H
    r = await start_segregation(
        client, world, admission_id, start, commissioner_informed_at=clock.now - H
    )
    assert r.status_code == 201
    body = r.json()
    patient_id = await session.scalar(
        select(Admission.patient_id).where(Admission.id == admission_id)
    )
    assert isinstance(body["id"], int)
    assert body["admission_id"] == admission_id and body["patient_id"] == patient_id
    assert body["kind"] == "segregation" and body["status"] == "open"
    assert when(body["started_at"]) == start and body["ended_at"] is None
    assert body["reason"] == "Sustained risk of serious harm to others on the ward"
    assert when(body["commissioner_informed_at"]) == clock.now - H
    assert body["imha_informed_at"] is None
    assert body["from_seclusion_id"] is None
    assert body["duration_minutes"] == 120
    assert set(body["next_due"]) == SEGREGATION_KINDS
    assert body["reviews"] == [] and body["missed"] == []
    assert await get(client, world, body["id"]) == body
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "segregation.start"))
    assert entry is not None and entry.username == "nurse"


async def test_next_due_per_review_kind(client, world, clock):
    admission_id = await admit_with(world, clock, autistic=True)
    t0 = clock.now - H  # 11:00 GMT on 10 March
    body = await segregated(client, world, admission_id, t0)
    assert next_due(body) == {
        "approved_clinician": t0 + 24 * H,
        "mdt": t0 + 7 * D,
        # three calendar months in UK time: 11:00 BST on 10 June
        "external": local(2026, 6, 10, 11, 0),
        "notification": t0 + 24 * H,
        "icetr": t0 + 28 * D,
    }
    sid = body["id"]
    now = clock.now
    assert (await lts_review(client, world, sid, "mdt", now)).status_code == 201
    assert (await lts_review(client, world, sid, "icetr", now)).status_code == 201
    assert (await lts_review(client, world, sid, "external", now)).status_code == 201
    r = await patch(client, world, sid, commissioner_informed_at=t0, imha_informed_at=now)
    assert r.status_code == 200
    assert next_due(r.json()) == {
        "approved_clinician": now + 24 * H,  # an MDT review counts
        "mdt": now + 7 * D,
        "external": local(2026, 6, 10, 12, 0),
        "notification": None,
        "icetr": None,
    }


@pytest.mark.parametrize(
    "patient",
    [{}, {"learning_disability": True}, {"autistic": True}],
    ids=["neither", "learning disability", "autistic"],
)
async def test_an_icetr_is_due_only_for_a_person_with_a_learning_disability_or_autistic(
    client, world, clock, patient
):
    admission_id = await admit_with(world, clock, **patient)
    start = clock.now - 29 * D
    body = await segregated(client, world, admission_id, start)
    icetr = missed(body, "LTS_ICETR")
    if patient:
        assert icetr == [("LTS_ICETR", start + 28 * D, None)]
    else:
        assert icetr == [] and body["next_due"]["icetr"] is None


async def test_missed_deadlines_appear_as_the_clock_passes_them(client, world, clock, admission_id):
    t0 = clock.now
    sid = (await segregated(client, world, admission_id, t0))["id"]
    clock.now = t0 + 24 * H
    assert missed(await get(client, world, sid)) == []
    clock.now = t0 + 24 * H + M
    assert missed(await get(client, world, sid)) == [
        ("LTS_AC_REVIEW", t0 + 24 * H, None),
        ("LTS_NOTIFICATION", t0 + 24 * H, None),
    ]
    # the commissioner was told in time, but not the IMHA: still missing
    assert (await patch(client, world, sid, commissioner_informed_at=t0 + H)).status_code == 200
    assert missed(await get(client, world, sid), "LTS_NOTIFICATION") == [
        ("LTS_NOTIFICATION", t0 + 24 * H, None)
    ]
    # both told now, and a late review: done, late
    clock.now = t0 + 26 * H
    assert (await patch(client, world, sid, imha_informed_at=t0 + 25 * H)).status_code == 200
    assert (
        await lts_review(client, world, sid, "approved_clinician", t0 + 26 * H)
    ).status_code == 201
    body = await get(client, world, sid)
    assert missed(body) == [
        ("LTS_AC_REVIEW", t0 + 24 * H, t0 + 26 * H),
        ("LTS_NOTIFICATION", t0 + 24 * H, t0 + 25 * H),
    ]
    assert next_due(body)["approved_clinician"] == t0 + 50 * H


async def test_reviews_are_created(client, world, clock, session, admission_id):
    start = clock.now - 3 * D
    sid = (await segregated(client, world, admission_id, start))["id"]
    r = await lts_review(client, world, sid, "external", start + D)
    assert r.status_code == 201
    body = r.json()
    assert isinstance(body["id"], int) and body["kind"] == "external"
    assert when(body["at"]) == start + D and body["note"] == "external review"
    assert when(body["recorded_at"]) == clock.now
    assert (
        await lts_review(client, world, sid, "approved_clinician", start + H)
    ).status_code == 201
    got = await get(client, world, sid)
    assert [(x["kind"], when(x["at"])) for x in got["reviews"]] == [
        ("approved_clinician", start + H),
        ("external", start + D),
    ]
    assert "segregation.review" in set(await session.scalars(select(AuditEntry.action)))


async def test_end_returns_200_ended_with_nothing_more_due(client, world, clock, admission_id):
    start = clock.now - 3 * D
    sid = (await segregated(client, world, admission_id, start))["id"]
    r = await lts_end(client, world, sid, clock.now - H)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ended" and when(body["ended_at"]) == clock.now - H
    assert body["end_note"] == "Back on the open ward"
    assert body["duration_minutes"] == 3 * 24 * 60 - 60
    assert set(body["next_due"]) == SEGREGATION_KINDS
    assert set(body["next_due"].values()) == {None}
    assert ("LTS_AC_REVIEW", start + 24 * H, None) in missed(body)
    assert (await lts_end(client, world, sid, clock.now)).status_code == 409


# --- PATCH: when the commissioner and the IMHA were told ----------------------------------------


async def test_patch_records_who_was_told_and_when(client, world, clock, session, admission_id):
    start = clock.now - 5 * H
    sid = (await segregated(client, world, admission_id, start))["id"]
    r = await patch(client, world, sid, commissioner_informed_at=start + H)
    assert r.status_code == 200
    body = r.json()
    assert when(body["commissioner_informed_at"]) == start + H
    assert body["imha_informed_at"] is None
    r = await patch(client, world, sid, imha_informed_at=start + 2 * H)
    body = r.json()
    # only what was sent changes
    assert when(body["commissioner_informed_at"]) == start + H
    assert when(body["imha_informed_at"]) == start + 2 * H
    assert body["next_due"]["notification"] is None
    assert await get(client, world, sid) == body
    assert "segregation.notification" in set(await session.scalars(select(AuditEntry.action)))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"commissioner_informed_at": "START-1"}, "commissioner_informed_at"),
        ({"imha_informed_at": "START-1"}, "imha_informed_at"),
        ({"imha_informed_at": "NOW+6"}, "imha_informed_at"),
        ({"commissioner_informed_at": "2026-03-10T11:00:00"}, "commissioner_informed_at"),
        ({"commissioner_informed_at": "NOW", "imha_informed_at": "START-1"}, "imha_informed_at"),
        ({"commissioner": "NOW"}, "commissioner"),
        ({}, "body"),
    ],
)
async def test_a_bad_patch_is_refused_and_changes_nothing(
    client, world, clock, session, admission_id, fields, field
):
    start = clock.now - 5 * H
    sid = (await segregated(client, world, admission_id, start))["id"]
    values = {
        "START-1": iso(start - M),
        "NOW+6": iso(clock.now + 6 * M),
        "NOW": iso(clock.now),
    }
    before = await fingerprint(session)
    r = await patch(client, world, sid, **{k: values.get(v, v) for k, v in fields.items()})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before
    body = await get(client, world, sid)
    assert body["commissioner_informed_at"] is None and body["imha_informed_at"] is None


async def test_patch_four_minutes_ahead_is_accepted(client, world, clock, admission_id):
    sid = (await segregated(client, world, admission_id, clock.now - H))["id"]
    r = await patch(client, world, sid, imha_informed_at=clock.now + 4 * M)
    assert r.status_code == 200 and when(r.json()["imha_informed_at"]) == clock.now + 4 * M


@pytest.mark.parametrize("field", ["commissioner_informed_at", "imha_informed_at"])
async def test_told_before_the_start_is_refused_when_starting(
    client, world, clock, session, admission_id, field
):
    start = clock.now - H
    before = await fingerprint(session)
    r = await start_segregation(client, world, admission_id, start, **{field: start - M})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before


# --- conflicts and times ------------------------------------------------------------------------


async def test_a_second_open_segregation_is_refused(client, world, clock, session, admission_id):
    await segregated(client, world, admission_id, clock.now - D)
    before = await fingerprint(session)
    assert (await start_segregation(client, world, admission_id, clock.now)).status_code == 409
    assert await fingerprint(session) == before


async def test_overlapping_an_earlier_segregation_is_refused(
    client, world, clock, session, admission_id
):
    first = await segregated(client, world, admission_id, clock.now - 5 * D)
    assert (await lts_end(client, world, first["id"], clock.now - 2 * D)).status_code == 200
    before = await fingerprint(session)
    for start in (clock.now - 2 * D - M, clock.now - 6 * D):
        assert (await start_segregation(client, world, admission_id, start)).status_code == 409
    assert await fingerprint(session) == before
    r = await start_segregation(client, world, admission_id, clock.now - 2 * D + M)
    assert r.status_code == 201


async def test_start_before_admission_or_after_discharge(client, world, clock, session):
    admitted = clock.now - 5 * D
    admission_id = (await world.admit(bed="A1", at=admitted)).id
    before = await fingerprint(session)
    r = await start_segregation(client, world, admission_id, admitted - M)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "started_at"
    r = await start_segregation(client, world, admission_id, clock.now + 6 * M)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "started_at"
    assert await fingerprint(session) == before
    assert (await discharge(client, world, admission_id, clock.now - D)).status_code == 200
    before = await fingerprint(session)
    assert (
        await start_segregation(client, world, admission_id, clock.now - 2 * D)
    ).status_code == 409
    assert await fingerprint(session) == before


@pytest.mark.parametrize("write", ["review", "end"])
@pytest.mark.parametrize(
    ("when_", "status"),
    [("start-1", 422), ("start", None), ("now+4", None), ("now+6", 422)],
)
async def test_review_and_end_times(
    client, world, clock, session, admission_id, write, when_, status
):
    start = clock.now - D
    sid = (await segregated(client, world, admission_id, start))["id"]
    at = {
        "start-1": start - M,
        "start": start,
        "now+4": clock.now + 4 * M,
        "now+6": clock.now + 6 * M,
    }[when_]
    before = await fingerprint(session)
    if write == "review":
        r = await lts_review(client, world, sid, "approved_clinician", at)
    else:
        r = await lts_end(client, world, sid, at)
    if status is None:
        assert r.status_code == (201 if write == "review" else 200), r.json()
    else:
        assert r.status_code == status
        assert [e["field"] for e in r.json()["errors"]] == ["at"]
        assert await fingerprint(session) == before


async def test_a_review_after_the_end_and_an_end_before_the_last_review(
    client, world, clock, session, admission_id
):
    sid = (await segregated(client, world, admission_id, clock.now - 3 * D))["id"]
    assert (await lts_review(client, world, sid, "mdt", clock.now - D)).status_code == 201
    before = await fingerprint(session)
    r = await lts_end(client, world, sid, clock.now - D - M)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    assert await fingerprint(session) == before
    assert (await lts_end(client, world, sid, clock.now - 2 * H)).status_code == 200
    before = await fingerprint(session)
    r = await lts_review(client, world, sid, "mdt", clock.now - 2 * H + M)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    assert await fingerprint(session) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("reviews", {"kind": "medical", "at": "AT", "note": "x"}, "kind"),
        ("reviews", {"kind": "approved_clinician", "at": "2026-03-10T11:00:00", "note": "x"}, "at"),
        ("reviews", {"kind": "mdt", "at": "AT", "note": "  "}, "note"),
        ("end", {"at": "2026-03-10T11:00:00", "note": "x"}, "at"),
    ],
)
async def test_malformed_input_is_refused_naming_the_field(
    client, world, clock, session, admission_id, path, body, field
):
    sid = (await segregated(client, world, admission_id, clock.now - D))["id"]
    body = {k: iso(clock.now - H) if v == "AT" else v for k, v in body.items()}
    before = await fingerprint(session)
    r = await client.post(
        f"{API}/segregations/{sid}/{path}", headers=world.auth("nurse"), json=body
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"started_at": "2026-03-10T11:00:00"}, "started_at"),
        ({"reason": ""}, "reason"),
        ({"imha_informed_at": "soon"}, "imha_informed_at"),
    ],
)
async def test_a_malformed_start_is_refused_naming_the_field(
    client, world, clock, session, admission_id, overrides, field
):
    before = await fingerprint(session)
    r = await start_segregation(client, world, admission_id, clock.now - H, **overrides)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before


async def test_unknown_ids_are_404(client, world, clock, session, admission_id):
    h = world.auth("nurse")
    at = iso(clock.now)
    before = await fingerprint(session)
    r = await client.post(
        f"{API}/admissions/999999/segregations", headers=h, json=segregation_body(clock.now)
    )
    assert r.status_code == 404
    assert (await client.get(f"{API}/segregations/999999", headers=h)).status_code == 404
    r = await client.patch(
        f"{API}/segregations/999999", headers=h, json={"commissioner_informed_at": at}
    )
    assert r.status_code == 404
    for path, body in (
        ("reviews", {"kind": "mdt", "at": at, "note": "x"}),
        ("end", {"at": at, "note": "x"}),
    ):
        r = await client.post(f"{API}/segregations/999999/{path}", headers=h, json=body)
        assert r.status_code == 404, path
    assert await fingerprint(session) == before


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["birchnurse", "beds", "director"])
async def test_only_the_ward_s_staff_and_admins_write(
    client, world, clock, session, admission_id, user
):
    sid = (await segregated(client, world, admission_id, clock.now - D))["id"]
    other_id = (await world.admit(bed="A2", at=clock.now - D)).id
    now = iso(clock.now)
    requests = [
        ("POST", f"{API}/admissions/{other_id}/segregations", segregation_body(clock.now)),
        ("PATCH", f"{API}/segregations/{sid}", {"commissioner_informed_at": now}),
        ("POST", f"{API}/segregations/{sid}/reviews", {"kind": "mdt", "at": now, "note": "x"}),
        ("POST", f"{API}/segregations/{sid}/end", {"at": now, "note": "x"}),
    ]
    before = await fingerprint(session)
    for method, path, body in requests:
        r = await client.request(method, path, headers=world.auth(user), json=body)
        assert r.status_code == 403, (path, r.json())
    assert await fingerprint(session) == before
    statuses = [
        (await client.request(method, path, headers=world.auth("nurse"), json=body)).status_code
        for method, path, body in requests
    ]
    assert statuses == [201, 200, 201, 200]


@pytest.mark.parametrize(
    ("user", "status"),
    [("nurse", 200), ("admin", 200), ("lead", 200), ("birchnurse", 403), ("director", 403)],
)
async def test_who_may_read_a_segregation(client, world, clock, admission_id, user, status):
    sid = (await segregated(client, world, admission_id, clock.now - D))["id"]
    r = await client.get(f"{API}/segregations/{sid}", headers=world.auth(user))
    assert r.status_code == status


# --- from seclusion to segregation ----------------------------------------------------------------


async def test_seclusion_becomes_segregation_at_the_same_instant(
    client, world, clock, admission_id
):
    seclusion = await secluded(client, world, admission_id, clock.now - 10 * H)
    sid = seclusion["id"]
    assert (await review(client, world, sid, "mdt", clock.now - 2 * H)).status_code == 201
    at = clock.now - H
    r = await to_segregation(client, world, sid, at, commissioner_informed_at=at)
    assert r.status_code == 201
    segregation = r.json()
    assert segregation["kind"] == "segregation" and segregation["status"] == "open"
    assert segregation["from_seclusion_id"] == sid
    assert when(segregation["started_at"]) == at
    assert segregation["reason"] == "Long-term risk"
    assert when(segregation["commissioner_informed_at"]) == at
    assert await get(client, world, segregation["id"]) == segregation

    r = await client.get(f"{API}/seclusions/{sid}", headers=world.auth("nurse"))
    ended = r.json()
    assert ended["status"] == "ended" and when(ended["ended_at"]) == at
    assert ended["end_note"] == "Seclusion ends"
    assert ended["followed_by_segregation_id"] == segregation["id"]
    assert set(ended["next_due"].values()) == {None}

    r = await client.get(f"{API}/admissions/{admission_id}", headers=world.auth("nurse"))
    assert [
        (e["kind"], e["id"], when(e["started_at"]), when(e["ended_at"]), e["status"], e["url"])
        for e in r.json()["episodes"]
    ] == [
        ("seclusion", sid, clock.now - 10 * H, at, "ended", f"/seclusions/{sid}"),
        (
            "segregation",
            segregation["id"],
            at,
            None,
            "open",
            f"/segregations/{segregation['id']}",
        ),
    ]


@pytest.mark.parametrize(
    ("case", "status", "field"),
    [
        ("a segregation is open", 409, None),
        ("an earlier segregation ended after that time", 409, None),
        ("commissioner told before it", 422, "commissioner_informed_at"),
        ("before the last review", 422, "at"),
        ("in the future", 422, "at"),
        ("blank reason", 422, "reason"),
    ],
)
async def test_a_refused_move_leaves_the_seclusion_open(
    client, world, clock, session, admission_id, case, status, field
):
    if case == "a segregation is open":
        await segregated(client, world, admission_id, clock.now - 5 * D)
    if case == "an earlier segregation ended after that time":
        earlier = await segregated(client, world, admission_id, clock.now - 5 * D)
        assert (await lts_end(client, world, earlier["id"], clock.now - 30 * M)).status_code == 200
    sid = (await secluded(client, world, admission_id, clock.now - 5 * H))["id"]
    assert (await review(client, world, sid, "nursing", clock.now - 50 * M)).status_code == 201
    at = clock.now - 40 * M
    extra: dict[str, object] = {}
    if case == "commissioner told before it":
        extra["commissioner_informed_at"] = at - M
    if case == "before the last review":
        at = clock.now - 51 * M
    if case == "in the future":
        at = clock.now + 6 * M
    if case == "blank reason":
        extra["reason"] = " "
    before = await fingerprint(session)
    r = await to_segregation(client, world, sid, at, **extra)
    assert r.status_code == status, r.json()
    if field is not None:
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before
    got = (await client.get(f"{API}/seclusions/{sid}", headers=world.auth("nurse"))).json()
    assert got["status"] == "open" and got["followed_by_segregation_id"] is None


async def test_an_ended_seclusion_cannot_become_segregation(
    client, world, clock, session, admission_id
):
    sid = (await secluded(client, world, admission_id, clock.now - 5 * H))["id"]
    assert (await end(client, world, sid, clock.now - H)).status_code == 200
    before = await fingerprint(session)
    assert (await to_segregation(client, world, sid, clock.now)).status_code == 409
    assert await fingerprint(session) == before


@pytest.mark.parametrize("user", ["birchnurse", "beds", "director"])
async def test_only_the_ward_s_staff_move_seclusion_to_segregation(
    client, world, clock, session, admission_id, user
):
    sid = (await secluded(client, world, admission_id, clock.now - 5 * H))["id"]
    before = await fingerprint(session)
    assert (await to_segregation(client, world, sid, clock.now, user=user)).status_code == 403
    assert await fingerprint(session) == before


# --- discharge, and the board ---------------------------------------------------------------


async def test_discharge_is_refused_while_segregated(client, world, clock, session, admission_id):
    sid = (await segregated(client, world, admission_id, clock.now - 3 * D))["id"]
    before = await fingerprint(session)
    r = await discharge(client, world, admission_id, clock.now)
    assert r.status_code == 409 and "segregation" in r.json()["detail"]
    assert await fingerprint(session) == before
    ended = clock.now - H
    assert (await lts_end(client, world, sid, ended)).status_code == 200
    assert (await discharge(client, world, admission_id, ended - M)).status_code == 409
    r = await discharge(client, world, admission_id, ended)
    assert r.status_code == 200 and r.json()["status"] == "discharged"


async def test_the_board_shows_who_is_segregated_and_what_is_due(
    client, world, clock, admission_id
):
    t0 = clock.now - 2 * H
    sid = (
        await segregated(
            client, world, admission_id, t0, commissioner_informed_at=t0, imha_informed_at=t0
        )
    )["id"]
    card = occupant(await board(client, world), admission_id)
    assert "segregated" in card["flags"] and "secluded" not in card["flags"]
    (restriction,) = card["restrictions"]
    assert restriction["kind"] == "segregation" and restriction["id"] == sid
    assert restriction["next_kind"] == "approved_clinician"
    assert when(restriction["next_due"]) == t0 + 24 * H
    assert restriction["overdue"] is False

    clock.now = t0 + 24 * H + M
    (restriction,) = occupant(await board(client, world), admission_id)["restrictions"]
    assert restriction["next_kind"] == "approved_clinician"
    assert when(restriction["next_due"]) == t0 + 24 * H
    assert restriction["overdue"] is True

    assert (
        await lts_review(client, world, sid, "approved_clinician", clock.now)
    ).status_code == 201
    (restriction,) = occupant(await board(client, world), admission_id)["restrictions"]
    assert restriction["overdue"] is False
    assert when(restriction["next_due"]) == clock.now + 24 * H

    assert (await lts_end(client, world, sid, clock.now)).status_code == 200
    card = occupant(await board(client, world), admission_id)
    assert "segregated" not in card["flags"] and card["restrictions"] == []
