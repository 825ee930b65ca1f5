"""FHIR Encounter, Patient and Flag: what an EPR reads about the people in hospital, every
resource checked against the R4 models, and each search returning exactly what it should."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from app.interop.fhir.resources import NHS_NUMBER
from tests.interop.helpers import add_alert, fhir, post

LEGAL = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-LegalStatus"


@pytest.fixture
async def trust(client, world, session):
    """Jane on ASH since 1 March (s2, then s3 from 5 March), still in; Omar on BIRCH from
    20 February, moved to CEDAR on 25 February, discharged to a care home on 2 March; Ann
    never admitted. An open alert on Jane, a resolved one on Omar, one on a ward."""
    jane = await post(client, world, "/patients", _person("Jane", "female"))
    omar = await post(client, world, "/patients", _person("Omar", "male", "YRK"))
    ann = await post(client, world, "/patients", _person("Ann", "female"))
    a1 = await post(client, world, "/admissions", _admission(jane["id"], "ASH", "A1",
                                                             "2026-03-01T09:00:00Z"))  # fmt: skip
    await client.patch(
        f"/api/v1/admissions/{a1['id']}",
        headers=world.auth(),
        json={"legal_status": "s3", "at": "2026-03-05T10:00:00Z"},
    )
    a2 = await post(client, world, "/admissions", _admission(omar["id"], "BIRCH", "B1",
                                                             "2026-02-20T08:00:00Z",
                                                             legal_status="informal"))  # fmt: skip
    await post(client, world, f"/admissions/{a2['id']}/transfer",
               {"ward_code": "CEDAR", "bed_label": "C1", "at": "2026-02-25T10:00:00Z",
                "reason": "Needs a mixed ward"})  # fmt: skip
    await post(client, world, f"/admissions/{a2['id']}/discharge",
               {"at": "2026-03-02T14:00:00Z", "destination": "care_home"})  # fmt: skip
    open_alert = await add_alert(session, a1["id"], world.wards["ASH"].id, "2026-03-04T09:00:00Z")
    resolved = await add_alert(
        session, a2["id"], world.wards["CEDAR"].id, "2026-02-28T08:00:00Z", status="resolved",
        cleared_at=None, resolved_at=at_("2026-03-01T10:00:00Z"), resolved_by="lead",
        resolve_note="Reviewed at the MDT",
    )  # fmt: skip
    ward_alert = await add_alert(
        session, None, world.wards["ASH"].id, "2026-03-10T00:00:00Z", rule="WARD_OCCUPANCY"
    )
    return SimpleNamespace(
        jane=jane, omar=omar, ann=ann, a1=a1, a2=a2,
        open_alert=open_alert, resolved=resolved, ward_alert=ward_alert,
    )  # fmt: skip


def at_(text):
    from tests.interop.helpers import at

    return at(text)


def _person(given, sex, home="LDS"):
    from tests.factories import patient_body

    return patient_body(given_name=given, sex=sex, home_locality_code=home)


def _admission(patient_id, ward, bed, when, **extra):
    from tests.factories import admission_body

    return admission_body(patient_id, ward_code=ward, bed_label=bed, admitted_at=when, **extra)


def legal(encounter, context):
    for ext in encounter["extension"]:
        if ext["url"] == LEGAL:
            parts = {e["url"]: e["valueCodeableConcept"]["coding"][0] for e in ext["extension"]}
            if parts["legalStatusContext"]["code"] == context:
                return parts["legalStatusClassification"]["code"]
    return None


async def test_an_admission_in_progress_is_an_inpatient_encounter_with_its_bed_and_legal_status(
    client, world, trust
):
    enc = await fhir(client, world).get(f"Encounter/{trust.a1['id']}")
    assert enc["status"] == "in-progress"
    assert enc["class"]["code"] == "IMP"
    assert enc["subject"]["reference"] == f"Patient/{trust.jane['id']}"
    assert enc["period"] == {"start": "2026-03-01T09:00:00Z"}
    ash, a1 = world.wards["ASH"], trust.a1
    assert [(loc["location"]["reference"], loc["status"]) for loc in enc["location"]] == [
        (f"Location/ward-{ash.id}", "active"),
        (f"Location/bed-{a1['stays'][0]['id'] and _bed_id(world, 'ASH', 'A1')}", "active"),
    ]
    # Section 2 at admission (UK Core code 02); no discharge status while in hospital.
    assert legal(enc, "admission") == "02" and legal(enc, "discharge") is None
    periods = [e for e in enc["extension"] if e["url"].endswith("legal-status-period")]
    assert [p["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] for p in periods] == [
        "02",
        "03",
    ]
    assert enc["hospitalization"]["admitSource"]["coding"][0]["code"] == "99"
    assert "dischargeDisposition" not in enc["hospitalization"]


def _bed_id(world, ward, label):
    return next(b.id for b in world.beds[ward] if b.label == label)


@pytest.fixture(autouse=True)
async def _beds(world, session):
    from sqlalchemy import select

    from app.wards.models import Bed

    beds = list(await session.scalars(select(Bed).order_by(Bed.id)))
    world.beds = {
        code: [b for b in beds if b.ward_id == ward.id] for code, ward in world.wards.items()
    }


async def test_a_discharged_admission_is_finished_with_its_moves_and_destination(
    client, world, trust
):
    enc = await fhir(client, world).get(f"Encounter/{trust.a2['id']}")
    assert enc["status"] == "finished"
    assert enc["period"] == {"start": "2026-02-20T08:00:00Z", "end": "2026-03-02T14:00:00Z"}
    places = [
        (loc["location"]["reference"], loc["status"], loc["period"]) for loc in enc["location"]
    ]
    birch, cedar = world.wards["BIRCH"].id, world.wards["CEDAR"].id
    first = {"start": "2026-02-20T08:00:00Z", "end": "2026-02-25T10:00:00Z"}
    second = {"start": "2026-02-25T10:00:00Z", "end": "2026-03-02T14:00:00Z"}
    assert places == [
        (f"Location/ward-{birch}", "completed", first),
        (f"Location/bed-{_bed_id(world, 'BIRCH', 'B1')}", "completed", first),
        (f"Location/ward-{cedar}", "completed", second),
        (f"Location/bed-{_bed_id(world, 'CEDAR', 'C1')}", "completed", second),
    ]
    # A care home: NHS Data Dictionary discharge destination 85.
    assert enc["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] == "85"
    assert legal(enc, "admission") == "01" and legal(enc, "discharge") == "01"


async def test_encounter_searches_by_patient_status_and_location(client, world, trust):
    f = fhir(client, world)
    one, two = str(trust.a1["id"]), str(trust.a2["id"])
    assert await f.ids("Encounter") == {one, two}
    assert await f.ids("Encounter", patient=f"Patient/{trust.jane['id']}") == {one}
    assert await f.ids("Encounter", patient=str(trust.omar["id"])) == {two}
    assert await f.ids("Encounter", patient=str(trust.ann["id"])) == set()
    assert await f.ids("Encounter", status="in-progress") == {one}
    assert await f.ids("Encounter", status="finished") == {two}
    assert await f.ids("Encounter", status="in-progress,finished") == {one, two}
    assert await f.ids("Encounter", status="planned") == set()
    birch = world.wards["BIRCH"].id
    assert await f.ids("Encounter", location=f"Location/ward-{birch}") == {two}
    bed = _bed_id(world, "ASH", "A1")
    assert await f.ids("Encounter", location=f"bed-{bed}") == {one}


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["ge2026-03-03"], {"one"}),  # Omar left on 2 March
        (["le2026-02-21"], {"two"}),  # Jane came on 1 March
        (["lt2026-03-01"], {"two"}),
        (["gt2026-03-02"], {"one"}),  # Omar's stay ends within 2 March
        (["ge2026-03-02"], {"one", "two"}),
        (["sa2026-02-28"], {"one"}),
        (["eb2026-03-03"], {"two"}),
        (["2026-03"], set()),  # eq: no stay lies wholly within March
        (["eq2026"], {"two"}),  # Omar's stay lies wholly within 2026
        (["ne2026"], {"one"}),
        (["ge2026-02-01", "lt2026-02-21"], {"two"}),
        (["ge2026-03-02T14:00:00Z"], {"one", "two"}),
        (["gt2026-03-02T14:00Z"], {"one"}),
    ],
)
async def test_encounter_date_prefixes_against_the_period(client, world, trust, dates, expected):
    names = {"one": str(trust.a1["id"]), "two": str(trust.a2["id"])}
    bundle = await fhir(client, world).get("Encounter", date=dates)
    assert {e["resource"]["id"] for e in bundle.get("entry", [])} == {names[n] for n in expected}


async def test_patient_read_and_search_by_nhs_number(client, world, trust):
    f = fhir(client, world)
    patient = await f.get(f"Patient/{trust.jane['id']}")
    assert patient["identifier"] == [{"system": NHS_NUMBER, "value": trust.jane["nhs_number"]}]
    assert patient["name"][0]["given"] == ["Jane"] and patient["gender"] == "female"
    assert patient["birthDate"] == trust.jane["date_of_birth"]
    found = await f.ids("Patient", identifier=f"{NHS_NUMBER}|{trust.omar['nhs_number']}")
    assert found == {str(trust.omar["id"])}
    assert await f.ids("Patient", identifier=trust.ann["nhs_number"]) == {str(trust.ann["id"])}
    assert (
        await f.ids("Patient", identifier=f"https://example.org/other|{trust.ann['nhs_number']}")
        == set()
    )
    await f.get("Patient", expect=400, identifier=f"{NHS_NUMBER}|12345")


async def test_flags_are_the_alerts_on_a_person_active_while_open(client, world, trust):
    f = fhir(client, world)
    flags = await f.search("Flag", patient=f"Patient/{trust.jane['id']}")
    assert [(x["id"], x["status"]) for x in flags] == [(str(trust.open_alert.id), "active")]
    flag = flags[0]
    assert flag["subject"]["reference"] == f"Patient/{trust.jane['id']}"
    assert flag["encounter"]["reference"] == f"Encounter/{trust.a1['id']}"
    assert flag["code"]["coding"][0]["code"] == "ADM_PURPOSE_REVIEW"
    assert flag["period"] == {"start": "2026-03-04T09:00:00Z"}
    assert await f.ids("Flag", status="active") == {str(trust.open_alert.id)}
    inactive = await f.search("Flag", status="inactive")
    assert [x["id"] for x in inactive] == [str(trust.resolved.id)]
    assert inactive[0]["period"]["end"] == "2026-03-01T10:00:00Z"
    # An alert about a ward is not a flag on anybody.
    assert str(trust.ward_alert.id) not in await f.ids("Flag")
    await f.get(f"Flag/{trust.ward_alert.id}", expect=404)
    assert (await f.get(f"Flag/{trust.open_alert.id}"))["status"] == "active"


async def test_ward_staff_see_only_their_wards_people(client, world, trust):
    nurse = fhir(client, world, "nurse")  # ASH
    assert await nurse.ids("Encounter") == {str(trust.a1["id"])}
    await nurse.get(f"Encounter/{trust.a2['id']}", expect=403)
    assert await nurse.ids("Patient") == {str(trust.jane["id"])}
    assert await nurse.ids("Flag") == {str(trust.open_alert.id)}
    await nurse.get(f"Flag/{trust.resolved.id}", expect=403)
    # Omar left BIRCH on 25 February, more than 7 days ago (issue 17): BIRCH no longer
    # reads him, by search or by id.
    birch = fhir(client, world, "birchnurse")
    assert await birch.ids("Encounter") == set()
    assert await birch.ids("Patient") == set()
    await birch.get(f"Encounter/{trust.a2['id']}", expect=403)
    await birch.get(f"Patient/{trust.a2['patient_id']}", expect=403)
    # Directors read figures, not people; everyone signed in may read the bed state.
    director = fhir(client, world, "director")
    await director.get("Encounter", expect=403)
    await director.get(f"Patient/{trust.jane['id']}", expect=403)
    assert len(await director.search("Location", type="wa")) == 3


async def test_a_page_of_encounters_costs_the_same_queries_whatever_its_size(
    client, world, trust, query_counter
):
    f = fhir(client, world)
    await f.get("metadata")  # the token's first use of the day is recorded once
    await f.get("Encounter", _count=1)
    query_counter.clear()
    await f.get("Encounter", _count=1)
    small = len(query_counter)
    query_counter.clear()
    await f.get("Encounter", _count=50)
    assert len(query_counter) == small


async def test_a_withdrawn_alert_is_a_flag_entered_in_error(client, world, trust, session):
    """RULES.md 1.1: a record typed in later showed the deadline was met; the flag was
    raised in error, ended when it was withdrawn, and no longer an inactive (missed) one."""
    alert = trust.open_alert
    alert.status, alert.withdrawn_at = "withdrawn", datetime(2026, 3, 5, 9, tzinfo=UTC)
    alert.withdrawn_reason = "the purpose review at 08:00 on 04 Mar 2026 was recorded late"
    await session.commit()
    f = fhir(client, world)
    flag = await f.get(f"Flag/{alert.id}")
    assert flag["status"] == "entered-in-error"
    assert flag["period"]["end"] == "2026-03-05T09:00:00Z"
    assert await f.ids("Flag", status="entered-in-error") == {str(alert.id)}
    assert str(alert.id) not in await f.ids("Flag", status="inactive")
    assert await f.ids("Flag", status="active") == set()
