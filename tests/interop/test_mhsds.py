"""MHSDS-shaped extracts on a constructed month: which records belong to it, the columns
(MHSDS v6 item names), the codes, and the row counts; from the service, the admin page (a
zip) and the command line."""

from __future__ import annotations

import csv
import io
import subprocess
import zipfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.interop import mhsds
from tests.factories import admission_body, patient_body
from tests.flow.helpers import LEEDS, reference_km
from tests.interop.helpers import post
from tests.test_cli import WARDFLOW, cli_env, run  # noqa: F401 (cli_env is a fixture)

YORK = (53.96, -1.08)
LONDON = (51.5074, -0.1278)
FEBRUARY = date(2026, 2, 1)


async def person(client, world, home="LDS"):
    return await post(client, world, "/patients", patient_body(home_locality_code=home))


async def admit(client, world, patient, ward, bed, when, **extra):
    body = admission_body(patient["id"], ward_code=ward, bed_label=bed, admitted_at=when, **extra)
    return await post(client, world, "/admissions", body)


def force(start, end, types, **extra):
    return {
        "started_at": start,
        "ended_at": end,
        "reason_code": "10",
        "types": types,
        "staff": [{"name": "Sam Okafor", "job_title": "Staff nurse"}],
        "description": "Held to stop an assault on another patient.",
        "in_care_plan": True,
        "non_unit_staff_reason": "None",
        "outcome": "Settled",
        "avoidance_efforts": "De-escalation for 20 minutes",
        "patient_injury": False,
        "staff_injury": True,
        "care_plan_notification_sent": True,
        **extra,
    }


@pytest.fixture
async def february(client, world):
    """February 2026 (UK time is GMT throughout) and records either side of it."""
    a_person, b_person = await person(client, world), await person(client, world, "YRK")
    # A: in from January, discharged home on 3 February; restrained in January only.
    a = await admit(client, world, a_person, "ASH", "A1", "2026-01-20T10:00:00Z",
                    decision_to_admit_at="2026-01-20T08:30:00Z", legal_status="s3")  # fmt: skip
    january = force("2026-01-25T10:00:00Z", "2026-01-25T10:05:00Z", [{"type_code": "07"}])
    await post(client, world, f"/admissions/{a['id']}/restrictive-interventions", january)
    await post(client, world, f"/admissions/{a['id']}/ready-for-discharge",
               {"started_at": "2026-01-30T10:00:00Z", "reason_code": "09",
                "attributable_to": "nhs"})  # fmt: skip
    await post(client, world, f"/admissions/{a['id']}/discharge",
               {"at": "2026-02-03T11:00:00Z", "destination": "usual_residence"})  # fmt: skip
    # B: in on 10 February, moved from BIRCH to CEDAR on the 15th, still in.
    b = await admit(client, world, b_person, "BIRCH", "B1", "2026-02-10T09:15:00Z",
                    legal_status="informal", expected_discharge_date="2026-03-20")  # fmt: skip
    ri = await post(client, world, f"/admissions/{b['id']}/restrictive-interventions", force(
        "2026-02-12T10:00:00Z", "2026-02-12T10:12:00Z",
        [{"type_code": "01", "started_at": "2026-02-12T10:02:00Z",
          "ended_at": "2026-02-12T10:05:00Z"},
         {"type_code": "09", "started_at": "2026-02-12T10:05:00Z",
          "ended_at": "2026-02-12T10:12:00Z"}],
        debriefed_at="2026-02-12T15:00:00Z"))  # fmt: skip
    await post(client, world, f"/admissions/{b['id']}/transfer",
               {"ward_code": "CEDAR", "bed_label": "C1", "at": "2026-02-15T12:00:00Z",
                "reason": "Mixed ward"})  # fmt: skip
    sec = await post(client, world, f"/admissions/{b['id']}/seclusions",
                     {"started_at": "2026-02-16T20:00:00Z", "authorised_by_role": "psychiatrist",
                      "reason": "Assaulting staff"})  # fmt: skip
    await post(client, world, f"/seclusions/{sec['id']}/end",
               {"at": "2026-02-17T02:00:00Z", "note": "Calm"})  # fmt: skip
    lts = await post(client, world, f"/admissions/{b['id']}/segregations",
                     {"started_at": "2026-02-20T09:00:00Z",
                      "reason": "Sustained risk to others"})  # fmt: skip
    await post(client, world, f"/admissions/{b['id']}/ready-for-discharge",
               {"started_at": "2026-02-25T09:00:00Z", "reason_code": "15",
                "attributable_to": "social_care"})  # fmt: skip
    # C: discharged at 23:30 on 31 January; D: admitted in March. Neither is February's.
    c = await admit(client, world, await person(client, world), "ASH", "A2", "2026-01-05T10:00:00Z")
    await post(client, world, f"/admissions/{c['id']}/discharge",
               {"at": "2026-01-31T23:30:00Z", "destination": "usual_residence"})  # fmt: skip
    await admit(client, world, await person(client, world), "ASH", "A3", "2026-03-02T10:00:00Z")
    # E placed out of area in January and still there; F's placement ended in January.
    e_person, f_person = await person(client, world), await person(client, world)
    oap = {"provider_name": "Priory Roehampton", "latitude": LONDON[0],
           "longitude": LONDON[1], "bed_type": "200"}  # fmt: skip
    e = await post(client, world, "/out-of-area-placements",
                   {**oap, "patient_id": e_person["id"], "reason_code": "10",
                    "started_at": "2026-01-10T12:00:00Z"}, user="beds")  # fmt: skip
    f = await post(client, world, "/out-of-area-placements",
                   {**oap, "patient_id": f_person["id"], "reason_code": "14",
                    "started_at": "2025-12-01T12:00:00Z"}, user="beds")  # fmt: skip
    await post(client, world, f"/out-of-area-placements/{f['id']}/end",
               {"at": "2026-01-20T12:00:00Z", "outcome": "repatriated"}, user="beds")  # fmt: skip
    return SimpleNamespace(a=a, b=b, ri=ri, sec=sec, lts=lts, e=e, a_person=a_person,
                           b_person=b_person, e_person=e_person)  # fmt: skip


def table(extract: mhsds.Extract, name: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(extract.csv(name))))
    assert rows[0] == mhsds.COLUMNS[name]
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


async def test_hospital_spells_active_in_the_month(session, february):
    spells = table(await mhsds.build(session, FEBRUARY), "MHS501HospProvSpell")
    a, b = february.a, february.b
    assert [s["HospProvSpellID"] for s in spells] == [str(a["id"]), str(b["id"])]
    assert spells[0] == {
        "Person_ID": february.a_person["nhs_number"],
        "LocalPatientId": str(february.a_person["id"]),
        "HospProvSpellID": str(a["id"]),
        "DecidedToAdmitDate": "2026-01-20",
        "DecidedToAdmitTime": "08:30:00",
        "StartDateHospProvSpell": "2026-01-20",
        "StartTimeHospProvSpell": "10:00:00",
        "SourceAdmMHHospProvSpell": "",  # not recorded by Wardflow: left for the trust
        "MethAdmMHHospProvSpell": "",
        "EstimatedDischDateHospProvSpell": "",
        "DischDateHospProvSpell": "2026-02-03",
        "DischTimeHospProvSpell": "11:00:00",
        "MethOfDischMHHospProvSpell": "",
        "DestOfDischHospProvSpell": "19",
    }
    assert spells[1]["EstimatedDischDateHospProvSpell"] == "2026-03-20"
    assert spells[1]["DischDateHospProvSpell"] == spells[1]["DestOfDischHospProvSpell"] == ""


async def test_ward_stays_with_ward_codes_and_distance_from_home(session, world, february):
    stays = table(await mhsds.build(session, FEBRUARY), "MHS502WardStay")
    assert [(s["HospProvSpellID"], s["WardCode"]) for s in stays] == [
        (str(february.a["id"]), "ASH"),
        (str(february.b["id"]), "BIRCH"),
        (str(february.b["id"]), "CEDAR"),
    ]
    birch, cedar = stays[1], stays[2]
    assert birch["StartDateWardStay"] == "2026-02-10" and birch["StartTimeWardStay"] == "09:15:00"
    assert birch["EndDateWardStay"] == "2026-02-15" and birch["EndTimeWardStay"] == "12:00:00"
    assert cedar["EndDateWardStay"] == ""
    assert {s["SiteIDOfTreat"] for s in stays} == {"STJ"}
    # Adult acute: MHSDS ward type 03, general security 0, v6 bed type 200.
    assert {(s["WardType"], s["WardSecLevel"], s["HospitalBedTypeMH"]) for s in stays} == {
        ("03", "0", "200")
    }
    assert stays[0]["WardLocDistanceHome"] == "0"  # home in Leeds, treated in Leeds
    assert birch["WardLocDistanceHome"] == str(round(reference_km(YORK, LEEDS)))
    assert 30 <= int(birch["WardLocDistanceHome"]) <= 40


async def test_restrictive_interventions_with_seclusion_and_segregation_as_types(session, february):
    extract = await mhsds.build(session, FEBRUARY)
    incidents = table(extract, "MHS505RestrictiveInterventInc")
    ri, sec, lts = f"RI{february.ri['id']}", f"SEC{february.sec['id']}", f"LTS{february.lts['id']}"
    # A's January restraint is not February's.
    assert [i["RestrictiveIntIncID"] for i in incidents] == [ri, sec, lts]
    assert incidents[0] == {
        "Person_ID": february.b_person["nhs_number"],
        "RestrictiveIntIncID": ri,
        "HospProvSpellID": str(february.b["id"]),
        "StartDateRestrictiveIntInc": "2026-02-12",
        "StartTimeRestrictiveIntInc": "10:00:00",
        "EndDateRestrictiveIntInc": "2026-02-12",
        "EndTimeRestrictiveIntInc": "10:12:00",
        "RestrictiveIntReason": "10",
        "RestrictiveIntPIReviewHeldPat": "Y",
    }
    assert incidents[1]["EndTimeRestrictiveIntInc"] == "02:00:00"
    assert incidents[2]["EndDateRestrictiveIntInc"] == ""  # segregation goes on
    assert {i["RestrictiveIntReason"] for i in incidents[1:]} == {"99"}
    types = table(extract, "MHS515RestrictiveInterventType")
    assert [(t["RestrictiveIntIncID"], t["RestrictiveIntType"]) for t in types] == [
        (ri, "01"),
        (ri, "09"),
        (sec, "05"),
        (lts, "06"),
    ]
    prone = types[0]
    assert prone["StartTimeRestrictiveIntType"] == "10:02:00"
    assert prone["EndTimeRestrictiveIntType"] == "10:05:00"
    assert (prone["RestraintInjuryPatient"], prone["RestraintInjuryCarePers"]) == ("N", "Y")
    assert len({t["RestrictiveIntTypeID"] for t in types}) == 4


async def test_ready_for_discharge_and_out_of_area_placements(session, february):
    extract = await mhsds.build(session, FEBRUARY)
    crfd = table(extract, "MHS518ClinReadyforDischarge")
    assert [
        (r["HospProvSpellID"], r["StartDateClinReadyforDisch"], r["EndDateClinReadyforDisch"],
         r["ClinReadyforDischDelayReason"], r["AttribToIndic"])
        for r in crfd
    ] == [
        (str(february.a["id"]), "2026-01-30", "2026-02-03", "09", "04"),  # ended by discharge
        (str(february.b["id"]), "2026-02-25", "", "15", "05"),
    ]  # fmt: skip
    oaps = table(extract, "OutOfAreaPlacements")
    assert oaps == [
        {
            "Person_ID": february.e_person["nhs_number"],
            "OutOfAreaPlacementID": str(february.e["id"]),
            "StartDateOAP": "2026-01-10",
            "EndDateOAP": "",
            "ReasonOAT": "10",
            "InappropriateOAP": "Y",
            "HospitalBedTypeMH": "200",
            "ProviderName": "Priory Roehampton",
            "DistanceFromHomeKm": str(round(reference_km(LEEDS, LONDON))),
        }
    ]


async def test_row_counts_for_the_month_and_its_neighbours(session, february):
    def counts(extract):
        return {name: len(rows) for name, rows in extract.tables.items()}

    assert counts(await mhsds.build(session, FEBRUARY)) == {
        "MHS501HospProvSpell": 2,
        "MHS502WardStay": 3,
        "MHS505RestrictiveInterventInc": 3,
        "MHS515RestrictiveInterventType": 4,
        "MHS518ClinReadyforDischarge": 2,
        "OutOfAreaPlacements": 1,
    }
    january = counts(await mhsds.build(session, date(2026, 1, 1)))
    assert january["MHS501HospProvSpell"] == 2  # A and C
    assert january["MHS505RestrictiveInterventInc"] == 1  # A's restraint
    assert january["OutOfAreaPlacements"] == 2
    march = counts(await mhsds.build(session, date(2026, 3, 1)))
    assert march["MHS501HospProvSpell"] == 2  # B and D
    assert march["MHS505RestrictiveInterventInc"] == 1  # the segregation goes on


async def test_the_month_is_by_uk_date_when_the_clocks_have_changed(client, world, session):
    # October 2025 begins at 23:00 UTC on 30 September (BST). A discharge at 23:30 UTC that
    # night is on 1 October in the UK: in October's extract, dated 1 October, not September's.
    p = await person(client, world)
    a = await admit(client, world, p, "ASH", "A1", "2025-09-20T10:00:00Z")
    await post(client, world, f"/admissions/{a['id']}/discharge",
               {"at": "2025-09-30T23:30:00Z", "destination": "died"})  # fmt: skip
    october = table(await mhsds.build(session, date(2025, 10, 1)), "MHS501HospProvSpell")
    assert [(s["DischDateHospProvSpell"], s["DischTimeHospProvSpell"]) for s in october] == [
        ("2025-10-01", "00:30:00")
    ]
    assert october[0]["MethOfDischMHHospProvSpell"] == "4"
    assert october[0]["DestOfDischHospProvSpell"] == "79"
    assert table(await mhsds.build(session, date(2025, 9, 1)), "MHS501HospProvSpell")


@pytest.mark.parametrize("value", ["2026-13", "2026-4", "March", "", "2026-04", "2027-01"])
def test_a_month_must_be_yyyy_mm_and_begun(value):
    with pytest.raises(mhsds.Invalid):
        mhsds.parse_month(value, date(2026, 3, 10))


async def test_the_admin_downloads_the_month_as_a_zip(world, signed_in, february):
    admin = await signed_in("admin")
    page = await admin.get("/admin/exports")
    assert page.status_code == 200
    assert 'value="2026-02"' in page.text  # the last complete month by default
    assert 'href="/admin/exports"' in page.text  # linked from the admin's navigation
    r = await admin.get("/admin/exports/mhsds.zip", params={"month": "2026-02"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert 'filename="mhsds-2026-02.zip"' in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert sorted(archive.namelist()) == sorted(f"{t}.csv" for t in mhsds.COLUMNS)
        spells = archive.read("MHS501HospProvSpell.csv").decode().splitlines()
    assert len(spells) == 3 and spells[0].startswith("Person_ID,LocalPatientId,HospProvSpellID")


async def test_a_bad_month_on_the_page_is_shown_beside_the_field(world, signed_in):
    admin = await signed_in("admin")
    r = await admin.get("/admin/exports/mhsds.zip", params={"month": "2026-13"})
    assert r.status_code == 422
    assert "must be a month like 2026-03" in r.text and "nhsuk-error-message" in r.text


@pytest.mark.parametrize("user", ["nurse", "lead", "director", "beds"])
async def test_only_the_admin_exports(world, signed_in, user):
    someone = await signed_in(user)
    for path in ("/admin/exports", "/admin/exports/mhsds.zip?month=2026-02"):
        assert (await someone.get(path)).status_code == 403
    assert 'href="/admin/exports"' not in (await someone.get("/wards")).text


def test_the_command_writes_the_csv_files(cli_env, tmp_path):  # noqa: F811
    run(cli_env, "db", "upgrade")
    out = tmp_path / "feb"
    result = run(cli_env, "export", "mhsds", "--month", "2026-02", "-o", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.csv" for t in mhsds.COLUMNS)
    header = (out / "MHS502WardStay.csv").read_text().splitlines()
    assert header == [",".join(mhsds.COLUMNS["MHS502WardStay"])]
    assert "MHS502WardStay.csv: 0 rows" in result.stdout
    bad = run(cli_env, "export", "mhsds", "--month", "2026/02", "-o", str(out), check=False)
    assert bad.returncode == 2 and "must be a month like 2026-03" in bad.stderr


__all__ = ["WARDFLOW", "Path", "subprocess"]
