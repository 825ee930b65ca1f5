"""The bed manager's journey in a real browser: a person waiting for a bed is on /flow (no
name shown), the bed manager searches from their request, clicks "Admit here", completes
the admit form that comes filled in, sees the person's card on the ward board, and the
request is gone from the waiting list. Uses ward BIRCH (male): the other journeys use ASH
and CEDAR."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, next_nhs_number

pytestmark = pytest.mark.e2e

# /flow refreshes itself every 30 s; allow a few refreshes (a busy machine answers slowly).
REFRESH_MS = 90_000


def sign_in_as_bed_manager(page: Page) -> None:
    page.goto("/login")
    page.locator("#login-username").fill("beds")
    page.locator("#login-password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # A bed manager's home is the trust's bed state, not the list of wards.
    page.wait_for_url("**/flow")
    expect(page.locator("h1")).to_have_text("Bed flow")


def waiting_person(server: Any, *, given: str, family: str, hours_ago: float) -> dict[str, Any]:
    """A man from Leeds on the waiting list (through the API); returns the patient and the
    request's id."""
    with httpx.Client(base_url=server.base_url, timeout=10.0) as api:
        patient = api.post(
            "/api/v1/patients",
            headers={"Authorization": f"Bearer {server.tokens['admin']}"},
            json={
                "nhs_number": next_nhs_number(), "given_name": given, "family_name": family,
                "date_of_birth": "1988-04-20", "sex": "male", "ethnic_category": "C",
                "home_locality_code": "LDS",
            },
        )  # fmt: skip
        assert patient.status_code == 201, patient.text
        decided = datetime.now(UTC) - timedelta(hours=hours_ago)
        request = api.post(
            "/api/v1/bed-requests",
            headers={"Authorization": f"Bearer {server.tokens['beds']}"},
            json={
                "patient_id": patient.json()["id"],
                "decision_to_admit_at": decided.isoformat(),
                "ward_type": "adult_acute",
                "note": "In the place of safety since the morning",
            },
        )
        assert request.status_code == 201, request.text
        return {**patient.json(), "request_id": request.json()["id"]}


def test_bed_manager_finds_a_bed_and_admits_the_waiting_person(new_context, console, server):
    person = waiting_person(server, given="Tomasz", family="Wiśniewski", hours_ago=2.5)
    request_id = person["request_id"]
    page = new_context().new_page()
    sign_in_as_bed_manager(page)

    # The waiting person is on the list: initials, sex and age band, never the name.
    row = page.locator(f"#request-{request_id}")
    expect(row).to_contain_text("TW, male, 35-44")
    expect(row.locator(".wf-waiting")).to_have_text(re.compile(r"^2 h 3\d min$"))
    expect(page.locator("#bed-state")).not_to_contain_text("Wiśniewski")
    expect(page.locator("#distance-method")).to_contain_text("great-circle")

    # Search from the request: the filters come from the person, nearest beds first.
    row.get_by_role("link", name="Find a bed").click()
    page.wait_for_url(f"**/flow/search?request={request_id}")
    expect(page.locator("#search-for")).to_contain_text("TW, male, 35-44")
    expect(page.locator("#search-for")).to_contain_text("from Leeds")
    expect(page.locator("#search-ward_type")).to_have_value("adult_acute")
    expect(page.locator("#search")).not_to_contain_text("Wiśniewski")
    page.screenshot(path="/tmp/e2e-flow-search.png", full_page=True)
    first = page.locator("#results tbody tr").first
    expect(first).to_have_attribute("data-ward", "BIRCH")
    bed = first.get_attribute("data-bed")
    assert bed is not None
    first.get_by_role("link", name="Admit here").click()

    # The admit form comes filled in from the request.
    page.wait_for_url(f"**/wards/BIRCH/beds/{bed}/admit?request={request_id}")
    form = page.locator("#admit-form")
    expect(form.locator("#admit-nhs_number")).to_have_value(person["nhs_number"])
    expect(form.locator("#admit-decision_to_admit_at")).not_to_have_value("")
    expect(form.locator("input[name=bed_request_id]")).to_have_value(str(request_id))
    form.locator("#admit-legal_status").select_option("s2")
    form.locator("#admit-reason").fill("Psychotic relapse, not safe at home")
    form.locator("#admit-expected_benefit").fill("Restart medication and stabilise")
    form.get_by_role("button", name="Admit").click()

    # The card is on the ward board...
    page.wait_for_url(f"{server.base_url}/wards/BIRCH")
    card = page.locator(f"#bed-{bed}")
    expect(card.locator(".wf-bed__name")).to_have_text("Tomasz WIŚNIEWSKI")
    expect(card).to_have_class("wf-bed wf-bed--occupied")

    # ...and the request is gone from the waiting list.
    page.get_by_role("link", name="Bed flow").click()
    page.wait_for_url("**/flow")
    expect(page.locator(f"#request-{request_id}")).to_have_count(0)
    expect(page.locator("#ward-BIRCH")).to_be_visible()
    page.screenshot(path="/tmp/e2e-flow.png", full_page=True)
    assert console.errors == [], "\n".join(console.errors)


def test_the_waiting_list_refreshes_itself(new_context, console, server):
    """A request made elsewhere appears without a reload, its clock already running."""
    page = new_context().new_page()
    sign_in_as_bed_manager(page)
    page.evaluate("window.__sameDocument = true")  # proves htmx swaps, not reloads

    person = waiting_person(server, given="Dariusz", family="Kowalczyk", hours_ago=13)

    row = page.locator(f"#request-{person['request_id']}")
    expect(row).to_contain_text("DK, male, 35-44", timeout=REFRESH_MS)
    clock = row.locator(".wf-waiting")
    expect(clock).to_have_text(re.compile(r"^13 h( \d min)?$"))
    expect(clock).to_have_class("wf-waiting wf-waiting--over")  # past the 12-hour standard
    assert page.evaluate("window.__sameDocument") is True
    assert console.csp_violations == [], "\n".join(console.csp_violations)
    assert console.errors == [], "\n".join(console.errors)
