"""The rights and safeguarding lead's queue (/alerts) and each alert's page; ward staff see
their own wards' alerts. Acknowledge and resolve work in place (htmx swaps the row)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import service
from app.alerts.models import Alert
from app.audit import reads
from app.audit import service as audit
from app.auth import access
from app.auth.models import User
from app.deps import NowDep, PageUser, SessionDep
from app.errors import Conflict, Forbidden, NotFound
from app.flow.models import BedRequest, OutOfAreaPlacement
from app.flow.people import initials
from app.forms import attempt
from app.rules import catalogue
from app.wards.models import Admission, Patient, Ward
from app.web import is_htmx, render

router = APIRouter()

AGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
AGE_LABELS = {"": "Any", "1h": "Over 1 hour", "24h": "Over 24 hours", "7d": "Over 7 days"}
STATUS_LABELS = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "cleared": "Cleared",
    "resolved": "Resolved",
    # RULES.md 1.1: out of the queue, but found with this filter.
    "withdrawn": "Withdrawn",
}
SUBJECT_PAGES = {
    "seclusion": "/seclusions/{}",
    "segregation": "/segregations/{}",
    "restrictive_intervention": "/use-of-force/{}",
    "admission": "/admissions/{}",
    "bed_request": "/flow/requests/{}",
    "out_of_area_placement": "/flow/placements/{}",
}
FLOW_SUBJECTS: dict[str, type[BedRequest] | type[OutOfAreaPlacement]] = {
    "bed_request": BedRequest,
    "out_of_area_placement": OutOfAreaPlacement,
}


async def _people(session: AsyncSession, user: User, alerts: list[Alert]) -> dict[int, str]:
    """Who each alert is about, by alert id, in at most three queries. Bed requests and
    placements are shown to bed managers by initials only, as bed flow shows them
    (app/flow/people.py); everyone else sees the name, as for an admission."""
    result: dict[int, str] = {}
    admissions = {
        a.admission_id
        for a in alerts
        if a.admission_id is not None and a.subject_type not in FLOW_SUBJECTS
    }
    if admissions:
        rows = await session.execute(
            select(Admission.id, Patient)
            .join(Patient, Patient.id == Admission.patient_id)
            .where(Admission.id.in_(admissions))
        )
        by_admission = {admission_id: patient.display_name for admission_id, patient in rows}
        for alert in alerts:
            if alert.subject_type not in FLOW_SUBJECTS and alert.admission_id in by_admission:
                result[alert.id] = by_admission[alert.admission_id]
    for subject_type, model in FLOW_SUBJECTS.items():
        ids = {a.subject_id for a in alerts if a.subject_type == subject_type}
        if not ids:
            continue
        rows = await session.execute(
            select(model.id, Patient)
            .join(Patient, Patient.id == model.patient_id)
            .where(model.id.in_(ids))
        )
        labels = {
            subject_id: initials(patient) if user.role == "bed_manager" else patient.display_name
            for subject_id, patient in rows
        }
        for alert in alerts:
            if alert.subject_type == subject_type and alert.subject_id in labels:
                result[alert.id] = labels[alert.subject_id]
    return result


async def _wards(session: AsyncSession) -> dict[int, Ward]:
    return {w.id: w for w in await session.scalars(select(Ward).order_by(Ward.name))}


def _subject_url(alert: Alert, wards: dict[int, Ward]) -> str | None:
    if alert.subject_type == "ward" and alert.ward_id in wards:
        return f"/wards/{wards[alert.ward_id].code}"
    # A ready-for-discharge period is shown on its admission's page.
    if alert.subject_type == "ready_for_discharge" and alert.admission_id is not None:
        return f"/admissions/{alert.admission_id}"
    pattern = SUBJECT_PAGES.get(alert.subject_type)
    return pattern.format(alert.subject_id) if pattern else None


def _can_work(user: User, alert: Alert) -> bool:
    if user.role not in service.WORKERS:
        return False
    return not access.is_ward_scoped(user) or alert.ward_id in access.ward_ids(user)


def _row_context(
    user: User, alert: Alert, people: dict[int, str], wards: dict[int, Ward], now: datetime
) -> dict[str, Any]:
    return {
        "alert": alert,
        "rule": catalogue.BY_CODE.get(alert.rule),
        "person": people.get(alert.id),
        "ward": wards.get(alert.ward_id) if alert.ward_id else None,
        "subject_url": _subject_url(alert, wards),
        "can_work": _can_work(user, alert),
        "now": now,
        "row_errors": {},
        "row_values": {},
    }


@router.get("/alerts", response_class=HTMLResponse)
async def queue(
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
    status: list[str] = Query(default=[]),
    rule: str = "",
    severity: str = "",
    ward_code: str = "",
    admission_id: int | None = None,
    age: str = "",
) -> HTMLResponse:
    return await _queue_page(
        request, user, session, now,
        statuses=[s for s in status if s in STATUS_LABELS] or list(service.IN_QUEUE),
        rule=rule if rule in catalogue.BY_CODE else "",
        severity=severity if severity in catalogue.SEVERITIES else "",
        ward_code=ward_code, admission_id=admission_id,
        age=age if age in AGES else "",
        audit_reads=True,
    )  # fmt: skip


async def _queue_page(
    request: Request,
    user: User,
    session: AsyncSession,
    now: datetime,
    *,
    statuses: list[str],
    rule: str = "",
    severity: str = "",
    ward_code: str = "",
    admission_id: int | None = None,
    age: str = "",
    message: str | None = None,
    problem: str | None = None,
    status_code: int = 200,
    audit_reads: bool = False,
) -> HTMLResponse:
    """The queue. Opening it (`audit_reads`) is a read of everyone it names; the same page
    shown again after an action on it is not entered again (a refused action writes
    nothing, not even that)."""
    alerts, total = await service.list_alerts(
        session,
        actor=user,
        now=now,
        statuses=statuses,
        rule=rule or None,
        severity=severity or None,
        ward_code=ward_code or None,
        admission_id=admission_id,
        due_before=now - AGES[age] if age else None,
    )
    people = await _people(session, user, alerts)
    if audit_reads:
        await reads.record_alert_list_read(
            session, request, actor=user, admission_ids=[a.admission_id for a in alerts], now=now
        )
    wards = await _wards(session)
    visible_wards = [
        w
        for w in wards.values()
        if not access.is_ward_scoped(user) or w.id in access.ward_ids(user)
    ]
    return render(
        request,
        "alerts/index.html",
        {
            "health": await service.rules_health(session, now),
            "rows": [_row_context(user, a, people, wards, now) for a in alerts],
            "total": total,
            "filters": {
                "status": statuses, "rule": rule, "severity": severity,
                "ward_code": ward_code, "admission_id": admission_id or "", "age": age,
            },
            "rules": catalogue.RULES,
            "ward_choices": visible_wards,
            "STATUS_LABELS": STATUS_LABELS,
            "AGE_LABELS": AGE_LABELS,
            "can_bulk": user.role in service.WORKERS,
            "message": message,
            "problem": problem,
            "now": now,
            "active": "alerts",
        },
        status_code=status_code,
    )  # fmt: skip


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert_page(
    alert_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    alert = await service.get_alert(session, actor=user, alert_id=alert_id, now=now)
    page = await _alert_page(request, user, session, alert, now)
    await reads.record_alert_read(session, request, actor=user, alert=alert, now=now)
    return page


async def _alert_page(
    request: Request,
    user: User,
    session: AsyncSession,
    alert: Alert,
    now: datetime,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    people = await _people(session, user, [alert])
    wards = await _wards(session)
    history = await audit.history(session, "alerts", alert.id)
    return render(
        request,
        "alerts/alert.html",
        {
            **_row_context(user, alert, people, wards, now),
            "timeline": await _subject_timeline(session, user, alert, now),
            "history": history,
            "row_errors": errors or {},
            "row_values": values or {},
            "problem": problem,
            "active": "alerts",
        },
        status_code=status_code,
    )


async def _subject_timeline(
    session: AsyncSession, user: User, alert: Alert, now: datetime
) -> list[Any]:
    """The episode's own timeline for a seclusion or segregation alert, as on its page."""
    from app.segregation import read
    from app.segregation import service as segregation_service
    from app.segregation.timeline import seclusion_timeline, segregation_timeline

    try:
        if alert.subject_type == "seclusion":
            seclusion = await segregation_service.get_seclusion(
                session, actor=user, seclusion_id=alert.subject_id, now=now
            )
            return seclusion_timeline(await read.seclusion_out(session, seclusion, now))
        if alert.subject_type == "segregation":
            segregation = await segregation_service.get_segregation(
                session, actor=user, segregation_id=alert.subject_id, now=now
            )
            return segregation_timeline(await read.segregation_out(session, segregation, now))
    except (Forbidden, NotFound):
        return []
    return []


async def _after_action(
    request: Request, user: User, session: AsyncSession, alert: Alert, now: datetime, **extra: Any
) -> Response:
    status_code = extra.pop("status_code", 200)
    if is_htmx(request):
        people = await _people(session, user, [alert])
        context = {**_row_context(user, alert, people, await _wards(session), now), **extra}
        return render(request, "alerts/_row.html", context, status_code=status_code)
    if status_code != 200:
        return await _alert_page(request, user, session, alert, now, status_code=status_code, **{
            "errors": extra.get("row_errors"), "values": extra.get("row_values"),
            "problem": extra.get("problem"),
        })  # fmt: skip
    return RedirectResponse(f"/alerts/{alert.id}", status_code=303)


async def _act(
    request: Request,
    user: User,
    session: AsyncSession,
    now: datetime,
    alert_id: int,
    action: Callable[..., Awaitable[Alert]],
    note: str,
) -> Response:
    """Acknowledge or resolve; a conflict (already done) shows beside the alert."""

    async def write() -> Alert:
        return await action(session, actor=user, alert_id=alert_id, note=note, now=now)

    saved = await attempt(session, write, refusals=(Conflict,))
    if saved.ok:
        return await _after_action(request, user, session, saved.saved, now)
    alert = await service.get_alert(session, actor=user, alert_id=alert_id, now=now)
    return await _after_action(
        request, user, session, alert, now, problem=saved.problem, status_code=saved.status,
        **({"row_errors": saved.errors, "row_values": {"note": note}} if saved.errors else {}),
    )  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(
    alert_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    note = str((await request.form()).get("note") or "")
    return await _act(request, user, session, now, alert_id, service.acknowledge, note)


@router.post("/alerts/{alert_id}/resolve", response_class=HTMLResponse)
async def resolve(
    alert_id: int, request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    note = str((await request.form()).get("note") or "").strip()
    if not note:
        alert = await service.get_alert(session, actor=user, alert_id=alert_id, now=now)
        return await _after_action(
            request, user, session, alert, now, status_code=422,
            row_errors={"note": "Enter a note: what was done, or why no action is needed"},
            row_values={"note": ""}, resolving=True,
        )  # fmt: skip
    return await _act(request, user, session, now, alert_id, service.resolve, note)


@router.post("/alerts/acknowledge", response_class=HTMLResponse)
async def acknowledge_many(
    request: Request, user: PageUser, session: SessionDep, now: NowDep
) -> Response:
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("ids") if str(v).isdigit()]
    note = str(form.get("note") or "")
    if not ids:
        return await _queue_page(
            request, user, session, now, statuses=list(service.IN_QUEUE),
            problem="Choose the alerts to acknowledge.", status_code=422,
        )  # fmt: skip

    async def write() -> list[Alert]:
        return await service.acknowledge_many(session, actor=user, ids=ids, note=note, now=now)

    saved = await attempt(session, write, refusals=(Conflict, NotFound, Forbidden))
    if not saved.ok:
        why = saved.problem or " ".join(saved.errors.values())
        return await _queue_page(
            request, user, session, now, statuses=list(service.IN_QUEUE),
            problem=f"Nothing was acknowledged: {why}", status_code=saved.status,
        )  # fmt: skip
    done = saved.saved
    return await _queue_page(
        request, user, session, now, statuses=list(service.IN_QUEUE),
        message=f"{len(done)} alert{'s' if len(done) != 1 else ''} acknowledged.",
    )  # fmt: skip
