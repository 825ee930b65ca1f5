"""Seclusion in a real browser: start it from a card, record a nursing review, and watch
the countdown move to the next deadline. Uses bed A6 on ward ASH (the other journeys use
A2 to A5)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.test_board_journey import FAST_MS, api_admit, open_board, sign_in

pytestmark = pytest.mark.e2e


def test_start_seclusion_record_nursing_review_and_countdown_moves(new_context, console, server):
    api_admit(server, bed="A6", given="Sam", family="Adeyemi", minutes_ago=180)
    page = new_context().new_page()
    sign_in(page)
    open_board(page)
    page.evaluate("window.__sameDocument = true")
    card = page.locator("#bed-A6")
    expect(card.locator(".wf-bed__name")).to_have_text("Sam ADEYEMI")

    # Click 1: "Seclude" on the card opens the form in the panel, time already filled in.
    card.get_by_role("link", name="Seclude Sam ADEYEMI").click()
    panel = page.locator("#panel")
    expect(panel.locator("#seclude-started_at")).to_be_visible(timeout=FAST_MS)
    assert panel.locator("#seclude-started_at").input_value() != ""
    # Seclusion began 90 minutes ago (recorded late), authorised by a psychiatrist, so the
    # first deadline is the 2-hourly nursing review, due in about 30 minutes.
    started = datetime.now(ZoneInfo("Europe/London")) - timedelta(minutes=90)
    panel.locator("#seclude-started_at").fill(started.strftime("%Y-%m-%dT%H:%M"))
    panel.get_by_label("Psychiatrist").check()
    panel.locator("#seclude-reason").fill("Serious violence towards another patient")
    # Click 2: start it.
    panel.get_by_role("button", name="Start seclusion").click()
    expect(panel.locator(".wf-done")).to_contain_text("Seclusion of Sam ADEYEMI started")

    restriction = card.locator(".wf-restriction")
    expect(restriction).to_contain_text("Secluded", timeout=FAST_MS)
    expect(restriction).to_contain_text("1 h 30 min")
    due = restriction.locator(".wf-due").first
    expect(restriction.locator(".wf-restriction__due").first).to_contain_text("Nursing review due")
    expect(due).to_have_text(re.compile(r"^in (29|30|31) min$"))
    expect(due).to_have_class(re.compile(r"wf-due--amber"))
    # The countdown is kept moving in the page (it has read the server's clock).
    expect(due).to_have_attribute("data-skew", re.compile(r"^-?\d+$"), timeout=FAST_MS)

    # Click 1: "Review" opens the review form with the review that is due next chosen.
    restriction.get_by_role("link", name="Review").click()
    expect(panel.locator("#secl-review-note")).to_be_visible(timeout=FAST_MS)
    expect(panel.get_by_label("Nursing review")).to_be_checked()
    panel.locator("#secl-review-note").fill("Calmer; two staff present, one a registered nurse")
    # Click 2: record it.
    panel.get_by_role("button", name="Record review").click()
    expect(panel.locator(".wf-done")).to_contain_text("Review of Sam ADEYEMI's seclusion recorded")

    # The countdown has moved on to the next nursing review, two hours from now.
    expect(due).to_have_text(re.compile(r"^in (1 h 5\d min|2 h)$"), timeout=FAST_MS)
    expect(due).not_to_have_class(re.compile(r"wf-due--amber|wf-due--red"))
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path="/tmp/e2e-seclusion.png", full_page=True)
    assert console.errors == [], "\n".join(console.errors)
