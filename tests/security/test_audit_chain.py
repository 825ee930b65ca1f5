"""The audit log's hash chain: sealing, and `verify` naming the entry where someone with
direct database access changed, deleted, inserted or reordered entries — even after
dropping the triggers that refuse it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import chain
from app.audit.models import AuditEntry, AuditSeal
from tests.security import scratchdb


async def entries(session: AsyncSession, since: int = 0) -> list[AuditEntry]:
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.id > since)
        .order_by(AuditEntry.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def sealed_world(session, world, clock) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    """The world's entries and a few more (two admissions), all sealed."""
    await world.admit(bed="A1")
    await world.admit(bed="A2")
    await chain.seal(session, now=clock.now)
    return await entries(session)


async def drop_guards(session: AsyncSession, dialect: str) -> None:
    """What a person with the database's owner rights could do first (undone with the
    test's transaction): switch off the triggers and the unique seq index."""
    if dialect == "postgresql":
        await session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        await session.execute(text("ALTER TABLE audit_seals DISABLE TRIGGER USER"))
    else:
        for name in (
            "trg_audit_log_no_update",
            "trg_audit_log_no_delete",
            "trg_audit_seals_no_update",
            "trg_audit_seals_no_delete",
        ):
            await session.execute(text(f"DROP TRIGGER {name}"))
    await session.execute(text("DROP INDEX uq_audit_log_seq"))


async def verify(session: AsyncSession, **kwargs) -> chain.VerifyResult:  # type: ignore[no-untyped-def]
    return await chain.verify(session, **kwargs)


# --- sealing -------------------------------------------------------------------------------


async def test_sealing_chains_every_entry_in_id_order(session, world, clock):
    log = await sealed_world(session, world, clock)

    assert len(log) > 10
    seqs = [e.seq for e in log]
    assert None not in seqs
    assert seqs == sorted(seqs) and seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    previous = await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == log[0].seq - 1))
    for entry in log:
        assert entry.hash == chain.link(previous or chain.GENESIS, entry, entry.seq)
        previous = entry.hash
    seal = await session.scalar(select(AuditSeal).order_by(AuditSeal.last_seq.desc()).limit(1))
    assert seal is not None
    assert (seal.last_seq, seal.last_hash) == (log[-1].seq, log[-1].hash)
    result = await verify(session)
    assert result.ok, result.breaks
    assert (result.head_seq, result.head_hash) == (log[-1].seq, log[-1].hash)


async def test_a_second_seal_continues_the_chain_and_an_idle_one_adds_nothing(
    session, world, clock
):
    log = await sealed_world(session, world, clock)
    seals = len(list(await session.scalars(select(AuditSeal))))

    again = await chain.seal(session, now=clock.now)
    assert again.sealed == 0
    assert len(list(await session.scalars(select(AuditSeal)))) == seals

    await world.admit(bed="A3")
    later = await chain.seal(session, now=clock.now + timedelta(minutes=1))
    new = await entries(session, since=log[-1].id)
    assert later.sealed == len(new) > 0
    assert new[0].seq == log[-1].seq + 1
    assert new[0].hash == chain.link(log[-1].hash or "", new[0], new[0].seq)
    assert (await verify(session)).ok


async def test_a_limited_seal_leaves_the_rest_for_the_next_in_order(session, world, clock):
    await chain.seal(session, now=clock.now)
    await world.admit(bed="A1")
    await world.admit(bed="A2")
    pending = [e for e in await entries(session) if e.seq is None]
    assert len(pending) > 3

    first = await chain.seal(session, now=clock.now, limit=3)
    assert first.sealed == 3
    assert [e.seq is not None for e in await entries(session, since=pending[0].id - 1)][:4] == [
        True,
        True,
        True,
        False,
    ]
    rest = await chain.seal(session, now=clock.now)
    assert rest.sealed == len(pending) - 3
    assert (await verify(session)).ok


async def test_the_scheduler_tick_seals(session, world, clock):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from app import scheduler as scheduling

    await world.admit(bed="A1")
    sessions = async_sessionmaker(
        bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False
    )

    class Leader:
        busy = __import__("asyncio").Lock()

        async def held(self) -> bool:
            return True

    await scheduling.tick(sessions, Leader())  # type: ignore[arg-type]

    unsealed = await session.scalar(select(AuditEntry.id).where(AuditEntry.seq.is_(None)).limit(1))
    assert unsealed is None


# --- the database refuses changes ------------------------------------------------------------


async def test_the_database_refuses_to_change_or_delete_a_sealed_entry(session, world, clock):
    log = await sealed_world(session, world, clock)
    target = log[-1].id
    for statement in (
        f"UPDATE audit_log SET username = 'someone' WHERE id = {target}",
        f"UPDATE audit_log SET hash = '{'0' * 64}' WHERE id = {target}",
        f"UPDATE audit_log SET seq = NULL, hash = NULL WHERE id = {target}",
        f"DELETE FROM audit_log WHERE id = {target}",
        "DELETE FROM audit_seals",
    ):
        savepoint = await session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement))
        await savepoint.rollback()
    assert (await verify(session)).ok


async def test_the_database_lets_an_unsealed_entry_be_sealed_but_not_changed(session, world):
    await world.admit(bed="A1")
    [entry] = (await entries(session))[-1:]
    assert entry.seq is None

    savepoint = await session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        await session.execute(
            text(f"UPDATE audit_log SET seq = 1, hash = 'x', action = 'y' WHERE id = {entry.id}")
        )
    await savepoint.rollback()


# --- verify finds tampering, with the guards dropped ---------------------------------------


async def test_an_edited_entry_is_named(session, world, clock, dialect):
    log = await sealed_world(session, world, clock)
    victim = log[len(log) // 2]
    await drop_guards(session, dialect)

    await session.execute(
        text("UPDATE audit_log SET username = 'someone_else' WHERE id = :id"), {"id": victim.id}
    )

    result = await verify(session)
    assert not result.ok
    assert [(b.entry_id, b.seq) for b in result.breaks] == [(victim.id, victim.seq)]
    assert "changed" in result.breaks[0].message


async def test_an_edit_with_its_hash_recomputed_breaks_at_the_next_entry(
    session, world, clock, dialect
):
    log = await sealed_world(session, world, clock)
    victim, following = log[3], log[4]
    await drop_guards(session, dialect)
    await session.execute(
        text("UPDATE audit_log SET action = 'nothing.happened' WHERE id = :id"),
        {"id": victim.id},
    )
    [edited] = [e for e in await entries(session) if e.id == victim.id]
    previous = log[2].hash or ""
    await session.execute(
        text("UPDATE audit_log SET hash = :h WHERE id = :id"),
        {"h": chain.link(previous, edited, edited.seq or 0), "id": victim.id},
    )

    result = await verify(session)

    assert [b.entry_id for b in result.breaks] == [following.id]


async def test_a_deleted_entry_is_found_at_the_entry_after_it(session, world, clock, dialect):
    log = await sealed_world(session, world, clock)
    victim, following = log[5], log[6]
    await drop_guards(session, dialect)

    await session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim.id})

    result = await verify(session)
    assert [(b.entry_id, b.seq) for b in result.breaks] == [(following.id, following.seq)]
    assert f"seq {victim.seq}" in result.breaks[0].message
    assert "deleted" in result.breaks[0].message


async def test_deleting_the_newest_entries_is_found_from_the_seal(session, world, clock, dialect):
    log = await sealed_world(session, world, clock)
    await drop_guards(session, dialect)

    await session.execute(text("DELETE FROM audit_log WHERE id >= :id"), {"id": log[-2].id})

    result = await verify(session)
    assert not result.ok
    assert any(b.seq == log[-1].seq and "deleted" in b.message for b in result.breaks)


async def test_reordered_entries_are_named(session, world, clock, dialect):
    log = await sealed_world(session, world, clock)
    first, second = log[4], log[5]
    await drop_guards(session, dialect)

    # Swap their places in the chain.
    await session.execute(
        text("UPDATE audit_log SET seq = :s WHERE id = :id"), {"s": second.seq, "id": first.id}
    )
    await session.execute(
        text("UPDATE audit_log SET seq = :s WHERE id = :id"), {"s": first.seq, "id": second.id}
    )

    result = await verify(session)
    # Both are named (and the entry after them, which no longer follows its predecessor).
    assert [b.entry_id for b in result.breaks][:2] == [second.id, first.id]
    assert any(b.entry_id == first.id and "out of order" in b.message for b in result.breaks)
    assert {b.entry_id for b in result.breaks} <= {first.id, second.id, log[6].id}


async def test_an_entry_inserted_among_sealed_ones_is_named_and_never_sealed(
    session, world, clock, dialect
):
    log = await sealed_world(session, world, clock)
    victim = log[3]
    await drop_guards(session, dialect)
    # Delete-and-reinsert, or insert into a gap in the ids: an entry below the head.
    await session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim.id})
    await session.execute(
        text(
            "INSERT INTO audit_log (id, at, username, action, entity_type, entity_id) "
            "VALUES (:id, :at, 'admin', 'patient.create', 'patients', '1')"
        ),
        {
            "id": victim.id,
            "at": log[3].at.replace(tzinfo=None) if dialect == "sqlite" else log[3].at,
        },
    )

    sealing = await chain.seal(session, now=clock.now)
    assert sealing.sealed == 0 and sealing.stranded == 1

    result = await verify(session)
    assert not result.ok
    assert any(b.entry_id == victim.id and "inserted" in b.message for b in result.breaks)
    assert any(b.entry_id == log[4].id and "deleted" in b.message for b in result.breaks)


async def test_an_entry_appended_with_a_forged_hash_is_found(session, world, clock, dialect):
    """Someone who knows the algorithm appends a well-formed link: no seal made it."""
    log = await sealed_world(session, world, clock)
    head = log[-1]
    await drop_guards(session, dialect)
    await session.execute(
        text(
            "INSERT INTO audit_log (id, at, username, action, entity_type, entity_id) "
            "VALUES (:id, :at, 'admin', 'user.create', 'users', '99')"
        ),
        {
            "id": head.id + 1000,
            "at": head.at.replace(tzinfo=None) if dialect == "sqlite" else head.at,
        },
    )
    [forged] = await entries(session, since=head.id + 999)
    await session.execute(
        text("UPDATE audit_log SET seq = :s, hash = :h WHERE id = :id"),
        {
            "s": head.seq + 1,
            "h": chain.link(head.hash or "", forged, (head.seq or 0) + 1),
            "id": forged.id,
        },
    )

    result = await verify(session)
    assert not result.ok
    assert any("sealed outside Wardflow" in b.message for b in result.breaks)


async def test_a_whole_rewritten_chain_is_caught_by_the_head_noted_earlier(
    session, world, clock, dialect
):
    log = await sealed_world(session, world, clock)
    noted = (log[-1].seq or 0, log[-1].hash or "")
    assert (await verify(session, expect_head=noted)).ok

    # Rewrite the newest entry and its hash, and the seal that recorded it.
    await drop_guards(session, dialect)
    victim = log[-1]
    await session.execute(
        text("UPDATE audit_log SET username = 'nobody' WHERE id = :id"), {"id": victim.id}
    )
    [edited] = [e for e in await entries(session) if e.id == victim.id]
    rehashed = chain.link(log[-2].hash or "", edited, edited.seq or 0)
    await session.execute(
        text("UPDATE audit_log SET hash = :h WHERE id = :id"), {"h": rehashed, "id": victim.id}
    )
    await session.execute(
        text("UPDATE audit_seals SET last_hash = :h WHERE last_seq = :s"),
        {"h": rehashed, "s": victim.seq},
    )
    assert (await verify(session)).ok  # consistent again: only the noted head tells

    result = await verify(session, expect_head=noted)
    assert not result.ok
    assert "rewritten" in result.breaks[0].message


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def audit_db(database_url: str, tmp_path: Path) -> Iterator[str]:
    url = scratchdb.migrated(scratchdb.scratch_url(database_url, tmp_path, "audit"))
    yield url
    scratchdb.drop(url)


async def test_audit_verify_passes_then_names_the_edited_entry_and_exits_non_zero(
    audit_db, clock, dialect
):
    await scratchdb.seed(audit_db, clock.now)

    ok = scratchdb.wardflow(audit_db, "audit", "verify")
    assert ok.returncode == 0, ok.stderr + ok.stdout
    assert "intact" in ok.stdout
    head = ok.stdout.split("head seq ")[1].split()
    noted = f"{head[0]}:{head[1]}"
    again = scratchdb.wardflow(audit_db, "audit", "verify", "--expect-head", noted)
    assert again.returncode == 0, again.stderr + again.stdout

    disable = (
        ["ALTER TABLE audit_log DISABLE TRIGGER USER"]
        if dialect == "postgresql"
        else ["DROP TRIGGER trg_audit_log_no_update"]
    )
    await scratchdb.execute(
        audit_db,
        *disable,
        "UPDATE audit_log SET after = NULL WHERE id = (SELECT min(id) + 2 FROM audit_log)",
    )
    victim = await scratchdb.with_session(
        audit_db, lambda s: s.scalar(text("SELECT min(id) + 2 FROM audit_log"))
    )

    broken = scratchdb.wardflow(audit_db, "audit", "verify")
    assert broken.returncode == 1
    assert f"entry id {victim}" in broken.stderr
    assert "broken" in broken.stderr


def test_audit_verify_refuses_a_malformed_expected_head(audit_db):
    result = scratchdb.wardflow(audit_db, "audit", "verify", "--expect-head", "twelve")
    assert result.returncode == 2
    assert "SEQ:HASH" in result.stderr
