"""Issue 17, finding 12 (the smaller ones): NHS numbers out of the access log, /docs from
this site only, FHIR links not built from the Host header, codes limited to letters,
digits, - and _, and a week_ending in year 1 refused rather than a 500."""

from __future__ import annotations

import hashlib
import logging
import re

import pytest

from app.config import PROJECT_ROOT
from tests.factories import patient_body

NHS_NUMBER = "9434765919"
SWAGGER = PROJECT_ROOT / "static" / "vendor" / "swagger-ui"


# --- the access log -----------------------------------------------------------------------


def access_record(target: str) -> logging.LogRecord:
    """What uvicorn logs for a request (uvicorn/protocols/http: the access logger)."""
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 0,
        '%s - "%s %s HTTP/%s" %d', ("10.0.0.7:5123", "GET", target, "1.1", 200), None,
    )  # fmt: skip


def test_the_access_log_keeps_the_path_but_no_value_of_the_query(app):
    logger = logging.getLogger("uvicorn.access")
    target = (
        "/fhir/r4/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C"
        f"{NHS_NUMBER}&birthdate=1980-01-02&_count=5"
    )
    record = access_record(target)
    assert logger.filter(record)
    line = record.getMessage()
    assert NHS_NUMBER not in line and "1980" not in line
    assert '"GET /fhir/r4/Patient?identifier=*&birthdate=*&_count=* HTTP/1.1" 200' in line
    # A value sent bare, without a name, is not kept as a name either.
    record = access_record(f"/fhir/r4/Patient?{NHS_NUMBER}")
    logger.filter(record)
    assert NHS_NUMBER not in record.getMessage()
    # Paths without a query are as they were.
    record = access_record("/wards/ASH")
    logger.filter(record)
    assert '"GET /wards/ASH HTTP/1.1"' in record.getMessage()


# --- /docs --------------------------------------------------------------------------------

PINNED = {
    "swagger-ui-bundle.js": "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
    "swagger-ui.css": "5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d",
}


async def test_the_api_documentation_loads_nothing_from_another_site(client):
    r = await client.get("/docs")
    assert r.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources and all(s.startswith("/static/vendor/swagger-ui/") for s in sources), sources
    assert "cdn" not in r.text and "https://" not in r.headers["content-security-policy"]
    for name, digest in PINNED.items():
        assert f"/static/vendor/swagger-ui/{name}" in sources
        served = await client.get(f"/static/vendor/swagger-ui/{name}")
        assert served.status_code == 200
        assert hashlib.sha256(served.content).hexdigest() == digest  # the pinned file
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/redoc")).status_code == 404  # ReDoc came from a CDN only


# --- FHIR links ---------------------------------------------------------------------------


@pytest.fixture
def base_url(monkeypatch):
    from app.config import get_settings

    monkeypatch.setenv("WARDFLOW_BASE_URL", "https://wardflow.trust.nhs.uk/")
    get_settings.cache_clear()
    yield "https://wardflow.trust.nhs.uk"
    monkeypatch.delenv("WARDFLOW_BASE_URL")
    get_settings.cache_clear()


async def test_fhir_links_come_from_the_setting_not_the_host_header(client, world, base_url):
    headers = {**world.auth(), "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    r = await client.get("/fhir/r4/Location", headers=headers, params={"_count": 1})
    assert r.status_code == 200
    body = r.text
    assert "evil.example" not in body
    links = {link["relation"]: link["url"] for link in r.json()["link"]}
    assert links["self"].startswith(f"{base_url}/fhir/r4/Location?")
    assert links["next"].startswith(f"{base_url}/fhir/r4/Location?")
    assert all(e["fullUrl"].startswith(f"{base_url}/fhir/r4/") for e in r.json()["entry"])
    meta = await client.get("/fhir/r4/metadata", headers={"Host": "evil.example"})
    assert "evil.example" not in meta.text and base_url in meta.text


# --- codes --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["A/B", "../x", "ASH WARD", 'A"B', "A;B", "=cmd", "ÅSH", "A\tB"])
async def test_a_code_with_other_characters_is_refused_and_changes_nothing(client, world, code):
    auth = world.auth("admin")
    bodies = {
        "/api/v1/localities": {"code": code, "name": "Xtown", "latitude": 53.0, "longitude": -1.5},
        "/api/v1/sites": {"code": code, "name": "X Hospital", "locality_code": "LDS"},
        "/api/v1/wards": {"code": code, "name": "X Ward", "site_code": "STJ",
                          "ward_type": "adult_acute", "sex": "mixed", "min_age": 18,
                          "max_age": 65},
        "/api/v1/wards/ASH/beds": {"label": code},
    }  # fmt: skip
    for path, body in bodies.items():
        r = await client.post(path, headers=auth, json=body)
        assert r.status_code == 422, (path, r.text)
        [error] = r.json()["errors"]
        assert error["field"] in ("code", "label")
        assert error["message"] == "may contain only letters, digits, - and _"
    r = await client.post(
        "/api/v1/patients", headers=auth, json=patient_body(home_locality_code=code)
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "home_locality_code"


async def test_codes_of_letters_digits_dash_and_underscore_are_accepted(client, world):
    body = {"code": "NEW_SITE-2", "name": "New Hospital", "locality_code": "LDS"}
    assert (
        await client.post("/api/v1/sites", headers=world.auth("admin"), json=body)
    ).status_code == 201


# --- week_ending --------------------------------------------------------------------------


@pytest.mark.parametrize("sunday", ["0001-01-07", "1899-12-31", "9999-12-26"])
async def test_a_week_ending_out_of_range_is_422_not_500(client, world, signed_in, sunday):
    auth = world.auth("director")
    for suffix in ("", ".csv", ".pdf"):
        r = await client.get(f"/api/v1/reports/weekly{suffix}", headers=auth,
                             params={"week_ending": sunday})  # fmt: skip
        assert r.status_code == 422, (suffix, r.text)
        assert r.json()["errors"][0]["field"] == "week_ending"
    director = await signed_in("director")
    page = await director.get("/reports/weekly", params={"week_ending": sunday})
    assert page.status_code == 422
