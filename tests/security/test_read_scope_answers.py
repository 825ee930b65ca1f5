"""Issue 17, findings 1 and 2, for paths found after the first pass: the answer to a write,
a list on the bed-flow page and the "Admit here" form follow the one read rule too."""

from __future__ import annotations

from datetime import timedelta

from tests.auth.helpers import parse
from tests.factories import patient_body
from tests.security.test_route_access import (
    API,
    _admit_at,
    _call,
    _force,
    _person,
    _secluded,
    iso,
)

WEEK = timedelta(days=7)


async def test_a_discharge_answer_shows_only_the_stays_the_discharging_ward_may_read(client, world):
    """Moved from CEDAR to ASH, then discharged by ASH: the answer is the admission as ASH
    may read it, without CEDAR's stay or the seclusion recorded there."""
    person = await _person(client, world, "Moverby")
    admission = await _admit_at(
        client, world, person["id"], "CEDAR", "C1", world.now - timedelta(days=5)
    )
    await _secluded(client, world, admission["id"], world.now - timedelta(days=4))
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission['id']}/transfer",
        {
            "ward_code": "ASH",
            "bed_label": "A1",
            "at": iso(world.now - timedelta(days=3)),
            "reason": "Closer to home",
        },
    )
    answer = await client.post(
        f"{API}/admissions/{admission['id']}/discharge",
        json={"at": iso(world.now - timedelta(hours=1)), "destination": "usual_residence"},
        headers=world.auth("nurse"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [stay["ward_code"] for stay in body["stays"]] == ["ASH"]
    assert "CEDAR" not in answer.text


async def test_no_one_corrects_a_use_of_force_record_they_may_no_longer_read(client, world, clock):
    """Discharged from ASH more than 7 days ago: the record is refused to read, and a
    correction (which would answer with the whole record) is refused too and changes
    nothing."""
    discharged_at = world.now - timedelta(days=1)
    person = await _person(client, world, "Latecorrect")
    admission = await _admit_at(
        client, world, person["id"], "ASH", "A1", discharged_at - timedelta(days=5)
    )
    force = await _force(client, world, admission["id"], discharged_at - timedelta(days=3))
    await _call(
        client,
        world,
        "POST",
        f"/admissions/{admission['id']}/discharge",
        {"at": iso(discharged_at), "destination": "usual_residence"},
    )
    clock.now = discharged_at + WEEK + timedelta(seconds=1)
    url = f"{API}/restrictive-interventions/{force['id']}"
    assert (await client.get(url, headers=world.auth("nurse"))).status_code == 403
    before = (await client.get(url, headers=world.auth("admin"))).json()

    patched = await client.patch(
        url, json={"outcome": "Settled after talking"}, headers=world.auth("nurse")
    )

    assert patched.status_code == 403
    assert "Latecorrect" not in patched.text
    assert (await client.get(url, headers=world.auth("admin"))).json() == before


async def test_the_ready_for_discharge_list_shows_ward_staff_only_people_they_may_read(
    client, world, signed_in
):
    """/flow's "ready for discharge" list names a person by ward and bed: the ASH nurse
    sees those on ASH, not those on BIRCH."""
    ash = await _person(client, world, "Readyash")
    on_ash = await _admit_at(client, world, ash["id"], "ASH", "A2", world.now - timedelta(days=9))
    birch = await _call(
        client,
        world,
        "POST",
        "/patients",
        patient_body(given_name="Bob", family_name="Readybirch", sex="male"),
    )
    on_birch = await _admit_at(
        client, world, birch["id"], "BIRCH", "B2", world.now - timedelta(days=9)
    )
    for admission in (on_ash, on_birch):
        await _call(
            client,
            world,
            "POST",
            f"/admissions/{admission['id']}/ready-for-discharge",
            {
                "started_at": iso(world.now - timedelta(days=2)),
                "reason_code": "09",
                "attributable_to": "social_care",
            },
        )

    async def ready_beds(username: str) -> list[str]:
        page = await (await signed_in(username)).get("/flow")
        assert page.status_code == 200
        table = parse(page.text).find_all(id="ready-list")[0]
        return sorted(
            cells[1].text().rsplit("bed ", 1)[-1]
            for row in table.find_all("tr")
            if len(cells := row.find_all("td")) > 1
        )

    assert await ready_beds("nurse") == ["A2"]
    assert await ready_beds("lead") == ["A2", "B2"]


async def test_admit_here_fills_in_a_person_only_for_someone_who_may_read_them(
    client, world, signed_in
):
    """A nurse's own bed request for someone never on her wards: the admit form is not
    filled with their name, date of birth or NHS number (that turned any patient id into
    an identity); she types them, and the form checks them against the record."""
    person = await _person(client, world, "Askedfor")
    made = await client.post(
        f"{API}/bed-requests",
        json={
            "patient_id": person["id"],
            "decision_to_admit_at": iso(world.now - timedelta(hours=1)),
            "ward_type": "adult_acute",
        },
        headers=world.auth("nurse"),
    )
    assert made.status_code == 201, made.text
    nurse = await signed_in("nurse")

    form = await nurse.get(f"/wards/ASH/beds/A1/admit?request={made.json()['id']}")

    assert form.status_code == 200
    assert "Askedfor" not in form.text
    assert person["nhs_number"] not in form.text
    assert f'value="{made.json()["id"]}"' in form.text  # still tied to the request
