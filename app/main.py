"""The application: routers, static files, templates, error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import logs, problems
from app.db import dispose_engine
from app.deps import NowDep, SessionDep
from app.web import STATIC_DIR, SecurityHeaders

SWAGGER_UI = "/static/vendor/swagger-ui"  # swagger-ui-dist 5.35.0 (static/vendor/README.md)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """The scheduler runs in the web process when enabled; with several workers on
    PostgreSQL each tries, and only the one holding the advisory lock runs the rules."""
    from app import scheduler as scheduling
    from app.config import get_settings
    from app.db import get_engine, get_sessionmaker

    await _flag_demo_accounts(get_sessionmaker())
    scheduler = leader = None
    if get_settings().scheduler_enabled:
        leader = scheduling.Leadership(get_engine())
        scheduler = scheduling.make_scheduler(get_sessionmaker(), leader)
        scheduler.start()
    yield
    if scheduler is not None and leader is not None:
        # Let a tick under way finish: a notice cut off between sending and being marked
        # sent would be sent again by the next leader.
        await scheduling.stop(scheduler, leader)
    await dispose_engine()
    from app.reports import heavy

    heavy.shutdown()


async def _flag_demo_accounts(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Warn in the log while any account still has the demo seed's password (admins also
    see a banner). A database not made yet is no reason not to start."""
    from app.auth import service as auth_service

    try:
        async with sessionmaker() as session:
            await auth_service.check_demo_passwords(session)
            await session.commit()
    except SQLAlchemyError:
        logging.getLogger("wardflow.auth").exception("Could not check for demo passwords")


def create_app() -> FastAPI:
    from app.alerts import router as alerts_router
    from app.alerts import rules_views
    from app.alerts import service as alerts_service
    from app.alerts import views as alerts_views
    from app.audit import views as audit_views
    from app.auth import admin_views as auth_admin_views
    from app.auth import views as auth_views
    from app.discharge import ready as discharge_ready
    from app.discharge import router as discharge_router
    from app.discharge import views as discharge_views
    from app.flow import router as flow_router
    from app.flow import service as flow_service
    from app.flow import views as flow_views
    from app.interop import views as interop_views
    from app.interop.fhir import router as fhir_router
    from app.mha import router as mha_router
    from app.mha import views as mha_views
    from app.pas import router as pas_router
    from app.pas import service as pas_service
    from app.pas import views as pas_views
    from app.reports import router as reports_router
    from app.reports import views as reports_views
    from app.reports.heavy import ReportCache
    from app.segregation import episode_views
    from app.segregation import router as segregation_router
    from app.segregation import views as segregation_views
    from app.segregation.force import router as force_router
    from app.segregation.force import views as force_views
    from app.wards import router as wards_router
    from app.wards import views as wards_views

    app = FastAPI(
        title="Wardflow",
        version="0.1.0",
        description="Inpatient bed flow and least-restrictive-practice monitoring.",
        lifespan=lifespan,
        # The documentation is served below from static/ (pinned), not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.reports = ReportCache.from_settings()  # kept reports, PDF slots (per process)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        wards_router,
        discharge_router,
        flow_router,
        segregation_router,
        force_router,
        alerts_router,
        reports_router,
        mha_router,
        pas_router,
    ):
        app.include_router(module.router)
    for module in (
        auth_views,
        auth_admin_views,
        wards_views,
        discharge_views,
        segregation_views,
        episode_views,
        force_views,
        audit_views,
        alerts_views,
        rules_views,
        flow_views,
        interop_views,
        fhir_router,  # described by its own CapabilityStatement at /fhir/r4/metadata
        reports_views,
        mha_views,
        pas_views,
    ):
        app.include_router(module.router, include_in_schema=False)
    problems.install(app)
    logs.install()
    segregation_views.install()
    alerts_service.install()
    discharge_ready.install()
    flow_service.install()
    flow_views.install()
    mha_views.install()
    pas_service.install()

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/wards", status_code=303)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI from static/vendor/swagger-ui (npm swagger-ui-dist, version pinned
        there), not from a CDN: no third party can change the script run on this site."""
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Wardflow API",
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def docs_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/healthz/rules", include_in_schema=False)
    async def rules_health(session: SessionDep, now: NowDep) -> JSONResponse:
        """For monitoring: 503 when no rule run has finished lately or the last one could
        not check a rule, since neither raises an alert of its own. No patient data."""
        health = await alerts_service.rules_health(session, now)
        finished = health.last_finished_at
        return JSONResponse(
            {
                "status": "ok" if health.ok else "failing",
                "last_finished_at": finished.isoformat() if finished else None,
                "stale": health.stale,
                "failing_rules": list(health.failing),
            },
            status_code=200 if health.ok else 503,
        )

    return app


app = create_app()
