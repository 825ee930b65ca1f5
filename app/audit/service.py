"""Writing and reading the append-only audit log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth.models import User
from app.clock import utcnow
from app.db import Base

SYSTEM = "system"


def snapshot(obj: Base | None) -> dict[str, Any] | None:
    """The column values of a record, JSON-ready, for the before/after of an audit entry."""
    if obj is None:
        return None
    values: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        value = getattr(obj, attr.key)
        if attr.key in {"password_hash", "token_hash"}:
            continue
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        values[attr.key] = value
    return values


def _identity(entity: Base) -> str:
    identity = inspect(entity).identity
    return str(identity[0]) if identity else ""


async def record(
    session: AsyncSession,
    *,
    actor: User | None,
    action: str,
    entity: Base,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry. Call after the change is flushed so the entity has its id."""
    await session.flush()
    entry = AuditEntry(
        at=at or utcnow(),
        user_id=actor.id if actor else None,
        username=actor.username if actor else SYSTEM,
        action=action,
        entity_type=type(entity).__tablename__,
        entity_id=_identity(entity),
        before=before,
        after=after if after is not None else snapshot(entity),
    )
    session.add(entry)
    return entry


async def record_event(
    session: AsyncSession,
    *,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: str | int,
    details: dict[str, Any] | None = None,
    username: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry for something that is not a change of a record: a read of a person's
    record, an export, a sign-in failure, a sign-out, a token used from a new client.

    One insert and no flush: reads must stay cheap, and the seal (app/audit/chain.py)
    chains the entry later, so nobody waits on the hash chain. `details` goes in `after`
    (for example {"via": "api", "client": "10.0.0.7"}); `username` names an actor that
    has no account (a failed sign-in with an unknown name).
    """
    entry = AuditEntry(
        at=at or utcnow(),
        user_id=actor.id if actor else None,
        username=actor.username if actor else (username or SYSTEM),
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=None,
        after=details,
    )
    session.add(entry)
    return entry


async def history(
    session: AsyncSession, entity_type: str, entity_id: str | int
) -> list[AuditEntry]:
    """One record's entries, oldest first: what was done to it, by whom and when."""
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id)
        )
    )


async def list_entries(
    session: AsyncSession,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    username: str | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if username:
        query = query.where(AuditEntry.username == username)
    if action:
        query = query.where(AuditEntry.action == action)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def distinct_values(session: AsyncSession) -> dict[str, list[str]]:
    """The entity types, actions and users present, for the filter drop-downs."""
    result: dict[str, list[str]] = {}
    for name, column in (
        ("entity_type", AuditEntry.entity_type),
        ("action", AuditEntry.action),
        ("username", AuditEntry.username),
    ):
        result[name] = list(await session.scalars(select(column).distinct().order_by(column)))
    return result
