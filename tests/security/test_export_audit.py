"""Exports are in the audit log (issue 17, finding 9): the MHSDS extract, the weekly
report's CSV and PDF and the kept snapshots' downloads, by the web and the command line,
each with who, what (month, or week, scope and format) and from where."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.reports import service
from app.reports.period import TRUST, Week
from tests.test_cli import cli_env, run  # noqa: F401  (the fixture)

API = "/api/v1/reports/weekly"
WEEK = {"week_ending": "2026-03-08"}


async def exports(session) -> list[AuditEntry]:
    return list(
        await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
        )
    )


@pytest.fixture(autouse=True)
def quick_pdf(app):
    async def render(data):
        return b"%PDF-1.7"

    app.state.reports.render = render


async def test_the_mhsds_download_is_recorded_with_who_what_and_where(world, signed_in, session):
    admin = await signed_in("admin")
    r = await admin.get("/admin/exports/mhsds.zip", params={"month": "2026-02"})
    assert r.status_code == 200
    [entry] = await exports(session)
    assert (entry.username, entry.user_id) == ("admin", world.users["admin"].id)
    assert (entry.entity_type, entry.entity_id) == ("mhsds_extract", "2026-02")
    assert entry.after == {"format": "zip", "via": "web", "client": "127.0.0.1"}

    # A refused month exports nothing and records nothing.
    assert (
        await admin.get("/admin/exports/mhsds.zip", params={"month": "2026-13"})
    ).status_code == 422
    assert len(await exports(session)) == 1


async def test_report_csv_pdf_and_snapshot_downloads_are_recorded(client, world, session, clock):
    auth = world.auth("director")
    assert (await client.get(API + ".csv", headers=auth, params=WEEK)).status_code == 200
    ward = {**WEEK, "ward_code": "ASH"}
    assert (await client.get(API + ".pdf", headers=auth, params=ward)).status_code == 200
    assert (await client.get(API, headers=auth, params=WEEK)).status_code == 200  # not an export
    csv_entry, pdf_entry = await exports(session)
    assert (csv_entry.username, csv_entry.entity_type, csv_entry.entity_id) == (
        "director",
        "weekly_report",
        "2026-03-08",
    )
    assert csv_entry.after == {
        "format": "csv", "scope": "trust", "code": None, "via": "web", "client": "127.0.0.1"
    }  # fmt: skip
    assert pdf_entry.after["format"] == "pdf"
    assert (pdf_entry.after["scope"], pdf_entry.after["code"]) == ("ward", "ASH")

    # The snapshot kept for the week, downloaded in both forms.
    snapshot, _ = await service.keep(
        session, week=Week(date(2026, 3, 8)), now=clock.now, trigger="api", scope=TRUST
    )
    for suffix in ("csv", "pdf"):
        r = await client.get(f"/api/v1/reports/snapshots/{snapshot.id}.{suffix}", headers=auth)
        assert r.status_code == 200
    *_, snap_csv, snap_pdf = await exports(session)
    assert (snap_csv.entity_type, snap_csv.entity_id) == ("report_snapshot", str(snapshot.id))
    assert snap_csv.after["week_ending"] == "2026-03-08"
    assert (snap_csv.after["format"], snap_pdf.after["format"]) == ("csv", "pdf")


async def test_a_busy_pdf_is_not_recorded_as_an_export(app, client, world, session):
    slots = app.state.reports.slots
    while not slots.locked():
        await slots.acquire()
    r = await client.get(API + ".pdf", headers=world.auth("director"), params=WEEK)
    assert r.status_code == 503
    assert await exports(session) == []


def test_the_command_lines_exports_are_recorded(cli_env, tmp_path):  # noqa: F811
    run(cli_env, "db", "upgrade")
    run(cli_env, "export", "mhsds", "--month", "2026-02", "-o", str(tmp_path / "out"))
    run(cli_env, "report", "weekly", "--week-ending", "2026-03-29", "--format", "csv",
        "-o", str(tmp_path / "week.csv"))  # fmt: skip
    path = cli_env["WARDFLOW_DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT username, entity_type, entity_id, after FROM audit_log"
            " WHERE action = 'export' ORDER BY id"
        ).fetchall()
    assert [(r[1], r[2]) for r in rows] == [
        ("mhsds_extract", "2026-02"),
        ("weekly_report", "2026-03-29"),
    ]
    assert all(r[0].startswith("cli:") for r in rows)
    assert '"via": "cli"' in rows[0][3] and '"format": "csv"' in rows[1][3]
