"""JSON API for rules and alerts (API.md, Rules and alerts)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.alerts import engine, schemas, service
from app.alerts.schemas import Severity, Status
from app.auth import access
from app.clock import check_not_future
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.rules import settings
from app.schemas import Instant

router = APIRouter(prefix="/api/v1", tags=["rules and alerts"])


@router.get("/rules", response_model=list[schemas.RuleOut])
async def list_rules(user: ApiUser, session: SessionDep) -> list[schemas.RuleOut]:
    access.require_role(user, access.CLINICAL_READERS | {"director"}, "see the rules")
    return await service.rules_out(session)


@router.get("/rules/{code}", response_model=schemas.RuleOut)
async def get_rule(code: str, user: ApiUser, session: SessionDep) -> schemas.RuleOut:
    access.require_role(user, access.CLINICAL_READERS | {"director"}, "see the rules")
    settings.get_rule(code)
    rules = await settings.rules_in_force(session)
    counts = await service.open_counts_by_rule(session)
    return service.rule_out(rules[code], counts.get(code, 0))


@router.patch("/rules/{code}", response_model=schemas.RuleOut)
async def change_rule(
    code: str, data: schemas.RulePatch, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.RuleOut:
    changed = await settings.change_rule(
        session,
        actor=user,
        code=code,
        parameters=data.parameters,
        severity=data.severity,
        enabled=data.enabled,
        now=now,
    )
    await commit(session)
    counts = await service.open_counts_by_rule(session)
    return service.rule_out(changed, counts.get(code, 0))


@router.post("/rules/run", response_model=schemas.RunOut)
async def run_rules(
    user: ApiUser, session: SessionDep, now: NowDep, data: schemas.RunIn | None = None
) -> schemas.RunOut:
    """One run of every enabled rule at ``as_of`` (now when absent)."""
    access.require_admin(user, "run the rules")
    as_of = (data.as_of if data and data.as_of else None) or now
    check_not_future(as_of, now, "as_of")
    result = await engine.run_rules(session, as_of=as_of, now=now, trigger="api")
    await commit(session)
    return schemas.RunOut(
        run_id=result.run.id,
        as_of=as_of,
        raised=await service.alerts_out(session, result.raised),
        cleared=await service.alerts_out(session, result.cleared),
        errors=result.run.errors or {},
        withdrawn=await service.alerts_out(session, result.withdrawn),
        reinstated=await service.alerts_out(session, result.reinstated),
    )


@router.get("/rule-runs", response_model=list[schemas.RuleRunOut])
async def list_runs(user: ApiUser, session: SessionDep) -> list[schemas.RuleRunOut]:
    access.require_role(user, {"admin", "safeguarding_lead"}, "see rule runs")
    return [schemas.RuleRunOut.model_validate(r) for r in await service.recent_runs(session)]


@router.get("/alerts", response_model=list[schemas.AlertOut])
async def list_alerts(
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    status: Annotated[list[Status] | None, Query()] = None,
    rule: str | None = None,
    severity: Severity | None = None,
    ward_code: str | None = None,
    admission_id: int | None = None,
    since: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[schemas.AlertOut]:
    """Without ``status``: the queue (open, acknowledged and cleared). ``since``: due at or
    after. ``status=withdrawn``: those records typed in late withdrew (RULES.md 1.1)."""
    alerts, _ = await service.list_alerts(
        session,
        actor=user,
        now=now,
        statuses=status or service.IN_QUEUE,
        rule=rule,
        severity=severity,
        ward_code=ward_code,
        admission_id=admission_id,
        since=since,
        limit=limit,
        offset=offset,
    )
    return await service.alerts_out(session, alerts)


@router.get("/alerts/{alert_id}", response_model=schemas.AlertOut)
async def get_alert(
    alert_id: int, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.AlertOut:
    alert = await service.get_alert(session, actor=user, alert_id=alert_id, now=now)
    return (await service.alerts_out(session, [alert]))[0]


@router.post("/alerts/acknowledge", response_model=list[schemas.AlertOut])
async def acknowledge_many(
    data: schemas.BulkAcknowledgeIn, user: ApiUser, session: SessionDep, now: NowDep
) -> list[schemas.AlertOut]:
    alerts = await service.acknowledge_many(
        session, actor=user, ids=data.ids, note=data.note, now=now
    )
    await commit(session)
    return await service.alerts_out(session, alerts)


@router.post("/alerts/{alert_id}/acknowledge", response_model=schemas.AlertOut)
async def acknowledge(
    alert_id: int,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    data: schemas.AcknowledgeIn | None = None,
) -> schemas.AlertOut:
    alert = await service.acknowledge(
        session, actor=user, alert_id=alert_id, note=data.note if data else None, now=now
    )
    await commit(session)
    return (await service.alerts_out(session, [alert]))[0]


@router.post("/alerts/{alert_id}/resolve", response_model=schemas.AlertOut)
async def resolve(
    alert_id: int, data: schemas.ResolveIn, user: ApiUser, session: SessionDep, now: NowDep
) -> schemas.AlertOut:
    alert = await service.resolve(session, actor=user, alert_id=alert_id, note=data.note, now=now)
    await commit(session)
    return (await service.alerts_out(session, [alert]))[0]
