"""Clinically ready for discharge on the ward board: the card shows why the person is still
here, whose delay it is and for how many days; the two panel forms (mark ready, no longer
delayed) each as a page, as a fragment and for their effect; the admission page's list;
and a board whose query count does not grow with the number of people ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.discharge import ready
from app.discharge.codes import DELAY_REASON_GROUPS
from app.discharge.models import ReadyForDischarge
from app.discharge.schemas import ReadyEndIn, ReadyIn
from tests.auth.helpers import Node, field_error, parse

HTMX = [pytest.param(False, id="plain"), pytest.param(True, id="htmx")]
SUPPORTED_ACCOMMODATION = "Housing: awaiting supported accommodation"


async def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def fingerprint(session) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """What a refused form must leave as it was."""
    return (
        await count(session, ReadyForDischarge),
        await count(session, ReadyForDischarge, ReadyForDischarge.ended_at.is_(None)),
        await count(session, AuditEntry),
    )


async def mark_ready(  # type: ignore[no-untyped-def]
    world, admission, started_at: datetime, reason: str = "18", agency: str = "social_care"
) -> ReadyForDischarge:
    period = await ready.start(
        world.session,
        actor=world.users["admin"],
        admission_id=admission.id,
        data=ReadyIn(started_at=started_at, reason_code=reason, attributable_to=agency),
        now=world.now,
    )
    await world.session.commit()
    return period


def card(html: str, label: str = "A1") -> Node:
    return parse(html).by_id(f"bed-{label}")


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def admission_json(client, world, admission_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/admissions/{admission_id}", headers=world.auth())
    assert response.status_code == 200
    return response.json()


async def occupant_json(client, world, label: str = "A1") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/wards/ASH/board", headers=world.auth())
    assert response.status_code == 200
    (bed,) = [b for b in response.json()["beds"] if b["label"] == label]
    return bed["occupant"]


def ready_form(**overrides: str) -> dict[str, str]:
    return {
        "started_at": "2026-03-10T09:30",
        "reason_code": "18",
        "attributable_to": "social_care",
        **overrides,
    }


# --- the card ----------------------------------------------------------------------------


async def test_card_shows_the_reason_agency_and_days_delayed(world, nurse):
    admission = await world.admit(bed="A1", at=world.now - timedelta(days=20))
    period = await mark_ready(world, admission, world.now - timedelta(days=8, hours=3))
    beside = await world.admit(bed="A2")

    html = (await nurse.get("/wards/ASH")).text

    bed = card(html, "A1")
    box = bed.find("div", class_="wf-ready")
    assert box is not None
    text = box.text()
    assert "Ready for discharge" in text
    assert SUPPORTED_ACCOMMODATION in text
    assert "Social care" in text
    assert "8 days delayed" in text
    # The flag is drawn as this box, not repeated as a bare tag.
    assert "ready for discharge" not in (bed.find(class_="wf-bed__flags") or Node("p", {})).text()
    end = bed.find("a", href=f"/ready-for-discharge/{period.id}/end")
    assert end is not None and end.attrs["hx-target"] == "#panel"
    assert "No longer delayed" in end.text()
    assert bed.find("a", href=f"/admissions/{admission.id}/ready-for-discharge") is None
    # The person beside them is not ready: no box, and the action to mark them.
    other = card(html, "A2")
    assert other.find("div", class_="wf-ready") is None
    assert other.find("a", href=f"/admissions/{beside.id}/ready-for-discharge") is not None


async def test_days_delayed_count_local_midnights(world, nurse, clock):
    admission = await world.admit(bed="A1", at=world.now - timedelta(days=5))
    # 23:30 the evening before: one midnight has passed, though only 12.5 hours.
    await mark_ready(world, admission, datetime(2026, 3, 9, 23, 30, tzinfo=UTC), "09", "both")

    text = card((await nurse.get("/wards/ASH")).text).find("div", class_="wf-ready").text()  # type: ignore[union-attr]

    assert "Awaiting care package in own home" in text
    assert "NHS and social care" in text
    assert "1 day delayed" in text


async def test_board_json_carries_the_open_period_as_an_extension(world, client):
    admission = await world.admit(bed="A1", at=world.now - timedelta(days=20))
    await world.admit(bed="A2")
    period = await mark_ready(world, admission, world.now - timedelta(days=8), "04", "nhs")

    occupant = await occupant_json(client, world, "A1")

    assert "ready_for_discharge" in occupant["flags"]
    assert occupant["ready_for_discharge"] == {
        "id": period.id,
        "reason_code": "04",
        "reason": "Awaiting public funding or decision from funding panel",
        "attributable_to": "nhs",
        "since": occupant["ready_for_discharge"]["since"],
        "days": 8,
    }
    assert instant(occupant["ready_for_discharge"]["since"]) == world.now - timedelta(days=8)
    # The contract's fields are all still there.
    assert {"admission_id", "display_name", "flags", "open_alerts", "days_on_ward"} <= set(occupant)
    other = await occupant_json(client, world, "A2")
    assert other["ready_for_discharge"] is None
    assert "ready_for_discharge" not in other["flags"]


async def test_those_who_cannot_write_see_the_delay_but_no_actions(world, signed_in, session):
    admission = await world.admit(bed="A1", at=world.now - timedelta(days=20))
    period = await mark_ready(world, admission, world.now - timedelta(days=3))
    await world.admit(bed="A2")
    beds = await signed_in("beds")
    before = await fingerprint(session)

    html = (await beds.get("/wards/ASH")).text

    assert "3 days delayed" in card(html, "A1").text()
    assert card(html, "A1").find("a", href=f"/ready-for-discharge/{period.id}/end") is None
    assert "Ready for discharge" not in " ".join(
        a.text() for a in card(html, "A2").find_all("a", class_="wf-action")
    )
    assert (await beds.get(f"/admissions/{admission.id}/ready-for-discharge")).status_code == 403
    assert (await beds.get(f"/ready-for-discharge/{period.id}/end")).status_code == 403
    refused = await beds.post(
        f"/ready-for-discharge/{period.id}/end", {"at": "2026-03-10T11:00"}, htmx=True
    )
    assert refused.status_code == 403
    assert await fingerprint(session) == before


async def test_staff_of_another_ward_cannot_mark_people_ready(world, signed_in, session):
    admission = await world.admit(bed="A1")
    birch = await signed_in("birchnurse")
    before = await fingerprint(session)

    assert (await birch.get(f"/admissions/{admission.id}/ready-for-discharge")).status_code == 403
    response = await birch.post(
        f"/admissions/{admission.id}/ready-for-discharge", ready_form(), htmx=True
    )

    assert response.status_code == 403
    assert await fingerprint(session) == before


# --- marking a person ready --------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_ready_form_as_page_and_fragment(world, nurse, htmx):
    admission = await world.admit(bed="A1")

    response = await nurse.get(f"/admissions/{admission.id}/ready-for-discharge", htmx=htmx)

    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    assert ("<html" in response.text) is not htmx
    doc = parse(response.text)
    form = doc.find("form", action=f"/admissions/{admission.id}/ready-for-discharge")
    assert form is not None
    assert (form.attrs.get("hx-post") == form.attrs["action"]) is htmx
    assert doc.by_id("ready-started_at").attrs["value"] == "2026-03-10T12:00"
    # Reasons are picked by name, in their groups; the code is only the value sent.
    select_ = doc.by_id("ready-reason_code")
    groups = select_.find_all("optgroup")
    assert [g.attrs["label"] for g in groups] == list(DELAY_REASON_GROUPS)
    housing = next(g for g in groups if g.attrs["label"] == "Housing")
    assert {o.attrs["value"]: o.text() for o in housing.find_all("option")} == (
        DELAY_REASON_GROUPS["Housing"]
    )
    agencies = [i.attrs["value"] for i in doc.find_all("input", name="attributable_to")]
    assert agencies == ["nhs", "social_care", "both"]


@pytest.mark.parametrize("htmx", HTMX)
async def test_marking_ready_starts_a_period_and_shows_on_the_card(
    world, nurse, client, session, htmx
):
    admission = await world.admit(bed="A1")

    response = await nurse.post(
        f"/admissions/{admission.id}/ready-for-discharge", ready_form(), htmx=htmx
    )

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "board-changed"
        assert "Jane SMITH marked ready for discharge." in response.text
    else:
        assert response.status_code == 303
        assert response.headers["location"] == "/wards/ASH"
    (period,) = (await admission_json(client, world, admission.id))["ready_for_discharge_periods"]
    assert period["reason_code"] == "18"
    assert period["attributable_to"] == "social_care"
    assert instant(period["started_at"]) == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    assert period["ended_at"] is None
    entry = await session.scalar(
        select(AuditEntry).where(AuditEntry.action == "ready_for_discharge.start")
    )
    assert entry is not None and entry.username == "nurse"
    box = card((await nurse.get("/wards/ASH")).text).find("div", class_="wf-ready")
    assert box is not None and SUPPORTED_ACCOMMODATION in box.text()
    assert "0 days delayed" in box.text()


async def test_start_time_is_read_as_uk_time(world, signed_in, client, clock):
    # In British Summer Time a nurse types the clock on the wall: 09:30 is 08:30 UTC.
    clock.now = world.now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    admission = await world.admit(bed="A1", at=clock.now - timedelta(days=3))
    nurse = await signed_in("nurse")

    response = await nurse.post(
        f"/admissions/{admission.id}/ready-for-discharge",
        ready_form(started_at="2026-07-01T09:30"),
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/wards/ASH"
    (period,) = (await admission_json(client, world, admission.id))["ready_for_discharge_periods"]
    assert instant(period["started_at"]) == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param(
            {"started_at": "2026-03-10T13:00"},
            "ready-started_at",
            "The time cannot be in the future",
            id="future",
        ),
        pytest.param(
            {"started_at": "2026-03-01T09:00"},
            "ready-started_at",
            "The time cannot be before the admission",
            id="before-admission",
        ),
        pytest.param(
            {"started_at": ""},
            "ready-started_at",
            "Enter the date and time the person became ready for discharge",
            id="no-time",
        ),
        pytest.param(
            {"started_at": "yesterday"},
            "ready-started_at",
            "Enter a date and time, for example 2/3/2026 14:05",
            id="not-a-time",
        ),
        pytest.param(
            {"reason_code": ""},
            "ready-reason_code",
            "Choose the reason for the delay",
            id="no-reason",
        ),
        pytest.param(
            {"attributable_to": ""},
            "ready-attributable_to",
            "Choose who the delay is attributable to",
            id="no-agency",
        ),
    ],
)
@pytest.mark.parametrize("htmx", HTMX)
async def test_a_refused_start_shows_the_error_beside_its_field_and_saves_nothing(
    world, nurse, session, overrides, field, message, htmx
):
    admission = await world.admit(bed="A1")  # two days ago
    before = await fingerprint(session)
    sent = ready_form(**overrides)

    response = await nurse.post(f"/admissions/{admission.id}/ready-for-discharge", sent, htmx=htmx)

    assert response.status_code == 422
    assert ("<html" in response.text) is not htmx
    doc = parse(response.text)
    assert field_error(doc, field) == message
    others = {"ready-started_at", "ready-reason_code", "ready-attributable_to"} - {field}
    assert all(field_error(doc, other) is None for other in others)
    # What was typed is kept.
    assert doc.by_id("ready-started_at").attrs["value"] == sent["started_at"]
    chosen = [o.attrs["value"] for o in doc.find_all("option") if "selected" in o.attrs]
    assert chosen == ([sent["reason_code"]] if sent["reason_code"] else [])
    checked = [
        i.attrs["value"]
        for i in doc.find_all("input", name="attributable_to")
        if "checked" in i.attrs
    ]
    assert checked == ([sent["attributable_to"]] if sent["attributable_to"] else [])
    assert await fingerprint(session) == before


@pytest.mark.parametrize("htmx", HTMX)
async def test_a_second_open_period_is_409_shown_as_a_problem(world, nurse, session, htmx):
    admission = await world.admit(bed="A1")
    await mark_ready(world, admission, world.now - timedelta(hours=20))
    before = await fingerprint(session)

    response = await nurse.post(
        f"/admissions/{admission.id}/ready-for-discharge",
        ready_form(reason_code="09"),
        htmx=htmx,
    )

    assert response.status_code == 409
    doc = parse(response.text)
    problem = doc.find(class_="nhsuk-error-summary")
    assert problem is not None
    assert "already open" in problem.text()
    # The form is shown again as it was sent, ready to correct.
    assert doc.by_id("ready-started_at").attrs["value"] == "2026-03-10T09:30"
    assert await fingerprint(session) == before


# --- no longer delayed -------------------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_end_form_as_page_and_fragment(world, nurse, htmx):
    admission = await world.admit(bed="A1")
    period = await mark_ready(world, admission, world.now - timedelta(hours=30))

    response = await nurse.get(f"/ready-for-discharge/{period.id}/end", htmx=htmx)

    assert response.status_code == 200
    assert ("<html" in response.text) is not htmx
    doc = parse(response.text)
    form = doc.find("form", action=f"/ready-for-discharge/{period.id}/end")
    assert form is not None
    assert (form.attrs.get("hx-post") == form.attrs["action"]) is htmx
    assert doc.by_id("ready-end-at").attrs["value"] == "2026-03-10T12:00"
    summary = doc.by_id("ready-end-period").text()
    assert "9 Mar 2026, 06:00" in summary and SUPPORTED_ACCOMMODATION in summary
    assert "Social care" in summary


@pytest.mark.parametrize("htmx", HTMX)
async def test_no_longer_delayed_ends_the_period_and_clears_the_card(world, nurse, client, htmx):
    admission = await world.admit(bed="A1")
    period = await mark_ready(world, admission, world.now - timedelta(hours=30))

    response = await nurse.post(
        f"/ready-for-discharge/{period.id}/end", {"at": "2026-03-10T11:45"}, htmx=htmx
    )

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "board-changed"
        assert "Jane SMITH is no longer delayed." in response.text
    else:
        assert response.status_code == 303
        assert response.headers["location"] == "/wards/ASH"
    (out,) = (await admission_json(client, world, admission.id))["ready_for_discharge_periods"]
    assert instant(out["ended_at"]) == datetime(2026, 3, 10, 11, 45, tzinfo=UTC)
    assert out["days_delayed"] == 1
    bed = card((await nurse.get("/wards/ASH")).text)
    assert bed.find("div", class_="wf-ready") is None
    assert bed.find("a", href=f"/admissions/{admission.id}/ready-for-discharge") is not None
    occupant = await occupant_json(client, world)
    assert occupant["ready_for_discharge"] is None
    assert "ready_for_discharge" not in occupant["flags"]


@pytest.mark.parametrize(
    ("at", "message"),
    [
        pytest.param("", "Enter the date and time the delay ended", id="no-time"),
        pytest.param(
            "2026-03-09T05:00", "The time cannot be before the period started", id="before-start"
        ),
        pytest.param("2026-03-10T12:30", "The time cannot be in the future", id="future"),
    ],
)
async def test_a_refused_end_shows_the_error_beside_the_time(world, nurse, session, at, message):
    admission = await world.admit(bed="A1")
    period = await mark_ready(world, admission, world.now - timedelta(hours=30))
    before = await fingerprint(session)

    response = await nurse.post(f"/ready-for-discharge/{period.id}/end", {"at": at}, htmx=True)

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "ready-end-at") == message
    assert doc.by_id("ready-end-at").attrs["value"] == at
    assert await fingerprint(session) == before


async def test_ending_a_period_already_ended_is_409(world, nurse, session):
    admission = await world.admit(bed="A1")
    period = await mark_ready(world, admission, world.now - timedelta(hours=30))
    await ready.end(
        session,
        actor=world.users["admin"],
        period_id=period.id,
        data=ReadyEndIn(at=world.now - timedelta(hours=2)),
        now=world.now,
    )
    await session.commit()
    before = await fingerprint(session)

    response = await nurse.post(
        f"/ready-for-discharge/{period.id}/end", {"at": "2026-03-10T11:45"}, htmx=True
    )

    assert response.status_code == 409
    assert "already ended" in parse(response.text).find(class_="nhsuk-error-summary").text()  # type: ignore[union-attr]
    assert await fingerprint(session) == before


async def test_discharge_ends_the_open_period(world, nurse, client):
    admission = await world.admit(bed="A1")
    await mark_ready(world, admission, world.now - timedelta(hours=30))

    response = await nurse.post(
        f"/admissions/{admission.id}/discharge",
        {"at": "2026-03-10T11:15", "destination": "supported_accommodation"},
    )

    assert response.status_code == 303
    (period,) = (await admission_json(client, world, admission.id))["ready_for_discharge_periods"]
    assert instant(period["ended_at"]) == datetime(2026, 3, 10, 11, 15, tzinfo=UTC)


# --- the admission page ------------------------------------------------------------------


async def test_admission_page_lists_every_period(world, nurse, session):
    admission = await world.admit(bed="A1", at=world.now - timedelta(days=30))
    first = await mark_ready(world, admission, datetime(2026, 2, 20, 10, 0, tzinfo=UTC), "07")
    await ready.end(
        session,
        actor=world.users["admin"],
        period_id=first.id,
        data=ReadyEndIn(at=datetime(2026, 2, 24, 16, 0, tzinfo=UTC)),
        now=world.now,
    )
    await session.commit()
    second = await mark_ready(world, admission, datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "04", "nhs")

    doc = parse((await nurse.get(f"/admissions/{admission.id}")).text)

    rows = [
        [td.text() for td in tr.find_all("td")] for tr in doc.by_id("ready-periods").find_all("tr")
    ]
    assert [r for r in rows if r] == [
        [
            "Awaiting care home without nursing placement",
            "Social care",
            "20 Feb 2026, 10:00",
            "24 Feb 2026, 16:00",
            "4",
        ],
        [
            "Awaiting public funding or decision from funding panel",
            "NHS",
            "1 Mar 2026, 09:00",
            "still delayed",
            "9",
        ],
    ]
    # Ward staff may end the open one from here.
    assert doc.find("a", href=f"/ready-for-discharge/{second.id}/end") is not None


async def test_admission_page_offers_to_mark_ready_only_to_writers(world, nurse, signed_in):
    admission = await world.admit(bed="A1")

    nurse_page = parse((await nurse.get(f"/admissions/{admission.id}")).text)
    lead_page = parse((await (await signed_in("lead")).get(f"/admissions/{admission.id}")).text)

    start = f"/admissions/{admission.id}/ready-for-discharge"
    assert "Not marked ready for discharge" in nurse_page.text()
    assert nurse_page.find("a", href=start) is not None
    assert "Not marked ready for discharge" in lead_page.text()
    assert lead_page.find("a", href=start) is None


# --- the board's queries -----------------------------------------------------------------


async def statements_for(query_counter, request) -> tuple[int, Any]:  # type: ignore[no-untyped-def]
    start = len(query_counter)
    response = await request
    return len(query_counter) - start, response


async def test_board_query_count_does_not_grow_with_people_ready(
    world, signed_in, client, query_counter
):
    admitted = [
        await world.admit(bed=f"A{n}", at=world.now - timedelta(days=10)) for n in range(1, 7)
    ]
    await mark_ready(world, admitted[0], world.now - timedelta(days=2))
    headers = world.auth()
    admin = await signed_in("admin")

    async def warm_up() -> None:
        # The first use of a token records when it was last used, and the test's session
        # opens a savepoint after each commit of the set-up: neither is the board's work.
        assert (await client.get("/api/v1/wards", headers=headers)).status_code == 200
        assert (await admin.get("/wards")).status_code == 200

    await warm_up()
    one_api, _ = await statements_for(
        query_counter, client.get("/api/v1/wards/ASH/board", headers=headers)
    )
    one_page, one_html = await statements_for(query_counter, admin.get("/wards/ASH"))
    for n, admission in enumerate(admitted[1:], start=1):
        await mark_ready(world, admission, world.now - timedelta(days=n), "15", "both")
    await warm_up()
    all_api, board = await statements_for(
        query_counter, client.get("/api/v1/wards/ASH/board", headers=headers)
    )
    all_page, all_html = await statements_for(query_counter, admin.get("/wards/ASH"))

    # The counts are of real boards: one person ready, then all six.
    assert one_html.text.count('class="wf-ready"') == 1
    assert all_html.text.count('class="wf-ready"') == 6
    assert sum(b["occupant"]["ready_for_discharge"] is not None for b in board.json()["beds"]) == 6
    assert one_api > 0 and one_page > 0
    assert all_api == one_api
    assert all_page == one_page
