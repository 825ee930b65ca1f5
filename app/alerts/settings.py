"""The rules in force: the catalogue's defaults with the trust's stored changes over them.

A change applies from the next run; alerts already raised keep the parameters they were
raised under (stored on each alert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import catalogue
from app.alerts.catalogue import Severity
from app.alerts.models import RuleSetting
from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.errors import FieldError, Invalid, NotFound

EDITORS = {"admin", "safeguarding_lead"}


@dataclass(frozen=True)
class RuleInForce:
    rule: catalogue.Rule
    parameters: dict[str, str | float]
    severity: Severity
    enabled: bool
    changed_at: datetime | None = None
    changed_by: str | None = None

    @property
    def code(self) -> str:
        return self.rule.code


def _in_force(rule: catalogue.Rule, setting: RuleSetting | None) -> RuleInForce:
    if setting is None:
        return RuleInForce(rule, rule.defaults(), rule.severity, True)
    parameters = {
        **rule.defaults(),
        **{name: value for name, value in setting.parameters.items() if name in rule.parameters},
    }
    severity: Severity = setting.severity or rule.severity  # type: ignore[assignment]
    return RuleInForce(
        rule, parameters, severity, setting.enabled, setting.updated_at, setting.updated_by
    )


async def rules_in_force(session: AsyncSession) -> dict[str, RuleInForce]:
    """Every rule of the catalogue, in catalogue order, as it stands now (one query)."""
    stored = {s.code: s for s in await session.scalars(select(RuleSetting))}
    return {rule.code: _in_force(rule, stored.get(rule.code)) for rule in catalogue.RULES}


async def parameters_in_force(session: AsyncSession) -> dict[str, dict[str, str | float]]:
    """Each rule's parameters, enabled or not (the board's countdowns always need them)."""
    return {code: r.parameters for code, r in (await rules_in_force(session)).items()}


def get_rule(code: str) -> catalogue.Rule:
    rule = catalogue.BY_CODE.get(code)
    if rule is None:
        raise NotFound(f"There is no rule {code!r}.")
    return rule


async def change_rule(
    session: AsyncSession,
    *,
    actor: User,
    code: str,
    parameters: dict[str, Any] | None,
    severity: str | None,
    enabled: bool | None,
    now: datetime,
) -> RuleInForce:
    """Change a rule's parameters (any subset), severity or whether it runs; audited."""
    access.require_role(actor, EDITORS, "change rules")
    rule = get_rule(code)
    if severity is not None and severity not in catalogue.SEVERITIES:
        raise Invalid(FieldError("severity", "must be high, medium or low"))
    setting = await session.get(RuleSetting, code, with_for_update=True)
    before = audit.snapshot(setting)
    current = _in_force(rule, setting)
    merged = catalogue.checked_parameters(rule, {**current.parameters, **(parameters or {})})
    changes = {name: value for name, value in merged.items() if value != rule.defaults()[name]}
    if setting is None:
        setting = RuleSetting(code=code, parameters={}, enabled=True)
        session.add(setting)
    setting.parameters = changes
    if severity is not None:
        setting.severity = None if severity == rule.severity else severity
    if enabled is not None:
        setting.enabled = enabled
    setting.updated_at = now
    setting.updated_by = actor.username
    await session.flush()
    await audit.record(
        session, actor=actor, action="rule.change", entity=setting, before=before, at=now
    )
    return _in_force(rule, setting)
