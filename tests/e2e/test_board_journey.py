"""The "Foundation" journey in a real browser: sign in, open a ward board, admit someone.

Each test that admits uses its own bed on ward ASH (A2..A5), so they do not depend on one
another.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, next_nhs_number

pytestmark = pytest.mark.e2e

# Something the page does at once (a swap after a request): seconds at most, except on a
# busy machine; a passing test never waits the bound out.
FAST_MS = 30_000
# The board polls every 15 s; allow several polls (a busy machine answers slowly).
POLL_MS = 60_000


def sign_in(page: Page, username: str = "nurse") -> None:
    page.goto("/login")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/wards")
    expect(page.locator("h1")).to_have_text("Wards")


def open_board(page: Page, ward: str = "ASH") -> None:
    page.goto(f"/wards/{ward}")
    expect(page.locator("#board")).to_be_visible()


def open_admit_panel(page: Page, bed: str) -> None:
    """Click "Admit" on a bed's card; htmx loads the form into the side panel."""
    page.locator(f"#bed-{bed}").get_by_role("link", name=f"Admit to bed {bed}").click()
    expect(
        page.locator("#panel #admit-form"), "the admit form should load into the side panel #panel"
    ).to_be_visible(timeout=FAST_MS)


def choose(form, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    select = form.locator(f"#admit-{name}")
    expect(
        select.locator(f'option[value="{value}"]'), f"the {name} list should offer {value!r}"
    ).to_have_count(1)
    select.select_option(value)


def fill_person_and_admission(
    form, *, given: str, family: str, reason: str, benefit: str | None
) -> None:  # type: ignore[no-untyped-def]
    """Fill the admit form; `benefit=None` leaves the expected benefit empty."""
    form.locator("#admit-nhs_number").fill(next_nhs_number())
    form.locator("#admit-given_name").fill(given)
    form.locator("#admit-family_name").fill(family)
    form.locator("#admit-date_of_birth").fill("1990-01-02")
    choose(form, "sex", "female")
    choose(form, "ethnic_category", "A")
    choose(form, "home_locality_code", "LDS")
    choose(form, "legal_status", "s2")
    form.locator("#admit-reason").fill(reason)
    if benefit is not None:
        form.locator("#admit-expected_benefit").fill(benefit)


def expect_benefit_error(page: Page, scope_selector: str = "") -> None:
    scope = page.locator(scope_selector) if scope_selector else page
    group = scope.locator(".nhsuk-form-group", has=page.locator("#admit-expected_benefit"))
    expect(group, "the form should come back with an error beside Expected benefit").to_have_class(
        "nhsuk-form-group nhsuk-form-group--error", timeout=FAST_MS
    )
    expect(group.locator(".nhsuk-error-message")).to_contain_text(
        "Enter the expected benefit", timeout=FAST_MS
    )
    # Only the missing field is in error.
    expect(scope.locator(".nhsuk-error-message")).to_have_count(1)


def api_admit(server, *, bed: str, given: str, family: str, minutes_ago: int = 5) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0) as api:
        patient = api.post(
            "/api/v1/patients",
            json={
                "nhs_number": next_nhs_number(),
                "given_name": given,
                "family_name": family,
                "date_of_birth": "1985-06-15",
                "sex": "female",
                "ethnic_category": "J",
                "home_locality_code": "LDS",
            },
        )
        assert patient.status_code == 201, patient.text
        admitted_at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
        admission = api.post(
            "/api/v1/admissions",
            json={
                "patient_id": patient.json()["id"],
                "ward_code": "ASH",
                "bed_label": bed,
                "admitted_at": admitted_at,
                "legal_status": "informal",
                "reason": "Crisis at home, not safe to stay",
                "expected_benefit": "Assessment and a safe plan",
            },
        )
        assert admission.status_code == 201, admission.text


def test_admit_journey_shows_field_error_then_card_on_board(new_context, console, server):
    page = new_context().new_page()
    sign_in(page)

    # The ward list links to the board.
    page.locator("#ward-list").get_by_role("link", name="Ash Ward").click()
    page.wait_for_url("**/wards/ASH")
    expect(page.locator("h1")).to_have_text("Ash Ward")
    page.evaluate("window.__sameDocument = true")  # proves htmx swaps, not reloads

    card = page.locator("#bed-A2")
    expect(card).to_contain_text("Empty")
    open_admit_panel(page, "A2")
    panel = page.locator("#panel")
    expect(panel.locator("h2").first).to_have_text("Admit to Ash Ward, bed A2", timeout=FAST_MS)
    expect(page).to_have_url(f"{server.base_url}/wards/ASH")  # still on the board

    reason = "Psychotic relapse, stopped medication, not safe at home"
    fill_person_and_admission(panel, given="Jane", family="Smith", reason=reason, benefit=None)
    console.expect_http_error(422, "/wards/ASH/beds/A2/admit")
    panel.get_by_role("button", name="Admit").click()

    # The error shows beside the field and what was typed is kept.
    expect_benefit_error(page, "#panel")
    expect(panel.locator(".nhsuk-error-summary")).to_contain_text("Enter the expected benefit")
    expect(panel.locator("#admit-reason")).to_have_value(reason)
    expect(panel.locator("#admit-given_name")).to_have_value("Jane")
    expect(panel.locator("#admit-family_name")).to_have_value("Smith")
    expect(panel.locator("#admit-date_of_birth")).to_have_value("1990-01-02")
    expect(panel.locator("#admit-home_locality_code")).to_have_value("LDS")
    expect(panel.locator("#admit-legal_status")).to_have_value("s2")
    expect(card).to_contain_text("Empty")  # nothing was admitted
    page.screenshot(path="/tmp/e2e-error.png", full_page=True)

    panel.locator("#admit-expected_benefit").fill("Restart medication and stabilise")
    panel.get_by_role("button", name="Admit").click()

    expect(panel.locator(".wf-done")).to_have_text(
        "Jane SMITH admitted to bed A2.", timeout=FAST_MS
    )
    # The board refreshes at once on board-changed (not only on its 15 s poll).
    expect(card.locator(".wf-bed__name")).to_have_text("Jane SMITH", timeout=FAST_MS)
    expect(card).to_have_class("wf-bed wf-bed--occupied")
    expect(card).to_contain_text("Section 2")
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path="/tmp/e2e-board.png", full_page=True)

    assert console.errors == [], "\n".join(console.errors)


def test_board_refreshes_after_admission_through_the_api(new_context, console, server):
    page = new_context().new_page()
    sign_in(page)
    open_board(page)
    page.evaluate("window.__sameDocument = true")
    card = page.locator("#bed-A3")
    expect(card).to_contain_text("Empty")

    api_admit(server, bed="A3", given="Maya", family="Okafor")

    expect(card.locator(".wf-bed__name")).to_have_text("Maya OKAFOR", timeout=POLL_MS)
    expect(card).to_contain_text("Informal")
    assert page.evaluate("window.__sameDocument") is True
    assert console.errors == [], "\n".join(console.errors)


def test_board_refreshes_after_admission_on_another_page(new_context, console):
    # Two people, each signed in on their own browser, looking at the same board.
    watcher = new_context().new_page()
    sign_in(watcher)
    open_board(watcher)
    watcher.evaluate("window.__sameDocument = true")
    admitter = new_context().new_page()
    sign_in(admitter)
    open_board(admitter)

    open_admit_panel(admitter, "A4")
    panel = admitter.locator("#panel")
    fill_person_and_admission(
        panel,
        given="Ruth",
        family="Lindqvist",
        reason="Severe depression, risk to self",
        benefit="Safe start of treatment",
    )
    panel.get_by_role("button", name="Admit").click()
    expect(admitter.locator("#bed-A4 .wf-bed__name")).to_have_text(
        "Ruth LINDQVIST", timeout=FAST_MS
    )

    expect(watcher.locator("#bed-A4 .wf-bed__name")).to_have_text("Ruth LINDQVIST", timeout=POLL_MS)
    assert watcher.evaluate("window.__sameDocument") is True
    assert console.errors == [], "\n".join(console.errors)


def test_pages_work_without_javascript(new_context, console, server):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page)
    open_board(page)
    # The NHS.UK template's inline script did not run: no JavaScript at all on this page.
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bjs-enabled\b"))
    card = page.locator("#bed-A5")
    expect(card).to_contain_text("Empty")

    # Without htmx, "Admit" is an ordinary link to a full page.
    card.get_by_role("link", name="Admit to bed A5").click()
    page.wait_for_url("**/wards/ASH/beds/A5/admit")
    expect(page.locator("h2").first).to_have_text("Admit to Ash Ward, bed A5")
    form = page.locator("#admit-form")
    reason = "Mania with no sleep for five nights"
    fill_person_and_admission(form, given="Priya", family="Shah", reason=reason, benefit=None)
    console.expect_http_error(422, "/wards/ASH/beds/A5/admit")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.get_by_role("button", name="Admit").click()
    assert posted.value.status == 422
    expect_benefit_error(page)
    expect(page.locator("#admit-reason")).to_have_value(reason)
    expect(page.locator("#admit-given_name")).to_have_value("Priya")

    page.locator("#admit-expected_benefit").fill("Mood stabilised, sleeping again")
    page.locator("#admit-form").get_by_role("button", name="Admit").click()
    # A normal form post, answered with a redirect back to the board.
    page.wait_for_url(f"{server.base_url}/wards/ASH")
    expect(page.locator("#bed-A5 .wf-bed__name")).to_have_text("Priya SHAH")
    expect(page.locator("#occupancy")).to_be_visible()
    assert console.errors == [], "\n".join(console.errors)


def test_no_content_security_policy_violations(new_context, console):
    """The strict CSP blocks nothing the pages need (board, panel form, full-page form)."""
    page = new_context().new_page()
    sign_in(page)
    open_board(page)
    open_admit_panel(page, "A6")
    page.goto("/wards/ASH/beds/A6/admit")  # the admit form, as a full page
    expect(page.locator("#admit-form")).to_be_visible()
    assert console.csp_violations == [], "\n".join(console.csp_violations)


@pytest.mark.parametrize("width", [800, 1280, 1600])
def test_board_fits_the_window(new_context, width):
    """No sideways scrolling, and the board keeps a gutter from the window's edge."""
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    sign_in(page)
    open_board(page)
    sizes = page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
            left: Math.round(document.querySelector("#board").getBoundingClientRect().left),
        })"""
    )
    assert sizes["scroll"] <= sizes["client"], f"the page scrolls sideways: {sizes}"
    assert sizes["left"] >= 16, f"the board touches the window's left edge: {sizes}"


def test_a_refused_page_still_says_who_is_signed_in(new_context, console):
    """A refused request rolls its session back; the error page must still render (not a
    500) and still show who is signed in."""
    page = new_context().new_page()
    sign_in(page)
    console.expect_http_error(403, "/wards/BIRCH")
    response = page.goto("/wards/BIRCH")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("header")).to_contain_text("nurse")
    assert console.errors == [], "\n".join(console.errors)
