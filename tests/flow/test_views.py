"""The bed manager's pages: the bed state (/flow), bed requests, bed search with "Admit
here", and out-of-area placements. Each as a page and as an htmx fragment, each form's effect
and its errors beside the field, who may see them, and that no page here names the person."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.flow import geo
from app.flow.models import BedRequest, OutOfAreaPlacement, PlacementReview
from app.wards import schemas, service
from app.wards.models import Admission
from tests.auth.helpers import Node, field_error, parse
from tests.factories import invalid_nhs_number, next_nhs_number
from tests.flow.helpers import API, add_place, hours, iso, new_patient, reference_km, waiting

HTMX = [pytest.param(False, id="plain"), pytest.param(True, id="htmx")]
FAMILY = "Featherstonehaugh"  # a family name no page here may show


def assert_page(response: Any, *, fragment: bool) -> Node:
    """A full page has the layout; a fragment (for htmx) is the section alone."""
    assert "HX-Request" in response.headers.get("vary", "")
    if fragment:
        assert "<html" not in response.text
        assert "Sign out" not in response.text
    else:
        assert "<html" in response.text
        assert "Sign out" in response.text
    return parse(response.text)


async def fingerprint(session: Any) -> dict[str, int]:
    """What a refused request must not change."""

    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    return {
        "requests": await count(BedRequest),
        "open_requests": await count(BedRequest, BedRequest.status == "open"),
        "placements": await count(OutOfAreaPlacement),
        "open_placements": await count(OutOfAreaPlacement, OutOfAreaPlacement.ended_at.is_(None)),
        "reviews": await count(PlacementReview),
        "admissions": await count(Admission),
        "audit": await count(AuditEntry),
    }


async def person_waiting(
    client: Any, world: Any, *, hours_ago: float = 3, by: str = "beds", **patient: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A person (named FAMILY unless told) on the waiting list, asked for by ``by``:
    (patient, request) as JSON."""
    body = {"family_name": FAMILY, "given_name": "Amira", "date_of_birth": "1985-06-15"}
    person = await new_patient(client, world, **{**body, **patient})
    request = await waiting(client, world, person["id"], world.now - hours(hours_ago), user=by)
    return person, request


async def request_json(client: Any, world: Any, request_id: int) -> dict[str, Any]:
    r = await client.get(f"{API}/bed-requests/{request_id}", headers=world.auth())
    assert r.status_code == 200, r.text
    return r.json()


async def placement_json(client: Any, world: Any, placement_id: int) -> dict[str, Any]:
    r = await client.get(f"{API}/out-of-area-placements/{placement_id}", headers=world.auth())
    assert r.status_code == 200, r.text
    return r.json()


async def api_placement(client: Any, world: Any, patient_id: int, **extra: Any) -> dict[str, Any]:
    body = {
        "patient_id": patient_id,
        "provider_name": "Priory Hospital Cheadle Royal",
        "latitude": 53.37,
        "longitude": -2.22,
        "bed_type": "200",
        "reason_code": "10",
        "started_at": iso(world.now - timedelta(days=4)),
        "daily_cost": "650.00",
        **extra,
    }
    r = await client.post(f"{API}/out-of-area-placements", headers=world.auth("beds"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def rows(table: Node) -> list[list[str]]:
    return [[td.text() for td in tr.find_all("td")] for tr in table.find_all("tr")[1:]]


# --- the bed state ------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_bed_state_is_a_page_or_a_fragment_that_refreshes_itself(world, signed_in, htmx):
    beds = await signed_in("beds")

    response = await beds.get("/flow", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    section = doc.by_id("bed-state")
    # Its own refresh is marked, so it does not count as a person's activity.
    assert section.attrs["hx-get"] == "/flow?refresh=1"
    assert "every 30s" in section.attrs["hx-trigger"]
    assert section.attrs["hx-swap"] == "outerHTML"


async def test_bed_state_shows_every_ward_with_its_beds_and_expected_discharges(
    world, signed_in, session
):
    today = date(2026, 3, 10)  # a Tuesday; the week ends on Sunday 15 March
    await world.admit(bed="A1", expected_discharge_date=today)
    await world.admit(bed="A2", expected_discharge_date=today + timedelta(days=5))
    await world.admit(bed="A3", expected_discharge_date=today + timedelta(days=6))  # Monday
    for bed in ("C1", "C2", "C3"):
        await world.admit(ward="CEDAR", bed=bed)
    await service.set_bed_status(
        session,
        actor=world.users["admin"],
        ward_code="BIRCH",
        label="B4",
        now=world.now,
        data=schemas.BedPatch(status="closed", reason="Ligature work"),
    )
    await session.commit()
    beds = await signed_in("beds")

    doc = parse((await beds.get("/flow")).text)

    def cells(ward: str) -> list[str]:
        return [td.text() for td in doc.by_id(f"ward-{ward}").find_all("td")][2:]

    # open, occupied, empty, closed, occupancy, leaving today, leaving by Sunday
    assert cells("ASH") == ["6", "3", "3", "0", "50 % 50 %", "1", "2"]
    assert cells("BIRCH") == ["3", "0", "3", "1", "0 % 0 %", "0", "0"]
    assert cells("CEDAR") == ["3", "3", "0", "0", "100 % 100 %", "0", "0"]
    meter = doc.by_id("ward-CEDAR").find("meter")
    assert meter is not None
    assert (meter.attrs["value"], meter.attrs["high"]) == ("1.0000", "0.85")
    assert doc.by_id("ward-CEDAR").find(class_="wf-over") is not None  # above 85 %
    assert doc.by_id("ward-ASH").find(class_="wf-over") is None
    totals = [td.text() for td in doc.by_id("site-STJ-total").find_all("td")]
    assert totals[:4] == ["12", "6", "6", "1"]
    assert "6 of 12 open beds occupied" in doc.by_id("trust-occupancy").text()
    assert "1 today, 2 by Sunday 15 Mar 2026" in doc.by_id("trust-occupancy").text()


async def test_waiting_list_has_live_clocks_and_no_names(world, signed_in, client):
    _, long_wait = await person_waiting(client, world, hours_ago=13.5)
    _, short_wait = await person_waiting(
        client, world, hours_ago=0.75, family_name="Okonkwo-Featherstonehaugh", sex="male"
    )
    beds = await signed_in("beds")

    response = await beds.get("/flow")

    assert FAMILY not in response.text
    assert "Amira" not in response.text
    doc = parse(response.text)
    table = doc.by_id("waiting-list")
    # Longest waiting first.
    assert [tr.attrs["data-request"] for tr in table.find_all("tr")[1:]] == [
        str(long_wait["id"]),
        str(short_wait["id"]),
    ]
    first, second = rows(table)
    assert first[0] == "AF, female, 35-44"
    assert first[1] == "LDS"
    assert first[2] == "Adult acute"
    assert first[3] == "9 Mar 2026, 22:30"  # 13 h 30 min before noon, UK time
    assert first[4] == "13 h 30 min"
    assert second[0] == "AO, male, 35-44" and second[4] == "45 min"
    clock = doc.by_id(f"request-{long_wait['id']}").find(class_="wf-waiting")
    assert clock is not None
    assert clock.attrs["data-since"] == "2026-03-09T22:30:00+00:00"
    assert clock.attrs["data-now"] == "2026-03-10T12:00:00+00:00"
    assert clock.attrs["data-due"] == "2026-03-10T10:30:00+00:00"  # ADM_WAIT: 12 hours
    assert "wf-waiting--over" in clock.classes
    short_clock = doc.by_id(f"request-{short_wait['id']}").find(class_="wf-waiting")
    assert short_clock is not None and "wf-waiting--over" not in short_clock.classes
    find = doc.by_id(f"request-{long_wait['id']}").find(
        "a", href=f"/flow/search?request={long_wait['id']}"
    )
    assert find is not None and find.text().startswith("Find a bed")


async def test_ready_for_discharge_and_placements_show_no_names(world, signed_in, client, session):
    patient = await world.patient(family_name=FAMILY, given_name="Grace")
    admission = await world.admit(patient, bed="A4", at=world.now - timedelta(days=10))
    r = await client.post(
        f"{API}/admissions/{admission.id}/ready-for-discharge",
        headers=world.auth("nurse"),
        json={
            "started_at": iso(world.now - timedelta(days=3, hours=2)),
            "reason_code": "09",
            "attributable_to": "social_care",
        },
    )
    assert r.status_code == 201, r.text
    placed = await new_patient(client, world, family_name=FAMILY, given_name="Ola")
    placement = await api_placement(client, world, placed["id"])
    beds = await signed_in("beds")

    response = await beds.get("/flow")

    assert FAMILY not in response.text
    doc = parse(response.text)
    (ready,) = rows(doc.by_id("ready-list"))
    assert ready[0] == "GF, female, 35-44"
    assert ready[1].replace(" ,", ",") == "Ash Ward, bed A4"
    assert ready[3] == "3"  # midnights since 7 Mar 10:00
    assert ready[4] == "Awaiting care package in own home"
    assert ready[5] == "Social care"
    row = doc.by_id(f"placement-{placement['id']}")
    cells = [td.text() for td in row.find_all("td")]
    km = reference_km((53.8, -1.55), (53.37, -2.22))
    assert cells[0] == "OF, female, 35-44"
    assert cells[1] == "Priory Hospital Cheadle Royal"
    assert cells[2] == f"{km:.1f} km"
    assert "Inappropriate" in cells[3]
    assert cells[5:] == ["4", "£2,600.00"]
    assert row.find("a", href=f"/flow/placements/{placement['id']}") is not None
    assert doc.by_id("distance-method").text() == geo.METHOD


def queries(statements: list[str]) -> int:
    """Statements that read or write: the test's own savepoints come and go with its commits."""
    return sum(1 for s in statements if "SAVEPOINT" not in s)


async def test_bed_state_query_count_does_not_grow_with_the_trust(
    world, signed_in, client, query_counter
):
    beds = await signed_in("beds")
    await person_waiting(client, world)
    await api_placement(client, world, (await new_patient(client, world))["id"])
    await world.admit(bed="A1", expected_discharge_date=date(2026, 3, 10))
    assert (await beds.get("/flow")).status_code == 200  # warm up
    start = len(query_counter)
    small = await beds.get("/flow")
    small_count = queries(query_counter[start:])

    await add_place(
        client,
        world,
        "YRKS",
        53.96,
        -1.08,
        [
            {"code": f"Y{i}", "ward_type": "adult_acute", "sex": "mixed", "min_age": 18,
             "max_age": 64, "beds": 4}
            for i in range(4)
        ],
    )  # fmt: skip
    for i in range(5):
        await person_waiting(client, world, family_name=f"Waiting{i}")
    for _ in range(3):
        person = await new_patient(client, world)
        await api_placement(client, world, person["id"])
    for bed in ("A2", "A3", "A4"):
        await world.admit(bed=bed, expected_discharge_date=date(2026, 3, 12))
    for bed in ("B1", "B2"):
        await world.admit(ward="Y1", bed=bed)
    start = len(query_counter)
    large = await beds.get("/flow")
    large_count = queries(query_counter[start:])

    assert small.text.count('data-request="') == 1
    assert large.text.count('data-request="') == 6
    assert small.text.count('data-placement="') == 1
    assert large.text.count('data-placement="') == 4
    assert 'id="ward-Y3"' in large.text
    assert small_count == large_count


async def test_directors_are_refused_the_bed_flow_pages(world, signed_in, client):
    _, request = await person_waiting(client, world)
    director = await signed_in("director")

    for path in (
        "/flow",
        "/flow/requests/new",
        f"/flow/requests/{request['id']}",
        f"/flow/search?request={request['id']}",
        "/flow/placements/new",
    ):
        response = await director.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text
    assert 'href="/flow"' not in (await director.get("/wards")).text  # not in the nav


async def test_the_nav_offers_bed_flow_to_those_who_may_read_it(world, signed_in):
    for username in ("beds", "nurse", "lead", "admin"):
        user = await signed_in(username)
        doc = parse((await user.get("/wards")).text)
        link = doc.find("a", href="/flow")
        assert link is not None and link.text() == "Bed flow", username


async def test_the_safeguarding_lead_reads_but_does_not_place(world, signed_in, client):
    await person_waiting(client, world)
    lead = await signed_in("lead")

    response = await lead.get("/flow")

    assert response.status_code == 200
    assert 'id="new-request"' not in response.text
    assert (await lead.get("/flow/requests/new")).status_code == 403


async def test_signing_in_lands_a_bed_manager_on_bed_flow(world, browser):
    response = await browser().submit_login("beds")
    assert response.status_code == 303
    assert response.headers["location"] == "/flow"
    nurse = await browser().submit_login("nurse")
    assert nurse.headers["location"] == "/wards"
    asked = await browser().submit_login("beds", next_="/wards/ASH")
    assert asked.headers["location"] == "/wards/ASH"  # a page asked for still wins


# --- a new bed request --------------------------------------------------------------------


def request_form(**overrides: str) -> dict[str, str]:
    return {
        "nhs_number": "",
        "decision_to_admit_at": "2026-03-10T09:15",
        "ward_type": "adult_acute",
        "note": "In A&E since the morning",
        **overrides,
    }


@pytest.mark.parametrize("htmx", HTMX)
async def test_new_request_form_as_page_and_fragment(world, signed_in, htmx):
    beds = await signed_in("beds")

    response = await beds.get("/flow/requests/new", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    form = doc.by_id("request-form")
    assert (form.attrs["action"], form.attrs["hx-post"]) == ("/flow/requests", "/flow/requests")
    assert form.attrs["hx-target"] == "#request-new"
    assert doc.by_id("request-decision_to_admit_at").attrs["value"] == "2026-03-10T12:00"
    assert form.find("input", name="csrf_token").attrs["value"] == beds.csrf  # type: ignore[union-attr]


async def test_a_new_request_puts_the_person_on_the_waiting_list(world, signed_in, client):
    person = await new_patient(client, world, family_name=FAMILY)
    number = person["nhs_number"]
    beds = await signed_in("beds")

    response = await beds.post(
        "/flow/requests",
        request_form(nhs_number=f"{number[:3]} {number[3:6]} {number[6:]}"),
    )

    assert response.status_code == 303
    request_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert response.headers["location"] == f"/flow/requests/{request_id}"
    saved = await request_json(client, world, request_id)
    assert saved["patient_id"] == person["id"]
    assert saved["decision_to_admit_at"].startswith("2026-03-10T09:15")
    assert saved["note"] == "In A&E since the morning"
    assert saved["waiting_minutes"] == 165
    board = parse((await beds.get("/flow")).text)
    assert board.by_id(f"request-{request_id}") is not None


async def test_a_new_request_by_htmx_answers_with_its_page(world, signed_in, client):
    person = await new_patient(client, world, family_name=FAMILY)
    beds = await signed_in("beds")

    response = await beds.post(
        "/flow/requests", request_form(nhs_number=person["nhs_number"]), htmx=True
    )

    assert response.status_code == 201
    doc = assert_page(response, fragment=True)
    section = doc.by_id("request")
    request_id = int(section.find(class_="nhsuk-caption-l").text().split()[-1])  # type: ignore[union-attr]
    assert response.headers["HX-Push-Url"] == f"/flow/requests/{request_id}"
    assert response.headers["HX-Trigger"] == "flow-changed"
    assert section.attrs["data-status"] == "open"
    assert FAMILY not in response.text


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"nhs_number": ""}, "nhs_number", "Enter the NHS number"),
        ({"nhs_number": "12345"}, "nhs_number", "NHS number must be 10 digits"),
        ({"nhs_number": "bad"}, "nhs_number", "NHS number must be 10 digits"),
        ({"ward_type": ""}, "ward_type", "Choose the ward type"),
        ({"decision_to_admit_at": "2026-03-10T12:30"}, "decision_to_admit_at", "future"),
        ({"decision_to_admit_at": "yesterday"}, "decision_to_admit_at", "Enter a date and time"),
        ({"decision_to_admit_at": ""}, "decision_to_admit_at", "Decision to admit is required"),
    ],
)
async def test_a_bad_request_form_is_422_beside_the_field(
    world, signed_in, client, session, htmx, overrides, field, message
):
    person = await new_patient(client, world)
    beds = await signed_in("beds")
    before = await fingerprint(session)
    form = {**request_form(nhs_number=person["nhs_number"]), **overrides}

    response = await beds.post("/flow/requests", form, htmx=htmx)

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert message in (field_error(doc, f"request-{field}") or "")
    assert doc.by_id("request-note").text() == "In A&E since the morning"  # what was typed
    assert await fingerprint(session) == before


async def test_an_unknown_nhs_number_says_how_to_add_the_person(world, signed_in, session):
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post("/flow/requests", request_form(nhs_number=next_nhs_number()))

    assert response.status_code == 422
    message = field_error(parse(response.text), "request-nhs_number") or ""
    assert message.startswith("No one with this NHS number is recorded")
    assert "admit form" in message and "POST /api/v1/patients" in message
    invalid = await beds.post("/flow/requests", request_form(nhs_number=invalid_nhs_number()))
    assert "check digit" in (field_error(parse(invalid.text), "request-nhs_number") or "")
    assert await fingerprint(session) == before


@pytest.mark.parametrize("htmx", HTMX)
async def test_a_second_request_for_someone_waiting_is_409_with_a_problem(
    world, signed_in, client, session, htmx
):
    person, _ = await person_waiting(client, world)
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(
        "/flow/requests", request_form(nhs_number=person["nhs_number"]), htmx=htmx
    )

    assert response.status_code == 409
    doc = assert_page(response, fragment=htmx)
    assert doc.by_id("request-problem").text() == "This person is already waiting for a bed."
    assert doc.by_id("request-nhs_number").attrs["value"] == person["nhs_number"]
    assert await fingerprint(session) == before


# --- a request's page and cancelling ------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_request_page_offers_find_a_bed_place_out_of_area_and_cancel(
    world, signed_in, client, htmx
):
    _, request = await person_waiting(client, world, hours_ago=2)
    beds = await signed_in("beds")

    response = await beds.get(f"/flow/requests/{request['id']}", htmx=htmx)

    assert response.status_code == 200
    assert FAMILY not in response.text
    doc = assert_page(response, fragment=htmx)
    assert doc.find("h1").text() == "AF, female, 35-44"  # type: ignore[union-attr]
    assert doc.by_id("find-a-bed").attrs["href"] == f"/flow/search?request={request['id']}"
    place = doc.by_id("place-out-of-area")
    assert place.attrs["href"] == f"/flow/placements/new?request={request['id']}"
    assert doc.by_id("request-waiting").text() == "2 h"
    form = doc.by_id("cancel-form")
    assert form.attrs["hx-post"] == f"/flow/requests/{request['id']}/cancel"
    assert form.attrs["hx-target"] == "#request"


async def test_ward_staff_may_cancel_but_not_place_out_of_area(world, nurse, client):
    _, request = await person_waiting(client, world, by="nurse")

    doc = parse((await nurse.get(f"/flow/requests/{request['id']}")).text)

    assert doc.find(id="place-out-of-area") is None
    assert doc.find(id="cancel-form") is not None


async def test_ward_staff_neither_see_nor_cancel_others_waiting_requests(
    world, nurse, client, session
):
    """Issue 17 findings 1 and 12: someone waiting for a bed, not on the nurse's ward and
    not asked for by her, is not hers to read or to take off the list."""
    _, request = await person_waiting(client, world)

    page = await nurse.get(f"/flow/requests/{request['id']}")
    cancel = await nurse.post(
        f"/flow/requests/{request['id']}/cancel",
        {"at": "2026-03-10T11:00", "reason": "Not needed"},
    )
    api = await client.post(
        f"{API}/bed-requests/{request['id']}/cancel",
        headers=world.auth("nurse"),
        json={"at": "2026-03-10T11:00:00Z", "reason": "Not needed"},
    )
    listed = await client.get(f"{API}/bed-requests", headers=world.auth("nurse"))

    assert (page.status_code, cancel.status_code, api.status_code) == (403, 403, 403)
    assert FAMILY not in page.text + cancel.text + api.text + listed.text
    assert listed.json() == []
    assert (await request_json(client, world, request["id"]))["status"] == "open"


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
async def test_cancelling_without_a_reason_is_422_beside_the_field(
    world, signed_in, client, session, htmx, reason
):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(
        f"/flow/requests/{request['id']}/cancel",
        {"at": "2026-03-10T11:00", "reason": reason},
        htmx=htmx,
    )

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "cancel-reason") == "Enter the reason for cancelling"
    assert doc.by_id("cancel-at").attrs["value"] == "2026-03-10T11:00"
    assert await fingerprint(session) == before


async def test_cancelling_before_the_decision_is_422_beside_the_time(
    world, signed_in, client, session
):
    _, request = await person_waiting(client, world, hours_ago=2)  # decided at 10:00
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(
        f"/flow/requests/{request['id']}/cancel", {"at": "2026-03-10T09:00", "reason": "Mistake"}
    )

    assert response.status_code == 422
    error = field_error(parse(response.text), "cancel-at") or ""
    assert "before the decision to admit" in error
    assert await fingerprint(session) == before


@pytest.mark.parametrize("htmx", HTMX)
async def test_cancelling_closes_the_request_and_takes_it_off_the_list(
    world, signed_in, client, htmx
):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")

    response = await beds.post(
        f"/flow/requests/{request['id']}/cancel",
        {"at": "2026-03-10T11:30", "reason": "Home treatment team took over"},
        htmx=htmx,
    )

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "flow-changed"
        doc = assert_page(response, fragment=True)
        assert doc.by_id("request").attrs["data-status"] == "cancelled"
        assert "Home treatment team took over" in doc.by_id("request-status").text()
        assert doc.find(id="cancel-form") is None
    else:
        assert response.status_code == 303
        assert response.headers["location"] == f"/flow/requests/{request['id']}"
    saved = await request_json(client, world, request["id"])
    assert (saved["status"], saved["cancel_reason"]) == (
        "cancelled",
        "Home treatment team took over",
    )
    assert saved["closed_at"].startswith("2026-03-10T11:30")
    assert f'id="request-{request["id"]}"' not in (await beds.get("/flow")).text


async def test_cancelling_a_closed_request_is_409(world, signed_in, client, session):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")
    form = {"at": "2026-03-10T11:30", "reason": "Not needed"}
    assert (await beds.post(f"/flow/requests/{request['id']}/cancel", form)).status_code == 303
    before = await fingerprint(session)

    response = await beds.post(f"/flow/requests/{request['id']}/cancel", form, htmx=True)

    assert response.status_code == 409
    assert "already closed (cancelled)" in parse(response.text).by_id("request-problem").text()
    assert await fingerprint(session) == before


# --- bed search ---------------------------------------------------------------------------


async def york_and_far(client: Any, world: Any) -> None:
    """A female ward in York (about 40 km from Leeds) and one far away in Bristol."""
    await add_place(
        client, world, "YRKX", 53.96, -1.08,
        [{"code": "YEW", "ward_type": "adult_acute", "sex": "female", "min_age": 18,
          "max_age": 64, "beds": 1}],
    )  # fmt: skip
    await add_place(
        client, world, "BRS", 51.45, -2.59,
        [{"code": "OAK", "ward_type": "adult_acute", "sex": "mixed", "min_age": 18,
          "max_age": 64, "beds": 1}],
    )  # fmt: skip


@pytest.mark.parametrize("htmx", HTMX)
async def test_search_form_as_page_and_fragment(world, signed_in, htmx):
    beds = await signed_in("beds")

    response = await beds.get("/flow/search", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    form = doc.by_id("search-form")
    assert (form.attrs["method"], form.attrs["hx-get"]) == ("get", "/flow/search")
    assert form.attrs["hx-target"] == "#search"
    assert doc.find(id="results") is None  # nothing searched for yet


async def test_search_for_a_request_fills_the_filters_and_lists_nearest_first(
    world, signed_in, client
):
    await york_and_far(client, world)
    await world.admit(bed="A1")
    for bed in ("A2", "A3", "A4", "A5", "A6"):
        await world.admit(bed=bed, expected_discharge_date=date(2026, 3, 12))
    for bed in ("C1", "C2"):
        await world.admit(ward="CEDAR", bed=bed)
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")

    response = await beds.get(f"/flow/search?request={request['id']}")

    assert response.status_code == 200
    assert FAMILY not in response.text
    doc = parse(response.text)
    assert "AF, female, 35-44, from Leeds" in doc.by_id("search-for").text()
    # The person's own sex, age and home area are used, and their exact age is not shown.
    assert doc.find(id="search-sex") is None and doc.find(id="search-age") is None
    assert doc.by_id("search-form").find("input", name="request").attrs["value"] == str(  # type: ignore[union-attr]
        request["id"]
    )
    selected = [
        o.attrs["value"] for o in doc.by_id("search-ward_type").find_all("option")
        if "selected" in o.attrs
    ]  # fmt: skip
    assert selected == ["adult_acute"]
    assert ">40<" not in response.text and 'value="40"' not in response.text
    results = doc.by_id("results").find_all("tr")[1:]
    assert [(r.attrs["data-ward"], r.attrs["data-bed"]) for r in results] == [
        ("CEDAR", "C3"),
        ("YEW", "B1"),
        ("OAK", "B1"),
    ]
    york = reference_km((53.8, -1.55), (53.96, -1.08))
    assert [td.text() for td in results[1].find_all("td")][4] == f"{york:.1f} km"
    admit = results[0].find("a", class_="wf-admit-here")
    assert admit is not None
    assert admit.attrs["href"] == f"/wards/CEDAR/beds/C3/admit?request={request['id']}"
    soon = [
        (r.attrs["data-ward"], r.attrs["data-bed"]) for r in doc.by_id("soon").find_all("tr")[1:]
    ]
    assert soon == [("ASH", b) for b in ("A2", "A3", "A4", "A5", "A6")]
    assert doc.by_id("distance-method").text() == geo.METHOD


async def test_search_for_a_request_may_change_the_ward_type(world, signed_in, client):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")

    picu = parse((await beds.get(f"/flow/search?request={request['id']}&ward_type=picu")).text)
    any_type = parse((await beds.get(f"/flow/search?request={request['id']}&ward_type=")).text)

    assert "No empty bed suits" in picu.by_id("results").text()  # the trust has no PICU
    assert len(any_type.by_id("results").find_all("tr")[1:]) == 9  # ASH and CEDAR, all empty


async def test_search_by_hand_and_as_a_fragment(world, signed_in, client):
    await york_and_far(client, world)
    beds = await signed_in("beds")

    response = await beds.get(
        "/flow/search?sex=male&age=70&locality_code=YRK&ward_type=", htmx=True
    )

    assert response.status_code == 200
    doc = assert_page(response, fragment=True)
    # 70 is past every ward's age range: nothing suits, and the page says so.
    assert "No empty bed suits" in doc.by_id("results").text()
    response = await beds.get("/flow/search?sex=male&age=30&locality_code=YRK&ward_type=")
    doc = parse(response.text)
    results = [
        (r.attrs["data-ward"], r.attrs["data-bed"]) for r in doc.by_id("results").find_all("tr")[1:]
    ]
    # From York: Leeds (St James) before Bristol; no female ward for a man.
    assert results[0] == ("BIRCH", "B1") and results[-1] == ("OAK", "B1")
    assert ("YEW", "B1") not in results and ("ASH", "A1") not in results
    assert all(
        "?request=" not in a.attrs["href"] for a in doc.find_all("a", class_="wf-admit-here")
    )


@pytest.mark.parametrize("htmx", HTMX)
async def test_search_by_hand_with_missing_filters_is_422_beside_them(world, signed_in, htmx):
    beds = await signed_in("beds")

    response = await beds.get("/flow/search?sex=&age=abc&locality_code=&ward_type=", htmx=htmx)

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "search-sex") == "Choose the sex"
    assert field_error(doc, "search-age") == "Enter the age in whole years, from 0 to 130"
    assert field_error(doc, "search-locality_code") == "Choose the home area"
    assert doc.find(id="results") is None


async def test_search_for_an_unknown_request_is_404(world, signed_in):
    beds = await signed_in("beds")
    for path in (
        "/flow/search?request=999999",
        "/flow/search?request=x",
        "/flow/search?request=99999999999",  # beyond PostgreSQL's integer ids
        "/flow/search?patient_id=999999",
        "/flow/requests/99999999999",
        "/flow/placements/new?request=999999",
        "/flow/placements/99999999999",
    ):
        assert (await beds.get(path)).status_code == 404, path


async def test_ward_staff_are_offered_admit_here_only_on_their_own_wards(world, nurse, client):
    _, request = await person_waiting(client, world, by="nurse")

    doc = parse((await nurse.get(f"/flow/search?request={request['id']}")).text)

    offered = {
        r.attrs["data-ward"]
        for r in doc.by_id("results").find_all("tr")[1:]
        if r.find("a", class_="wf-admit-here") is not None
    }
    listed = {r.attrs["data-ward"] for r in doc.by_id("results").find_all("tr")[1:]}
    assert listed == {"ASH", "CEDAR"}
    assert offered == {"ASH"}


# --- admit here ---------------------------------------------------------------------------


def admit_here_form(doc: Node, **fill: str) -> dict[str, str]:
    """What a person sends from the prefilled admit form: the values it came with, plus theirs."""
    form = doc.by_id("admit-form")
    data = {
        i.attrs["name"]: i.attrs.get("value", "")
        for i in form.find_all("input")
        if i.attrs.get("type") not in ("checkbox",) and "name" in i.attrs
    }
    for select_ in form.find_all("select"):
        chosen = [o for o in select_.find_all("option") if "selected" in o.attrs]
        data[select_.attrs["name"]] = chosen[0].attrs.get("value", "") if chosen else ""
    data.pop("csrf_token", None)
    return {**data, **fill}


async def test_admit_here_opens_the_admit_form_filled_from_the_request(world, signed_in, client):
    person, request = await person_waiting(client, world, hours_ago=5)
    beds = await signed_in("beds")

    response = await beds.get(f"/wards/CEDAR/beds/C2/admit?request={request['id']}")

    assert response.status_code == 200
    doc = parse(response.text)
    assert doc.by_id("admit-nhs_number").attrs["value"] == person["nhs_number"]
    assert doc.by_id("admit-decision_to_admit_at").attrs["value"] == "2026-03-10T07:00"
    hidden = doc.by_id("admit-form").find("input", name="bed_request_id")
    assert hidden is not None and hidden.attrs["type"] == "hidden"
    assert hidden.attrs["value"] == str(request["id"])
    assert f"bed request {request['id']}" in doc.by_id("admit-bed_request_id").text()


@pytest.mark.parametrize("htmx", HTMX)
async def test_admitting_here_closes_the_request(world, signed_in, client, htmx):
    person, request = await person_waiting(client, world, hours_ago=5)
    beds = await signed_in("beds")
    doc = parse((await beds.get(f"/wards/CEDAR/beds/C2/admit?request={request['id']}")).text)

    response = await beds.post(
        "/wards/CEDAR/beds/C2/admit",
        admit_here_form(
            doc,
            admitted_at="2026-03-10T11:45",
            legal_status="s2",
            reason="Psychotic relapse, not safe at home",
            expected_benefit="Restart medication and stabilise",
        ),
        htmx=htmx,
    )

    assert response.status_code == (200 if htmx else 303), response.text
    saved = await request_json(client, world, request["id"])
    assert saved["status"] == "admitted"
    assert saved["closed_at"].startswith("2026-03-10T11:45")
    assert saved["waiting_minutes"] == 4 * 60 + 45
    admission = (
        await client.get(f"{API}/admissions/{saved['admission_id']}", headers=world.auth())
    ).json()
    assert admission["patient"]["id"] == person["id"]
    assert admission["decision_to_admit_at"].startswith("2026-03-10T07:00")
    assert (admission["ward_code"], admission["bed_label"]) == ("CEDAR", "C2")
    state = await beds.get("/flow")
    assert f'id="request-{request["id"]}"' not in state.text
    assert "No one is waiting for a bed." in state.text


async def test_ward_staff_admit_here_only_on_their_own_wards(world, nurse, client):
    _, request = await person_waiting(client, world, by="nurse")

    assert (await nurse.get(f"/wards/ASH/beds/A2/admit?request={request['id']}")).status_code == 200
    refused = await nurse.get(f"/wards/CEDAR/beds/C2/admit?request={request['id']}")
    assert refused.status_code == 403


async def test_admit_here_for_a_closed_or_unknown_request_is_refused(world, signed_in, client):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")
    await beds.post(
        f"/flow/requests/{request['id']}/cancel", {"at": "2026-03-10T11:30", "reason": "Not needed"}
    )

    closed = await beds.get(f"/wards/CEDAR/beds/C2/admit?request={request['id']}")
    unknown = await beds.get("/wards/CEDAR/beds/C2/admit?request=999999")
    beyond = await beds.get("/wards/CEDAR/beds/C2/admit?request=99999999999")

    assert closed.status_code == 409
    assert "already closed (cancelled)" in closed.text
    assert unknown.status_code == 404 and beyond.status_code == 404


async def test_admitting_someone_else_against_a_request_is_refused(
    world, signed_in, client, session
):
    _, request = await person_waiting(client, world)
    other = await new_patient(client, world)
    beds = await signed_in("beds")
    doc = parse((await beds.get(f"/wards/CEDAR/beds/C2/admit?request={request['id']}")).text)
    before = await fingerprint(session)

    response = await beds.post(
        "/wards/CEDAR/beds/C2/admit",
        admit_here_form(
            doc,
            nhs_number=other["nhs_number"],
            given_name=other["given_name"],
            family_name=other["family_name"],
            date_of_birth=other["date_of_birth"],
            sex=other["sex"],
            admitted_at="2026-03-10T11:45",
            legal_status="s2",
            reason="Relapse",
            expected_benefit="Stabilise",
        ),
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert "request for another person" in doc.by_id("admit-bed_request_id").text()
    # Nothing saved but the audit of the NHS number lookup (issue 17).
    assert await fingerprint(session) == {**before, "audit": before["audit"] + 1}


# --- out-of-area placements ---------------------------------------------------------------


def placement_form(**overrides: str) -> dict[str, str]:
    return {
        "provider_name": "Cygnet Hospital Bierley",
        "latitude": "53.76",
        "longitude": "-1.73",
        "bed_type": "200",
        "reason_code": "10",
        "started_at": "2026-03-10T10:30",
        "daily_cost": "£1,250.50",
        **overrides,
    }


@pytest.mark.parametrize("htmx", HTMX)
async def test_new_placement_form_as_page_and_fragment(world, signed_in, client, htmx):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")

    response = await beds.get(f"/flow/placements/new?request={request['id']}", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    form = doc.by_id("placement-form")
    assert form.attrs["hx-target"] == "#placement-new"
    hidden = form.find("input", name="bed_request_id")
    assert hidden is not None and hidden.attrs["value"] == str(request["id"])
    assert doc.find(id="placement-nhs_number") is None  # the person comes from the request
    reasons = [o.text() for o in doc.by_id("placement-reason_code").find_all("option")]
    assert "No bed available locally" in reasons  # picked by name, not by code
    beds_types = [o.text() for o in doc.by_id("placement-bed_type").find_all("option")]
    assert "Adult psychiatric intensive care (PICU)" in beds_types
    assert FAMILY not in response.text


async def test_recording_a_placement_for_a_request_closes_it(world, signed_in, client):
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")

    response = await beds.post(
        "/flow/placements", {**placement_form(), "bed_request_id": str(request["id"])}
    )

    assert response.status_code == 303
    placement_id = int(response.headers["location"].rsplit("/", 1)[1])
    saved = await placement_json(client, world, placement_id)
    assert saved["provider_name"] == "Cygnet Hospital Bierley"
    assert saved["daily_cost"] == "1250.50"
    assert saved["reason_code"] == "10" and saved["inappropriate"] is True
    assert saved["started_at"].startswith("2026-03-10T10:30")
    assert saved["bed_request_id"] == request["id"]
    assert (await request_json(client, world, request["id"]))["status"] == "placed_out_of_area"
    state = parse((await beds.get("/flow")).text)
    assert state.find(id=f"request-{request['id']}") is None
    assert state.by_id(f"placement-{placement_id}") is not None


async def test_recording_a_placement_by_nhs_number_as_htmx(world, signed_in, client):
    person = await new_patient(client, world, family_name=FAMILY)
    beds = await signed_in("beds")

    response = await beds.post(
        "/flow/placements",
        placement_form(nhs_number=person["nhs_number"], daily_cost=""),
        htmx=True,
    )

    assert response.status_code == 201
    doc = assert_page(response, fragment=True)
    placement_id = int(response.headers["HX-Push-Url"].rsplit("/", 1)[1])
    assert response.headers["HX-Trigger"] == "flow-changed"
    km = reference_km((53.8, -1.55), (53.76, -1.73))
    assert doc.by_id("placement-distance").text().startswith(f"{km:.1f} km")
    assert (await placement_json(client, world, placement_id))["daily_cost"] is None
    assert FAMILY not in response.text


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"latitude": "91"}, "latitude", "Latitude must be between -90 and 90"),
        ({"latitude": "north"}, "latitude", "Enter the latitude as a number"),
        ({"longitude": ""}, "longitude", "Longitude is required"),
        ({"provider_name": "  "}, "provider_name", "Provider name is required"),
        ({"reason_code": ""}, "reason_code", "Choose the reason for placing out of area"),
        ({"bed_type": ""}, "bed_type", "Choose the bed type"),
        ({"daily_cost": "-5"}, "daily_cost", "Daily cost cannot be negative"),
        ({"daily_cost": "12.345"}, "daily_cost", "in pounds and pence"),
        ({"started_at": "2026-03-10T13:00"}, "started_at", "future"),
        ({"started_at": "2026-03-10T05:00"}, "started_at", "before the request's decision"),
    ],
)
async def test_a_bad_placement_form_is_422_beside_the_field(
    world, signed_in, client, session, htmx, overrides, field, message
):
    _, request = await person_waiting(client, world)  # decided at 09:00
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(
        "/flow/placements",
        {**placement_form(**overrides), "bed_request_id": str(request["id"])},
        htmx=htmx,
    )

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert message in (field_error(doc, f"placement-{field}") or "")
    assert doc.by_id("placement-provider_name").attrs["value"] == overrides.get(
        "provider_name", "Cygnet Hospital Bierley"
    )
    assert await fingerprint(session) == before


async def test_placing_someone_in_a_local_bed_is_409(world, signed_in, session):
    patient = await world.patient(family_name=FAMILY)
    await world.admit(patient, bed="A1")
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post("/flow/placements", placement_form(nhs_number=patient.nhs_number))

    assert response.status_code == 409
    assert "in a local bed" in parse(response.text).by_id("placement-problem").text()
    assert await fingerprint(session) == before


async def test_ward_staff_cannot_record_placements(world, nurse, session):
    before = await fingerprint(session)
    assert (await nurse.get("/flow/placements/new")).status_code == 403
    response = await nurse.post("/flow/placements", placement_form(nhs_number=next_nhs_number()))
    assert response.status_code == 403
    assert await fingerprint(session) == before


@pytest.mark.parametrize("htmx", HTMX)
async def test_placement_page_shows_distance_days_cost_and_forms(world, signed_in, client, htmx):
    person = await new_patient(client, world, family_name=FAMILY)
    placement = await api_placement(client, world, person["id"])
    beds = await signed_in("beds")

    response = await beds.get(f"/flow/placements/{placement['id']}", htmx=htmx)

    assert response.status_code == 200
    assert FAMILY not in response.text
    doc = assert_page(response, fragment=htmx)
    km = reference_km((53.8, -1.55), (53.37, -2.22))
    assert doc.by_id("placement-distance").text() == f"{km:.1f} km {geo.METHOD}"
    assert doc.by_id("placement-bed-days").text() == "4"
    assert doc.by_id("placement-cost").text() == "£2,600.00"
    assert doc.by_id("placement-review-due").text().startswith("6 Jun 2026")  # 3 months on
    for form_id in ("review-form", "end-form"):
        assert doc.by_id(form_id).attrs["hx-target"] == "#placement"


async def test_reviewing_a_placement(world, signed_in, client):
    person = await new_patient(client, world)
    placement = await api_placement(client, world, person["id"])
    beds = await signed_in("beds")

    response = await beds.post(
        f"/flow/placements/{placement['id']}/reviews",
        {"at": "2026-03-10T11:00", "note": "Still no local bed; family visiting weekly"},
        htmx=True,
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "flow-changed"
    doc = parse(response.text)
    assert "Still no local bed" in doc.by_id("placement-reviews").text()
    assert doc.by_id("placement-review-due").text().startswith("10 Jun 2026")
    saved = await placement_json(client, world, placement["id"])
    assert [r["note"] for r in saved["reviews"]] == ["Still no local bed; family visiting weekly"]


@pytest.mark.parametrize("htmx", HTMX)
async def test_a_review_without_a_note_is_422_beside_the_field(
    world, signed_in, client, session, htmx
):
    person = await new_patient(client, world)
    placement = await api_placement(client, world, person["id"])
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(
        f"/flow/placements/{placement['id']}/reviews",
        {"at": "2026-03-10T11:00", "note": " "},
        htmx=htmx,
    )

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "review-note") == "Enter the note"
    assert field_error(doc, "end-at") is None  # only the form that was sent
    assert await fingerprint(session) == before


@pytest.mark.parametrize("htmx", HTMX)
async def test_ending_a_placement_needs_an_outcome(world, signed_in, client, session, htmx):
    person = await new_patient(client, world)
    placement = await api_placement(client, world, person["id"])
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(
        f"/flow/placements/{placement['id']}/end", {"at": "2026-03-10T11:00"}, htmx=htmx
    )

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "end-outcome") == "Choose how the placement ended"
    assert doc.by_id("end-at").attrs["value"] == "2026-03-10T11:00"
    assert await fingerprint(session) == before


async def test_ending_a_placement_brings_the_person_back(world, signed_in, client):
    person = await new_patient(client, world)
    placement = await api_placement(client, world, person["id"])
    beds = await signed_in("beds")

    response = await beds.post(
        f"/flow/placements/{placement['id']}/end",
        {"at": "2026-03-10T11:00", "outcome": "repatriated"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/flow/placements/{placement['id']}"
    saved = await placement_json(client, world, placement["id"])
    assert (saved["outcome"], saved["bed_days"]) == ("repatriated", 4)
    doc = parse((await beds.get(f"/flow/placements/{placement['id']}")).text)
    assert "Brought back to a local bed" in doc.by_id("placement-status").text()
    assert doc.find(id="end-form") is None and doc.find(id="review-form") is None
    assert doc.find(id="placement-review-due") is None
    again = await beds.post(
        f"/flow/placements/{placement['id']}/end",
        {"at": "2026-03-10T11:30", "outcome": "discharged"},
    )
    assert again.status_code == 409
    assert "already ended" in parse(again.text).by_id("placement-problem").text()
    state = parse((await beds.get("/flow")).text)
    assert state.find(id=f"placement-{placement['id']}") is None


# --- every form carries and needs its CSRF token ------------------------------------------


async def test_every_post_form_on_the_flow_pages_carries_the_csrf_token(world, signed_in, client):
    person = await new_patient(client, world)
    placement = await api_placement(client, world, person["id"])
    _, request = await person_waiting(client, world)
    beds = await signed_in("beds")

    for path in (
        "/flow/requests/new",
        f"/flow/requests/{request['id']}",
        f"/flow/placements/new?request={request['id']}",
        f"/flow/placements/{placement['id']}",
    ):
        forms = [
            f
            for f in parse((await beds.get(path)).text).find_all("form")
            if f.attrs.get("method") == "post"
        ]
        assert forms, path
        for form in forms:
            token = form.find("input", name="csrf_token")
            assert token is not None and token.attrs["value"] == beds.csrf, path


@pytest.mark.parametrize("form", ["request", "cancel", "placement", "review", "end"])
async def test_every_flow_form_refuses_a_post_without_its_csrf_token(
    world, signed_in, client, session, form
):
    person = await new_patient(client, world)
    placement = await api_placement(client, world, person["id"])
    waiting_person, request = await person_waiting(client, world)
    path, data = {
        "request": ("/flow/requests", request_form(nhs_number=waiting_person["nhs_number"])),
        "cancel": (
            f"/flow/requests/{request['id']}/cancel",
            {"at": "2026-03-10T11:00", "reason": "x"},
        ),
        "placement": (
            "/flow/placements",
            {**placement_form(), "bed_request_id": str(request["id"])},
        ),
        "review": (
            f"/flow/placements/{placement['id']}/reviews",
            {"at": "2026-03-10T11:00", "note": "x"},
        ),
        "end": (
            f"/flow/placements/{placement['id']}/end",
            {"at": "2026-03-10T11:00", "outcome": "other"},
        ),
    }[form]
    beds = await signed_in("beds")
    before = await fingerprint(session)

    response = await beds.post(path, data, csrf=False)

    assert response.status_code == 403
    assert await fingerprint(session) == before
