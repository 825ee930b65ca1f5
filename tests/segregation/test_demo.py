"""The demo trust's restrictive practice: seeded without a database error (the triggers
check every episode, review and observation), inside the stays it belongs to, showing on
the board what a person trying Wardflow should see, and the same for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.demo import seed_demo
from app.segregation import board, evaluate, read
from app.segregation.codes import INTERVENTION_TYPES
from app.segregation.force import checks as force_checks
from app.segregation.force import service as force
from app.segregation.force.models import RestrictiveIntervention
from app.segregation.models import Seclusion, Segregation
from app.wards.models import Admission, Ward, WardStay

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _stays(session) -> dict[int, list[tuple[datetime, datetime, int]]]:
    """Admission -> its ward stays as (start, end or NOW, ward id)."""
    stays: dict[int, list[tuple[datetime, datetime, int]]] = {}
    for stay in await session.scalars(select(WardStay)):
        stays.setdefault(stay.admission_id, []).append(
            (stay.started_at, stay.ended_at or NOW, stay.ward_id)
        )
    return stays


def _ward_holding(stays, start: datetime, end: datetime) -> int | None:
    """The ward of the one stay holding [start, end], if there is one."""
    for s, e, ward_id in stays:
        if s <= start and end <= e:
            return ward_id
    return None


def _minute(at: datetime) -> bool:
    return at.second == 0 and at.microsecond == 0 and at <= NOW


def _check_entered(at: datetime, recorded_at: datetime) -> None:
    assert _minute(at) and at <= recorded_at <= NOW


async def test_demo_has_restrictive_practice_inside_every_stay(session):
    summary = await seed_demo(session, now=NOW)
    stays = await _stays(session)
    ward_types = dict((await session.execute(select(Ward.id, Ward.ward_type))).all())
    discharged = dict((await session.execute(select(Admission.id, Admission.discharged_at))).all())

    seclusions = list(
        await session.scalars(
            select(Seclusion).options(
                selectinload(Seclusion.reviews), selectinload(Seclusion.observations)
            )
        )
    )
    assert len(seclusions) == summary.seclusions > 20
    for seclusion in seclusions:
        end = seclusion.ended_at or NOW
        assert _minute(seclusion.started_at) and _minute(end)
        assert seclusion.started_at <= seclusion.created_at <= NOW
        assert _ward_holding(stays[seclusion.admission_id], seclusion.started_at, end)
        for item in [*seclusion.reviews, *seclusion.observations]:
            _check_entered(item.at, item.recorded_at)
            assert seclusion.started_at <= item.at <= end
    open_seclusions = [s for s in seclusions if s.ended_at is None]
    assert len(open_seclusions) == 2
    assert all(discharged[s.admission_id] is None for s in open_seclusions)
    assert "picu" in {
        ward_types[_ward_holding(stays[s.admission_id], s.started_at, NOW)] for s in open_seclusions
    }
    past = [s for s in seclusions if s.ended_at is not None and discharged[s.admission_id]]
    assert len(past) > 20
    assert all(s.reviews and s.observations for s in past)
    assert all(s.reviews[-1].outcome == "end" for s in past)
    hours = [(s.ended_at - s.started_at) / timedelta(hours=1) for s in past]
    assert min(hours) >= 1 and sum(h > 8 for h in hours) >= 2
    assert all(s.ended_at <= discharged[s.admission_id] for s in past)
    # An ended seclusion on someone still in hospital, earlier today.
    assert any(
        s.ended_at is not None
        and discharged[s.admission_id] is None
        and s.ended_at > NOW - timedelta(hours=24)
        for s in seclusions
    )

    # Some past episodes show missed or late reviews; most were reviewed on time.
    policy, _ = await read.policies(session)
    by_admission: dict[int, list[Seclusion]] = {}
    for s in seclusions:
        by_admission.setdefault(s.admission_id, []).append(s)
    with_missed = sum(
        1
        for s in past
        if any(
            chain.breaches
            for chain in evaluate.chains_for_seclusion(
                s, by_admission[s.admission_id], NOW, policy
            ).values()
        )
    )
    assert 0.1 * len(past) <= with_missed <= 0.7 * len(past)

    segregations = list(
        await session.scalars(select(Segregation).options(selectinload(Segregation.reviews)))
    )
    assert len(segregations) == summary.segregations >= 3
    by_id = {s.id: s for s in seclusions}
    for segregation in segregations:
        end = segregation.ended_at or NOW
        assert _minute(segregation.started_at) and _minute(end)
        assert _ward_holding(stays[segregation.admission_id], segregation.started_at, end)
        assert segregation.reviews
        for review in segregation.reviews:
            _check_entered(review.at, review.recorded_at)
            assert segregation.started_at <= review.at <= end
        for told in (segregation.commissioner_informed_at, segregation.imha_informed_at):
            assert told is None or segregation.started_at <= told <= NOW
        if segregation.from_seclusion_id is not None:
            before = by_id[segregation.from_seclusion_id]
            assert before.admission_id == segregation.admission_id
            assert before.ended_at == segregation.started_at
    assert any(s.from_seclusion_id is not None for s in segregations)
    (now_segregated,) = [s for s in segregations if s.ended_at is None]
    assert now_segregated.commissioner_informed_at is not None
    assert now_segregated.imha_informed_at is None
    ward = _ward_holding(stays[now_segregated.admission_id], now_segregated.started_at, NOW)
    assert ward_types[ward] in ("ld_autism", "forensic")
    assert NOW - now_segregated.started_at > timedelta(days=2)

    records = list(await session.scalars(select(RestrictiveIntervention).options(*force.DETAIL)))
    assert len(records) == summary.uses_of_force
    people = {r.admission_id for r in records}
    assert 0.08 * len(discharged) <= len(people) <= 0.25 * len(discharged)
    type_counts: Counter[str] = Counter()
    for record in records:
        assert _minute(record.started_at) and record.ended_at and _minute(record.ended_at)
        assert record.started_at <= record.ended_at <= record.created_at <= NOW
        assert record.ward_id == _ward_holding(
            stays[record.admission_id], record.started_at, record.started_at
        )
        assert 2 <= len(record.staff) <= 4
        assert record.types and all(t.type_code in INTERVENTION_TYPES for t in record.types)
        for t in record.types:
            assert record.started_at <= t.started_at <= (t.ended_at or NOW) <= record.ended_at
        type_counts.update({t.type_code for t in record.types})
        assert [v.version for v in record.versions] == [1]
        assert record.versions[0].data["missing"] == force_checks.missing_items(record)
        if any(s.job_title == "Police constable" for s in record.staff):
            assert record.non_unit_staff_reason != force.NO_NON_UNIT_STAFF
    assert 0 < type_counts["01"] < 0.3 * len(records)  # prone: a minority
    assert type_counts["14"] > 0
    incomplete = [r for r in records if force_checks.missing_items(r)]
    assert 0 < len(incomplete) < 0.3 * len(records)
    # Still within its 24 hours to complete, and one long past them, on open admissions.
    recent = [
        r
        for r in incomplete
        if discharged[r.admission_id] is None and NOW - r.ended_at < timedelta(hours=24)
    ]
    assert recent and {"outcome", "avoidance_efforts", "care_plan_notification_sent"} <= set(
        force_checks.missing_items(recent[0])
    )
    assert any(
        discharged[r.admission_id] is None and NOW - r.ended_at > timedelta(days=2)
        for r in incomplete
    )


async def test_board_shows_a_review_overdue_and_one_due_soon(session):
    await seed_demo(session, now=NOW)
    open_ids = list(
        await session.scalars(select(Admission.id).where(Admission.discharged_at.is_(None)))
    )
    cards = await board.card_restrictions(session, open_ids, NOW)
    restrictions = [c for card in cards.values() for c in card]
    seclusions = [c for c in restrictions if c.kind == "seclusion"]
    assert len(seclusions) == 2
    (red,) = [c for c in seclusions if c.overdue]
    (amber,) = [c for c in seclusions if not c.overdue]
    assert red.next_due is not None and red.next_due < NOW
    assert amber.next_due is not None
    assert timedelta(minutes=10) <= amber.next_due - NOW <= timedelta(minutes=30)
    assert not amber.observation_overdue and not red.observation_overdue
    (segregation,) = [c for c in restrictions if c.kind == "segregation"]
    assert segregation.overdue and segregation.next_kind == "notification"


async def _fingerprint(session) -> tuple:
    seclusions = await session.execute(
        select(Seclusion.started_at, Seclusion.ended_at, Seclusion.authorised_by_role).order_by(
            Seclusion.started_at
        )
    )
    segregations = await session.execute(
        select(Segregation.started_at, Segregation.ended_at).order_by(Segregation.started_at)
    )
    records = await session.execute(
        select(RestrictiveIntervention.started_at, RestrictiveIntervention.outcome).order_by(
            RestrictiveIntervention.started_at
        )
    )
    return (
        seclusions.all(),
        segregations.all(),
        records.all(),
    )


async def test_seeding_is_deterministic(session):
    nested = await session.begin_nested()
    first = await seed_demo(session, now=NOW, rng_seed=7)
    first_print = await _fingerprint(session)
    await nested.rollback()

    second = await seed_demo(session, now=NOW, rng_seed=7)
    assert (first.seclusions, first.segregations, first.uses_of_force) == (
        second.seclusions,
        second.segregations,
        second.uses_of_force,
    )
    assert await _fingerprint(session) == first_print
