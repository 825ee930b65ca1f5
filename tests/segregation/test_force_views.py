"""Use-of-force pages: the form (by name, grouped, three-state answers), saving through it,
refusals shown beside their fields with nothing written, the record page with what is missing,
and corrections that need a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.segregation.force import checks as force_checks
from app.segregation.force import service as force
from app.segregation.force.models import (
    InterventionStaff,
    InterventionType,
    InterventionVersion,
    RestrictiveIntervention,
)
from app.web import templates
from tests.auth.helpers import Node, field_error, parse

API = "/api/v1"


@pytest.fixture
async def admission(world):  # type: ignore[no-untyped-def]
    return await world.admit()  # ASH, admitted 2026-03-08T12:00Z; the clock says 10 Mar 12:00Z


def form(**overrides: Any) -> dict[str, Any]:
    """A complete form as a person fills it in (times are UK local, GMT in early March)."""
    data: dict[str, Any] = {
        "started_at": "2026-03-09T10:00",
        "ended_at": "2026-03-09T10:12",
        "place": "Lounge",
        "reason_code": "10",
        "types": ["01", "07"],
        "type-01-started_at": "2026-03-09T10:02",
        "type-01-ended_at": "2026-03-09T10:05",
        "type-07-started_at": "",
        "type-07-ended_at": "",
        "description": "Held standing, then prone for three minutes.",
        "in_care_plan": "yes",
        "staff-0-name": "Sam Okafor",
        "staff-0-job_title": "Staff nurse",
        "staff-1-name": "",
        "staff-1-job_title": "",
        "staff-2-name": "Lee Chan",
        "staff-2-job_title": "Healthcare assistant",
        "staff-3-name": "",
        "staff-3-job_title": "",
        "non_unit_staff": "none",
        "non_unit_staff_reason": "",
        "outcome": "Settled; seen by the duty doctor.",
        "patient_injury": "no",
        "staff_injury": "no",
        "avoidance_efforts": "Talked down; offered PRN.",
        "care_plan_notification_sent": "yes",
        "debriefed_at": "2026-03-09T15:00",
    }
    data.update(overrides)
    return data


async def fingerprint(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    models = (
        RestrictiveIntervention,
        InterventionType,
        InterventionStaff,
        InterventionVersion,
        AuditEntry,
    )
    return {m.__name__: await session.scalar(select(func.count()).select_from(m)) for m in models}


async def stored(session) -> RestrictiveIntervention:  # type: ignore[no-untyped-def]
    records = await session.scalars(
        select(RestrictiveIntervention)
        .options(*force.DETAIL)
        .order_by(RestrictiveIntervention.id.desc())
        .execution_options(populate_existing=True)
    )
    return records.first()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def summary_errors(doc: Node) -> list[str]:
    summary = doc.find(class_="nhsuk-error-summary")
    return [] if summary is None else [a.text() for a in summary.find_all("a")]


def checked(doc: Node, name: str) -> list[str]:
    return [i.attrs["value"] for i in doc.find_all("input", name=name) if "checked" in i.attrs]


# --- the form ------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
async def test_the_form_offers_reasons_by_name_and_types_grouped_by_kind(nurse, admission, htmx):
    r = await nurse.get(f"/admissions/{admission.id}/use-of-force/new", htmx=htmx)

    assert r.status_code == 200
    assert ("<html" in r.text) is not htmx
    doc = parse(r.text)
    options = {
        o.attrs["value"]: o.text() for o in doc.by_id("force-reason_code").find_all("option")
    }
    assert options["10"] == "Prevent violence to others"
    assert options["99"] == "Not known"
    assert options[""] == "Not yet recorded"
    assert all(not text.isdigit() for text in options.values())
    groups = {}
    for fieldset in doc.find_all("fieldset"):
        boxes = fieldset.find_all("input", name="types")
        legend = fieldset.find("legend")
        if boxes and legend is not None and legend.text() != "What was done":
            groups[legend.text()] = [
                doc.find("label", for_=b.attrs["id"]).text()
                for b in boxes  # type: ignore[union-attr]
            ]
    assert list(groups) == ["Physical restraint", "Mechanical restraint", "Chemical restraint"]
    assert groups["Physical restraint"][0] == "Physical restraint - prone"
    assert groups["Mechanical restraint"] == ["Mechanical restraint"]
    assert len(groups["Chemical restraint"]) == 4
    assert all(b.attrs["value"] not in ("05", "06") for b in doc.find_all("input", name="types"))
    # Yes/no questions have a third answer, and it is the one chosen until someone answers.
    assert [i.attrs["value"] for i in doc.find_all("input", name="in_care_plan")] == [
        "yes",
        "no",
        "",
    ]
    assert checked(doc, "in_care_plan") == [""]
    assert checked(doc, "non_unit_staff") == [""]
    assert len(doc.find_all("input", name="staff-3-name")) == 1
    assert not doc.find_all("input", name="staff-4-name")
    assert not doc.find_all(name="correction_reason")  # only when correcting


@pytest.mark.parametrize("user", ["birchnurse", "beds", "director"])
async def test_only_writers_on_the_ward_get_the_form(signed_in, admission, user):
    browser = await signed_in(user)
    assert (await browser.get(f"/admissions/{admission.id}/use-of-force/new")).status_code == 403


async def test_saving_the_form_stores_the_record_and_goes_to_its_page(nurse, admission, session):
    r = await nurse.post(f"/admissions/{admission.id}/use-of-force/new", form())

    assert r.status_code == 303, r.text
    record = await stored(session)
    assert r.headers["location"] == f"/use-of-force/{record.id}"
    assert (record.started_at, record.ended_at) == (
        utc("2026-03-09T10:00"),
        utc("2026-03-09T10:12"),
    )
    assert [(t.type_code, t.started_at, t.ended_at) for t in record.types] == [
        ("01", utc("2026-03-09T10:02"), utc("2026-03-09T10:05")),
        ("07", record.started_at, record.ended_at),
    ]
    # The blank row between the two people is not a person.
    assert [(s.name, s.job_title) for s in record.staff] == [
        ("Sam Okafor", "Staff nurse"),
        ("Lee Chan", "Healthcare assistant"),
    ]
    assert record.non_unit_staff_reason == force.NO_NON_UNIT_STAFF
    assert (record.in_care_plan, record.patient_injury, record.care_plan_notification_sent) == (
        True,
        False,
        True,
    )
    assert record.place == "Lounge" and record.reason_code == "10"
    assert force_checks.missing_items(record) == []
    page = parse((await nurse.get(r.headers["location"])).text)
    assert page.find(id="force-complete") is not None and page.find(id="force-missing") is None


async def test_form_times_are_uk_local_time(signed_in, world, clock, session):
    clock.now = world.now = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)  # British Summer Time
    admission = await world.admit(at=datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    nurse = await signed_in("nurse")

    r = await nurse.post(
        f"/admissions/{admission.id}/use-of-force/new",
        form(
            started_at="2026-04-09T10:00",
            ended_at="2026-04-09T10:12",
            types=["09"],
            debriefed_at="",
        ),
    )

    assert r.status_code == 303, r.text
    record = await stored(session)
    assert record.started_at == datetime(2026, 4, 9, 9, 0, tzinfo=UTC)
    assert record.debriefed_at is None


async def test_not_yet_recorded_answers_are_saved_as_missing(nurse, admission, session):
    r = await nurse.post(
        f"/admissions/{admission.id}/use-of-force/new",
        {"started_at": "2026-03-09T10:00", "in_care_plan": "", "non_unit_staff": ""},
    )

    assert r.status_code == 303, r.text
    record = await stored(session)
    assert force_checks.missing_items(record) == list(force_checks.MISSING_LABELS)
    page = parse((await nurse.get(r.headers["location"])).text)
    missing = page.by_id("force-missing")
    assert "12 items the Act requires are missing" in missing.text()
    assert [li.text() for li in missing.find_all("li")] == list(
        force_checks.MISSING_LABELS.values()
    )
    assert page.by_id("force-row-outcome").find(class_="nhsuk-tag").text() == "Not recorded"
    assert missing.find("a", href=f"/use-of-force/{record.id}/edit") is not None


async def test_a_form_without_its_csrf_token_is_refused(nurse, admission, session):
    before = await fingerprint(session)
    r = await nurse.post(f"/admissions/{admission.id}/use-of-force/new", form(), csrf=False)
    assert r.status_code == 403
    assert await fingerprint(session) == before


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        pytest.param(
            {"ended_at": "2026-03-09T09:59"},
            "force-ended_at",
            "When it ended must be at or after when it began",
            id="end-before-start",
        ),
        pytest.param({"started_at": ""}, "force-started_at", "Enter when it began", id="no-start"),
        pytest.param(
            {"started_at": "yesterday"},
            "force-started_at",
            "Enter a date and time",
            id="not-a-time",
        ),
        pytest.param(
            {"started_at": "2026-03-08T11:59"},
            "force-started_at",
            "When it began cannot be before the admission",
            id="before-admission",
        ),
        pytest.param(
            {"type-01-started_at": "2026-03-09T09:58"},
            "force-type-01-started_at",
            "When physical restraint - prone began cannot be before",
            id="type-outside",
        ),
        pytest.param(
            {"staff-2-job_title": ""},
            "force-staff-2-job_title",
            "Enter the job title of person 3",
            id="staff-without-title",
        ),
        pytest.param(
            {"non_unit_staff": "yes"},
            "force-non_unit_staff_reason",
            "Say who from outside",
            id="outsider-without-reason",
        ),
        pytest.param(
            {"types": ["05"]},
            "force-types",
            "Seclusion is recorded as an episode",
            id="seclusion-as-type",
        ),
    ],
)
async def test_a_refused_form_shows_the_error_beside_its_field_and_writes_nothing(
    nurse, admission, session, overrides, field_id, message
):
    before = await fingerprint(session)

    r = await nurse.post(f"/admissions/{admission.id}/use-of-force/new", form(**overrides))

    assert r.status_code == 422
    doc = parse(r.text)
    beside = field_error(doc, field_id)
    assert beside is not None and beside.startswith(message), beside
    assert beside in summary_errors(doc)
    summary_link = doc.find(class_="nhsuk-error-summary").find("a", href=f"#{field_id}")  # type: ignore[union-attr]
    assert summary_link is not None
    assert doc.by_id("force-description").text() == form()["description"]  # what was typed stays
    assert await fingerprint(session) == before


async def test_a_refused_form_keeps_the_ticked_types_and_extra_staff_rows(nurse, admission):
    filled = {f"staff-{i}-{k}": f"{k} {i}" for i in range(4) for k in ("name", "job_title")}
    r = await nurse.post(
        f"/admissions/{admission.id}/use-of-force/new",
        form(ended_at="2026-03-09T09:00", **filled),
    )
    doc = parse(r.text)
    assert checked(doc, "types") == ["01", "07"]
    assert doc.by_id("force-staff-3-name").attrs["value"] == "name 3"
    assert doc.find(id="force-staff-7-name") is not None  # four more spare rows


# --- the record page and the admission's list -----------------------------------------------


async def create_by_api(client, world, admission_id: int, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.post(
        f"{API}/admissions/{admission_id}/restrictive-interventions",
        headers=world.auth("nurse"),
        json={"started_at": "2026-03-09T10:00:30Z", **body},
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize(
    ("user", "status", "can_edit"),
    [
        ("nurse", 200, True),
        ("lead", 200, False),
        ("birchnurse", 403, False),
        ("director", 403, False),
    ],
)
async def test_the_record_page_and_who_sees_it(
    client, world, signed_in, admission, user, status, can_edit
):
    rec = await create_by_api(
        client, world, admission.id, types=[{"type_code": "01"}], outcome="Calm"
    )
    browser = await signed_in(user)

    r = await browser.get(f"/use-of-force/{rec['id']}")

    assert r.status_code == status
    if status == 200:
        doc = parse(r.text)
        assert "Physical restraint - prone" in doc.by_id("force-row-types").text()
        assert "Jane SMITH" in doc.by_id("force-row-patient").text()
        assert (doc.find("a", href=f"/use-of-force/{rec['id']}/edit") is not None) is can_edit
        versions = doc.by_id("force-versions").find_all("tr")[1:]
        assert [td.text() for td in versions[0].find_all("td")] == [
            "1",
            "10 Mar 2026, 12:00",
            "nurse",
            "First recorded",
        ]


@pytest.mark.parametrize("htmx", [False, True])
async def test_the_record_page_is_a_page_or_a_fragment(client, world, nurse, admission, htmx):
    rec = await create_by_api(client, world, admission.id)

    r = await nurse.get(f"/use-of-force/{rec['id']}", htmx=htmx)

    assert r.status_code == 200 and "HX-Request" in r.headers["vary"]
    assert ("<html" in r.text) is not htmx
    assert parse(r.text).find(id="force-record") is not None


async def test_an_unknown_record_is_not_found(nurse):
    assert (await nurse.get("/use-of-force/99999")).status_code == 404


async def test_the_list_partial_shows_each_use_of_force_by_name(client, world, admission, session):
    done = await create_by_api(
        client,
        world,
        admission.id,
        **{k: v for k, v in _complete_api_body().items()},
    )
    partial = await create_by_api(client, world, admission.id, started_at="2026-03-10T08:00:00Z")
    interventions = await force.interventions_for_admission(session, admission.id)

    html = templates.get_template("segregation/_force_list.html").render(
        interventions=interventions, admission_id=admission.id
    )

    doc = parse(html)
    rows = doc.by_id("force-list").find_all("tr")[1:]
    assert [r.attrs["id"] for r in rows] == [f"force-{partial['id']}", f"force-{done['id']}"]
    newest, oldest = ([td.text() for td in r.find_all("td")] for r in rows)
    assert newest[1:] == ["Not recorded", "Not recorded", "12 items missing"]
    assert oldest[1:] == [
        "Physical restraint - supine",
        "Prevent serious intentional self-harm",
        "Complete",
    ]
    assert rows[1].find("a", href=f"/use-of-force/{done['id']}") is not None
    assert doc.find("a", href=f"/admissions/{admission.id}/use-of-force/new") is not None
    hidden = templates.get_template("segregation/_force_list.html").render(
        interventions=[], admission_id=admission.id, can_write=False
    )
    assert "use-of-force/new" not in hidden and "No use of force recorded" in hidden


@pytest.mark.parametrize(("user", "offered"), [("nurse", True), ("lead", False)])
async def test_the_admission_page_lists_its_uses_of_force(
    client, world, signed_in, admission, user, offered
):
    rec = await create_by_api(client, world, admission.id, types=[{"type_code": "14"}])
    browser = await signed_in(user)

    doc = parse((await browser.get(f"/admissions/{admission.id}")).text)

    listing = doc.by_id("force-list")
    row = listing.by_id(f"force-{rec['id']}")
    assert "Chemical restraint - rapid tranquillisation by injection" in row.text()
    assert "11 items missing" in row.text()
    new = listing.find("a", href=f"/admissions/{admission.id}/use-of-force/new")
    assert (new is not None) is offered


def _complete_api_body() -> dict[str, Any]:
    return {
        "ended_at": "2026-03-09T10:10:00Z",
        "reason_code": "11",
        "types": [{"type_code": "09"}],
        "staff": [{"name": "Sam Okafor", "job_title": "Staff nurse"}],
        "description": "Supine hold",
        "in_care_plan": False,
        "non_unit_staff_reason": "Police brought him back to the ward.",
        "outcome": "Settled",
        "avoidance_efforts": "De-escalation",
        "patient_injury": False,
        "staff_injury": True,
        "care_plan_notification_sent": False,
    }


# --- completing and correcting --------------------------------------------------------------


async def test_the_edit_form_is_filled_in_from_the_record(client, world, nurse, admission):
    rec = await create_by_api(
        client,
        world,
        admission.id,
        **{
            **_complete_api_body(),
            "types": [{"type_code": "09", "ended_at": "2026-03-09T10:05:00Z"}],
        },
    )

    doc = parse((await nurse.get(f"/use-of-force/{rec['id']}/edit")).text)

    assert doc.by_id("force-started_at").attrs["value"] == "2026-03-09T10:00"
    assert checked(doc, "types") == ["09"]
    assert doc.by_id("force-type-09-started_at").attrs["value"] == ""  # the incident's own
    assert doc.by_id("force-type-09-ended_at").attrs["value"] == "2026-03-09T10:05"
    assert checked(doc, "in_care_plan") == ["no"] and checked(doc, "staff_injury") == ["yes"]
    assert checked(doc, "non_unit_staff") == ["yes"]
    assert doc.by_id("force-non_unit_staff_reason").text() == "Police brought him back to the ward."
    assert doc.by_id("force-staff-0-name").attrs["value"] == "Sam Okafor"
    assert (
        doc.find(id="force-staff-4-name") is not None and doc.find(id="force-staff-5-name") is None
    )
    assert doc.find(id="force-correction_reason") is not None


async def edit_values(nurse, record_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What the edit form sends back if the person changes nothing."""
    doc = parse((await nurse.get(f"/use-of-force/{record_id}/edit")).text)
    values: dict[str, Any] = {"types": checked(doc, "types")}
    for node in doc.by_id("force-form").iter():
        name = node.attrs.get("name")
        if name in (None, "csrf_token", "types"):
            continue
        if node.tag == "textarea":
            values[name] = node.text()
        elif node.tag == "select":
            chosen = [o for o in node.find_all("option") if "selected" in o.attrs]
            values[name] = chosen[0].attrs["value"] if chosen else ""
        elif node.attrs.get("type") == "radio":
            if "checked" in node.attrs:
                values[name] = node.attrs["value"]
        else:
            values[name] = node.attrs.get("value", "")
    return values


async def test_filling_in_what_was_missing_needs_no_reason(
    client, world, nurse, admission, session
):
    # Made through the API with seconds, which the form cannot show: untouched, they must
    # not count as a change.
    rec = await create_by_api(
        client, world, admission.id, ended_at="2026-03-09T10:12:45Z", types=[{"type_code": "07"}]
    )
    values = await edit_values(nurse, rec["id"])

    r = await nurse.post(
        f"/use-of-force/{rec['id']}/edit", {**values, "outcome": "Settled", "patient_injury": "no"}
    )

    assert r.status_code == 303, r.text
    record = await stored(session)
    assert record.version == 2 and record.outcome == "Settled" and record.patient_injury is False
    assert record.started_at == utc("2026-03-09T10:00:30")  # seconds kept
    assert [t.retired_at for t in await session.scalars(select(InterventionType))] == [None]
    versions = parse((await nurse.get(f"/use-of-force/{rec['id']}")).text).by_id("force-versions")
    assert "Missing items added" in versions.text()


async def test_saving_an_unchanged_form_writes_no_version(client, world, nurse, admission, session):
    rec = await create_by_api(client, world, admission.id, **_complete_api_body())
    # Opening the form is an audited read (issue 17); saving it unchanged writes nothing.
    values = await edit_values(nurse, rec["id"])
    before = await fingerprint(session)

    r = await nurse.post(f"/use-of-force/{rec['id']}/edit", values)

    assert r.status_code == 303
    assert await fingerprint(session) == before


async def test_changing_what_was_recorded_needs_a_reason(
    client, world, nurse, admission, session, clock
):
    rec = await create_by_api(client, world, admission.id, **_complete_api_body())
    values = await edit_values(nurse, rec["id"])
    before = await fingerprint(session)

    refused = await nurse.post(f"/use-of-force/{rec['id']}/edit", {**values, "outcome": "Calm"})

    assert refused.status_code == 422
    doc = parse(refused.text)
    assert (
        field_error(doc, "force-correction_reason")
        == "Say why you are changing what was already recorded"
    )
    assert doc.by_id("force-outcome").text() == "Calm"
    assert await fingerprint(session) == before

    clock.now += timedelta(minutes=30)
    ok = await nurse.post(
        f"/use-of-force/{rec['id']}/edit",
        {**values, "outcome": "Calm", "types": ["10"], "correction_reason": "Side, not supine"},
    )

    assert ok.status_code == 303, ok.text
    record = await stored(session)
    assert record.version == 2 and record.outcome == "Calm"
    assert [t.type_code for t in record.types] == ["10"]
    retired = await session.scalar(
        select(InterventionType).where(InterventionType.type_code == "09")
    )
    assert retired.retired_at == clock.now
    page = parse((await nurse.get(f"/use-of-force/{rec['id']}")).text)
    latest = [td.text() for td in page.by_id("force-versions").find_all("tr")[1].find_all("td")]
    assert latest == ["2", "10 Mar 2026, 12:30", "nurse", "Side, not supine"]


@pytest.mark.parametrize("user", ["birchnurse", "lead"])
async def test_only_writers_on_the_ward_may_correct(
    client, world, signed_in, admission, session, user
):
    rec = await create_by_api(client, world, admission.id)
    browser = await signed_in(user)
    before = await fingerprint(session)
    assert (await browser.get(f"/use-of-force/{rec['id']}/edit")).status_code == 403
    r = await browser.post(f"/use-of-force/{rec['id']}/edit", {"outcome": "Calm", "types": []})
    assert r.status_code == 403
    assert await fingerprint(session) == before
