"""Seclusion and segregation pages: the board's card and its two-click forms, the episode
pages' timelines, and the admission page's list; each as a page, a fragment and its effect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.segregation import schemas, service
from app.segregation.models import Seclusion, SeclusionObservation, SeclusionReview, Segregation
from tests.auth.helpers import field_error, parse

HTMX = [pytest.param(False, id="plain"), pytest.param(True, id="htmx")]


async def count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def seclude(world, admission, minutes_ago: int = 30, role: str = "nurse_in_charge"):  # type: ignore[no-untyped-def]
    seclusion = await service.start_seclusion(
        world.session,
        actor=world.users["nurse"],
        admission_id=admission.id,
        data=schemas.SeclusionIn(
            started_at=world.now - timedelta(minutes=minutes_ago),
            authorised_by_role=role,
            reason="Assaulted a fellow patient",
        ),
        now=world.now,
    )
    await world.session.commit()
    return seclusion


def card(html: str, label: str = "A1"):  # type: ignore[no-untyped-def]
    return parse(html).by_id(f"bed-{label}")


# --- the board's card --------------------------------------------------------------------


async def test_card_shows_seclusion_duration_and_next_review_with_countdown(world, nurse):
    admission = await world.admit(bed="A1")
    await seclude(world, admission, minutes_ago=50)

    bed = card((await nurse.get("/wards/ASH")).text)

    restriction = bed.find("div", class_="wf-restriction")
    assert restriction is not None
    text = restriction.text()
    assert "Secluded" in text and "50 min" in text
    # Authorised by the nurse in charge: the first medical review is due within the hour.
    assert "Medical review due 12:10" in text  # UTC is London time in March
    due = restriction.find("span", class_="wf-due")
    assert due is not None and due.text() == "in 10 min"
    assert "wf-due--amber" in due.classes  # under 30 minutes to go
    assert "wf-due--red" not in due.classes


async def test_card_countdown_turns_red_once_the_review_is_overdue(world, nurse, clock):
    admission = await world.admit(bed="A1")
    await seclude(world, admission, minutes_ago=50)
    clock.now += timedelta(minutes=25)

    restriction = card((await nurse.get("/wards/ASH")).text).find("div", class_="wf-restriction")

    assert "Medical review was due 12:10" in restriction.text()
    due = restriction.find("span", class_="wf-due")
    assert due.text() == "15 min overdue"
    assert "wf-due--red" in due.classes


async def test_card_without_restriction_offers_to_seclude_and_segregate(world, nurse):
    admission = await world.admit(bed="A1")

    bed = card((await nurse.get("/wards/ASH")).text)

    assert bed.find("a", href=f"/admissions/{admission.id}/seclusions/new") is not None
    assert bed.find("a", href=f"/admissions/{admission.id}/segregations/new") is not None
    assert bed.find("div", class_="wf-restriction") is None


async def test_bed_manager_sees_the_restriction_but_no_clinical_actions(world, signed_in):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)
    beds = await signed_in("beds")

    bed = card((await beds.get("/wards/ASH")).text)

    assert "Secluded" in bed.text()
    assert bed.find("a", href=f"/seclusions/{seclusion.id}/review") is None
    assert bed.find("a", href=f"/admissions/{admission.id}/seclusions/new") is None
    assert (await beds.get(f"/admissions/{admission.id}/seclusions/new")).status_code == 403


# --- start, review, observe, end ---------------------------------------------------------


@pytest.mark.parametrize("htmx", HTMX)
async def test_start_seclusion_form_as_page_and_fragment(world, nurse, htmx):
    admission = await world.admit(bed="A1")

    response = await nurse.get(f"/admissions/{admission.id}/seclusions/new", htmx=htmx)

    assert response.status_code == 200
    assert ("<html" in response.text) is not htmx
    doc = parse(response.text)
    assert doc.by_id("seclude-started_at").attrs["value"] == "2026-03-10T12:00"
    roles = [i.attrs["value"] for i in doc.find_all("input", name="authorised_by_role")]
    assert roles == ["psychiatrist", "approved_clinician", "nurse_in_charge"]


async def test_start_seclusion_from_the_panel_refreshes_the_board(world, nurse, session):
    admission = await world.admit(bed="A1")

    response = await nurse.post(
        f"/admissions/{admission.id}/seclusions/new",
        {
            "started_at": "2026-03-10T11:55",
            "authorised_by_role": "psychiatrist",
            "reason": "Serious violence on the ward",
        },
        htmx=True,
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "board-changed"
    seclusion = await session.scalar(
        select(Seclusion).where(Seclusion.admission_id == admission.id)
    )
    assert seclusion.authorised_by_role == "psychiatrist"
    assert seclusion.started_at.isoformat() == "2026-03-10T11:55:00+00:00"
    bed = card((await nurse.get("/wards/ASH")).text)
    # A psychiatrist's assessment is the first medical review: nursing comes first (13:55).
    assert "Nursing review due 13:55" in bed.text()


async def test_start_seclusion_as_plain_form_goes_to_the_episode_page(world, nurse, session):
    admission = await world.admit(bed="A1")

    response = await nurse.post(
        f"/admissions/{admission.id}/seclusions/new",
        {"started_at": "2026-03-10T11:55", "authorised_by_role": "psychiatrist", "reason": "Harm"},
    )

    seclusion = await session.scalar(
        select(Seclusion).where(Seclusion.admission_id == admission.id)
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/seclusions/{seclusion.id}"


async def test_start_seclusion_without_reason_or_role_is_422_beside_the_fields(
    world, nurse, session
):
    admission = await world.admit(bed="A1")

    response = await nurse.post(
        f"/admissions/{admission.id}/seclusions/new",
        {"started_at": "2026-03-10T11:55", "reason": "  "},
        htmx=True,
    )

    assert response.status_code == 422
    doc = parse(response.text)
    assert field_error(doc, "seclude-reason")
    assert "authorised by" in (doc.find("div", class_="nhsuk-error-summary").text().lower())
    assert await count(session, Seclusion) == 0


async def test_second_seclusion_is_409_with_a_message_and_nothing_saved(world, nurse, session):
    admission = await world.admit(bed="A1")
    await seclude(world, admission)

    response = await nurse.post(
        f"/admissions/{admission.id}/seclusions/new",
        {"started_at": "2026-03-10T11:59", "authorised_by_role": "psychiatrist", "reason": "Again"},
        htmx=True,
    )

    assert response.status_code == 409
    assert "already open" in response.text
    assert await count(session, Seclusion) == 1


async def test_review_form_offers_the_review_due_next(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission, minutes_ago=30)

    form = parse((await nurse.get(f"/seclusions/{seclusion.id}/review", htmx=True)).text)
    checked = [
        i.attrs["value"] for i in form.find_all("input", name="kind") if "checked" in i.attrs
    ]
    assert checked == ["medical"]  # due at 12:30, before the nursing review at 13:30

    await nurse.post(
        f"/seclusions/{seclusion.id}/review",
        {"kind": "medical", "at": "2026-03-10T11:50", "note": "Settling, continue"},
        htmx=True,
    )
    form = parse((await nurse.get(f"/seclusions/{seclusion.id}/review", htmx=True)).text)
    checked = [
        i.attrs["value"] for i in form.find_all("input", name="kind") if "checked" in i.attrs
    ]
    assert checked == ["nursing"]


async def test_recording_a_review_moves_the_board_to_the_next_deadline(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission, minutes_ago=30, role="psychiatrist")
    assert "Nursing review due 13:30" in card((await nurse.get("/wards/ASH")).text).text()

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/review",
        {
            "kind": "nursing",
            "at": "2026-03-10T11:58",
            "note": "Calm, talking",
            "outcome": "continue",
        },
        htmx=True,
    )

    assert response.status_code == 200
    review = await session.scalar(select(SeclusionReview))
    assert (review.kind, review.outcome) == ("nursing", "continue")
    # Nursing next at 13:58; the first MDT is not due until tomorrow; medical at 15:30.
    assert "Nursing review due 13:58" in card((await nurse.get("/wards/ASH")).text).text()


async def test_review_after_now_plus_five_minutes_is_422_beside_the_time(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/review",
        {"kind": "nursing", "at": "2026-03-10T12:06", "note": "Calm"},
        htmx=True,
    )

    assert response.status_code == 422
    assert "future" in field_error(parse(response.text), "secl-review-at")
    assert await count(session, SeclusionReview) == 0


async def test_observation_before_the_seclusion_started_is_422(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission, minutes_ago=30)

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/observation",
        {"at": "2026-03-10T11:29", "note": "Lying down"},
        htmx=True,
    )

    assert response.status_code == 422
    assert "before the seclusion started" in field_error(parse(response.text), "observe-at")
    assert await count(session, SeclusionObservation) == 0


async def test_observation_resets_the_observation_countdown(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission, minutes_ago=10)
    assert "Observation due 12:05" in card((await nurse.get("/wards/ASH")).text).text()

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/observation",
        {"at": "2026-03-10T12:00", "note": "Sitting quietly"},
        htmx=True,
    )

    assert response.status_code == 200
    assert "Observation due 12:15" in card((await nurse.get("/wards/ASH")).text).text()


async def test_end_seclusion_clears_the_card(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/end",
        {"at": "2026-03-10T12:00", "note": "Calm; returned to the ward"},
    )

    assert response.status_code == 303
    await session.refresh(seclusion)
    assert seclusion.ended_at is not None and seclusion.end_note == "Calm; returned to the ward"
    bed = card((await nurse.get("/wards/ASH")).text)
    assert bed.find("div", class_="wf-restriction") is None
    assert bed.find("a", href=f"/admissions/{admission.id}/seclusions/new") is not None


async def test_end_seclusion_as_segregation_begins_is_one_action(world, nurse, session):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/end",
        {
            "at": "2026-03-10T12:00",
            "note": "Ending seclusion",
            "to_segregation": "yes",
            "segregation_reason": "Sustained risk to others: MDT and commissioner agree",
        },
    )

    segregation = await session.scalar(select(Segregation))
    assert response.status_code == 303
    assert response.headers["location"] == f"/segregations/{segregation.id}"
    await session.refresh(seclusion)
    assert seclusion.ended_at == segregation.started_at
    assert segregation.from_seclusion_id == seclusion.id
    text = card((await nurse.get("/wards/ASH")).text).text()
    assert "Segregated" in text and "Secluded" not in text


async def test_segregation_without_its_reason_is_422_and_the_seclusion_stays_open(
    world, nurse, session
):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)

    response = await nurse.post(
        f"/seclusions/{seclusion.id}/end",
        {"at": "2026-03-10T12:00", "note": "Ending", "to_segregation": "yes"},
        htmx=True,
    )

    assert response.status_code == 422
    assert field_error(parse(response.text), "secl-end-segregation_reason")
    await session.refresh(seclusion)
    assert seclusion.ended_at is None
    assert await count(session, Segregation) == 0


async def test_segregation_notifications_are_recorded_from_their_form(world, nurse, session):
    admission = await world.admit(bed="A1")
    await nurse.post(
        f"/admissions/{admission.id}/segregations/new",
        {"started_at": "2026-03-10T10:00", "reason": "Sustained risk of harm to others"},
    )
    segregation = await session.scalar(select(Segregation))

    blank = await nurse.post(f"/segregations/{segregation.id}/notifications", {}, htmx=True)
    assert blank.status_code == 422
    response = await nurse.post(
        f"/segregations/{segregation.id}/notifications",
        {"commissioner_informed_at": "2026-03-10T11:00", "imha_informed_at": ""},
        htmx=True,
    )

    assert response.status_code == 200
    await session.refresh(segregation)
    assert segregation.commissioner_informed_at.isoformat() == "2026-03-10T11:00:00+00:00"
    assert segregation.imha_informed_at is None


async def test_an_ended_segregation_still_offers_the_notification_until_both_are_told(
    world, nurse, session
):
    """The commissioner and the IMHA are owed notice however soon it ended (LTS_NOTIFICATION),
    so the page keeps the way to record it, and only that."""
    admission = await world.admit(bed="A1")
    await nurse.post(
        f"/admissions/{admission.id}/segregations/new",
        {"started_at": "2026-03-10T10:00", "reason": "Sustained risk of harm to others"},
    )
    segregation = await session.scalar(select(Segregation))
    ended = await nurse.post(
        f"/segregations/{segregation.id}/end", {"at": "2026-03-10T11:00", "note": "Settled"}
    )
    assert ended.status_code in (200, 303)
    link = f"/segregations/{segregation.id}/notifications"

    page = (await nurse.get(f"/segregations/{segregation.id}")).text
    assert link in page
    assert "due-next" not in page and f"/segregations/{segregation.id}/review" not in page

    await nurse.post(
        link,
        {"commissioner_informed_at": "2026-03-10T11:30", "imha_informed_at": "2026-03-10T11:40"},
    )
    assert link not in (await nurse.get(f"/segregations/{segregation.id}")).text


# --- episode pages and the admission page ------------------------------------------------


async def test_episode_page_shows_the_timeline_with_missed_and_late_deadlines(world, nurse, clock):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission, minutes_ago=130, role="psychiatrist")
    # Nursing review was due at 11:50; it happened at 11:55 (late).
    await nurse.post(
        f"/seclusions/{seclusion.id}/review",
        {"kind": "nursing", "at": "2026-03-10T11:55", "note": "Calm"},
    )

    doc = parse((await nurse.get(f"/seclusions/{seclusion.id}")).text)

    timeline = doc.by_id("timeline")
    entries = [li.text() for li in timeline.find_all("li")]
    assert entries[0].startswith("10 Mar 2026, 09:50") and "Seclusion started" in entries[0]
    late = [e for e in entries if "Nursing review missed" in e]
    assert late and "Late" in late[0] and "11:50" in late[0]
    # Observations every 15 minutes were never recorded: still missing, shown in red.
    missing = timeline.find_all("li", class_="wf-timeline__entry--missed")
    assert missing and all("Observation missed" in m.text() for m in missing)
    assert "2 h 10 min" in doc.by_id("episode-summary").text()
    due = doc.by_id("due-next").text()
    assert "Nursing review" in due and "13:55" in due


async def test_ended_episode_page_has_no_due_list_or_actions(world, nurse):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)
    await nurse.post(f"/seclusions/{seclusion.id}/end", {"at": "2026-03-10T12:00", "note": "Done"})

    response = await nurse.get(f"/seclusions/{seclusion.id}")

    assert "due-next" not in response.text
    assert f"/seclusions/{seclusion.id}/review" not in response.text
    assert "Seclusion ended" in parse(response.text).by_id("timeline").text()


async def test_episode_page_of_another_ward_is_refused(world, signed_in):
    admission = await world.admit(bed="A1")
    seclusion_id = (await seclude(world, admission)).id
    birch = await signed_in("birchnurse")

    assert (await birch.get(f"/seclusions/{seclusion_id}")).status_code == 403
    response = await birch.post(
        f"/seclusions/{seclusion_id}/observation", {"at": "2026-03-10T12:00", "note": "x"}
    )
    assert response.status_code == 403


async def test_admission_page_lists_every_episode_in_the_stay(world, nurse):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)
    await nurse.post(
        f"/seclusions/{seclusion.id}/end",
        {
            "at": "2026-03-10T12:00",
            "note": "Ending",
            "to_segregation": "yes",
            "segregation_reason": "Sustained risk",
        },
    )

    doc = parse((await nurse.get(f"/admissions/{admission.id}")).text)

    rows = doc.by_id("episodes").find_all("tr")[1:]
    assert [r.find("a").text() for r in rows] == ["Seclusion", "Long-term segregation"]
    assert "Open" in rows[1].text()
    assert doc.find("a", href=f"/admissions/{admission.id}/seclusions/new") is not None
    assert doc.find("a", href=f"/admissions/{admission.id}/segregations/new") is None


async def test_unknown_step_is_404(world, nurse):
    admission = await world.admit(bed="A1")
    seclusion = await seclude(world, admission)

    assert (await nurse.get(f"/seclusions/{seclusion.id}/delete")).status_code == 404
    assert (await nurse.get("/seclusions/999999")).status_code == 404
