"""Small counts in the equality tables are suppressed (issue 17, finding 12): a count of 1
for one ward and one week can name the person. With the default threshold (5), in the
JSON, the page, the CSV and the PDF alike, and the page says so."""

from __future__ import annotations

import csv
import io

import pypdf
import pytest

from app.reports.equality import COUNTED_BY
from tests.auth.helpers import parse
from tests.reports import scenario

API = "/api/v1/reports/weekly"
WEEK = {"week_ending": "2026-03-29"}


@pytest.fixture
async def built(client, world, clock, session):
    # White: 7 bed days, 1 use of force, 2 seclusions; Black: 2 bed days, 1 (prone) use
    # of force; Asian: 2 bed days, 1 segregation; the other groups no bed days.
    return await scenario.build(client, world, clock)


async def test_the_json_hides_counts_below_five_with_their_rates_and_ratios(client, world, built):
    r = (await client.get(API, headers=world.auth("director"), params=WEEK)).json()
    assert r["equality_suppression"]["below"] == 5
    assert r["equality_suppression"]["suppressed_as"] is None
    assert "suppressed" in r["equality_suppression"]["note"]
    for breakdown, table in r["equality"].items():
        for group, figures in table["groups"].items():
            for measure in COUNTED_BY:
                value = figures[measure]
                assert value is None or value == 0 or value >= 5, (breakdown, group, measure)
                if value is None:
                    assert measure in figures["suppressed"]
                    assert figures["rates"][measure] is None
                    assert figures["ratios"][measure] is None

    groups = r["by_ethnic_group"]  # API.md's fields kept, null where suppressed
    white, black, asian = groups["white"], groups["black"], groups["asian"]
    assert (white["occupied_bed_days"], white["restrictive_interventions"]) == (7, None)
    assert (white["per_1000_obd"], white["ratio_to_white"]) == (None, None)
    assert black["restrictive_interventions"] is None and black["per_1000_obd"] is None
    assert white["seclusion_episodes"] is None and white["seclusion_hours"] is None
    # A zero names nobody and is shown; its ratio to a suppressed White rate is not.
    assert (asian["restrictive_interventions"], asian["per_1000_obd"]) == (0, 0.0)
    assert asian["ratio_to_white"] is None
    assert "restrictive_interventions" in r["equality"]["ethnic_group"]["reference_suppressed"]
    # One group alone below the threshold (Black's prone restraint) would be worked out
    # from the total: the next smallest group with bed days is hidden too.
    assert "prone" in black["suppressed"]
    assert sum("prone" in g["suppressed"] for g in groups.values()) == 2
    # Asian's one segregation, and its days, likewise.
    assert asian["segregation_episodes"] is None and asian["segregation_days"] is None


async def test_the_page_csv_and_pdf_show_suppressed_cells_and_say_so(
    client, world, built, signed_in
):
    director = await signed_in("director")
    page = await director.get("/reports/weekly", params=WEEK)
    assert page.status_code == 200
    doc = parse(page.text)
    note = doc.by_id("equality-suppression")
    assert note is not None and "1 to 4" in note.text() and "NHS statistics" in note.text()
    white = doc.by_id("equality-ethnic_group").find("tr", data_group="white")
    assert "*" in white.text() and "142.9" not in white.text()  # 1 per 7 bed days, hidden

    text = (await client.get(API + ".csv", headers=world.auth("director"), params=WEEK)).text
    rows = list(csv.reader(io.StringIO(text)))
    assert ["restrictive_interventions", "ethnic_group", "white", "*"] in rows
    assert ["restrictive_interventions.per_1000_obd", "ethnic_group", "white", "*"] in rows
    assert ["occupied_bed_days", "ethnic_group", "white", "7"] in rows

    r = await client.get(API + ".pdf", headers=world.auth("director"), params=WEEK)
    reader = pypdf.PdfReader(io.BytesIO(r.content))
    words = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "are suppressed and shown as *" in words


async def test_the_threshold_is_a_setting(client, world, built, monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("WARDFLOW_EQUALITY_MIN_COUNT", "2")
    get_settings.cache_clear()
    try:
        r = (await client.get(API, headers=world.auth("director"), params=WEEK)).json()
    finally:
        monkeypatch.delenv("WARDFLOW_EQUALITY_MIN_COUNT")
        get_settings.cache_clear()
    assert r["equality_suppression"]["below"] == 2
    white = r["by_ethnic_group"]["white"]
    assert white["restrictive_interventions"] is None  # 1: hidden
    assert white["seclusion_episodes"] == 2  # 2: shown
