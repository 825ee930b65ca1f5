"""Free text with script in it shows as text on every page that shows it, and never runs.

Every free-text field a person can fill (names, reason for admission, expected benefit,
transfer reason, review and observation notes, end notes, use-of-force details, bed
closure reason, bed request note and cancel reason, placement provider and review note,
alert acknowledge and resolve notes, a ward's name) is given both payloads, each field
marked so the test can tell that its text reached a page. One form is also filled in the
browser and sent back with an error, so what a person typed is shown again in the form.
Then every page that shows them is opened: no script ran (``window.__xss`` is undefined),
no element was injected, and the payload is there as text. Uses its own ward, XSS.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_board_journey import FAST_MS, sign_in
from tests.factories import next_nhs_number

pytestmark = pytest.mark.e2e

SCRIPT = "<script>window.__xss=1</script>"
ATTRIBUTE = '"><img src=x onerror="window.__xss=1">'


def payload(marker: str) -> str:
    return f"{marker} {SCRIPT} {ATTRIBUTE}"


def _when(**ago: float) -> str:
    return (datetime.now(UTC) - timedelta(**ago)).isoformat()


class Api:
    def __init__(self, server: Any) -> None:
        self.http = httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.tokens['admin']}"},
            timeout=20.0,
        )

    def __call__(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        r = self.http.request(method, f"/api/v1{path}", json=body)
        assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
        return dict(r.json()) if r.headers["content-type"].startswith("application/json") else {}


def _patient(api: Api, given: str, family: str) -> dict[str, Any]:
    return api(
        "POST",
        "/patients",
        {
            "nhs_number": next_nhs_number(),
            "given_name": given,
            "family_name": family,
            "date_of_birth": "1979-02-03",
            "sex": "female",
            "ethnic_category": "A",
            "home_locality_code": "LDS",
        },
    )


def seed(server: Any) -> dict[str, Any]:
    """Every free-text field, through the API, each with both payloads and a marker."""
    api = Api(server)
    api(
        "POST",
        "/wards",
        {
            "code": "XSS",
            "name": payload("W01"),
            "site_code": "STJ",
            "ward_type": "rehabilitation",
            "sex": "female",
            "min_age": 18,
            "max_age": 100,
        },
    )
    for label in ("X1", "X2", "X3", "X4"):
        api("POST", "/wards/XSS/beds", {"label": label})
    person = _patient(api, payload("F01"), payload("F02"))
    admission = api(
        "POST",
        "/admissions",
        {
            "patient_id": person["id"],
            "ward_code": "XSS",
            "bed_label": "X1",
            "admitted_at": _when(days=2),
            "legal_status": "s3",
            "reason": payload("F03"),
            "expected_benefit": payload("F04"),
        },
    )
    aid = admission["id"]
    api(
        "POST",
        f"/admissions/{aid}/purpose-reviews",
        {"at": _when(days=1), "still_needed": True, "note": payload("F05")},
    )
    api(
        "POST",
        f"/admissions/{aid}/transfer",
        {"ward_code": "XSS", "bed_label": "X2", "at": _when(hours=30), "reason": payload("F06")},
    )
    seclusion = api(
        "POST",
        f"/admissions/{aid}/seclusions",
        {"started_at": _when(hours=5), "authorised_by_role": "nurse_in_charge",
         "reason": payload("F07")},
    )  # fmt: skip
    sid = seclusion["id"]
    # The first medical review is overdue: an alert to acknowledge and resolve.
    run = api("POST", "/rules/run", {})
    [alert] = [
        a for a in run["raised"] if a["subject_id"] == sid and a["rule"] == "SECL_MEDICAL_FIRST"
    ]
    api("POST", f"/seclusions/{sid}/reviews",
        {"kind": "medical", "at": _when(hours=3), "note": payload("F08")})  # fmt: skip
    api("POST", f"/seclusions/{sid}/observations", {"at": _when(hours=2), "note": payload("F09")})
    api("POST", f"/seclusions/{sid}/end", {"at": _when(hours=1), "note": payload("F10")})
    segregation = api(
        "POST",
        f"/admissions/{aid}/segregations",
        {"started_at": _when(minutes=50), "reason": payload("F11")},
    )
    gid = segregation["id"]
    api("POST", f"/segregations/{gid}/reviews",
        {"kind": "mdt", "at": _when(minutes=40), "note": payload("F12")})  # fmt: skip
    api("POST", f"/segregations/{gid}/end", {"at": _when(minutes=30), "note": payload("F13")})
    force = api(
        "POST",
        f"/admissions/{aid}/restrictive-interventions",
        {
            "started_at": _when(hours=20),
            "ended_at": _when(hours=19, minutes=50),
            "reason_code": "10",
            "types": [{"type_code": "07"}],
            "staff": [{"name": payload("F18"), "job_title": payload("F19")}],
            "description": payload("F14"),
            "in_care_plan": True,
            "non_unit_staff_reason": payload("F17"),
            "outcome": payload("F15"),
            "avoidance_efforts": payload("F16"),
            "patient_injury": False,
            "staff_injury": False,
            "care_plan_notification_sent": True,
            "place": payload("F20"),
        },
    )
    api(
        "PATCH",
        f"/restrictive-interventions/{force['id']}",
        {"outcome": payload("F15") + " (settled)", "correction_reason": payload("F21")},
    )
    api("PATCH", "/wards/XSS/beds/X3", {"status": "closed", "reason": payload("F22")})
    waiting = _patient(api, "Wendy", "Waits")
    request = api(
        "POST",
        "/bed-requests",
        {"patient_id": waiting["id"], "decision_to_admit_at": _when(hours=4),
         "ward_type": "rehabilitation", "note": payload("F23")},
    )  # fmt: skip
    api(
        "POST",
        f"/bed-requests/{request['id']}/cancel",
        {"at": _when(hours=1), "reason": payload("F24")},
    )
    away = _patient(api, "Pat", "Away")
    placement = api(
        "POST",
        "/out-of-area-placements",
        {"patient_id": away["id"], "provider_name": payload("F25"), "latitude": 51.5,
         "longitude": -0.12, "bed_type": "200", "reason_code": "10", "started_at": _when(days=3)},
    )  # fmt: skip
    api("POST", f"/out-of-area-placements/{placement['id']}/reviews",
        {"at": _when(days=1), "note": payload("F26")})  # fmt: skip
    api("POST", f"/alerts/{alert['id']}/acknowledge", {"note": payload("F27")})
    api("POST", f"/alerts/{alert['id']}/resolve", {"note": payload("F28")})
    return {
        "admission": aid,
        "seclusion": sid,
        "segregation": gid,
        "force": force["id"],
        "alert": alert["id"],
        "request": request["id"],
        "placement": placement["id"],
        "markers": [f"W{n:02d}" for n in (1,)] + [f"F{n:02d}" for n in range(1, 29)],
    }


def _visible_text(page: Page) -> str:
    """What a person sees: the page's text and the values in its form fields."""
    values = page.eval_on_selector_all(
        "input, textarea", "els => els.map(e => e.value).join('\\n')"
    )
    return (page.locator("body").inner_text() + "\n" + values).lower()


def check_page(
    page: Page, path: str, seen: set[str], markers: list[str], *, shows: bool = True
) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.__xss") == "undefined", f"script ran on {path}"
    assert page.locator('img[src="x"]').count() == 0, f"an element was injected on {path}"
    assert (
        page.locator("script:not([src])").evaluate_all(
            "els => els.filter(e => e.textContent.includes('window.__xss')).length"
        )
        == 0
    ), f"a script element from the data on {path}"
    text = _visible_text(page)
    shown = {m for m in markers if f"{m} {SCRIPT} {ATTRIBUTE}".lower() in text}
    assert shown or not shows, f"{path} shows none of the payloads as text"
    seen |= shown


def test_script_in_free_text_shows_as_text_and_never_runs(new_context, console, server):
    ids = seed(server)
    markers = ids["markers"]
    page = new_context().new_page()
    sign_in(page, "admin")

    seen: set[str] = set()
    for path in [
        "/wards",
        "/wards/XSS",
        f"/admissions/{ids['admission']}",
        f"/seclusions/{ids['seclusion']}",
        f"/segregations/{ids['segregation']}",
        f"/use-of-force/{ids['force']}",
        f"/use-of-force/{ids['force']}/edit",
        f"/admissions/{ids['admission']}/use-of-force/new",
        f"/admissions/{ids['admission']}/discharge",
        f"/admissions/{ids['admission']}/transfer",
        f"/admissions/{ids['admission']}/ready-for-discharge",
        f"/admissions/{ids['admission']}/seclusions/new",
        f"/alerts/{ids['alert']}",
        "/alerts?status=resolved&ward_code=XSS",
        "/flow",
        f"/flow/requests/{ids['request']}",
        f"/flow/placements/{ids['placement']}",
        "/wards/XSS/beds/X4/admit",
    ]:
        check_page(page, path, seen, markers)
    # The audit log lists the writes (what, who, when), not their text; nothing runs there.
    check_page(page, "/admin/audit", seen, markers, shows=False)
    missing = sorted(set(markers) - seen)
    assert not missing, f"fields whose text no page showed: {missing}"

    # Typed into a form and sent back with an error (no answer to "still needed"): the
    # form shows what was typed, as text, and nothing runs.
    page.goto(f"/admissions/{ids['admission']}")
    typed = payload("T01")
    page.locator("#review-note").fill(typed)
    console.expect_http_error(422, f"/admissions/{ids['admission']}/purpose-reviews")
    page.get_by_role("button", name="Record review").click()
    expect(page.locator("#review-note")).to_have_value(typed, timeout=FAST_MS)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    # Then recorded, and shown on the admission page as text.
    page.locator("#review-still_needed").select_option("yes")
    page.get_by_role("button", name="Record review").click()
    expect(page.locator("#purpose-reviews")).to_contain_text(typed, timeout=FAST_MS)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert console.errors == [], "\n".join(console.errors)
