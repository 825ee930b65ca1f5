"""Seclusion through the JSON API (API.md "Restrictive practice" and "Conventions")."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.wards.models import Admission

API = "/api/v1"
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
SECLUSION_KINDS = {"medical", "nursing", "mdt", "independent_mdt", "observation"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


async def fingerprint(session: AsyncSession) -> tuple[object, ...]:
    """Row counts and the mutable columns of episodes and admissions: what a refusal must keep."""
    counts = [
        await session.scalar(select(func.count()).select_from(model))
        for model in (
            Seclusion,
            SeclusionReview,
            SeclusionObservation,
            Segregation,
            SegregationReview,
            AuditEntry,
        )
    ]
    seclusions = (
        await session.execute(
            select(Seclusion.id, Seclusion.ended_at, Seclusion.end_note).order_by(Seclusion.id)
        )
    ).all()
    segregations = (
        await session.execute(
            select(
                Segregation.id,
                Segregation.ended_at,
                Segregation.commissioner_informed_at,
                Segregation.imha_informed_at,
            ).order_by(Segregation.id)
        )
    ).all()
    admissions = (
        await session.execute(select(Admission.id, Admission.discharged_at).order_by(Admission.id))
    ).all()
    return tuple(counts), tuple(seclusions), tuple(segregations), tuple(admissions)


def seclusion_body(start: datetime, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "started_at": iso(start),
        "authorised_by_role": "nurse_in_charge",
        "reason": "Assaulted a member of staff; continuing risk to others",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


async def start_seclusion(client, world, admission_id, start, user="nurse", **overrides):
    return await client.post(
        f"{API}/admissions/{admission_id}/seclusions",
        headers=world.auth(user),
        json=seclusion_body(start, **overrides),
    )


async def secluded(client, world, admission_id, start, **overrides) -> dict:
    r = await start_seclusion(client, world, admission_id, start, **overrides)
    assert r.status_code == 201, r.json()
    return r.json()


async def review(client, world, seclusion_id, kind, at, user="nurse", **extra):
    return await client.post(
        f"{API}/seclusions/{seclusion_id}/reviews",
        headers=world.auth(user),
        json={"kind": kind, "at": iso(at), "note": f"{kind} review", **extra},
    )


async def observe(client, world, seclusion_id, at, user="nurse"):
    return await client.post(
        f"{API}/seclusions/{seclusion_id}/observations",
        headers=world.auth(user),
        json={"at": iso(at), "note": "Sitting on the mattress, calmer"},
    )


async def end(client, world, seclusion_id, at, user="nurse"):
    return await client.post(
        f"{API}/seclusions/{seclusion_id}/end",
        headers=world.auth(user),
        json={"at": iso(at), "note": "Calm, returned to the ward"},
    )


async def get(client, world, seclusion_id, user="nurse") -> dict:
    r = await client.get(f"{API}/seclusions/{seclusion_id}", headers=world.auth(user))
    assert r.status_code == 200, r.json()
    return r.json()


def next_due(body: dict) -> dict[str, datetime | None]:
    return {k: when(v) for k, v in body["next_due"].items()}


def missed(
    body: dict, rule: str | None = None
) -> list[tuple[str, datetime | None, datetime | None]]:
    return [
        (m["rule"], when(m["due_at"]), when(m["done_at"]))
        for m in body["missed"]
        if rule is None or m["rule"] == rule
    ]


@pytest.fixture
async def admission_id(world, clock) -> int:
    return (await world.admit(bed="A1", at=clock.now - 5 * D)).id


# --- start, read, review, observe, end ----------------------------------------------------------


async def test_start_returns_201_with_the_episode(client, world, clock, session, admission_id):
    start = clock.now - 40 * M
    r = await start_seclusion(client, world, admission_id, start)
    assert r.status_code == 201
    body = r.json()
    patient_id = await session.scalar(
        select(Admission.patient_id).where(Admission.id == admission_id)
    )
    assert isinstance(body["id"], int)
    assert body["admission_id"] == admission_id and body["patient_id"] == patient_id
    assert body["kind"] == "seclusion" and body["status"] == "open"
    assert when(body["started_at"]) == start and body["ended_at"] is None
    assert body["authorised_by_role"] == "nurse_in_charge"
    assert body["reason"] == "Assaulted a member of staff; continuing risk to others"
    assert body["duration_minutes"] == 40
    assert set(body["next_due"]) == SECLUSION_KINDS
    assert body["reviews"] == [] and body["observations"] == []
    assert body["followed_by_segregation_id"] is None
    assert await get(client, world, body["id"]) == body
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "seclusion.start"))
    assert entry is not None and entry.username == "nurse"


async def test_times_are_stored_in_utc_whatever_the_offset(client, world, clock, admission_id):
    body = await secluded(
        client,
        world,
        admission_id,
        clock.now,
        started_at="2026-03-10T13:00:00+01:00",  # 12:00 UTC
    )
    assert body["started_at"] == "2026-03-10T12:00:00Z"


async def test_next_due_per_review_kind(client, world, clock, admission_id):
    t0 = clock.now
    body = await secluded(client, world, admission_id, t0)
    sid = body["id"]
    assert next_due(body) == {
        "medical": t0 + H,
        "nursing": t0 + 2 * H,
        "mdt": t0 + 24 * H,
        "independent_mdt": t0 + 8 * H,
        "observation": t0 + 15 * M,
    }
    assert body["missed"] == []

    # 50 minutes on, with everything done in time
    clock.now = t0 + 50 * M
    for at in (t0 + 14 * M, t0 + 28 * M, t0 + 42 * M):
        assert (await observe(client, world, sid, at)).status_code == 201
    assert (await review(client, world, sid, "medical", t0 + 45 * M)).status_code == 201
    assert (await review(client, world, sid, "nursing", t0 + 50 * M)).status_code == 201
    body = await get(client, world, sid)
    assert next_due(body) == {
        "medical": t0 + 45 * M + 4 * H,
        "nursing": t0 + 50 * M + 2 * H,
        "mdt": t0 + 24 * H,
        "independent_mdt": t0 + 8 * H,
        "observation": t0 + 57 * M,
    }
    assert body["missed"] == []

    # an MDT review: the next MDT in 24 h, medical reviews now 12-hourly from it
    clock.now = t0 + 55 * M
    assert (await review(client, world, sid, "mdt", t0 + 55 * M)).status_code == 201
    # an independent MDT review before the 8-hour line meets it
    assert (await review(client, world, sid, "independent_mdt", t0 + 55 * M)).status_code == 201
    due = next_due(await get(client, world, sid))
    assert due["mdt"] == t0 + 55 * M + 24 * H
    assert due["medical"] == t0 + 55 * M + 12 * H
    assert due["independent_mdt"] is None


async def test_a_psychiatrist_authorising_is_the_first_medical_review(
    client, world, clock, admission_id
):
    t0 = clock.now - 2 * H
    body = await secluded(client, world, admission_id, t0, authorised_by_role="psychiatrist")
    assert body["authorised_by_role"] == "psychiatrist"
    assert next_due(body)["medical"] == t0 + 4 * H
    assert missed(body, "SECL_MEDICAL_FIRST") == []


async def test_twelve_hours_in_48_across_episodes_of_the_admission(
    client, world, clock, admission_id
):
    first = await secluded(client, world, admission_id, clock.now - 30 * H)
    assert (await end(client, world, first["id"], clock.now - 24 * H)).status_code == 200
    second = await secluded(client, world, admission_id, clock.now - H)
    # 6 h yesterday and 6 h of this one make 12 h within 48 h
    assert when(second["next_due"]["independent_mdt"]) == clock.now + 5 * H
    clock.now += 5 * H + M
    body = await get(client, world, second["id"])
    assert missed(body, "SECL_INDEPENDENT_MDT") == [("SECL_INDEPENDENT_MDT", clock.now - M, None)]


async def test_seclusion_in_an_earlier_admission_does_not_count(client, world, clock):
    patient = await world.patient()
    earlier = await world.admit(patient=patient, bed="A1", at=clock.now - 4 * D)
    earlier_id = earlier.id
    first = await secluded(client, world, earlier_id, clock.now - 40 * H)
    assert (await end(client, world, first["id"], clock.now - 34 * H)).status_code == 200
    r = await client.post(
        f"{API}/admissions/{earlier_id}/discharge",
        headers=world.auth("nurse"),
        json={"at": iso(clock.now - 30 * H), "destination": "usual_residence"},
    )
    assert r.status_code == 200
    again = await world.admit(patient=patient, bed="A2", at=clock.now - 20 * H)
    body = await secluded(client, world, again.id, clock.now - H)
    assert when(body["next_due"]["independent_mdt"]) == clock.now + 7 * H


async def test_missed_deadlines_appear_as_the_clock_passes_them(client, world, clock, admission_id):
    t0 = clock.now
    sid = (await secluded(client, world, admission_id, t0))["id"]
    for at in (t0 + n * 15 * M for n in range(1, 9)):
        clock.now = at
        assert (await observe(client, world, sid, at)).status_code == 201

    clock.now = t0 + H
    assert missed(await get(client, world, sid)) == []  # at the deadline: not yet missed
    clock.now = t0 + H + M
    assert missed(await get(client, world, sid)) == [("SECL_MEDICAL_FIRST", t0 + H, None)]

    clock.now = t0 + 2 * H + M
    body = await get(client, world, sid)
    assert missed(body) == [
        ("SECL_MEDICAL_FIRST", t0 + H, None),
        ("SECL_NURSING_REVIEW", t0 + 2 * H, None),
    ]
    # a late nursing review: the deadline stays missed, now with when it was done
    assert (await review(client, world, sid, "nursing", t0 + 2 * H + M)).status_code == 201
    body = await get(client, world, sid)
    assert ("SECL_NURSING_REVIEW", t0 + 2 * H, t0 + 2 * H + M) in missed(body)
    assert next_due(body)["nursing"] == t0 + 4 * H + M


async def test_reviews_and_observations_are_created(client, world, clock, session, admission_id):
    start = clock.now - 2 * H
    sid = (await secluded(client, world, admission_id, start))["id"]
    r = await review(client, world, sid, "medical", start + 30 * M, outcome="continue")
    assert r.status_code == 201
    body = r.json()
    assert isinstance(body["id"], int)
    assert body["kind"] == "medical" and when(body["at"]) == start + 30 * M
    assert body["note"] == "medical review" and body["outcome"] == "continue"
    assert when(body["recorded_at"]) == clock.now
    r = await review(client, world, sid, "nursing", start + 10 * M)
    assert r.status_code == 201 and r.json()["outcome"] is None
    r = await observe(client, world, sid, start + 15 * M)
    assert r.status_code == 201
    obs = r.json()
    assert when(obs["at"]) == start + 15 * M and obs["note"] == "Sitting on the mattress, calmer"
    assert when(obs["recorded_at"]) == clock.now

    got = await get(client, world, sid)
    assert [(x["kind"], when(x["at"])) for x in got["reviews"]] == [
        ("nursing", start + 10 * M),
        ("medical", start + 30 * M),
    ]
    assert [x["id"] for x in got["observations"]] == [obs["id"]]
    actions = set(await session.scalars(select(AuditEntry.action)))
    assert {"seclusion.review", "seclusion.observation"} <= actions


async def test_end_returns_200_ended_with_nothing_more_due(client, world, clock, admission_id):
    start = clock.now - 3 * H
    sid = (await secluded(client, world, admission_id, start))["id"]
    assert (await review(client, world, sid, "medical", start + 30 * M)).status_code == 201
    r = await end(client, world, sid, clock.now - 30 * M)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == sid and body["status"] == "ended"
    assert when(body["ended_at"]) == clock.now - 30 * M
    assert body["end_note"] == "Calm, returned to the ward"
    assert body["duration_minutes"] == 150
    assert set(body["next_due"]) == SECLUSION_KINDS
    assert set(body["next_due"].values()) == {None}
    # what was missed while it lasted stays on the record
    assert ("SECL_NURSING_REVIEW", start + 2 * H, None) in missed(body)
    # time passing changes nothing once it has ended
    clock.now += 2 * D
    later = await get(client, world, sid)
    assert later["duration_minutes"] == 150 and later["missed"] == body["missed"]
    assert set(later["next_due"].values()) == {None}
    # ending again is a conflict
    assert (await end(client, world, sid, clock.now)).status_code == 409


# --- conflicts ----------------------------------------------------------------------------------


async def test_a_second_open_seclusion_is_refused(client, world, clock, session, admission_id):
    await secluded(client, world, admission_id, clock.now - H)
    before = await fingerprint(session)
    r = await start_seclusion(client, world, admission_id, clock.now)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await fingerprint(session) == before


async def test_overlapping_an_earlier_seclusion_is_refused(
    client, world, clock, session, admission_id
):
    first = await secluded(client, world, admission_id, clock.now - 5 * H)
    assert (await end(client, world, first["id"], clock.now - 3 * H)).status_code == 200
    before = await fingerprint(session)
    for started in (clock.now - 3 * H - M, clock.now - 6 * H):
        r = await start_seclusion(client, world, admission_id, started)
        assert r.status_code == 409, r.json()
    assert await fingerprint(session) == before
    assert (
        await start_seclusion(client, world, admission_id, clock.now - 3 * H + M)
    ).status_code == 201


async def test_start_on_a_discharged_admission_is_a_conflict(client, world, clock, session):
    admission_id = (await world.admit(bed="A1", at=clock.now - 5 * D)).id
    r = await client.post(
        f"{API}/admissions/{admission_id}/discharge",
        headers=world.auth("nurse"),
        json={"at": iso(clock.now - D), "destination": "usual_residence"},
    )
    assert r.status_code == 200
    before = await fingerprint(session)
    for started in (clock.now - 2 * D, clock.now):
        assert (await start_seclusion(client, world, admission_id, started)).status_code == 409
    assert await fingerprint(session) == before


# --- times: inside the admission and the episode, not in the future ---------------------------


@pytest.mark.parametrize(
    ("offset", "status"),
    [(-M, 422), (timedelta(0), 201)],
    ids=["a minute before admission", "at admission"],
)
async def test_an_episode_cannot_start_before_the_admission(
    client, world, clock, session, offset, status
):
    admitted = clock.now - 2 * D
    admission_id = (await world.admit(bed="A1", at=admitted)).id
    before = await fingerprint(session)
    r = await start_seclusion(client, world, admission_id, admitted + offset)
    assert r.status_code == status
    if status == 422:
        assert [e["field"] for e in r.json()["errors"]] == ["started_at"]
        assert await fingerprint(session) == before


@pytest.mark.parametrize(("minutes", "status"), [(4, 201), (6, 422)])
async def test_an_episode_can_start_at_most_five_minutes_ahead(
    client, world, clock, session, admission_id, minutes, status
):
    before = await fingerprint(session)
    r = await start_seclusion(client, world, admission_id, clock.now + minutes * M)
    assert r.status_code == status
    if status == 422:
        assert [e["field"] for e in r.json()["errors"]] == ["started_at"]
        assert await fingerprint(session) == before


WRITES_AT = {
    "review": lambda c, w, sid, at: review(c, w, sid, "nursing", at),
    "observation": observe,
    "end": end,
}


@pytest.mark.parametrize("write", WRITES_AT)
async def test_before_the_episode_started_is_refused(
    client, world, clock, session, admission_id, write
):
    start = clock.now - 2 * H
    sid = (await secluded(client, world, admission_id, start))["id"]
    before = await fingerprint(session)
    r = await WRITES_AT[write](client, world, sid, start - M)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["at"]
    assert await fingerprint(session) == before
    assert (await WRITES_AT[write](client, world, sid, start)).status_code in (200, 201)


@pytest.mark.parametrize("write", WRITES_AT)
@pytest.mark.parametrize(("minutes", "accepted"), [(4, True), (6, False)])
async def test_more_than_five_minutes_in_the_future_is_refused(
    client, world, clock, session, admission_id, write, minutes, accepted
):
    sid = (await secluded(client, world, admission_id, clock.now - 2 * H))["id"]
    before = await fingerprint(session)
    r = await WRITES_AT[write](client, world, sid, clock.now + minutes * M)
    if accepted:
        assert r.status_code in (200, 201), r.json()
    else:
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == ["at"]
        assert await fingerprint(session) == before


@pytest.mark.parametrize("write", ["review", "observation"])
async def test_after_the_episode_ended_is_refused(
    client, world, clock, session, admission_id, write
):
    sid = (await secluded(client, world, admission_id, clock.now - 3 * H))["id"]
    ended = clock.now - H
    assert (await end(client, world, sid, ended)).status_code == 200
    before = await fingerprint(session)
    r = await WRITES_AT[write](client, world, sid, ended + M)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["at"]
    assert await fingerprint(session) == before
    # at the very moment it ended is still inside it (a record of the ending review)
    assert (await WRITES_AT[write](client, world, sid, ended)).status_code == 201


@pytest.mark.parametrize("last", ["review", "observation"])
async def test_the_end_cannot_come_before_what_was_recorded(
    client, world, clock, session, admission_id, last
):
    sid = (await secluded(client, world, admission_id, clock.now - 3 * H))["id"]
    recorded = clock.now - H
    assert (await WRITES_AT[last](client, world, sid, recorded)).status_code == 201
    before = await fingerprint(session)
    r = await end(client, world, sid, recorded - M)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["at"]
    assert await fingerprint(session) == before
    assert (await end(client, world, sid, recorded)).status_code == 200


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"authorised_by_role": "doctor"}, "authorised_by_role"),
        ({"authorised_by_role": ...}, "authorised_by_role"),
        ({"started_at": "2026-03-10T11:00:00"}, "started_at"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"reason": "   "}, "reason"),
        ({"reason": ...}, "reason"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_malformed_start_is_refused_naming_the_field(
    client, world, clock, session, admission_id, overrides, field
):
    before = await fingerprint(session)
    r = await start_seclusion(client, world, admission_id, clock.now - H, **overrides)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("reviews", {"kind": "psychology", "at": "AT", "note": "x"}, "kind"),
        ("reviews", {"kind": "medical", "at": "AT", "note": "x", "outcome": "maybe"}, "outcome"),
        ("reviews", {"kind": "medical", "at": "2026-03-10T11:00:00", "note": "x"}, "at"),
        ("reviews", {"kind": "medical", "at": "AT", "note": ""}, "note"),
        ("observations", {"at": "2026-03-10T11:00:00", "note": "x"}, "at"),
        ("observations", {"at": "AT"}, "note"),
        ("end", {"at": "2026-03-10T11:00:00", "note": "x"}, "at"),
        ("end", {"at": "AT", "note": " "}, "note"),
    ],
)
async def test_a_malformed_review_observation_or_end_is_refused_naming_the_field(
    client, world, clock, session, admission_id, path, body, field
):
    sid = (await secluded(client, world, admission_id, clock.now - 2 * H))["id"]
    body = {k: iso(clock.now - H) if v == "AT" else v for k, v in body.items()}
    before = await fingerprint(session)
    r = await client.post(f"{API}/seclusions/{sid}/{path}", headers=world.auth("nurse"), json=body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == [field]
    assert await fingerprint(session) == before


async def test_unknown_ids_are_404(client, world, clock, session, admission_id):
    h = world.auth("nurse")
    at = iso(clock.now)
    before = await fingerprint(session)
    assert (
        await client.post(
            f"{API}/admissions/999999/seclusions", headers=h, json=seclusion_body(clock.now)
        )
    ).status_code == 404
    assert (await client.get(f"{API}/seclusions/999999", headers=h)).status_code == 404
    for path, body in (
        ("reviews", {"kind": "medical", "at": at, "note": "x"}),
        ("observations", {"at": at, "note": "x"}),
        ("end", {"at": at, "note": "x"}),
        ("to-segregation", {"at": at, "note": "x", "reason": "y"}),
    ):
        r = await client.post(f"{API}/seclusions/999999/{path}", headers=h, json=body)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await fingerprint(session) == before


async def test_an_id_beyond_the_database_s_range_is_unknown_not_a_500(
    client, world, clock, session
):
    """'Never a 500 for bad input': an id no row can have is an unknown id."""
    h = world.auth("nurse")
    big = 2**31
    at = iso(clock.now)
    before = await fingerprint(session)
    for method, path, body in (
        ("GET", f"{API}/seclusions/{big}", None),
        ("POST", f"{API}/seclusions/{big}/reviews", {"kind": "medical", "at": at, "note": "x"}),
        ("POST", f"{API}/seclusions/{big}/end", {"at": at, "note": "x"}),
        ("GET", f"{API}/segregations/{big}", None),
        ("PATCH", f"{API}/segregations/{big}", {"imha_informed_at": at}),
        ("POST", f"{API}/admissions/{big}/seclusions", seclusion_body(clock.now)),
        ("POST", f"{API}/admissions/{big}/segregations", {"started_at": at, "reason": "x"}),
    ):
        r = await client.request(method, path, headers=h, json=body)
        assert r.status_code == 404, (method, path)
    assert await fingerprint(session) == before


# --- who may do what ----------------------------------------------------------------------------


def writes(sid: int, admission_id: int, now: datetime) -> list[tuple[str, dict[str, object]]]:
    at = iso(now)
    return [
        (f"{API}/admissions/{admission_id}/seclusions", seclusion_body(now)),
        (f"{API}/seclusions/{sid}/reviews", {"kind": "medical", "at": at, "note": "x"}),
        (f"{API}/seclusions/{sid}/observations", {"at": at, "note": "x"}),
        (f"{API}/seclusions/{sid}/end", {"at": at, "note": "x"}),
        (f"{API}/seclusions/{sid}/to-segregation", {"at": at, "note": "x", "reason": "y"}),
    ]


@pytest.mark.parametrize("user", ["birchnurse", "beds", "director"])
async def test_only_the_ward_s_staff_and_admins_write(
    client, world, clock, session, admission_id, user
):
    sid = (await secluded(client, world, admission_id, clock.now - H))["id"]
    # a second admission with no seclusion, so a start would otherwise succeed
    other_id = (await world.admit(bed="A2", at=clock.now - D)).id
    before = await fingerprint(session)
    for path, body in writes(sid, other_id, clock.now):
        r = await client.post(path, headers=world.auth(user), json=body)
        assert r.status_code == 403, (path, r.json())
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await fingerprint(session) == before
    # the same writes by the ward's nurse go through
    statuses = [
        (await client.post(path, headers=world.auth("nurse"), json=body)).status_code
        for path, body in writes(sid, other_id, clock.now)[:4]
    ]
    assert statuses == [201, 201, 201, 200]


@pytest.mark.parametrize(
    ("user", "status"),
    [("nurse", 200), ("admin", 200), ("lead", 200), ("birchnurse", 403), ("director", 403)],
)
async def test_who_may_read_a_seclusion(client, world, clock, admission_id, user, status):
    sid = (await secluded(client, world, admission_id, clock.now - H))["id"]
    r = await client.get(f"{API}/seclusions/{sid}", headers=world.auth(user))
    assert r.status_code == status
    if status == 200:
        assert r.json()["id"] == sid


async def test_no_credentials_is_401(client, world, clock, admission_id):
    sid = (await secluded(client, world, admission_id, clock.now - H))["id"]
    assert (await client.get(f"{API}/seclusions/{sid}")).status_code == 401
    r = await client.post(
        f"{API}/seclusions/{sid}/reviews",
        json={"kind": "medical", "at": iso(clock.now), "note": "x"},
    )
    assert r.status_code == 401


# --- the admission: discharge and its list of episodes ------------------------------------------


async def discharge(client, world, admission_id, at):
    return await client.post(
        f"{API}/admissions/{admission_id}/discharge",
        headers=world.auth("nurse"),
        json={"at": iso(at), "destination": "usual_residence"},
    )


async def test_discharge_is_refused_while_secluded(client, world, clock, session, admission_id):
    sid = (await secluded(client, world, admission_id, clock.now - 3 * H))["id"]
    before = await fingerprint(session)
    r = await discharge(client, world, admission_id, clock.now)
    assert r.status_code == 409 and "seclusion" in r.json()["detail"]
    assert await fingerprint(session) == before
    ended = clock.now - H
    assert (await end(client, world, sid, ended)).status_code == 200
    # nor while it was still open at the time given for the discharge
    assert (await discharge(client, world, admission_id, ended - M)).status_code == 409
    r = await discharge(client, world, admission_id, ended)
    assert r.status_code == 200 and r.json()["status"] == "discharged"


async def test_discharge_before_a_later_seclusion_is_a_wrong_time_not_an_open_episode(
    client, world, clock, session, admission_id
):
    sid = (await secluded(client, world, admission_id, clock.now - 3 * H))["id"]
    assert (await end(client, world, sid, clock.now - 2 * H)).status_code == 200
    before = await fingerprint(session)

    r = await discharge(client, world, admission_id, clock.now - 4 * H)

    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "at"
    assert "before a seclusion" in r.json()["errors"][0]["message"]
    assert await fingerprint(session) == before


async def test_the_admission_lists_its_episodes(client, world, clock, admission_id):
    first = await secluded(client, world, admission_id, clock.now - 10 * H)
    assert (await end(client, world, first["id"], clock.now - 8 * H)).status_code == 200
    second = await secluded(client, world, admission_id, clock.now - H)
    r = await client.get(f"{API}/admissions/{admission_id}", headers=world.auth("nurse"))
    assert r.status_code == 200
    assert [
        (e["kind"], e["id"], when(e["started_at"]), when(e["ended_at"]), e["status"], e["url"])
        for e in r.json()["episodes"]
    ] == [
        (
            "seclusion",
            first["id"],
            clock.now - 10 * H,
            clock.now - 8 * H,
            "ended",
            f"/seclusions/{first['id']}",
        ),
        ("seclusion", second["id"], clock.now - H, None, "open", f"/seclusions/{second['id']}"),
    ]


# --- the board --------------------------------------------------------------------------------


def occupant(board: dict, admission_id: int) -> dict:
    (found,) = [
        b["occupant"]
        for b in board["beds"]
        if b["occupant"] and b["occupant"]["admission_id"] == admission_id
    ]
    return found


async def board(client, world) -> dict:
    r = await client.get(f"{API}/wards/ASH/board", headers=world.auth("nurse"))
    assert r.status_code == 200
    return r.json()


async def test_the_board_shows_who_is_secluded_and_what_is_due(client, world, clock, admission_id):
    t0 = clock.now
    card = occupant(await board(client, world), admission_id)
    assert "secluded" not in card["flags"] and card["restrictions"] == []

    sid = (await secluded(client, world, admission_id, t0 - 30 * M))["id"]
    for at in (t0 - 16 * M, t0 - 2 * M):
        assert (await observe(client, world, sid, at)).status_code == 201
    card = occupant(await board(client, world), admission_id)
    assert "secluded" in card["flags"]
    (restriction,) = card["restrictions"]
    assert restriction["kind"] == "seclusion" and restriction["id"] == sid
    assert restriction["next_kind"] == "medical"
    assert when(restriction["next_due"]) == t0 + 30 * M
    assert restriction["overdue"] is False
    # observations have their own countdown: 15 minutes after the last one
    assert when(restriction["observation_due"]) == t0 + 13 * M
    assert restriction["observation_overdue"] is False

    # the first medical review is missed: overdue
    clock.now = t0 + 31 * M
    (restriction,) = occupant(await board(client, world), admission_id)["restrictions"]
    assert restriction["next_kind"] == "medical"
    assert when(restriction["next_due"]) == t0 + 30 * M
    assert restriction["overdue"] is True
    assert when(restriction["observation_due"]) == t0 + 13 * M
    assert restriction["observation_overdue"] is True

    # done late: no longer missing; the nursing review is next
    assert (await review(client, world, sid, "medical", clock.now)).status_code == 201
    (restriction,) = occupant(await board(client, world), admission_id)["restrictions"]
    assert restriction["next_kind"] == "nursing"
    assert when(restriction["next_due"]) == t0 + 90 * M
    assert restriction["overdue"] is False

    assert (await end(client, world, sid, clock.now)).status_code == 200
    card = occupant(await board(client, world), admission_id)
    assert "secluded" not in card["flags"] and card["restrictions"] == []


async def test_the_board_counts_earlier_episodes_as_the_episode_page_does(
    client, world, clock, admission_id
):
    """12 hours in 48: the board's countdown must come from the same history as the episode's."""
    now = clock.now
    first = await secluded(client, world, admission_id, now - 30 * H)
    assert (await end(client, world, first["id"], now - 24 * H)).status_code == 200
    sid = (await secluded(client, world, admission_id, now - 5 * H - 30 * M))["id"]
    for kind in ("medical", "nursing", "mdt"):
        assert (await review(client, world, sid, kind, now - 10 * M)).status_code == 201
    assert (await observe(client, world, sid, now - 5 * M)).status_code == 201
    episode = await get(client, world, sid)
    # 6 h yesterday + 6 h now: the independent review is the next thing due, in 30 minutes
    assert when(episode["next_due"]["independent_mdt"]) == now + 30 * M
    (restriction,) = occupant(await board(client, world), admission_id)["restrictions"]
    assert restriction["next_kind"] == "independent_mdt"
    assert when(restriction["next_due"]) == now + 30 * M
    assert when(restriction["observation_due"]) == when(episode["next_due"]["observation"])


async def statements_for(query_counter, request) -> tuple[int, object]:
    start = len(query_counter)
    response = await request
    return len(query_counter) - start, response


async def test_the_board_is_a_fixed_number_of_queries_however_many_are_secluded(
    client, world, clock, query_counter
):
    h = world.auth("nurse")

    async def seclude_someone(bed: str, with_history: bool) -> None:
        admission_id = (await world.admit(bed=bed, at=clock.now - 5 * D)).id
        if with_history:
            old = await secluded(client, world, admission_id, clock.now - 30 * H)
            assert (
                await review(client, world, old["id"], "medical", clock.now - 29 * H)
            ).status_code == 201
            assert (await end(client, world, old["id"], clock.now - 25 * H)).status_code == 200
        sid = (await secluded(client, world, admission_id, clock.now - 3 * H))["id"]
        assert (await review(client, world, sid, "nursing", clock.now - 2 * H)).status_code == 201
        assert (await observe(client, world, sid, clock.now - 10 * M)).status_code == 201

    async def segregate_someone(bed: str, **patient: object) -> None:
        person = await world.patient(**patient)
        admission_id = (await world.admit(patient=person, bed=bed, at=clock.now - 5 * D)).id
        r = await client.post(
            f"{API}/admissions/{admission_id}/segregations",
            headers=h,
            json={"started_at": iso(clock.now - 2 * D), "reason": "Sustained risk to others"},
        )
        assert r.status_code == 201

    await seclude_someone("A1", with_history=False)
    await segregate_someone("A2")
    assert (await client.get(f"{API}/wards", headers=h)).status_code == 200  # warm the token
    few, small = await statements_for(
        query_counter, client.get(f"{API}/wards/ASH/board", headers=h)
    )

    for bed in ("A3", "A4", "A5"):
        await seclude_someone(bed, with_history=True)
    await segregate_someone("A6", learning_disability=True)
    many, large = await statements_for(
        query_counter, client.get(f"{API}/wards/ASH/board", headers=h)
    )

    def flagged(response, flag: str) -> int:
        return sum(
            1 for b in response.json()["beds"] if b["occupant"] and flag in b["occupant"]["flags"]
        )

    assert (flagged(small, "secluded"), flagged(small, "segregated")) == (1, 1)
    assert (flagged(large, "secluded"), flagged(large, "segregated")) == (4, 2)
    assert few > 0
    assert many == few
