"""The rules in force: the catalogue's defaults with the trust's stored changes over them.

A change applies from the next run; alerts already raised keep the parameters they were
raised under (stored on each alert).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.db import memo
from app.deadlines import Interval
from app.errors import FieldError, Invalid, NotFound
from app.rules import catalogue
from app.rules.catalogue import Severity
from app.rules.models import RuleSetting

EDITORS = {"admin", "safeguarding_lead"}
# A duration outside these bounds is a typo, not a policy: shorter would flood a run with
# breaches, longer runs past the calendar (and the run's arithmetic with it).
SHORTEST = timedelta(minutes=1)
LONGEST = timedelta(days=3653)  # ten years
_MEMO_KEY = "rules_in_force"


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
    """Every rule of the catalogue, in catalogue order, as it stands now (one query; once
    per page inside `app.db.memo_scope`, as the board's providers each ask)."""
    remembered = memo(session)
    if remembered is not None and _MEMO_KEY in remembered:
        return dict(remembered[_MEMO_KEY])
    stored = {s.code: s for s in await session.scalars(select(RuleSetting))}
    rules: dict[str, RuleInForce] = {
        rule.code: _in_force(rule, stored.get(rule.code)) for rule in catalogue.RULES
    }
    if remembered is not None:
        remembered[_MEMO_KEY] = dict(rules)
    return rules


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
    wanted = parameters or {}
    too_long_or_short = _length_errors(rule, wanted, now)
    try:
        merged = catalogue.checked_parameters(
            rule,
            {
                **current.parameters,
                **{k: v for k, v in wanted.items() if k not in too_long_or_short},
            },
        )
    except Invalid as exc:
        raise Invalid([*exc.errors, *too_long_or_short.values()]) from exc
    if too_long_or_short:
        raise Invalid(list(too_long_or_short.values()))
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


def _length_errors(
    rule: catalogue.Rule, parameters: Mapping[str, object], now: datetime
) -> dict[str, FieldError]:
    """Durations that parse but cannot sensibly be used: under a minute, or so long that
    the date arithmetic overflows (malformed ones are left to checked_parameters)."""
    errors: dict[str, FieldError] = {}
    for name, value in parameters.items():
        param = rule.parameters.get(name)
        if param is None or param.kind != "duration" or not isinstance(value, str):
            continue
        field_name = f"parameters.{name}"
        try:
            interval = Interval.parse(value)
        except ValueError:
            continue
        except ArithmeticError:
            errors[name] = FieldError(field_name, "must be ten years or less")
            continue
        try:
            due = interval.after(now)
        except (ArithmeticError, ValueError):
            due = None
        if due is None or due - now > LONGEST:
            errors[name] = FieldError(field_name, "must be ten years or less")
        elif due - now < SHORTEST:
            errors[name] = FieldError(field_name, "must be at least one minute")
    return errors
