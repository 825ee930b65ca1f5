"""The report's forms (JSON, CSV, PDF, the page) and who may read it."""

from __future__ import annotations

import csv
import io

import pypdf
import pytest

from tests.reports import scenario

pytestmark = pytest.mark.usefixtures("no_suppression")

API = "/api/v1/reports/weekly"
WEEK = {"week_ending": "2026-03-29"}


@pytest.fixture
async def built(client, world, clock, session):
    result = await scenario.build(client, world, clock)
    await scenario.add_alerts(session, world, result.admissions["P1"])
    return result


async def test_a_week_must_be_a_finished_one_ending_on_a_sunday(client, world, clock) -> None:
    clock.now = scenario.AFTER  # Wednesday 1 April 2026
    auth = world.auth("director")
    for value, message in (
        ("2026-03-28", "is not a Sunday"),
        ("2026-04-05", "has not finished yet"),  # the week under way
        ("2026-05-03", "has not finished yet"),  # a week to come
    ):
        r = await client.get(API, headers=auth, params={"week_ending": value})
        assert r.status_code == 422, value
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "week_ending"
        assert message in r.json()["errors"][0]["message"]
    r = await client.get(API, headers=auth, params={"week_ending": "29 March"})
    assert r.status_code == 422
    for suffix in (".csv", ".pdf"):
        r = await client.get(API + suffix, headers=auth, params={"week_ending": "2026-03-28"})
        assert r.status_code == 422
    r = await client.get(API, headers=auth)  # no week: the last finished one
    assert r.status_code == 200
    assert r.json()["week_ending"] == "2026-03-29"


async def test_an_unknown_ward_or_site_is_not_found(client, world, clock) -> None:
    clock.now = scenario.AFTER
    auth = world.auth("director")
    assert (
        await client.get(API, headers=auth, params={**WEEK, "ward_code": "NOPE"})
    ).status_code == 404
    assert (
        await client.get(API, headers=auth, params={**WEEK, "site_code": "NOPE"})
    ).status_code == 404
    both = {**WEEK, "ward_code": "ASH", "site_code": "STJ"}
    assert (await client.get(API, headers=auth, params=both)).status_code == 422


async def test_who_may_read_it(client, world, clock) -> None:
    clock.now = scenario.AFTER
    for user in ("director", "admin", "lead", "beds"):
        r = await client.get(API, headers=world.auth(user), params=WEEK)
        assert r.status_code == 200, user
    for suffix in ("", ".csv", ".pdf"):
        r = await client.get(API + suffix, headers=world.auth("nurse"), params=WEEK)
        assert r.status_code == 403  # ward staff: their wards' records, not the trust's report
    assert (await client.get(API, params=WEEK)).status_code == 401


async def test_the_csv_is_long_form(client, world, built) -> None:
    r = await client.get(API + ".csv", headers=world.auth("director"), params=WEEK)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "wardflow-weekly-trust-2026-03-29.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["measure", "breakdown", "group", "value"]
    assert all(len(row) == 4 for row in rows)
    assert ["occupied_bed_days", "all", "all", "11"] in rows
    assert ["available_bed_days", "all", "all", "89"] in rows
    assert ["seclusion.hours", "all", "all", "4.0"] in rows
    assert ["delayed_discharge.delay_days", "reason", "09", "4"] in rows
    assert ["restrictive_interventions.per_1000_obd", "ethnic_group", "black", "500.0"] in rows
    assert ["restrictive_interventions.ratio_to_white", "ethnic_group", "black", "3.5"] in rows
    assert ["restrictive_interventions.per_1000_obd", "ethnic_group", "mixed", ""] in rows
    assert ["occupied_bed_days", "sex", "female", "9"] in rows
    assert ["alerts.raised", "rule", "ADM_PURPOSE_REVIEW", "1"] in rows
    assert ["trend.occupancy", "week_ending", "2026-03-29", "12.4"] in rows


async def test_the_pdf_holds_the_headline_figures(client, world, built) -> None:
    r = await client.get(API + ".pdf", headers=world.auth("director"), params=WEEK)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert "Weekly report: The trust" in text
    assert "Week 23 Mar 2026 to 29 Mar 2026" in text
    for figure in (
        "Occupancy 12.4 %: above the 85 % limit on 0 of 7 nights",
        "12.4 % (11 of 89)",
        "Restrictive interventions 181.8 per 1,000 bed days",
        "2 on 2 people",
        "Seclusion 4.0 hours",
        "Segregation 0.5 days",
        "1 waited over 12 hours",
        "4 days of delay",
        "1 started, 3 bed days, 1 active at the end",
        "1 raised",
    ):
        assert figure in text, figure
    # The charts are drawn into it: their week labels are text in the PDF.
    assert "29 Mar 2026" in text


async def test_the_page(signed_in, world, built) -> None:
    from tests.auth.helpers import parse

    director = await signed_in("director")
    r = await director.get("/reports/weekly", params=WEEK)
    assert r.status_code == 200
    doc = parse(r.text)
    assert "12.4 % (11 of 89)" in doc.by_id("fig-occupancy").text()
    assert doc.by_id("reading-occupancy").text().startswith("Occupancy 12.4 %")
    charts = doc.find_all("svg", class_="wf-spc")
    assert len(charts) == 10
    assert all(c.attrs.get("role") == "img" and c.find("title") and c.find("desc") for c in charts)
    assert doc.find("select", id="week_ending") is not None
    links = [a.attrs["href"] for a in doc.by_id("downloads").find_all("a")]
    assert links == [
        "/api/v1/reports/weekly.pdf?week_ending=2026-03-29",
        "/api/v1/reports/weekly.csv?week_ending=2026-03-29",
        "/api/v1/reports/weekly?week_ending=2026-03-29",
    ]
    black = doc.by_id("equality-ethnic_group").find("tr", data_group="black")
    assert black is not None and "×3.50" in black.text()
    nav = [a.attrs.get("href") for a in doc.find_all("a")]
    assert "/reports/weekly" in nav
    # The downloads work from the page's own session (a GET needs no CSRF token).
    assert (await director.get(links[1])).status_code == 200
    ward = await director.get("/reports/weekly", params={**WEEK, "ward_code": "ASH"})
    assert "Weekly report: Ash Ward (ASH)" in parse(ward.text).find("h1").text()


async def test_the_page_refuses_ward_staff_and_shows_a_bad_week(signed_in, world, clock) -> None:
    from tests.auth.helpers import parse

    clock.now = scenario.AFTER
    nurse = await signed_in("nurse")
    assert (await nurse.get("/reports/weekly")).status_code == 403
    assert "/reports/weekly" not in (await nurse.get("/wards")).text
    director = await signed_in("director")
    r = await director.get("/reports/weekly", params={"week_ending": "2026-03-28"})
    assert r.status_code == 422
    assert "is not a Sunday" in parse(r.text).by_id("report-problem").text()
    r = await director.get("/reports/weekly")  # the last finished week by default
    assert r.status_code == 200
    assert parse(r.text).by_id("report-week").text() == "Week 23 Mar 2026 to 29 Mar 2026"
