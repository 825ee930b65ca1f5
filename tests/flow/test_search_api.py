"""Bed search through the API: matching of sex, age and ward type, nearest first, beds
expected to free up soon, and no names."""

from __future__ import annotations

import pytest

from tests.factories import admission_body
from tests.flow.helpers import API, LEEDS, add_place, hours, iso, new_patient, reference_km

HARROGATE = (53.99, -1.54)
SHEFFIELD = (53.38, -1.47)


@pytest.fixture
async def trust(client, world):
    """Leeds (the World's ASH female, BIRCH male, CEDAR mixed adult wards), Harrogate (a
    mixed adult ward and a mixed PICU) and Sheffield (a female adult ward, a CAMHS ward)."""
    await add_place(
        client,
        world,
        "HRG",
        *HARROGATE,
        [
            dict(code="HEATHER", ward_type="adult_acute", sex="mixed", min_age=18, max_age=64),
            dict(code="HPICU", ward_type="picu", sex="mixed", min_age=18, max_age=64),
        ],
    )
    await add_place(
        client,
        world,
        "SHF",
        *SHEFFIELD,
        [
            dict(code="SORREL", ward_type="adult_acute", sex="female", min_age=18, max_age=64),
            dict(code="SCAMHS", ward_type="camhs", sex="mixed", min_age=12, max_age=17, beds=1),
        ],
    )
    return world


async def search(client, world, user="beds", **params):
    r = await client.get(f"{API}/beds/search", headers=world.auth(user), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def places(body):
    return [(x["ward_code"], x["bed_label"]) for x in body["results"]]


async def test_nearest_first_among_wards_that_suit_the_person(client, trust, clock):
    patient = await new_patient(client, trust, sex="female", date_of_birth="1990-01-01")
    body = await search(client, trust, patient_id=patient["id"])
    assert body["searched_for"] == {
        "patient_id": patient["id"],
        "sex": "female",
        "age": 36,
        "locality_code": "LDS",
        "ward_type": None,
    }
    wards = [x["ward_code"] for x in body["results"]]
    # Female or mixed wards only, for adults; Leeds (0 km), Harrogate, then Sheffield.
    assert wards == ["ASH"] * 6 + ["CEDAR"] * 3 + ["HEATHER"] * 2 + ["HPICU"] * 2 + ["SORREL"] * 2
    assert [x["bed_label"] for x in body["results"][:6]] == ["A1", "A2", "A3", "A4", "A5", "A6"]
    distances = {x["ward_code"]: x["distance_km"] for x in body["results"]}
    assert distances["ASH"] == 0.0
    assert distances["HEATHER"] == pytest.approx(reference_km(LEEDS, HARROGATE), abs=0.1)
    assert distances["SORREL"] == pytest.approx(reference_km(LEEDS, SHEFFIELD), abs=0.1)
    assert distances["HEATHER"] < distances["SORREL"]


async def test_a_man_is_offered_male_and_mixed_wards(client, trust):
    patient = await new_patient(client, trust, sex="male")
    wards = {
        x["ward_code"] for x in (await search(client, trust, patient_id=patient["id"]))["results"]
    }
    assert wards == {"BIRCH", "CEDAR", "HEATHER", "HPICU"}


@pytest.mark.parametrize("sex", ["other", "not_known"])
async def test_a_person_of_other_or_unknown_sex_is_offered_mixed_wards(client, trust, sex):
    body = await search(client, trust, sex=sex, age=30, locality_code="LDS")
    assert {x["ward_code"] for x in body["results"]} == {"CEDAR", "HEATHER", "HPICU"}


async def test_age_must_fall_within_the_ward_s_range(client, trust):
    young = await search(client, trust, sex="female", age=17, locality_code="LDS")
    assert {x["ward_code"] for x in young["results"]} == {"SCAMHS"}
    at_18 = await search(client, trust, sex="female", age=18, locality_code="LDS")
    assert "SCAMHS" not in {x["ward_code"] for x in at_18["results"]}
    assert "ASH" in {x["ward_code"] for x in at_18["results"]}
    at_64 = await search(client, trust, sex="female", age=64, locality_code="LDS")
    assert "ASH" in {x["ward_code"] for x in at_64["results"]}
    at_65 = await search(client, trust, sex="female", age=65, locality_code="LDS")
    assert at_65["results"] == []


async def test_ward_type_narrows_the_search(client, trust):
    body = await search(client, trust, sex="male", age=30, locality_code="LDS", ward_type="picu")
    assert places(body) == [("HPICU", "B1"), ("HPICU", "B2")]


async def test_nearest_is_measured_from_the_person_s_home(client, trust):
    body = await search(
        client, trust, sex="female", age=30, locality_code="SHF", ward_type="adult_acute"
    )
    assert [x["ward_code"] for x in body["results"]][:2] == ["SORREL", "SORREL"]


async def test_occupied_and_closed_beds_are_not_offered(client, trust, clock):
    await trust.admit(bed="A1")
    r = await client.patch(
        f"{API}/wards/ASH/beds/A2",
        headers=trust.auth(),
        json={"status": "closed", "reason": "Ligature work"},
    )
    assert r.status_code == 200
    body = await search(client, trust, sex="female", age=30, locality_code="LDS", limit=3)
    assert places(body) == [("ASH", "A3"), ("ASH", "A4"), ("ASH", "A5")]


async def test_soon_lists_matching_beds_expected_to_free_up_soonest_first(client, trust, clock):
    late = await trust.admit(bed="A1", expected_discharge_date=clock.now.date().replace(day=20))
    soon = await trust.admit(bed="A2", expected_discharge_date=clock.now.date().replace(day=12))
    ready = await trust.admit(bed="A3")
    await trust.admit(bed="A4")  # no date and not ready: not expected to free up
    man = await new_patient(client, trust, sex="male")
    await client.post(
        f"{API}/admissions",
        headers=trust.auth(),
        json=admission_body(
            man["id"], ward_code="BIRCH", bed_label="B1", expected_discharge_date="2026-03-11"
        ),
    )
    r = await client.post(
        f"{API}/admissions/{ready.id}/ready-for-discharge",
        headers=trust.auth("nurse"),
        json={
            "started_at": iso(clock.now - hours(30)),
            "reason_code": "18",
            "attributable_to": "social_care",
        },
    )
    assert r.status_code == 201
    body = await search(client, trust, sex="female", age=30, locality_code="LDS")
    assert [(s["bed_label"], s["admission_id"]) for s in body["soon"]] == [
        ("A2", soon.id),
        ("A1", late.id),
        ("A3", ready.id),
    ]
    assert body["soon"][0]["expected_discharge_date"] == "2026-03-12"
    assert body["soon"][2]["ready_for_discharge_since"] == iso(clock.now - hours(30))
    assert body["soon"][2]["expected_discharge_date"] is None
    # The man's bed on a male ward is not offered to a woman, even soon.
    assert "BIRCH" not in {s["ward_code"] for s in body["soon"]}


async def test_no_names_in_search_results(client, trust, clock):
    await trust.admit(bed="A1", expected_discharge_date=clock.now.date())
    patient = await new_patient(client, trust, given_name="Zelda", family_name="Quartermaine")
    r = await client.get(
        f"{API}/beds/search", headers=trust.auth("beds"), params={"patient_id": patient["id"]}
    )
    assert r.status_code == 200
    for name in ("Jane", "Smith", "Zelda", "Quartermaine", "display_name", "nhs_number"):
        assert name not in r.text


async def test_limit_caps_both_lists(client, trust, clock):
    for bed in ("A1", "A2", "A3"):
        await trust.admit(bed=bed, expected_discharge_date=clock.now.date())
    body = await search(client, trust, sex="female", age=30, locality_code="LDS", limit=2)
    assert len(body["results"]) == 2 and len(body["soon"]) == 2


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, ["sex", "age", "locality_code"]),
        ({"sex": "female", "age": 30}, ["locality_code"]),
        ({"sex": "female", "age": 131, "locality_code": "LDS"}, ["age"]),
        ({"sex": "robot", "age": 30, "locality_code": "LDS"}, ["sex"]),
        ({"sex": "female", "age": 30, "locality_code": "LDS", "ward_type": "ward"}, ["ward_type"]),
        ({"sex": "female", "age": 30, "locality_code": "LDS", "limit": 0}, ["limit"]),
    ],
)
async def test_bad_searches_are_422_naming_the_fields(client, trust, params, fields):
    r = await client.get(f"{API}/beds/search", headers=trust.auth("beds"), params=params)
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == sorted(fields)


async def test_searching_for_an_unknown_patient_or_place_is_404(client, trust):
    r = await client.get(
        f"{API}/beds/search", headers=trust.auth("beds"), params={"patient_id": 999999}
    )
    assert r.status_code == 404
    r = await client.get(
        f"{API}/beds/search",
        headers=trust.auth("beds"),
        params={"sex": "male", "age": 30, "locality_code": "NOWHERE"},
    )
    assert r.status_code == 404


async def test_directors_do_not_search_for_beds(client, trust):
    r = await client.get(
        f"{API}/beds/search",
        headers=trust.auth("director"),
        params={"sex": "male", "age": 30, "locality_code": "LDS"},
    )
    assert r.status_code == 403
