"""Seclusion and segregation invariants hold in the database itself (DOMAIN.md), whatever
writes: each statement goes around the services and must be refused (IntegrityError), while
the same statement with a lawful value is accepted, so a refusal is for the reason named.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.segregation.models import (
    Seclusion,
    SeclusionObservation,
    SeclusionReview,
    Segregation,
    SegregationReview,
)
from app.wards.models import Admission

SEC = timedelta(seconds=1)
H = timedelta(hours=1)
D = timedelta(days=1)


async def outcome(session: AsyncSession, statement) -> str | None:
    """None if the database accepted the statement, else the text of its refusal."""
    try:
        async with session.begin_nested():
            await session.execute(statement)
    except IntegrityError as error:
        return str(error.orig)
    return None


async def refused_because(session: AsyncSession, statement, *reasons: str) -> bool:
    message = await outcome(session, statement)
    assert message is not None, "the database accepted it"
    assert any(reason in message for reason in reasons), message
    return True


def new_seclusion(admission_id: int, start: datetime, end: datetime | None = None):
    return insert(Seclusion).values(
        admission_id=admission_id,
        started_at=start,
        ended_at=end,
        authorised_by_role="nurse_in_charge",
        reason="Risk to others",
        created_at=start,
    )


def new_segregation(admission_id: int, start: datetime, end: datetime | None = None):
    return insert(Segregation).values(
        admission_id=admission_id,
        started_at=start,
        ended_at=end,
        reason="Sustained risk to others",
        created_at=start,
        updated_at=start,
    )


NEW_EPISODE = {"seclusions": new_seclusion, "segregations": new_segregation}
MODELS: dict[str, type[Seclusion] | type[Segregation]] = {
    "seclusions": Seclusion,
    "segregations": Segregation,
}


async def add(session: AsyncSession, statement) -> int:
    """Insert through the database directly, expecting it to be accepted; the new id."""
    table = statement.table
    new_id = await session.scalar(statement.returning(table.c.id))
    assert new_id is not None
    return new_id


def new_record(table: str, parent_id: int, at: datetime):
    if table == "seclusion_reviews":
        return insert(SeclusionReview).values(
            seclusion_id=parent_id, kind="medical", at=at, note="Reviewed", recorded_at=at
        )
    if table == "seclusion_observations":
        return insert(SeclusionObservation).values(
            seclusion_id=parent_id, at=at, note="Observed", recorded_at=at
        )
    return insert(SegregationReview).values(
        segregation_id=parent_id, kind="approved_clinician", at=at, note="Reviewed", recorded_at=at
    )


# which episode table each record belongs to
RECORDS = {
    "seclusion_reviews": ("seclusions", "review_outside_episode"),
    "seclusion_observations": ("seclusions", "observation_outside_episode"),
    "segregation_reviews": ("segregations", "review_outside_episode"),
}
RECORD_MODELS: dict[
    str, type[SeclusionReview] | type[SeclusionObservation] | type[SegregationReview]
] = {
    "seclusion_reviews": SeclusionReview,
    "seclusion_observations": SeclusionObservation,
    "segregation_reviews": SegregationReview,
}


@pytest.fixture
async def admitted(world, clock) -> tuple[int, datetime]:
    at = clock.now - 5 * D
    admission = await world.admit(at=at)
    return admission.id, at


# --- one open episode of each kind per admission ----------------------------------------------


@pytest.mark.parametrize("table", ["seclusions", "segregations"])
async def test_one_open_episode_of_a_kind_per_admission(session, clock, admitted, table):
    admission_id, _ = admitted
    first = await add(session, NEW_EPISODE[table](admission_id, clock.now - 5 * H))
    assert await refused_because(
        session,
        NEW_EPISODE[table](admission_id, clock.now - H),
        f"uq_{table}_one_open_per_admission",  # PostgreSQL names the index
        f"UNIQUE constraint failed: {table}.admission_id",  # SQLite names the column
    )
    model = MODELS[table]
    await session.execute(update(model).where(model.id == first).values(ended_at=clock.now - 3 * H))
    assert await outcome(session, NEW_EPISODE[table](admission_id, clock.now - H)) is None


async def test_a_seclusion_and_a_segregation_may_both_be_open(session, clock, admitted):
    admission_id, _ = admitted
    await add(session, new_seclusion(admission_id, clock.now - 5 * H))
    assert await outcome(session, new_segregation(admission_id, clock.now - 4 * H)) is None


# --- everything falls inside what it belongs to -----------------------------------------------


@pytest.mark.parametrize("table", list(RECORDS))
async def test_a_record_falls_inside_its_episode(session, clock, admitted, table):
    admission_id, _ = admitted
    episode_table, reason = RECORDS[table]
    start, end = clock.now - 5 * H, clock.now - H
    parent = await add(session, NEW_EPISODE[episode_table](admission_id, start, end))
    assert await refused_because(session, new_record(table, parent, start - SEC), reason)
    assert await refused_because(session, new_record(table, parent, end + SEC), reason)
    assert await outcome(session, new_record(table, parent, start)) is None
    assert await outcome(session, new_record(table, parent, end)) is None
    # moving a recorded one outside is refused too
    record = await add(session, new_record(table, parent, start + H))
    model = RECORD_MODELS[table]
    assert await refused_because(
        session, update(model).where(model.id == record).values(at=start - SEC), reason
    )
    assert await refused_because(
        session, update(model).where(model.id == record).values(at=end + SEC), reason
    )


@pytest.mark.parametrize("table", list(RECORDS))
async def test_an_episode_cannot_end_before_what_was_recorded_in_it(
    session, clock, admitted, table
):
    admission_id, _ = admitted
    episode_table, _ = RECORDS[table]
    start, recorded = clock.now - 5 * H, clock.now - 2 * H
    parent = await add(session, NEW_EPISODE[episode_table](admission_id, start))
    await add(session, new_record(table, parent, recorded))
    model = MODELS[episode_table]
    ending = update(model).where(model.id == parent)
    assert await refused_because(
        session, ending.values(ended_at=recorded - SEC), "record_after_end"
    )
    assert await outcome(session, ending.values(ended_at=recorded)) is None


@pytest.mark.parametrize("table", ["seclusions", "segregations"])
async def test_an_episode_falls_inside_its_admission(session, clock, world, table):
    admitted_at, discharged_at = clock.now - 5 * D, clock.now - D
    admission_id = (await world.admit(at=admitted_at)).id
    new = NEW_EPISODE[table]
    assert await refused_because(
        session, new(admission_id, admitted_at - SEC, admitted_at + H), "episode_outside_admission"
    )
    inside = await add(session, new(admission_id, admitted_at, admitted_at + H))
    model = MODELS[table]
    assert await refused_because(
        session,
        update(model).where(model.id == inside).values(started_at=admitted_at - SEC),
        "episode_outside_admission",
    )
    await session.execute(
        update(Admission)
        .where(Admission.id == admission_id)
        .values(discharged_at=discharged_at, discharge_destination="usual_residence")
    )
    assert await refused_because(
        session,
        new(admission_id, discharged_at + SEC, discharged_at + H),
        "episode_outside_admission",
    )


# --- no discharge while secluded or segregated ------------------------------------------------


@pytest.mark.parametrize("table", ["seclusions", "segregations"])
async def test_no_discharge_while_an_episode_is_open(session, clock, admitted, table):
    admission_id, _ = admitted
    episode = await add(session, NEW_EPISODE[table](admission_id, clock.now - 5 * H))

    def discharge(at: datetime):
        return (
            update(Admission)
            .where(Admission.id == admission_id)
            .values(discharged_at=at, discharge_destination="usual_residence")
        )

    assert await refused_because(session, discharge(clock.now), "discharge_while_restricted")
    model = MODELS[table]
    ended = clock.now - H
    await session.execute(update(model).where(model.id == episode).values(ended_at=ended))
    # nor at a time when it was still open
    assert await refused_because(session, discharge(ended - SEC), "discharge_while_restricted")
    assert await outcome(session, discharge(ended)) is None


# --- never deleted --------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["seclusions", "segregations", *RECORDS])
async def test_episodes_and_their_records_are_never_deleted(session, clock, admitted, table):
    admission_id, _ = admitted
    episode_table = RECORDS[table][0] if table in RECORDS else table
    parent = await add(session, NEW_EPISODE[episode_table](admission_id, clock.now - 5 * H))
    if table in RECORDS:
        record = RECORD_MODELS[table]
        row = await add(session, new_record(table, parent, clock.now - 4 * H))
        statement = delete(record).where(record.id == row)
    else:
        episode = MODELS[table]
        statement = delete(episode).where(episode.id == parent)
    assert await refused_because(session, statement, "never_deleted")


# --- intervals and codes -----------------------------------------------------------------------


@pytest.mark.parametrize("table", ["seclusions", "segregations"])
async def test_an_episode_ends_at_or_after_it_starts(session, clock, admitted, table):
    admission_id, _ = admitted
    start = clock.now - 5 * H
    model = MODELS[table]
    episode = await add(session, NEW_EPISODE[table](admission_id, start))
    ending = update(model).where(model.id == episode)
    assert await refused_because(
        session, ending.values(ended_at=start - SEC), f"ck_{table}_ends_after_start"
    )
    assert await refused_because(
        session,
        NEW_EPISODE[table](admission_id, start, start - SEC),
        f"ck_{table}_ends_after_start",
    )
    assert await outcome(session, ending.values(ended_at=start)) is None


@pytest.mark.parametrize("column", ["commissioner_informed_at", "imha_informed_at"])
async def test_notification_times_are_not_before_the_segregation(session, clock, admitted, column):
    admission_id, _ = admitted
    start = clock.now - 5 * H
    episode = await add(session, new_segregation(admission_id, start))
    change = update(Segregation).where(Segregation.id == episode)
    assert await refused_because(session, change.values({column: start - SEC}), "after_start")
    assert await outcome(session, change.values({column: start})) is None


@pytest.mark.parametrize(
    ("model", "column", "value"),
    [
        (Seclusion, "authorised_by_role", "doctor"),
        (Seclusion, "reason", "   "),
        (SeclusionReview, "kind", "psychology"),
        (SeclusionReview, "outcome", "maybe"),
        (SegregationReview, "kind", "medical"),
    ],
)
async def test_codes_and_blank_text_are_refused_by_the_database(
    session, clock, admitted, model, column, value
):
    admission_id, _ = admitted
    seclusion = await add(session, new_seclusion(admission_id, clock.now - 5 * H))
    segregation = await add(session, new_segregation(admission_id, clock.now - 5 * H))
    await add(session, new_record("seclusion_reviews", seclusion, clock.now - 4 * H))
    await add(session, new_record("segregation_reviews", segregation, clock.now - 4 * H))
    message = await outcome(session, update(model).values({column: value}))
    assert message is not None and "check" in message.lower(), message
