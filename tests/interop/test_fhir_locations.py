"""FHIR Location (the bed state a regional dashboard reads), the CapabilityStatement, paging,
and every refusal as an OperationOutcome: no one signed in, a bad search, an unknown id, a
write to a read-only API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.wards.models import Bed
from tests.factories import admission_body, patient_body
from tests.interop.helpers import FHIR, FHIR_JSON, fhir, post, validate

PHYSICAL = "http://terminology.hl7.org/CodeSystem/location-physical-type"


@pytest.fixture
async def beds(client, world, session):
    """STJ has ASH (6 beds), BIRCH (4) and CEDAR (3). A1 is occupied and A6 closed."""
    person = await post(client, world, "/patients", patient_body())
    await post(client, world, "/admissions", admission_body(person["id"]))
    r = await client.patch(
        "/api/v1/wards/ASH/beds/A6",
        headers=world.auth(),
        json={"status": "closed", "reason": "Window repair"},
    )
    assert r.status_code == 200, r.text
    rows = await session.scalars(select(Bed).order_by(Bed.id))
    return {b.label: b.id for b in rows} | {"site": world.wards["ASH"].site_id}


async def test_sites_wards_and_beds_are_locations_with_physical_type_and_part_of(
    client, world, beds
):
    f = fhir(client, world)
    site = (await f.search("Location", type="si"))[0]
    assert site["physicalType"]["coding"][0] == {
        "system": PHYSICAL,
        "code": "si",
        "display": "Site",
    }
    assert site["name"] == "St James" and "partOf" not in site
    wards = await f.search("Location", type="wa")
    assert sorted(w["name"] for w in wards) == ["Ash Ward", "Birch Ward", "Cedar Ward"]
    assert {w["partOf"]["reference"] for w in wards} == {f"Location/{site['id']}"}
    bed = await f.get(f"Location/bed-{beds['A1']}")
    assert bed["physicalType"]["coding"][0]["code"] == "bd"
    assert bed["partOf"]["reference"] == f"Location/ward-{world.wards['ASH'].id}"
    assert bed["operationalStatus"] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0116",
        "code": "O",
        "display": "Occupied",
    }
    closed = await f.get(f"Location/bed-{beds['A6']}")
    assert closed["operationalStatus"]["code"] == "C" and closed["status"] == "suspended"
    assert (await f.get(f"Location/bed-{beds['A2']}"))["operationalStatus"]["code"] == "U"


async def test_location_searches_by_type_part_of_and_operational_status(client, world, beds):
    f = fhir(client, world)
    ash, stj_wards = world.wards["ASH"].id, {f"ward-{w.id}" for w in world.wards.values()}
    assert len(await f.ids("Location", type="bd")) == 13
    assert await f.ids("Location", type="adult_acute") == stj_wards
    site = f"site-{beds['site']}"
    assert await f.ids("Location", type="si,wa") == stj_wards | {site}
    assert await f.ids("Location", partof=f"Location/ward-{ash}") == {
        f"bed-{beds[label]}" for label in ("A1", "A2", "A3", "A4", "A5", "A6")
    }
    assert await f.ids("Location", partof=f"Location/{site}") == stj_wards
    assert await f.ids("Location", **{"operational-status": "O"}) == {f"bed-{beds['A1']}"}
    assert await f.ids("Location", **{"operational-status": "C"}) == {f"bed-{beds['A6']}"}
    assert len(await f.ids("Location", **{"operational-status": "U"})) == 11
    free_on_ash = await f.ids("Location", partof=f"ward-{ash}", **{"operational-status": "U,C"})
    assert free_on_ash == {f"bed-{beds[x]}" for x in ("A2", "A3", "A4", "A5", "A6")}
    with_system = await f.ids(
        "Location", **{"operational-status": "http://terminology.hl7.org/CodeSystem/v2-0116|O"}
    )
    assert with_system == {f"bed-{beds['A1']}"}


async def test_a_count_above_the_maximum_is_clamped_and_paged(client, world, beds, monkeypatch):
    """FHIR search (found by an outside check): the server returns at most its maximum and
    pages the rest, rather than refusing the search."""
    from app.interop.fhir import params

    monkeypatch.setattr(params, "MAX_COUNT", 5)
    body = await fhir(client, world).get("Location", _count=1000)
    assert body["total"] == 17 and len(body["entry"]) == 5
    links = {link["relation"]: link["url"] for link in body["link"]}
    assert "_count=5" in links["next"] and "_offset=5" in links["next"]


async def test_search_results_page_with_next_and_previous_links(client, world, beds):
    f = fhir(client, world)
    first = await f.get("Location", _count=5)
    assert first["total"] == 17  # 1 site, 3 wards, 13 beds
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links and "_offset=5" in links["next"]
    seen = [e["resource"]["id"] for e in first["entry"]]
    url, offset = links["next"], 5
    while url:
        page = await client.get(url, headers=world.auth())
        assert page.status_code == 200
        body = page.json()
        validate(body)
        seen += [e["resource"]["id"] for e in body.get("entry", [])]
        links = {link["relation"]: link["url"] for link in body["link"]}
        assert links["self"] == url and f"_offset={offset - 5}" in links["previous"]
        url, offset = links.get("next"), offset + 5
    assert len(seen) == len(set(seen)) == 17
    assert seen[0] == f"site-{beds['site']}" and seen[1:4] == [
        f"ward-{w.id}" for w in world.wards.values()
    ]


async def test_the_capability_statement_lists_what_is_supported(client):
    r = await client.get(f"{FHIR}/metadata")
    assert r.status_code == 200 and r.headers["content-type"].startswith(FHIR_JSON)
    body = r.json()
    validate(body)
    assert body["fhirVersion"] == "4.0.1" and body["format"] == ["json"]
    resources = {res["type"]: res for res in body["rest"][0]["resource"]}
    assert set(resources) == {"Location", "Encounter", "Patient", "Flag"}
    params = {p["name"] for p in resources["Encounter"]["searchParam"]}
    assert {"patient", "status", "location", "date"} <= params
    assert {p["name"] for p in resources["Location"]["searchParam"]} >= {
        "type", "partof", "operational-status",
    }  # fmt: skip


@pytest.mark.parametrize(
    "path",
    ["Location", "Location/site-1", "Encounter", "Encounter/1", "Patient", "Patient/1", "Flag"],
)
async def test_no_one_signed_in_is_refused_with_an_operation_outcome(client, world, path):
    r = await client.get(f"{FHIR}/{path}")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(FHIR_JSON)
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    validate(body)
    assert body["issue"][0]["code"] == "login"
    bad = await client.get(f"{FHIR}/{path}", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("Location", {"operational-status": "X"}),
        ("Location", {"type": "ward"}),
        ("Location", {"partof": "Patient/1"}),
        ("Location", {"_count": "lots"}),
        ("Location", {"_count": "-1"}),
        ("Location", {"_offset": "-1"}),
        ("Location", {"name": "Ash"}),
        ("Encounter", {"date": "yesterday"}),
        ("Encounter", {"date": "2026-13-01"}),
        ("Encounter", {"date": "ap2026-03-01"}),
        ("Encounter", {"status": "open"}),
        ("Encounter", {"patient": "Practitioner/1"}),
        ("Encounter", {"patient": "1 OR 1=1"}),
        ("Encounter", {"_format": "xml"}),
        ("Patient", {"identifier": "|"}),
        ("Flag", {"status": "open"}),
    ],
)
async def test_a_search_we_cannot_read_is_a_400_operation_outcome(client, world, path, params):
    body = await fhir(client, world).get(path, expect=400, **params)
    assert body["issue"][0]["code"] == "invalid" and body["issue"][0]["diagnostics"]


@pytest.mark.parametrize(
    "path",
    [
        "Location/bed-999999",
        "Location/ward-x",
        "Location/room-1",
        "Location/bed-99999999999999",
        "Encounter/999999",
        "Encounter/abc",
        "Encounter/2147483648",
        "Patient/999999",
        "Flag/999999",
        "Practitioner/1",
    ],
)
async def test_an_unknown_id_is_a_404_operation_outcome(client, world, path):
    body = await fhir(client, world).get(path, expect=404)
    assert body["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_the_api_only_reads(client, world, method):
    r = await client.request(method, f"{FHIR}/Patient", headers=world.auth(), json={})
    assert r.status_code == 405
    assert r.json()["issue"][0]["code"] == "not-supported"
    anonymous = await client.request(method, f"{FHIR}/Patient", json={})
    assert anonymous.status_code == 401


async def test_a_signed_in_browser_reads_the_same(client, world, beds, nurse):
    r = await nurse.get(f"{FHIR}/Location", params={"type": "wa"})
    assert r.status_code == 200 and r.json()["total"] == 3
