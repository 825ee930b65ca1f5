"""The audit log's hash chain: sealing entries into it, and verifying it.

Writes add audit entries as they always have, without any lock, so admissions through the
API are never serialised on the audit log. A *seal* step, run by the scheduler's tick every
minute and by `wardflow audit verify` before it verifies, gives each unsealed entry in id
order its place in the chain::

    seq  = previous seq + 1
    hash = sha256(previous hash + canonical JSON of the entry, its seq included)

and records the chain's new head in `audit_seals`. Editing a sealed entry, deleting one,
inserting one among sealed entries, or reordering them, breaks the chain, and `verify`
names the entry where it breaks — even when the database triggers that refuse such changes
were dropped first. (Someone able to rewrite the whole chain and the seals can recompute
every hash; `verify` prints the head, and a head noted elsewhere — a backup, a ticket —
can be given back with `--expect-head` to catch that too.)

Concurrency. Seals are serialised by a PostgreSQL advisory lock (SQLite has one writer).
On PostgreSQL an entry with a lower id can commit after one with a higher id, so a seal
first takes a *barrier*: in a transaction of its own it waits for the transactions writing
to the audit log at that moment (`LOCK TABLE ... IN SHARE MODE`, a few milliseconds, with a
timeout), reads the highest id, and lets go at once. Every entry up to that id is then
final, so entries are sealed in id order and none can later appear below the head.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.models import AuditEntry, AuditSeal

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# pg_advisory_xact_lock key for sealing (the rule engine's keys are 7_305_173_00x).
SEAL_LOCK = 7_305_173_107
SEAL_BATCH = 2000
# The scheduler's tick seals at most this many (a minute at 200 writes/s is 12,000).
TICK_LIMIT = 100_000
VERIFY_BATCH = 5000
# The barrier waits at most this long for writers; past it the seal waits for the next tick.
BARRIER_LOCK_TIMEOUT = "2s"

_table = cast(Table, AuditEntry.__table__)
_columns = (
    _table.c.id,
    _table.c.at,
    _table.c.user_id,
    _table.c.username,
    _table.c.action,
    _table.c.entity_type,
    _table.c.entity_id,
    _table.c.before,
    _table.c.after,
    _table.c.seq,
    _table.c.hash,
)


def canonical(entry: Any, seq: int) -> str:
    """The entry as hashed: every column but the hash, keys sorted, no spaces, ASCII."""
    at = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        {
            "id": entry.id,
            "seq": seq,
            "at": at,
            "user_id": entry.user_id,
            "username": entry.username,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": entry.entity_id,
            "before": entry.before,
            "after": entry.after,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )


def link(previous_hash: str, entry: Any, seq: int) -> str:
    """sha256 of the previous hash and the entry (a row or an AuditEntry) at `seq`."""
    return hashlib.sha256((previous_hash + canonical(entry, seq)).encode()).hexdigest()


# --- sealing -------------------------------------------------------------------------------


@dataclass
class SealResult:
    sealed: int
    head_seq: int
    head_hash: str
    # Unsealed entries with an id below the head: written in among sealed ones, never sealed.
    stranded: int = 0


async def _head(session: AsyncSession) -> tuple[int, str, int]:
    """(seq, hash, id) of the newest sealed entry, or the genesis."""
    row = (
        await session.execute(
            select(_table.c.seq, _table.c.hash, _table.c.id)
            .where(_table.c.seq.is_not(None))
            .order_by(_table.c.seq.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return 0, GENESIS, 0
    return int(row.seq), str(row.hash), int(row.id)


async def barrier(session: AsyncSession) -> int | None:
    """The highest audit id that no transaction still under way can come in below.

    PostgreSQL: waits (briefly) for the transactions that are writing the audit log now and
    holds up new ones meanwhile. Call it in a transaction of its own, committed at once,
    so the lock is let go. SQLite needs none (one writer; ids only grow): None.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    await session.execute(text(f"SET LOCAL lock_timeout = '{BARRIER_LOCK_TIMEOUT}'"))
    await session.execute(text("LOCK TABLE audit_log IN SHARE MODE"))
    return int(await session.scalar(select(func.coalesce(func.max(_table.c.id), 0))) or 0)


async def seal(
    session: AsyncSession,
    *,
    now: datetime,
    up_to: int | None = None,
    barrier_taken: bool = False,
    limit: int | None = None,
) -> SealResult:
    """Seal every unsealed entry (with an id up to `up_to`) into the chain, in id order.

    Only flushes. Without `barrier_taken`, takes the barrier in this same transaction
    (so writers wait until it commits): right for tests and one-off use; the scheduler
    uses `seal_pending`, which keeps the barrier short.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({SEAL_LOCK})"))
        if not barrier_taken:
            up_to = await barrier(session)
    else:
        # Take SQLite's write lock before reading, so the head read stays the head.
        await session.execute(update(AuditSeal).where(text("0 = 1")).values(id=AuditSeal.id))
    head_seq, head_hash, head_id = await _head(session)
    first = head_seq + 1
    # Entries this session holds learn their seq and hash as the database does.
    loaded = {
        obj.__dict__["id"]: obj
        for obj in session.identity_map.values()
        if isinstance(obj, AuditEntry) and "id" in obj.__dict__
    }
    sealed = 0
    while True:
        query = select(*_columns).where(_table.c.seq.is_(None), _table.c.id > head_id)
        if up_to is not None:
            query = query.where(_table.c.id <= up_to)
        batch = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
        if batch <= 0:
            break
        rows = (await session.execute(query.order_by(_table.c.id).limit(batch))).all()
        if not rows:
            break
        updates = []
        for row in rows:
            head_seq += 1
            head_hash = link(head_hash, row, head_seq)
            updates.append({"b_id": row.id, "b_seq": head_seq, "b_hash": head_hash})
            if row.id in loaded:
                set_committed_value(loaded[row.id], "seq", head_seq)
                set_committed_value(loaded[row.id], "hash", head_hash)
        await session.execute(
            update(_table)
            .where(_table.c.id == bindparam("b_id"))
            .values(seq=bindparam("b_seq"), hash=bindparam("b_hash")),
            updates,
        )
        head_id = rows[-1].id
        sealed += len(rows)
    if sealed:
        session.add(
            AuditSeal(sealed_at=now, first_seq=first, last_seq=head_seq, last_hash=head_hash)
        )
        await session.flush()
    stranded = int(
        await session.scalar(
            select(func.count()).where(_table.c.seq.is_(None), _table.c.id < head_id)
        )
        or 0
    )
    if stranded:
        log.error(
            "audit log: %d unsealed entries have ids below the sealed head: written in "
            "among sealed entries; run `wardflow audit verify`",
            stranded,
        )
    return SealResult(sealed, head_seq, head_hash, stranded)


async def seal_pending(
    sessions: async_sessionmaker[AsyncSession], now: datetime, *, limit: int | None = None
) -> SealResult | None:
    """The scheduler's seal: a short barrier, then the sealing, each its own transaction.
    None when the barrier could not be had in time (busy writers): the next tick tries.
    With `limit`, at most that many entries (the rest at the next tick: the first seal of
    a large existing log is spread out)."""
    up_to: int | None = None
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            try:
                up_to = await barrier(session)
            except Exception:  # lock_timeout: writers kept the audit log busy
                await session.rollback()
                log.warning("audit seal skipped: the audit log was busy", exc_info=True)
                return None
        await session.commit()
    async with sessions() as session:
        result = await seal(session, now=now, up_to=up_to, barrier_taken=True, limit=limit)
        await session.commit()
    if result.sealed:
        log.info(
            "audit log sealed %d entries; head seq %d %s",
            result.sealed,
            result.head_seq,
            result.head_hash,
        )
    return result


# --- verifying -----------------------------------------------------------------------------


@dataclass
class Break:
    """Where the chain breaks: the entry (id, seq) and what is wrong there."""

    entry_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.entry_id is not None:
            where.append(f"entry id {self.entry_id}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass
class VerifyResult:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    unsealed: int = 0
    breaks: list[Break] = field(default_factory=list)
    # Beyond this many breaks, counting stops (the first ones say where to look).
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.breaks


MAX_BREAKS = 50


async def _sealed_rows(session: AsyncSession) -> AsyncIterator[Row[Any]]:
    """Sealed entries in (seq, id) order, a batch at a time (the log can be millions long)."""
    last: tuple[int, int] | None = None
    while True:
        query = select(*_columns).where(_table.c.seq.is_not(None))
        if last is not None:
            query = query.where(
                or_(
                    _table.c.seq > last[0],
                    and_(_table.c.seq == last[0], _table.c.id > last[1]),
                )
            )
        rows: Sequence[Any] = (
            await session.execute(query.order_by(_table.c.seq, _table.c.id).limit(VERIFY_BATCH))
        ).all()
        if not rows:
            return
        for row in rows:
            yield row
        last = (rows[-1].seq, rows[-1].id)


async def verify(
    session: AsyncSession, *, expect_head: tuple[int, str] | None = None
) -> VerifyResult:
    """Recompute the chain from the first entry and compare it with what is stored."""
    result = VerifyResult()

    def broken(entry_id: int | None, seq: int | None, message: str) -> None:
        if len(result.breaks) < MAX_BREAKS:
            result.breaks.append(Break(entry_id, seq, message))
        else:
            result.truncated = True

    expected_seq, previous_hash, previous_id = 1, GENESIS, 0
    hashes_at: dict[int, str] = {}
    async for row in _sealed_rows(session):
        result.entries += 1
        seq = int(row.seq)
        gap = False
        if seq > expected_seq:
            missing = (
                f"seq {expected_seq}"
                if seq == expected_seq + 1
                else f"seq {expected_seq} to {seq - 1}"
            )
            broken(
                row.id, seq, f"the entries before it in the chain ({missing}) are missing: deleted"
            )
            gap = True
        elif seq < expected_seq:
            broken(row.id, seq, f"a second entry with seq {seq}: inserted into the chain")
        if row.id <= previous_id:
            broken(
                row.id,
                seq,
                f"out of order: it comes after entry id {previous_id} in the chain "
                "but has a lower id (entries reordered or inserted)",
            )
        elif not gap and row.hash != link(previous_hash, row, seq):
            broken(
                row.id,
                seq,
                "its contents do not match its hash: this entry was changed "
                "(or the one before it was, and its hash recomputed)",
            )
        previous_hash, previous_id = row.hash or "", row.id
        expected_seq = max(expected_seq, seq + 1)
        result.head_seq, result.head_hash = seq, previous_hash
        if expect_head is not None and seq == expect_head[0]:
            hashes_at[seq] = previous_hash

    head_id = previous_id
    result.unsealed = int(
        await session.scalar(select(func.count()).where(_table.c.seq.is_(None))) or 0
    )
    stranded = (
        await session.scalars(
            select(_table.c.id)
            .where(_table.c.seq.is_(None), _table.c.id < head_id)
            .order_by(_table.c.id)
            .limit(10)
        )
    ).all()
    for entry_id in stranded:
        broken(
            entry_id,
            None,
            f"unsealed but older than sealed entry id {head_id}: inserted among sealed entries",
        )

    # Each seal recorded the head it left; the newest must be the chain's head now.
    seals = AuditSeal.__table__
    mismatched = (
        await session.execute(
            select(seals.c.last_seq, seals.c.last_hash, _table.c.id)
            .select_from(seals.outerjoin(_table, _table.c.seq == seals.c.last_seq))
            .where(_table.c.hash.is_distinct_from(seals.c.last_hash))
            .order_by(seals.c.last_seq)
            .limit(10)
        )
    ).all()
    for last_seq, _last_hash, entry_id in mismatched:
        if entry_id is None:
            broken(None, last_seq, "a seal ended the chain here, but the entry is gone: deleted")
        else:
            broken(
                entry_id, last_seq, "the hash a seal recorded here differs: the chain was rewritten"
            )
    sealed_up_to = int(await session.scalar(select(func.max(seals.c.last_seq))) or 0)
    if result.head_seq > sealed_up_to:
        broken(
            None,
            sealed_up_to + 1,
            f"entries seq {sealed_up_to + 1} to {result.head_seq} carry hashes no seal made: "
            "sealed outside Wardflow",
        )
    if expect_head is not None:
        seq, expected = expect_head
        if seq > result.head_seq:
            broken(
                None,
                seq,
                f"the expected head is seq {seq}, but the chain ends at {result.head_seq}",
            )
        elif hashes_at.get(seq) != expected:
            broken(
                None, seq, f"the hash here is not the expected {expected}: the chain was rewritten"
            )
    return result
