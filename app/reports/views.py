"""The weekly report for people: /reports/weekly with a week and scope picker, the report,
its downloads, and the snapshots kept."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from app.deps import NowDep, PageUser, SessionDep
from app.errors import FieldError, Invalid
from app.reports import service
from app.reports.heavy import ReportCache
from app.reports.period import finished_week, last_finished, resolve_scope
from app.reports.views_context import context
from app.wards.models import Site, Ward
from app.web import render

router = APIRouter()
PICKER_WEEKS = 104


@router.get("/reports/weekly", response_class=HTMLResponse)
async def weekly_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    now: NowDep,
    week_ending: str | None = None,
    ward_code: str | None = None,
    site_code: str | None = None,
) -> HTMLResponse:
    service.require_reader(user)
    latest = last_finished(now)
    chosen = {
        "week_ending": (week_ending or "").strip() or latest.ending.isoformat(),
        "ward_code": (ward_code or "").strip(),
        "site_code": (site_code or "").strip(),
    }
    page: dict[str, Any] = {
        "active": "reports",
        "chosen": chosen,
        "week_choices": [latest.back(n).ending for n in range(PICKER_WEEKS)],
        "sites": list(await session.scalars(select(Site).order_by(Site.name))),
        "wards": list(await session.scalars(select(Ward).order_by(Ward.name))),
        "snapshots": await service.list_snapshots(session),
        "report": None,
        "problem": None,
    }
    status = 200
    try:
        try:
            ending = date.fromisoformat(chosen["week_ending"])
        except ValueError as exc:
            raise Invalid(FieldError("week_ending", "must be a date like 2026-03-08")) from exc
        week = finished_week(ending, now)
        scope = await resolve_scope(
            session, ward_code=chosen["ward_code"], site_code=chosen["site_code"]
        )
    except Invalid as exc:
        page["problem"] = "; ".join(e.message for e in exc.errors)
        status = 422
    else:
        cache: ReportCache = request.app.state.reports
        data = await cache.data(session, scope=scope, week=week, now=now)
        page.update(context(data))
        query = {"week_ending": week.ending.isoformat()}
        if scope.type != "trust":
            query[f"{scope.type}_code"] = scope.code
        page["query"] = urlencode(query)
    return render(request, "reports/weekly.html", page, status_code=status)
