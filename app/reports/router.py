"""JSON, CSV and PDF of the weekly report (API.md, Reports), and the kept snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from app.audit.exports import record_export
from app.deps import ApiUser, NowDep, SessionDep, commit
from app.reports import export, service
from app.reports.heavy import ReportCache
from app.reports.period import Scope, Week, finished_week, last_finished, resolve_scope
from app.reports.schemas import WeeklyReport

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

WeekEnding = Annotated[
    date | None,
    Query(
        description="A Sunday: the week Monday 00:00 to Sunday 24:00 Europe/London ending "
        "on it. Default: the last finished week."
    ),
]
WardCode = Annotated[str | None, Query(description="One ward's report")]
SiteCode = Annotated[str | None, Query(description="One site's report")]


def reports(request: Request) -> ReportCache:
    """The application's kept reports and PDF slots (app/reports/heavy.py)."""
    cache: ReportCache = request.app.state.reports
    return cache


Reports = Annotated[ReportCache, Depends(reports)]


@dataclass(frozen=True)
class Asked:
    """Which report was asked for: its week and its scope (trust, site or ward)."""

    week: Week
    scope: Scope


async def report_query(
    session: SessionDep,
    user: ApiUser,
    now: NowDep,
    week_ending: WeekEnding = None,
    ward_code: WardCode = None,
    site_code: SiteCode = None,
) -> Asked:
    """The report's query (the same for JSON, CSV and PDF), for a reader only."""
    service.require_reader(user)
    week = finished_week(week_ending, now) if week_ending else last_finished(now)
    scope = await resolve_scope(session, ward_code=ward_code, site_code=site_code)
    return Asked(week, scope)


ReportQuery = Annotated[Asked, Depends(report_query)]


def _name(report: WeeklyReport, suffix: str) -> str:
    scope = report.scope
    where = "trust" if scope.type == "trust" else f"{scope.type}-{scope.code}"
    return f"wardflow-weekly-{where}-{report.week_ending.isoformat()}.{suffix}"


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _audit(
    session: SessionDep, user: ApiUser, request: Request, data: WeeklyReport, form: str
) -> None:
    await record_export(
        session,
        kind="weekly_report",
        ident=data.week_ending.isoformat(),
        details={"format": form, "scope": data.scope.type, "code": data.scope.code},
        actor=user,
        request=request,
    )


@router.get("/weekly", response_model=WeeklyReport)
async def weekly(
    asked: ReportQuery, session: SessionDep, now: NowDep, cache: Reports
) -> WeeklyReport:
    """The director's weekly figures, their 26-week trends and the equality breakdowns."""
    return await cache.data(session, scope=asked.scope, week=asked.week, now=now)


@router.get("/weekly.csv", response_class=Response)
async def weekly_csv(
    asked: ReportQuery,
    request: Request,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    cache: Reports,
) -> Response:
    """The same report in long form: measure, breakdown, group, value."""
    data = await cache.data(session, scope=asked.scope, week=asked.week, now=now)
    await _audit(session, user, request, data, "csv")
    await commit(session)  # the export's audit record (get_session commits nothing)
    return _download(export.to_csv(data), "text/csv; charset=utf-8", _name(data, "csv"))


@router.get("/weekly.pdf", response_class=Response)
async def weekly_pdf(
    asked: ReportQuery,
    request: Request,
    user: ApiUser,
    session: SessionDep,
    now: NowDep,
    cache: Reports,
) -> Response:
    """The same report as a PDF. At most a few are laid out at once: when all are busy the
    answer is 503 with Retry-After, at once (app/reports/heavy.py)."""
    data, document = await cache.pdf(session, scope=asked.scope, week=asked.week, now=now)
    await _audit(session, user, request, data, "pdf")
    await commit(session)  # the export's audit record (get_session commits nothing)
    return _download(document, "application/pdf", _name(data, "pdf"))


@router.get("/snapshots")
async def snapshots(user: ApiUser, session: SessionDep) -> list[dict[str, Any]]:
    """The reports kept as they were made (newest first)."""
    service.require_reader(user)
    return [
        {
            "id": s.id,
            "week_ending": s.week_ending.isoformat(),
            "scope_type": s.scope_type,
            "scope_code": s.scope_code or None,
            "generated_at": s.generated_at.isoformat(),
            "trigger": s.trigger,
            "links": {
                fmt: f"/api/v1/reports/snapshots/{s.id}.{fmt}" for fmt in ("json", "csv", "pdf")
            },
        }
        for s in await service.list_snapshots(session)
    ]


@router.get("/snapshots/{snapshot_id}.json")
async def snapshot_json(snapshot_id: int, user: ApiUser, session: SessionDep) -> JSONResponse:
    """The report as it was kept: its JSON unchanged, as made then (a snapshot kept before
    a field was added lacks that field)."""
    service.require_reader(user)
    return JSONResponse((await service.get_snapshot(session, snapshot_id)).data)


async def _audit_snapshot(
    session: SessionDep,
    user: ApiUser,
    request: Request,
    snapshot_id: int,
    data: WeeklyReport,
    form: str,
) -> None:
    await record_export(
        session,
        kind="report_snapshot",
        ident=str(snapshot_id),
        details={
            "format": form,
            "week_ending": data.week_ending.isoformat(),
            "scope": data.scope.type,
            "code": data.scope.code,
        },
        actor=user,
        request=request,
    )


@router.get("/snapshots/{snapshot_id}.csv", response_class=Response)
async def snapshot_csv(
    snapshot_id: int, request: Request, user: ApiUser, session: SessionDep
) -> Response:
    service.require_reader(user)
    data = service.kept_report(await service.get_snapshot(session, snapshot_id))
    await _audit_snapshot(session, user, request, snapshot_id, data, "csv")
    await commit(session)  # the export's audit record (get_session commits nothing)
    return _download(export.to_csv(data), "text/csv; charset=utf-8", _name(data, "csv"))


@router.get("/snapshots/{snapshot_id}.pdf", response_class=Response)
async def snapshot_pdf(
    snapshot_id: int, request: Request, user: ApiUser, session: SessionDep
) -> Response:
    service.require_reader(user)
    snapshot = await service.get_snapshot(session, snapshot_id)
    data = service.kept_report(snapshot)
    await _audit_snapshot(session, user, request, snapshot_id, data, "pdf")
    await commit(session)  # the export's audit record (get_session commits nothing)
    return _download(snapshot.pdf, "application/pdf", _name(data, "pdf"))
