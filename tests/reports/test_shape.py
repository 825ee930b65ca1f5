"""The report's typed shape (app/reports/schemas.py): the API documents it in OpenAPI, a
kept snapshot reads back as the report it was, and snapshots kept before later fields
were added still load, download and render."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from app.reports import pdf, service
from app.reports.models import ReportSnapshot
from app.reports.period import TRUST, Week
from app.reports.schemas import WeeklyReport
from tests.reports import scenario

pytestmark = pytest.mark.usefixtures("no_suppression")

API = "/api/v1/reports"


def the_week() -> Week:
    from app.reports.period import finished_week

    return finished_week(scenario.WEEK_ENDING, scenario.AFTER)


@pytest.fixture
def quick_pdf(monkeypatch):  # type: ignore[no-untyped-def]
    """The snapshot's PDF is not what these tests are about (test_jobs.py lays it out)."""

    async def render(report: WeeklyReport) -> bytes:
        return b"%PDF-1.7 " + report.week_ending.isoformat().encode()

    monkeypatch.setattr(pdf, "render_async", render)


async def test_the_openapi_schema_documents_the_weekly_report(client) -> None:
    schema = (await client.get("/openapi.json")).json()
    answer = schema["paths"][f"{API}/weekly"]["get"]["responses"]["200"]["content"]
    ref = answer["application/json"]["schema"]["$ref"]
    assert ref.endswith("/WeeklyReport")
    components = schema["components"]["schemas"]
    report = components["WeeklyReport"]

    def fields(name: str) -> set[str]:
        return set(components[name]["properties"])

    # API.md's fields, at least (the report only ever adds to them).
    assert {
        "week_start", "week_ending", "occupied_bed_days", "available_bed_days",
        "occupancy_rate", "admissions", "discharges", "waits", "restrictive_interventions",
        "seclusion", "segregation", "out_of_area", "all_active_at_end", "delayed_discharge",
        "long_stays", "alerts", "by_ethnic_group",
    } <= set(report["properties"])  # fmt: skip
    assert {"week_start", "occupied_bed_days", "alerts"} <= set(report["required"])
    assert {"requests", "over_12h", "median_minutes"} <= fields("Waits")
    assert {"count", "people", "per_1000_obd", "prone"} <= fields("RestrictiveInterventions")
    assert {"episodes", "people", "hours"} <= fields("Seclusion")
    assert {"episodes", "people", "days"} <= fields("Segregation")
    assert {"inappropriate_started", "inappropriate_bed_days", "active_at_end",
            "ended"} <= fields("OutOfArea")  # fmt: skip
    assert {"delay_days", "by_reason", "by_attributable"} <= fields("DelayedDischarge")
    assert {"over_60_days", "over_90_days"} <= fields("LongStays")
    assert {"raised", "cleared", "resolved", "open_at_end", "by_rule"} <= fields("Alerts")
    assert {"occupied_bed_days", "restrictive_interventions", "seclusion_episodes",
            "per_1000_obd", "ratio_to_white"} <= fields("EthnicGroupFigures")  # fmt: skip
    # A date is a date, and a rate may be null (no open bed).
    assert report["properties"]["week_ending"]["format"] == "date"
    rate = report["properties"]["occupancy_rate"]
    assert {"type": "null"} in rate["anyOf"]


async def test_a_snapshot_reads_back_as_the_report_it_kept(
    client, world, clock, session, quick_pdf
) -> None:
    await scenario.build(client, world, clock)
    week = the_week()
    made = await service.make(session, scope=TRUST, week=week, now=scenario.AFTER)
    snapshot, created = await service.keep(
        session, week=week, now=scenario.AFTER, trigger="api", scope=TRUST
    )
    await session.commit()
    assert created
    kept = service.kept_report(snapshot)
    assert kept == made
    # As stored: JSON text, read back (not the objects in memory).
    stored = json.loads(json.dumps(snapshot.data))
    assert WeeklyReport.model_validate(stored) == made
    assert stored["generated_at"] == scenario.AFTER.isoformat()  # "+00:00", as ever
    # The kept JSON is what the API said of that week at that moment.
    auth = world.auth("director")
    live = await client.get(f"{API}/weekly", headers=auth, params={"week_ending": "2026-03-29"})
    kept_json = await client.get(f"{API}/snapshots/{snapshot.id}.json", headers=auth)
    assert kept_json.json() == live.json() == stored
    # A count stays a count and an amount an amount, through the store.
    assert isinstance(stored["occupied_bed_days"], int)
    assert isinstance(stored["seclusion"]["hours"], float)


def first_shape(data: dict[str, Any]) -> dict[str, Any]:
    """A report as the first snapshots stored it (December 2026, before suppression,
    withdrawn alerts and late records): the fields added since taken out."""
    old = {k: v for k, v in data.items() if k not in ("late_records", "equality_suppression")}
    old["alerts"] = {k: v for k, v in data["alerts"].items() if k != "withdrawn"}
    old["equality"] = {}
    for breakdown, table in data["equality"].items():
        groups = {
            g: {k: v for k, v in f.items() if k != "suppressed"} for g, f in table["groups"].items()
        }
        old["equality"][breakdown] = {"reference": table["reference"], "groups": groups}
    old["by_ethnic_group"] = old["equality"]["ethnic_group"]["groups"]
    return old


async def test_a_snapshot_stored_in_an_older_shape_still_loads_downloads_and_renders(
    client, world, clock, session
) -> None:
    built = await scenario.build(client, world, clock)
    await scenario.add_alerts(session, world, built.admissions["P1"])
    made = await service.make(session, scope=TRUST, week=the_week(), now=scenario.AFTER)
    old = first_shape(made.model_dump(mode="json"))
    snapshot = ReportSnapshot(
        week_ending=scenario.WEEK_ENDING, scope_type="trust", scope_code="",
        generated_at=scenario.AFTER, trigger="scheduler", data=old, pdf=b"%PDF-1.7 as sent",
    )  # fmt: skip
    session.add(snapshot)
    await session.commit()

    kept = service.kept_report(snapshot)
    assert kept.late_records is None
    assert kept.alerts.withdrawn == 0  # none could be withdrawn then
    assert kept.equality_suppression.below == 1  # nothing was suppressed then
    assert kept.occupied_bed_days == 11 and kept.alerts.raised == 1

    auth = world.auth("director")
    # Its JSON is as it was kept: no field is added to what was sent.
    r = await client.get(f"{API}/snapshots/{snapshot.id}.json", headers=auth)
    assert r.status_code == 200 and r.json() == old and "late_records" not in r.json()
    r = await client.get(f"{API}/snapshots/{snapshot.id}.csv", headers=auth)
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.text)))
    assert ["occupied_bed_days", "all", "all", "11"] in rows
    assert ["alerts.raised", "rule", "ADM_PURPOSE_REVIEW", "1"] in rows
    assert ["restrictive_interventions.ratio_to_white", "ethnic_group", "black", "3.5"] in rows
    assert not [row for row in rows if row[0].startswith("late_records")]
    r = await client.get(f"{API}/snapshots/{snapshot.id}.pdf", headers=auth)
    assert r.content == b"%PDF-1.7 as sent"  # the PDF as sent, never laid out again
    # And it renders (the command line's --keep --format html, the page and the PDF share it).
    page = pdf.html(kept)
    assert "12.4 % (11 of 89)" in page
    assert 'id="late-records-by-ward"' not in page
    assert 'id="equality-suppression"' not in page
