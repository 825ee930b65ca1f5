"""The alerts queue: list, read, acknowledge, resolve; and the counts the boards show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.alerts import schemas
from app.alerts.models import Alert, RuleRun
from app.audit import service as audit
from app.auth import access
from app.auth import scope as read_scope
from app.auth.models import User
from app.config import get_settings
from app.errors import Conflict, Forbidden, NotFound
from app.rules import catalogue, settings
from app.sql import among
from app.wards.models import Ward

ACTIVE = ("open", "acknowledged")
IN_QUEUE = ("open", "acknowledged", "cleared")
# Who works alerts: the safeguarding lead and admins everywhere, ward staff on their own
# wards, bed managers for the waits and placements they handle.
WORKERS = {"admin", "safeguarding_lead", "ward_staff", "bed_manager"}
# Ids are 32-bit in the database: a larger one names no record (and must not reach the
# driver, which refuses it with an error rather than finding nothing).
MAX_ID = 2**31 - 1
SEVERITY_RANK = case({"high": 0, "medium": 1, "low": 2}, value=Alert.severity)


def subject_at() -> Any:
    """When the alert's subject happened, as SQL: an episode's or a period's start, so the
    alert belongs to the ward stay that record was made on; for the others (an admission's
    deadline, a bed request met by the admission) the moment it fell due."""
    from app.discharge.models import ReadyForDischarge
    from app.segregation.force.models import RestrictiveIntervention
    from app.segregation.models import Seclusion, Segregation

    def started(model: Any) -> Any:
        return (
            select(model.started_at)
            .where(model.id == Alert.subject_id)
            .correlate_except(model)
            .scalar_subquery()
        )

    return case(
        (Alert.subject_type == "seclusion", started(Seclusion)),
        (Alert.subject_type == "segregation", started(Segregation)),
        (Alert.subject_type == "restrictive_intervention", started(RestrictiveIntervention)),
        (Alert.subject_type == "ready_for_discharge", started(ReadyForDischarge)),
        else_=Alert.due_at,
    )


def scope_condition(actor: User, now: datetime) -> ColumnElement[bool] | None:
    """The alerts this user may see, as a condition on Alert; None: all of them.

    Ward staff see an alert about a person's record only through the ward stay the record
    belongs to (the one read rule, app/auth/scope.py): their own ward's stay, while open and
    for the window after it; not every alert of someone now on their ward, nor those of a
    stay on another ward. Alerts about no admission (a ward's occupancy) follow the ward."""
    access.require_role(actor, access.CLINICAL_READERS, "see alerts")
    if not access.is_ward_scoped(actor):
        return None
    return or_(
        and_(
            Alert.admission_id.is_(None),
            Alert.ward_id.in_(access.ward_ids(actor) or {-1}),
        ),
        read_scope.record_condition(actor, now, Alert.admission_id, subject_at()),
    )


def _scope(query: Select[Any], actor: User, now: datetime) -> Select[Any]:
    condition = scope_condition(actor, now)
    return query if condition is None else query.where(condition)


async def list_alerts(
    session: AsyncSession,
    *,
    actor: User,
    now: datetime,
    statuses: Sequence[str] = IN_QUEUE,
    rule: str | None = None,
    severity: str | None = None,
    ward_code: str | None = None,
    admission_id: int | None = None,
    since: datetime | None = None,
    due_before: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Alert], int]:
    """Highest severity first, then the oldest due first: what needs a person most."""
    query = _scope(select(Alert), actor, now).where(Alert.status.in_(list(statuses)))
    if rule:
        settings.get_rule(rule)
        query = query.where(Alert.rule == rule)
    if severity:
        query = query.where(Alert.severity == severity)
    if ward_code:
        ward_id = await session.scalar(select(Ward.id).where(Ward.code == ward_code))
        if ward_id is None:
            raise NotFound(f"No ward with code {ward_code!r}.")
        query = query.where(Alert.ward_id == ward_id)
    if admission_id is not None:
        query = query.where(
            Alert.admission_id == admission_id if 0 < admission_id <= MAX_ID else false()
        )
    if since is not None:
        query = query.where(Alert.due_at >= since)
    if due_before is not None:
        query = query.where(Alert.due_at < due_before)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(SEVERITY_RANK, Alert.due_at, Alert.id).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)


async def get_alert(
    session: AsyncSession, *, actor: User, alert_id: int, now: datetime, lock: bool = False
) -> Alert:
    access.require_role(actor, access.CLINICAL_READERS, "see alerts")
    if not 0 < alert_id <= MAX_ID:
        raise NotFound(f"No alert with id {alert_id}.")
    query = select(Alert).where(Alert.id == alert_id)
    alert = await session.scalar(query.with_for_update() if lock else query)
    if alert is None:
        raise NotFound(f"No alert with id {alert_id}.")
    if access.is_ward_scoped(actor):
        mine = _scope(select(Alert.id), actor, now).where(Alert.id == alert.id)
        if await session.scalar(mine) is None:
            if alert.admission_id is None:
                raise Forbidden("You can see alerts only on your own wards.")
            raise read_scope.refuse()
    return alert


async def acknowledge(
    session: AsyncSession, *, actor: User, alert_id: int, note: str | None, now: datetime
) -> Alert:
    access.require_role(actor, WORKERS, "work alerts")
    alert = await get_alert(session, actor=actor, alert_id=alert_id, now=now, lock=True)
    if alert.status != "open":
        raise Conflict(f"This alert is {alert.status}; only an open alert is acknowledged.")
    before = audit.snapshot(alert)
    alert.status = "acknowledged"
    alert.acknowledged_at, alert.acknowledged_by = now, actor.username
    alert.acknowledge_note = (note or "").strip() or None
    await audit.record(
        session, actor=actor, action="alert.acknowledge", entity=alert, before=before, at=now
    )
    return alert


async def acknowledge_many(
    session: AsyncSession, *, actor: User, ids: Sequence[int], note: str | None, now: datetime
) -> list[Alert]:
    """Acknowledge several at once: all or none (one refused refuses the lot)."""
    # Locked first in id order, as a rule run locks the alerts it clears: two transactions
    # taking the same rows in different orders could each wait for the other.
    await session.execute(
        select(Alert.id)
        .where(among(Alert.id, [i for i in ids if 0 < i <= MAX_ID]))
        .order_by(Alert.id)
        .with_for_update()
    )
    return [
        await acknowledge(session, actor=actor, alert_id=alert_id, note=note, now=now)
        for alert_id in dict.fromkeys(ids)
    ]


async def resolve(
    session: AsyncSession, *, actor: User, alert_id: int, note: str, now: datetime
) -> Alert:
    access.require_role(actor, WORKERS, "work alerts")
    alert = await get_alert(session, actor=actor, alert_id=alert_id, now=now, lock=True)
    if alert.status == "resolved":
        raise Conflict("This alert is already resolved.")
    if alert.status == "withdrawn":
        # No right was missed: nothing for a person to close (RULES.md 1.1).
        raise Conflict("This alert was withdrawn: a record typed in later met the deadline.")
    before = audit.snapshot(alert)
    alert.status = "resolved"
    alert.resolved_at, alert.resolved_by, alert.resolve_note = now, actor.username, note
    await audit.record(
        session, actor=actor, action="alert.resolve", entity=alert, before=before, at=now
    )
    return alert


async def ward_codes(session: AsyncSession, alerts: Sequence[Alert]) -> dict[int, str]:
    ids = {a.ward_id for a in alerts if a.ward_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(Ward.id, Ward.code).where(Ward.id.in_(ids)))
    return dict(rows.all())


def alert_out(alert: Alert, codes: dict[int, str]) -> schemas.AlertOut:
    rule = catalogue.BY_CODE.get(alert.rule)
    return schemas.AlertOut.model_validate(
        {
            **{c.key: getattr(alert, c.key) for c in Alert.__table__.columns},
            "title": rule.title if rule else alert.rule,
            "ward_code": codes.get(alert.ward_id) if alert.ward_id else None,
        }
    )


async def alerts_out(session: AsyncSession, alerts: Sequence[Alert]) -> list[schemas.AlertOut]:
    codes = await ward_codes(session, alerts)
    return [alert_out(a, codes) for a in alerts]


async def open_counts_by_rule(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Alert.rule, func.count()).where(Alert.status.in_(ACTIVE)).group_by(Alert.rule)
    )
    return dict(rows.all())


async def rules_out(session: AsyncSession) -> list[schemas.RuleOut]:
    counts = await open_counts_by_rule(session)
    return [
        rule_out(r, counts.get(code, 0))
        for code, r in (await settings.rules_in_force(session)).items()
    ]


def rule_out(r: settings.RuleInForce, open_alerts: int) -> schemas.RuleOut:
    return schemas.RuleOut(
        code=r.code,
        title=r.rule.title,
        checks=r.rule.checks,
        parameters=r.parameters,
        parameter_info={
            name: schemas.ParameterInfo(kind=p.kind, default=p.default, meaning=p.meaning)
            for name, p in r.rule.parameters.items()
        },
        severity=r.severity,
        default_severity=r.rule.severity,
        enabled=r.enabled,
        source=r.rule.source,
        subject_type=r.rule.subject_type,
        changed_at=r.changed_at,
        changed_by=r.changed_by,
        open_alerts=open_alerts,
    )


async def recent_runs(session: AsyncSession, limit: int = 50) -> list[RuleRun]:
    return list(await session.scalars(select(RuleRun).order_by(RuleRun.id.desc()).limit(limit)))


@dataclass(frozen=True)
class RulesHealth:
    """Whether the rules are being checked: a scheduler that stopped, or a rule that keeps
    failing, raises no alert of its own, so it must be visible (hazard log H02, H09)."""

    last_finished_at: datetime | None
    failing: tuple[str, ...]
    stale: bool

    @property
    def ok(self) -> bool:
        return not self.stale and not self.failing


def stale_after() -> timedelta:
    """Five missed ticks, and never less than five minutes."""
    return max(timedelta(seconds=5 * get_settings().rules_interval_seconds), timedelta(minutes=5))


async def rules_health(session: AsyncSession, now: datetime) -> RulesHealth:
    last = await session.scalar(
        select(RuleRun).where(RuleRun.finished_at.is_not(None)).order_by(RuleRun.id.desc()).limit(1)
    )
    if last is None or last.finished_at is None:
        return RulesHealth(None, (), stale=True)
    return RulesHealth(
        last.finished_at,
        tuple(sorted(last.errors or {})),
        stale=now - last.finished_at > stale_after(),
    )


# --- the boards --------------------------------------------------------------------------


async def open_by_admission(session: AsyncSession, admission_ids: list[int]) -> dict[int, int]:
    """Open and acknowledged alerts per admission on a board: one query."""
    rows = await session.execute(
        select(Alert.admission_id, func.count())
        .where(Alert.admission_id.in_(admission_ids), Alert.status.in_(ACTIVE))
        .group_by(Alert.admission_id)
    )
    return {admission_id: n for admission_id, n in rows if admission_id is not None}


async def open_by_ward(
    session: AsyncSession, ward_ids: Sequence[int] | None = None
) -> dict[int, int]:
    query = select(Alert.ward_id, func.count()).where(Alert.status.in_(ACTIVE))
    if ward_ids is not None:
        query = query.where(Alert.ward_id.in_(list(ward_ids)))
    rows = await session.execute(query.group_by(Alert.ward_id))
    return {ward_id: n for ward_id, n in rows if ward_id is not None}
