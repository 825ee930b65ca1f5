"""The rights and safeguarding lead's journey in a real browser: a missed first medical
review of seclusion appears in the queue, is acknowledged in place, then resolved with a
note (refused first without one). Uses bed C1 on ward CEDAR (the other journeys use ASH)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.test_board_journey import FAST_MS, sign_in
from tests.factories import next_nhs_number

pytestmark = pytest.mark.e2e


def _seclusion_with_a_missed_review(server) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
    now = datetime.now(UTC)
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0) as api:
        patient = api.post(
            "/api/v1/patients",
            json={
                "nhs_number": next_nhs_number(), "given_name": "Robin", "family_name": "Okafor",
                "date_of_birth": "1979-02-11", "sex": "male", "ethnic_category": "N",
                "home_locality_code": "LDS",
            },
        )  # fmt: skip
        assert patient.status_code == 201, patient.text
        admission = api.post(
            "/api/v1/admissions",
            json={
                "patient_id": patient.json()["id"], "ward_code": "CEDAR", "bed_label": "C1",
                "admitted_at": (now - timedelta(hours=6)).isoformat(), "legal_status": "s3",
                "reason": "Relapse with aggression", "expected_benefit": "Stabilise safely",
            },
        )  # fmt: skip
        assert admission.status_code == 201, admission.text
        seclusion = api.post(
            f"/api/v1/admissions/{admission.json()['id']}/seclusions",
            json={
                "started_at": (now - timedelta(hours=3)).isoformat(),
                "authorised_by_role": "nurse_in_charge",
                "reason": "Assault on a member of staff",
            },
        )
        assert seclusion.status_code == 201, seclusion.text
        run = api.post("/api/v1/rules/run", json={})
        assert run.status_code == 200, run.text
        assert "SECL_MEDICAL_FIRST" in {a["rule"] for a in run.json()["raised"]}


def test_breach_is_acknowledged_then_resolved_with_a_note(new_context, console, server):
    _seclusion_with_a_missed_review(server)
    page = new_context().new_page()
    sign_in(page, "lead")
    page.get_by_role("link", name="Alerts").first.click()
    expect(page.locator("h1")).to_have_text("Alerts")
    page.locator("#filter-ward").select_option("CEDAR")
    page.get_by_role("button", name="Filter").click()

    row = page.locator("tr[data-rule='SECL_MEDICAL_FIRST']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("First medical review of seclusion")
    expect(row).to_contain_text("Robin OKAFOR")
    expect(row).to_contain_text("Open")
    page.evaluate("window.__sameDocument = true")

    # Acknowledge in place: the row is swapped, the page is not reloaded.
    row.get_by_role("button", name="Acknowledge").click()
    expect(row).to_contain_text("Acknowledged", timeout=FAST_MS)
    expect(row).to_contain_text("by lead")

    # Resolve needs a note: without one the error shows beside the field.
    row.locator("summary").click()
    row.get_by_role("button", name="Resolve").click()
    expect(row.locator(".nhsuk-error-message")).to_contain_text("Enter a note", timeout=FAST_MS)
    row.get_by_label("Note (required)").fill("Doctor attended at 3 h; reviewed with the team")
    row.get_by_role("button", name="Resolve").click()
    expect(row).to_contain_text("Resolved", timeout=FAST_MS)
    assert page.evaluate("window.__sameDocument") is True

    # The alert's page keeps the note and the history.
    row.get_by_role("link", name="First medical review of seclusion").click()
    expect(page.locator("#resolve-note")).to_contain_text("Doctor attended at 3 h")
    expect(page.locator("#alert-history")).to_contain_text("Acknowledged")
    expect(page.locator("#alert-history")).to_contain_text("Resolved")
