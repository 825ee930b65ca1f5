"""The HTML pages and htmx fragments of the ward board: each route as a page, as a
fragment, and for its effect on the record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import ApiToken, UserSession
from app.wards import schemas, service
from app.wards.models import (
    Admission,
    Bed,
    LegalStatusChange,
    Patient,
    PurposeReview,
    WardStay,
)
from tests.auth.helpers import Node, field_error, parse
from tests.factories import next_nhs_number

# --- helpers -----------------------------------------------------------------------------


def admit_form(**overrides: Any) -> dict[str, str]:
    data = {
        "nhs_number": next_nhs_number(),
        "given_name": "Amira",
        "family_name": "Khan",
        "date_of_birth": "1985-06-15",
        "sex": "female",
        "ethnic_category": "J",
        "home_locality_code": "LDS",
        "admitted_at": "2026-03-10T09:00",
        "decision_to_admit_at": "",
        "legal_status": "s3",
        "reason": "Psychotic relapse, not safe at home",
        "expected_benefit": "Restart medication and stabilise",
        "expected_discharge_date": "",
    }
    data.update(overrides)
    return data


async def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def fingerprint(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What a refused request must not change."""
    return {
        "patients": await count(session, Patient),
        "admissions": await count(session, Admission),
        "discharged": await count(session, Admission, Admission.discharged_at.is_not(None)),
        "stays": await count(session, WardStay),
        "open_stays": await count(session, WardStay, WardStay.ended_at.is_(None)),
        "legal_status_changes": await count(session, LegalStatusChange),
        "purpose_reviews": await count(session, PurposeReview),
        "closed_beds": await count(session, Bed, Bed.status == "closed"),
        "api_tokens": await count(session, ApiToken),
        "ended_sessions": await count(session, UserSession, UserSession.ended_at.is_not(None)),
        "audit": await count(session, AuditEntry),
    }


async def board_json(client, world, ward: str = "ASH") -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/wards/{ward}/board", headers=world.auth("admin"))
    assert response.status_code == 200
    return {bed["label"]: bed for bed in response.json()["beds"]}


async def admission_json(client, world, admission_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/admissions/{admission_id}", headers=world.auth("admin"))
    assert response.status_code == 200
    return response.json()


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_page(response, *, fragment: bool) -> Node:  # type: ignore[no-untyped-def]
    """A full page has the layout; a fragment (for htmx) is the panel or board alone."""
    assert "HX-Request" in response.headers.get("vary", "")
    if fragment:
        assert "<html" not in response.text
        assert "Sign out" not in response.text
    else:
        assert "<html" in response.text
        assert "Sign out" in response.text
    return parse(response.text)


def bed_card(doc: Node, label: str) -> Node:
    return doc.by_id(f"bed-{label}")


HTMX = [pytest.param(False, id="plain"), pytest.param(True, id="htmx")]


# --- ward list and board -----------------------------------------------------------------


async def test_ward_list_shows_each_ward_and_its_occupancy(world, signed_in):
    await world.admit(bed="A1")
    await world.admit(bed="A2")
    admin = await signed_in("admin")

    response = await admin.get("/wards")

    assert response.status_code == 200
    doc = assert_page(response, fragment=False)
    rows = {}
    for row in doc.by_id("ward-list").find_all("tr"):
        link = row.find("a")
        if link is not None:
            rows[link.attrs["href"]] = [td.text() for td in row.find_all("td")]
    assert set(rows) == {"/wards/ASH", "/wards/BIRCH", "/wards/CEDAR"}
    assert rows["/wards/ASH"][0].startswith("Ash Ward")
    assert rows["/wards/ASH"][1] == "St James"
    assert rows["/wards/ASH"][4:] == ["2", "6", "33 %", "None"]  # no alerts yet
    assert rows["/wards/BIRCH"][4:] == ["0", "4", "0 %", "None"]


@pytest.mark.parametrize("htmx", HTMX)
async def test_board_is_a_page_or_a_fragment(world, nurse, htmx):
    response = await nurse.get("/wards/ASH", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    board = doc.by_id("board")
    assert board.attrs["hx-get"] == "/wards/ASH?refresh=1"  # marked: not a person's activity
    assert [li.attrs["data-bed"] for li in board.find_all("li", class_="wf-bed")] == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
    ]
    assert (doc.find("h1") is not None) is not htmx  # the page has the ward's heading


async def test_board_card_shows_name_age_legal_status_and_days_on_ward(world, nurse):
    admission = await world.admit(bed="A1", legal_status="s2")  # two days ago
    await world.admit(bed="A3", legal_status="s37_41", at=world.now - timedelta(days=1))

    doc = parse((await nurse.get("/wards/ASH")).text)

    card = bed_card(doc, "A1")
    assert "wf-bed--occupied" in card.classes
    name = card.find("a", href=f"/admissions/{admission.id}")
    assert name is not None and name.text() == "Jane SMITH"
    text = card.text()
    assert "36 yrs" in text  # born 2 Jan 1990; today is 10 Mar 2026
    assert "Section 2" in text
    assert "2 days on ward" in text
    assert card.find("a", href=f"/admissions/{admission.id}/discharge") is not None
    assert card.find("a", href=f"/admissions/{admission.id}/transfer") is not None
    other = bed_card(doc, "A3").text()
    assert "Section 37/41" in other
    assert "1 day on ward" in other
    assert "Admit" not in text


async def test_board_offers_admit_on_empty_beds_and_shows_why_a_bed_is_closed(
    world, nurse, session
):
    await world.admit(bed="A1")
    await service.set_bed_status(
        session,
        actor=world.users["admin"],
        ward_code="ASH",
        label="A6",
        now=world.now,
        data=schemas.BedPatch(status="closed", reason="Ligature work"),
    )
    await session.commit()

    doc = parse((await nurse.get("/wards/ASH")).text)

    empty = bed_card(doc, "A2")
    admit = empty.find("a", href="/wards/ASH/beds/A2/admit")
    assert admit is not None and admit.text().startswith("Admit")
    assert admit.attrs["hx-get"] == "/wards/ASH/beds/A2/admit"
    closed = bed_card(doc, "A6")
    assert "wf-bed--closed" in closed.classes
    assert "Closed" in closed.text()
    assert "Ligature work" in closed.text()
    assert closed.find("a", href="/wards/ASH/beds/A6/admit") is None
    assert "1 of 5 open beds occupied" in doc.by_id("occupancy").text()
    assert "1 closed" in doc.by_id("occupancy").text()


# --- admit -------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_admit_form_as_page_and_fragment(world, nurse, htmx):
    response = await nurse.get("/wards/ASH/beds/A2/admit", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    form = doc.by_id("admit-form")
    assert form.attrs["action"] == "/wards/ASH/beds/A2/admit"
    if htmx:  # in the board's panel the form posts with htmx, and its answer stays there
        assert form.attrs["hx-post"] == "/wards/ASH/beds/A2/admit"
        assert form.attrs["hx-target"] == "#panel"
    assert form.find("input", name="csrf_token").attrs["value"] == nurse.csrf  # type: ignore[union-attr]
    # Admitted at starts as now, in UK time (GMT in March).
    assert doc.by_id("admit-admitted_at").attrs["value"] == "2026-03-10T12:00"
    assert doc.by_id("admit-reason").tag == "textarea"
    assert doc.by_id("admit-expected_benefit").tag == "textarea"


async def test_admit_form_starts_at_uk_summer_time(world, signed_in, clock):
    clock.now = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
    nurse = await signed_in("nurse")

    doc = parse((await nurse.get("/wards/ASH/beds/A2/admit")).text)

    assert doc.by_id("admit-admitted_at").attrs["value"] == "2026-07-10T13:00"


@pytest.mark.parametrize("htmx", HTMX)
@pytest.mark.parametrize("benefit", ["", "   "], ids=["empty", "blank"])
async def test_admit_without_expected_benefit_is_422_beside_the_field_and_keeps_input(
    world, nurse, session, htmx, benefit
):
    before = await fingerprint(session)
    typed = admit_form(
        reason="Stopped eating; voices telling her to leave", expected_benefit=benefit
    )

    response = await nurse.post("/wards/ASH/beds/A2/admit", typed, htmx=htmx)

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "admit-expected_benefit") == "Enter the expected benefit"
    assert field_error(doc, "admit-reason") is None
    assert doc.by_id("admit-reason").text() == "Stopped eating; voices telling her to leave"
    assert doc.by_id("admit-given_name").attrs["value"] == "Amira"
    assert doc.by_id("admit-nhs_number").attrs["value"] == typed["nhs_number"]
    assert await fingerprint(session) == before


async def test_admit_as_htmx_updates_the_board(world, nurse, client, session):
    form = admit_form()

    response = await nurse.post("/wards/ASH/beds/A2/admit", form, htmx=True)

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "board-changed"
    assert "Amira KHAN admitted to bed A2" in response.text
    occupant = (await board_json(client, world))["A2"]["occupant"]
    assert occupant["display_name"] == "Amira KHAN"
    assert occupant["legal_status"] == "s3"
    admission = await admission_json(client, world, occupant["admission_id"])
    assert admission["patient"]["nhs_number"] == form["nhs_number"]
    assert admission["reason"] == "Psychotic relapse, not safe at home"
    assert admission["expected_benefit"] == "Restart medication and stabilise"
    # And the board fragment htmx reloads on board-changed shows them.
    board = parse((await nurse.get("/wards/ASH", htmx=True)).text)
    assert "Amira KHAN" in bed_card(board, "A2").text()


async def test_admit_as_plain_form_redirects_to_the_board(world, nurse, client):
    response = await nurse.post("/wards/ASH/beds/A2/admit", admit_form())

    assert response.status_code == 303
    assert response.headers["location"] == "/wards/ASH"
    assert (await board_json(client, world))["A2"]["occupant"]["display_name"] == "Amira KHAN"


@pytest.mark.parametrize(
    "now, typed, stored",
    [
        (datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "2026-03-10T09:00", "2026-03-10T09:00:00Z"),
        (datetime(2026, 7, 10, 12, 0, tzinfo=UTC), "2026-07-10T09:00", "2026-07-10T08:00:00Z"),
    ],
    ids=["GMT", "BST"],
)
async def test_admit_form_times_are_uk_local_time(
    world, signed_in, client, clock, now, typed, stored
):
    clock.now = now
    nurse = await signed_in("nurse")

    response = await nurse.post(
        "/wards/ASH/beds/A2/admit",
        admit_form(admitted_at=typed, decision_to_admit_at=typed.replace("09:00", "07:30")),
    )

    assert response.status_code == 303
    admission_id = (await board_json(client, world))["A2"]["occupant"]["admission_id"]
    admission = await admission_json(client, world, admission_id)
    assert instant(admission["admitted_at"]) == instant(stored)
    assert instant(admission["decision_to_admit_at"]) == instant(stored) - timedelta(minutes=90)


async def test_admit_with_a_known_nhs_number_reuses_the_patient(world, nurse, client, session):
    """The typed details are the recorded person's (names match whatever the case and
    spacing): that person is admitted, no second record is made."""
    known = await world.patient(given_name="Grace", family_name="Obi")
    known_id, number = known.id, known.nhs_number
    patients = await count(session, Patient)

    response = await nurse.post(
        "/wards/ASH/beds/A2/admit",
        admit_form(
            nhs_number=f"{number[:3]} {number[3:6]} {number[6:]}",
            given_name="grace",
            family_name=" OBI ",
            date_of_birth="1990-01-02",
            sex="female",
            ethnic_category="",
            home_locality_code="",
        ),
    )

    assert response.status_code == 303
    assert await count(session, Patient) == patients
    occupant = (await board_json(client, world))["A2"]["occupant"]
    assert occupant["patient_id"] == known_id
    assert occupant["display_name"] == "Grace OBI"


@pytest.mark.parametrize(
    ("typed", "differ"),
    [
        ({"given_name": "Amira", "family_name": "Khan"}, "given name, family name"),
        ({"date_of_birth": "1985-06-15"}, "date of birth"),
        ({"sex": "male"}, "sex"),
    ],
)
async def test_admit_with_a_known_nhs_number_and_other_details_is_409_naming_no_one(
    world, nurse, session, typed, differ
):
    """Issue 17 finding 3: a known NHS number with someone else's details admits no one, and
    the answer says which details differ without showing the recorded ones."""
    known = await world.patient(given_name="Grace", family_name="Obi")
    before = await fingerprint(session)
    form = {
        "nhs_number": known.nhs_number,
        "given_name": "Grace",
        "family_name": "Obi",
        "date_of_birth": "1990-01-02",
        "sex": "female",
        **typed,
    }

    response = await nurse.post("/wards/ASH/beds/A2/admit", admit_form(**form))

    assert response.status_code == 409
    problem = assert_page(response, fragment=False).by_id("admit-problem").text()
    assert f"their {differ} differ" in problem
    for recorded in ("Grace", "Obi", "OBI", "1990", "02/01", "2 January"):
        assert recorded not in problem
    assert "Grace" not in response.text.replace('value="Grace"', "")
    after = await fingerprint(session)
    # Nothing changed but the audit of the lookup, kept under the person it reached.
    assert after == {**before, "audit": before["audit"] + 1}
    entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.action, entry.entity_type, entry.entity_id) == (
        "patient.lookup_failed",
        "patients",
        str(known.id),
    )
    assert entry.after["via"] == "page"


async def test_admit_with_a_known_nhs_number_needs_the_details(world, nurse, session):
    """Blank details with a known NHS number are not a match: 422 beside the fields."""
    known = await world.patient(given_name="Grace", family_name="Obi")
    before = await fingerprint(session)

    response = await nurse.post(
        "/wards/ASH/beds/A2/admit",
        admit_form(nhs_number=known.nhs_number, given_name="", date_of_birth="", sex=""),
    )

    assert response.status_code == 422
    assert await fingerprint(session) == {**before, "audit": before["audit"] + 1}


@pytest.mark.parametrize("htmx", HTMX)
async def test_admit_to_an_occupied_bed_is_409_with_a_message(world, nurse, session, htmx):
    await world.admit(bed="A1")
    before = await fingerprint(session)

    response = await nurse.post("/wards/ASH/beds/A1/admit", admit_form(), htmx=htmx)

    assert response.status_code == 409
    doc = assert_page(response, fragment=htmx)
    assert "Bed A1 is occupied." in doc.by_id("admit-problem").text()
    assert doc.by_id("admit-given_name").attrs["value"] == "Amira"
    assert await fingerprint(session) == before


async def test_admit_more_than_five_minutes_ahead_is_422_beside_the_time(world, nurse, session):
    before = await fingerprint(session)

    response = await nurse.post(
        "/wards/ASH/beds/A2/admit", admit_form(admitted_at="2026-03-10T12:06"), htmx=True
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert "future" in (field_error(doc, "admit-admitted_at") or "")
    assert doc.by_id("admit-admitted_at").attrs["value"] == "2026-03-10T12:06"
    assert await fingerprint(session) == before


async def test_admit_up_to_five_minutes_ahead_is_accepted(world, nurse, client):
    """Clocks on ward PCs drift: five minutes ahead of the server is still now."""
    response = await nurse.post(
        "/wards/ASH/beds/A2/admit", admit_form(admitted_at="2026-03-10T12:05")
    )

    assert response.status_code == 303
    assert (await board_json(client, world))["A2"]["occupant"] is not None


# --- open and close beds -----------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_close_bed_form_as_page_and_fragment(world, nurse, htmx):
    response = await nurse.get("/wards/ASH/beds/A6/close", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    form = doc.find("form", action="/wards/ASH/beds/A6/status")
    assert form is not None
    assert form.find("input", name="status").attrs["value"] == "closed"  # type: ignore[union-attr]
    assert doc.by_id("close-reason") is not None


@pytest.mark.parametrize("htmx", HTMX)
async def test_close_a_bed_with_a_reason(world, nurse, client, htmx):
    response = await nurse.post(
        "/wards/ASH/beds/A6/status", {"status": "closed", "reason": "Ligature work"}, htmx=htmx
    )

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "board-changed"
        assert "Bed A6 closed." in response.text
    else:
        assert response.status_code == 303
        assert response.headers["location"] == "/wards/ASH"
    a6 = (await board_json(client, world))["A6"]
    assert a6["status"] == "closed"
    assert a6["reason"] == "Ligature work"
    card = bed_card(parse((await nurse.get("/wards/ASH", htmx=True)).text), "A6")
    assert "Ligature work" in card.text()


@pytest.mark.parametrize("reason", ["", "  "], ids=["empty", "blank"])
async def test_close_a_bed_without_a_reason_is_422(world, nurse, session, reason):
    before = await fingerprint(session)

    response = await nurse.post(
        "/wards/ASH/beds/A6/status", {"status": "closed", "reason": reason}, htmx=True
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "close-reason")
    assert await fingerprint(session) == before


async def test_reopen_a_closed_bed(world, nurse, client):
    closed = await nurse.post(
        "/wards/ASH/beds/A6/status", {"status": "closed", "reason": "Deep clean"}
    )
    assert closed.status_code == 303
    reopen_form = bed_card(parse((await nurse.get("/wards/ASH")).text), "A6").find("form")
    assert reopen_form is not None
    assert reopen_form.find("input", name="status").attrs["value"] == "open"  # type: ignore[union-attr]

    response = await nurse.post("/wards/ASH/beds/A6/status", {"status": "open"}, htmx=True)

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "board-changed"
    a6 = (await board_json(client, world))["A6"]
    assert a6["status"] == "open"
    assert a6["reason"] is None
    card = bed_card(parse((await nurse.get("/wards/ASH")).text), "A6")
    assert card.find("a", href="/wards/ASH/beds/A6/admit") is not None


async def test_closing_an_occupied_bed_is_409_with_a_message(world, nurse, session):
    await world.admit(bed="A1")
    before = await fingerprint(session)

    response = await nurse.post(
        "/wards/ASH/beds/A1/status", {"status": "closed", "reason": "Deep clean"}, htmx=True
    )

    assert response.status_code == 409
    assert "Bed A1 is occupied" in response.text
    assert await fingerprint(session) == before


# --- transfer ----------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_transfer_form_as_page_and_fragment(world, nurse, htmx):
    admission = await world.admit(bed="A1")
    await world.admit(ward="CEDAR", bed="C1")

    response = await nurse.get(f"/admissions/{admission.id}/transfer", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    assert "Now in Ash Ward, bed A1." in doc.text()
    choices = {o.attrs["value"] for o in doc.by_id("transfer-bed").find_all("option")}
    assert {"ASH/A2", "BIRCH/B1", "CEDAR/C2"} <= choices
    assert "ASH/A1" not in choices  # where they are now
    assert "CEDAR/C1" not in choices  # someone else's bed
    assert doc.by_id("transfer-at").attrs["value"] == "2026-03-10T12:00"


@pytest.mark.parametrize("htmx", HTMX)
async def test_transfer_moves_the_person(world, nurse, client, htmx):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/transfer",
        {"bed": "ASH/A4", "at": "2026-03-10T10:30", "reason": "Quieter room"},
        htmx=htmx,
    )

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "board-changed"
        assert "moved to Ash Ward, bed A4" in response.text
    else:
        assert response.status_code == 303
        assert response.headers["location"] == "/wards/ASH"
    board = await board_json(client, world)
    assert board["A1"]["occupant"] is None
    assert board["A4"]["occupant"]["admission_id"] == admission_id
    stays = (await admission_json(client, world, admission_id))["stays"]
    assert [(s["bed_label"], s["transfer_reason"]) for s in stays] == [
        ("A1", None),
        ("A4", "Quieter room"),
    ]
    assert instant(stays[0]["ended_at"]) == instant("2026-03-10T10:30:00Z")


@pytest.mark.parametrize("htmx", HTMX)
async def test_transfer_to_another_ward(world, nurse, client, htmx):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/transfer",
        {"bed": "CEDAR/C2", "at": "2026-03-10T10:30", "reason": "Step down"},
        htmx=htmx,
    )

    if htmx:
        assert response.status_code == 200
        assert "moved to Cedar Ward, bed C2" in response.text
    else:
        # Back to the board the nurse was working on (she cannot open Cedar's).
        assert response.status_code == 303
        assert response.headers["location"] == "/wards/ASH"
        assert (await nurse.get(response.headers["location"])).status_code == 200
    cedar = await board_json(client, world, "CEDAR")
    assert cedar["C2"]["occupant"]["admission_id"] == admission_id
    assert (await board_json(client, world))["A1"]["occupant"] is None


@pytest.mark.parametrize("htmx", HTMX)
async def test_transfer_without_a_bed_is_422_beside_the_field(world, nurse, session, htmx):
    admission_id = (await world.admit(bed="A1")).id
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/transfer",
        {"bed": "", "at": "2026-03-10T10:30", "reason": "Quieter room"},
        htmx=htmx,
    )

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "transfer-bed") == "Choose the bed to move to"
    assert doc.by_id("transfer-reason").text() == "Quieter room"
    assert doc.by_id("transfer-at").attrs["value"] == "2026-03-10T10:30"
    assert await fingerprint(session) == before


async def test_transfer_to_an_occupied_bed_is_409(world, nurse, session):
    admission_id = (await world.admit(bed="A1")).id
    await world.admit(bed="A2")
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/transfer",
        {"bed": "ASH/A2", "at": "2026-03-10T10:30", "reason": "Quieter room"},
        htmx=True,
    )

    assert response.status_code == 409
    assert "Bed A2 is occupied." in response.text
    assert await fingerprint(session) == before


# --- discharge ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_discharge_form_as_page_and_fragment(world, nurse, htmx):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.get(f"/admissions/{admission_id}/discharge", htmx=htmx)

    assert response.status_code == 200
    doc = assert_page(response, fragment=htmx)
    assert "Discharge Jane SMITH" in doc.text()
    form = doc.find("form", action=f"/admissions/{admission_id}/discharge")
    assert form is not None
    if htmx:
        assert form.attrs["hx-post"] == form.attrs["action"]
    assert doc.by_id("discharge-at").attrs["value"] == "2026-03-10T12:00"
    assert doc.by_id("discharge-destination").tag == "select"


@pytest.mark.parametrize("htmx", HTMX)
async def test_discharge_ends_the_admission_and_frees_the_bed(world, nurse, client, htmx):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/discharge",
        {"at": "2026-03-10T11:15", "destination": "usual_residence"},
        htmx=htmx,
    )

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "board-changed"
        assert "Jane SMITH discharged." in response.text
    else:
        assert response.status_code == 303
        assert response.headers["location"] == "/wards/ASH"
    admission = await admission_json(client, world, admission_id)
    assert admission["status"] == "discharged"
    assert admission["discharge_destination"] == "usual_residence"
    assert instant(admission["discharged_at"]) == instant("2026-03-10T11:15:00Z")
    assert (await board_json(client, world))["A1"]["occupant"] is None


@pytest.mark.parametrize("htmx", HTMX)
async def test_discharge_without_a_destination_is_422_beside_the_field(world, nurse, session, htmx):
    admission_id = (await world.admit(bed="A1")).id
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/discharge",
        {"at": "2026-03-10T11:15", "destination": ""},
        htmx=htmx,
    )

    assert response.status_code == 422
    doc = assert_page(response, fragment=htmx)
    assert field_error(doc, "discharge-destination") == "Choose the destination"
    assert field_error(doc, "discharge-at") is None
    assert doc.by_id("discharge-at").attrs["value"] == "2026-03-10T11:15"
    assert await fingerprint(session) == before


async def test_discharge_before_the_admission_is_422_beside_the_time(world, nurse, session):
    admission_id = (await world.admit(bed="A1")).id  # two days ago
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/discharge",
        {"at": "2026-03-01T11:15", "destination": "usual_residence"},
        htmx=True,
    )

    assert response.status_code == 422
    assert "before the admission" in (field_error(parse(response.text), "discharge-at") or "")
    assert await fingerprint(session) == before


# --- the admission page ------------------------------------------------------------------


async def test_admission_page_shows_reason_and_expected_benefit(world, nurse):
    admission_id = (await world.admit(bed="A1", legal_status="s3")).id

    response = await nurse.get(f"/admissions/{admission_id}")

    assert response.status_code == 200
    doc = assert_page(response, fragment=False)
    assert doc.find("h1").text() == "Jane SMITH"  # type: ignore[union-attr]
    assert doc.by_id("admission-reason").text() == "Severe depression with risk to self"
    assert doc.by_id("admission-benefit").text() == "Safe start of treatment"
    assert "In Ash Ward, bed A1" in doc.text()
    assert "Section 3" in doc.text()


async def test_purpose_review_is_recorded_and_shown(world, nurse, client):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/purpose-reviews",
        {"at": "2026-03-10T10:00", "still_needed": "no", "note": "Mood lifted; plan leave"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admissions/{admission_id}"
    page = parse((await nurse.get(response.headers["location"])).text)
    reviews = page.by_id("purpose-reviews").text()
    assert "No longer needed" in reviews
    assert "Mood lifted; plan leave" in reviews
    assert "10 Mar 2026, 10:00" in reviews
    [review] = (await admission_json(client, world, admission_id))["purpose_reviews"]
    assert review["still_needed"] is False
    assert instant(review["at"]) == instant("2026-03-10T10:00:00Z")


async def test_purpose_review_without_a_note_is_422(world, nurse, session):
    admission_id = (await world.admit(bed="A1")).id
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/purpose-reviews",
        {"at": "2026-03-10T10:00", "still_needed": "yes", "note": " "},
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "review-note") == "Enter the note"
    assert await fingerprint(session) == before


async def test_purpose_review_without_an_answer_is_422(world, nurse, session):
    admission_id = (await world.admit(bed="A1")).id
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/purpose-reviews",
        {"at": "2026-03-10T10:00", "still_needed": "", "note": "Seen on ward round"},
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "review-still_needed") == "Say whether admission is still needed"
    assert doc.by_id("review-note").text() == "Seen on ward round"
    assert await fingerprint(session) == before


async def test_legal_status_change_is_recorded_and_shown(world, nurse, client):
    admission_id = (await world.admit(bed="A1", legal_status="s2")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/legal-status",
        {"legal_status": "s3", "at": "2026-03-10T09:30"},
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/admissions/{admission_id}"
    page = parse((await nurse.get(response.headers["location"])).text)
    rows = {
        row.find("dt").text(): row.find("dd").text()  # type: ignore[union-attr]
        for row in page.find_all("div", class_="nhsuk-summary-list__row")
    }
    assert rows["Legal status"] == "Section 3"
    assert "10 Mar 2026, 09:30: Section 3" in page.text()
    admission = await admission_json(client, world, admission_id)
    assert admission["legal_status"] == "s3"
    assert [c["legal_status"] for c in admission["legal_status_history"]] == ["s2", "s3"]
    assert instant(admission["legal_status_history"][1]["at"]) == instant("2026-03-10T09:30:00Z")
    board = await board_json(client, world)
    assert board["A1"]["occupant"]["legal_status"] == "s3"


async def test_legal_status_change_without_a_status_is_422(world, nurse, session):
    admission_id = (await world.admit(bed="A1")).id
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/legal-status", {"legal_status": "", "at": "2026-03-10T09:30"}
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "legal-legal_status") == "Choose the legal status"
    assert await fingerprint(session) == before


async def test_legal_status_change_in_the_future_is_422(world, nurse, session):
    admission_id = (await world.admit(bed="A1")).id
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission_id}/legal-status",
        {"legal_status": "s3", "at": "2026-03-11T09:30"},
    )

    assert response.status_code == 422
    assert "future" in (field_error(parse(response.text), "legal-at") or "")
    assert await fingerprint(session) == before


async def test_an_error_shows_only_in_the_form_that_was_sent(world, nurse):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/legal-status", {"legal_status": "s3", "at": "yesterday"}
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "legal-at")
    assert field_error(doc, "review-at") is None


# --- what a browser can actually submit ---------------------------------------------------


SELECTS = [
    ("/wards/ASH/beds/A2/admit", "admit-sex", {"male", "female", "other", "not_known"}),
    ("/wards/ASH/beds/A2/admit", "admit-ethnic_category", {"A", "J", "N", "Z", "99"}),
    ("/wards/ASH/beds/A2/admit", "admit-home_locality_code", {"LDS", "YRK"}),
    ("/wards/ASH/beds/A2/admit", "admit-legal_status", {"informal", "s2", "s3", "s37_41"}),
    ("/admissions/{id}/discharge", "discharge-destination", {"usual_residence", "care_home"}),
    ("/admissions/{id}", "review-still_needed", {"yes", "no"}),
    ("/admissions/{id}", "legal-legal_status", {"informal", "s2", "s3"}),
]


@pytest.mark.parametrize("path, select_id, expected", SELECTS, ids=[s[1] for s in SELECTS])
async def test_form_selects_offer_their_choices(world, nurse, path, select_id, expected):
    admission_id = (await world.admit(bed="A1")).id

    doc = parse((await nurse.get(path.format(id=admission_id))).text)

    options = {o.attrs["value"] for o in doc.by_id(select_id).find_all("option")}
    assert expected <= options


async def test_a_form_with_an_error_keeps_the_choices_made(world, nurse):
    admission_id = (await world.admit(bed="A1")).id

    response = await nurse.post(
        f"/admissions/{admission_id}/purpose-reviews",
        {"at": "2026-03-10T10:00", "still_needed": "no", "note": ""},
    )

    assert response.status_code == 422
    selected = [
        o.attrs["value"]
        for o in parse(response.text).by_id("review-still_needed").find_all("option")
        if "selected" in o.attrs
    ]
    assert selected == ["no"]


PANEL_FORM_PAGES = [
    "/wards/ASH/beds/A2/admit",
    "/wards/ASH/beds/A6/close",
    "/admissions/{id}/transfer",
    "/admissions/{id}/discharge",
]
FULL_PAGES = ["/wards/ASH", "/admissions/{id}", "/account", *PANEL_FORM_PAGES]


@pytest.mark.parametrize("path", FULL_PAGES)
async def test_every_post_form_on_a_page_carries_the_session_csrf_token(world, nurse, path):
    admission_id = (await world.admit(bed="A1")).id
    await nurse.post("/wards/ASH/beds/A5/status", {"status": "closed", "reason": "Repairs"})

    doc = parse((await nurse.get(path.format(id=admission_id))).text)

    forms = [f for f in doc.find_all("form") if f.attrs.get("method") == "post"]
    assert forms
    for form in forms:
        token = form.find("input", name="csrf_token")
        assert token is not None, form.attrs
        assert token.attrs["value"] == nurse.csrf


@pytest.mark.parametrize("path", PANEL_FORM_PAGES)
async def test_htmx_targets_exist_on_the_full_page(world, nurse, path):
    admission_id = (await world.admit(bed="A1")).id

    doc = parse((await nurse.get(path.format(id=admission_id))).text)

    for element in doc.iter():
        target = element.attrs.get("hx-target")
        if target and target.startswith("#"):
            assert doc.find(id=target[1:]) is not None, (element.tag, element.attrs)


async def test_board_page_has_the_panel_its_forms_target(world, nurse):
    await world.admit(bed="A1")

    doc = parse((await nurse.get("/wards/ASH")).text)

    targets = {e.attrs["hx-target"] for e in doc.iter() if "hx-target" in e.attrs}
    assert targets == {"#panel"}
    assert doc.find(id="panel") is not None


# --- the audit page ----------------------------------------------------------------------


async def test_audit_page_lists_an_admissions_entries_for_admins(world, signed_in, nurse):
    admission_id = (await world.admit(bed="A1")).id
    changed = await nurse.post(
        f"/admissions/{admission_id}/legal-status", {"legal_status": "s3", "at": "2026-03-10T09:30"}
    )
    assert changed.status_code == 303
    admin = await signed_in("admin")

    response = await admin.get(
        "/admin/audit", params={"entity_type": "admissions", "entity_id": str(admission_id)}
    )

    assert response.status_code == 200
    entries = [
        [td.text() for td in row.find_all("td")][1:4]
        for row in parse(response.text).by_id("audit-entries").find_all("tr")[1:]
    ]
    assert entries == [
        ["nurse", "admission.update", f"admissions {admission_id}"],
        ["admin", "admission.create", f"admissions {admission_id}"],
    ]


async def test_audit_page_is_refused_to_non_admins(world, nurse):
    response = await nurse.get("/admin/audit")

    assert response.status_code == 403
    assert 'id="audit-entries"' not in response.text


# --- every form refuses a request without its CSRF token ---------------------------------

FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "admit": ("/wards/ASH/beds/A2/admit", admit_form()),
    "bed status": ("/wards/ASH/beds/A6/status", {"status": "closed", "reason": "Deep clean"}),
    "transfer": (
        "/admissions/{id}/transfer",
        {"bed": "ASH/A3", "at": "2026-03-10T10:00", "reason": "Quieter"},
    ),
    "discharge": (
        "/admissions/{id}/discharge",
        {"at": "2026-03-10T10:00", "destination": "usual_residence"},
    ),
    "purpose review": (
        "/admissions/{id}/purpose-reviews",
        {"at": "2026-03-10T10:00", "still_needed": "yes", "note": "Still unwell"},
    ),
    "legal status": (
        "/admissions/{id}/legal-status",
        {"legal_status": "s3", "at": "2026-03-10T10:00"},
    ),
    "logout": ("/logout", {}),
    "account tokens": ("/account/tokens", {}),
}


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("token", ["missing", "wrong", "another session's"])
@pytest.mark.parametrize("htmx", HTMX)
async def test_every_form_refuses_a_post_without_its_csrf_token(
    world, signed_in, session, form, token, htmx
):
    admission_id = (await world.admit(bed="A1")).id
    nurse = await signed_in("nurse")
    other = await signed_in("nurse")
    before = await fingerprint(session)
    path, data = FORMS[form]
    csrf: bool | str = {"missing": False, "wrong": "x" * 43, "another session's": other.csrf}[token]

    response = await nurse.post(path.format(id=admission_id), data, csrf=csrf, htmx=htmx)

    assert response.status_code == 403
    assert "did not come from Wardflow" in response.text
    assert await fingerprint(session) == before
    assert (await nurse.get("/wards/ASH")).status_code == 200  # still signed in


# --- a fixed number of queries for the board, whatever the ward's size ------------------


async def make_ward(world, session, code: str, beds: int, occupied: int) -> None:  # type: ignore[no-untyped-def]
    admin = world.users["admin"]
    await service.create_ward(
        session,
        actor=admin,
        now=world.now,
        data=schemas.WardIn(
            code=code,
            name=f"{code.title()} Ward",
            site_code="STJ",
            ward_type="adult_acute",
            sex="mixed",
            min_age=18,
            max_age=64,
        ),
    )
    for i in range(1, beds + 1):
        await service.add_bed(
            session,
            actor=admin,
            ward_code=code,
            now=world.now,
            data=schemas.BedIn(label=f"{code[0]}{i:02d}"),
        )
    await session.commit()
    for i in range(1, occupied + 1):
        await world.admit(ward=code, bed=f"{code[0]}{i:02d}", legal_status="s3")


async def statements_for(query_counter, request) -> tuple[int, Any]:  # type: ignore[no-untyped-def]
    start = len(query_counter)
    response = await request
    return len(query_counter) - start, response


async def test_board_query_count_does_not_grow_with_the_ward(
    world, session, signed_in, client, query_counter
):
    await make_ward(world, session, "SMALL", beds=3, occupied=2)
    await make_ward(world, session, "LARGE", beds=30, occupied=25)
    headers = world.auth("admin")
    admin = await signed_in("admin")
    # Warm up: the first use of a token records when it was last used.
    assert (await client.get("/api/v1/wards", headers=headers)).status_code == 200
    assert (await admin.get("/wards")).status_code == 200

    small_api, small = await statements_for(
        query_counter, client.get("/api/v1/wards/SMALL/board", headers=headers)
    )
    large_api, large = await statements_for(
        query_counter, client.get("/api/v1/wards/LARGE/board", headers=headers)
    )
    small_page, small_html = await statements_for(query_counter, admin.get("/wards/SMALL"))
    large_page, large_html = await statements_for(query_counter, admin.get("/wards/LARGE"))

    # The counts are of real boards: 2 and 25 people on them.
    assert small.json()["occupancy"]["occupied"] == 2
    assert large.json()["occupancy"]["occupied"] == 25
    assert small_html.text.count("wf-bed--occupied") == 2
    assert large_html.text.count("wf-bed--occupied") == 25
    assert small_api > 0 and small_page > 0
    assert large_api == small_api
    assert large_page == small_page
