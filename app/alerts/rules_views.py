"""The rules page (/rules): what each rule checks, its thresholds and source, how many
alerts are open; the admin and the safeguarding lead change thresholds here. The rule
runs page (/admin/rule-runs) shows each run and what failed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import engine, service
from app.auth import access
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep, commit
from app.errors import Invalid
from app.forms import attempt
from app.rules import settings
from app.web import render

router = APIRouter()
READERS = access.CLINICAL_READERS | {"director"}


@router.get("/rules", response_class=HTMLResponse)
async def rules_page(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    access.require_role(user, READERS, "see the rules")
    return render(
        request,
        "alerts/rules.html",
        {
            "rules": await service.rules_out(session),
            "can_edit": user.role in settings.EDITORS,
            "active": "rules",
        },
    )


async def _rule_form(
    request: Request,
    user: User,
    session: AsyncSession,
    code: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings.get_rule(code)
    rule = (await settings.rules_in_force(session))[code]
    counts = await service.open_counts_by_rule(session)
    current = service.rule_out(rule, counts.get(code, 0))
    if values is None:
        values = {
            **{f"param-{n}": str(v) for n, v in current.parameters.items()},
            "severity": current.severity,
            "enabled": current.enabled,
        }
    return render(
        request,
        "alerts/rule.html",
        {
            "rule": current,
            "values": values,
            "errors": errors or {},
            "can_edit": user.role in settings.EDITORS,
            "active": "rules",
        },
        status_code=status_code,
    )


@router.get("/rules/{code}", response_class=HTMLResponse)
async def rule_page(code: str, request: Request, user: PageUser, session: SessionDep) -> Response:
    access.require_role(user, READERS, "see the rules")
    return await _rule_form(request, user, session, code)


def _number_or_text(raw: str) -> Any:
    """Numbers stay numbers (85, 0.5); anything else is passed on to be refused by name."""
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


@router.post("/rules/{code}", response_class=HTMLResponse)
async def change_rule(
    code: str, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    access.require_role(user, settings.EDITORS, "change rules")
    rule = settings.get_rule(code)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    values["enabled"] = "enabled" in form  # type: ignore[assignment]
    parameters = {
        name: (_number_or_text(raw) if p.kind == "number" else raw)
        for name, p in rule.parameters.items()
        if (raw := values.get(f"param-{name}", "").strip())
    }
    errors = {
        f"param-{name}": "Enter a value"
        for name in rule.parameters
        if not values.get(f"param-{name}", "").strip()
    }

    async def write() -> object:
        return await settings.change_rule(
            session,
            actor=user,
            code=code,
            parameters=parameters,
            severity=values.get("severity") or None,
            enabled=bool(values["enabled"]),
            now=now,
        )

    saved = await attempt(session, write, errors=errors, explain=_parameter_errors, refusals=())
    if saved.ok:
        return RedirectResponse("/rules#rule-" + code, status_code=303)
    return await _rule_form(request, user, session, code, values, saved.errors, status_code=422)


def _parameter_errors(exc: Invalid) -> dict[str, str]:
    """Each beside its own input: "parameters.limit" is the input "param-limit"."""
    errors = {}
    for e in exc.errors:
        name = e.field.removeprefix("parameters.")
        errors[f"param-{name}" if name != e.field else e.field] = e.message
    return errors


@router.get("/admin/rule-runs", response_class=HTMLResponse)
async def runs_page(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    access.require_role(user, {"admin", "safeguarding_lead"}, "see rule runs")
    return render(
        request,
        "alerts/runs.html",
        {"runs": await service.recent_runs(session), "active": "runs"},
    )


@router.post("/admin/rule-runs", response_class=HTMLResponse)
async def run_now(request: Request, user: PageUser, session: SessionDep, now: NowDep) -> Response:
    access.require_admin(user, "run the rules")
    await engine.run_rules(session, as_of=now, now=now, trigger="page")
    await commit(session)
    return RedirectResponse("/admin/rule-runs", status_code=303)
