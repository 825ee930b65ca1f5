"""Shared set-up for the interop tests: a small trust with people in and out of hospital,
a FHIR client that checks every resource it is served against the R4 models, and the
codes each FHIR element may hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class

from app.alerts.models import Alert
from tests.flow.helpers import API, iso

FHIR = "/fhir/r4"
FHIR_JSON = "application/fhir+json"

# What FHIR R4 allows where the models do not check it (they check structure, not codes).
ALLOWED_CODES = {
    "Encounter.status": {"planned", "arrived", "triaged", "in-progress", "onleave", "finished",
                         "cancelled", "entered-in-error", "unknown"},
    "Encounter.location.status": {"planned", "active", "reserved", "completed"},
    "Location.status": {"active", "suspended", "inactive"},
    "Location.mode": {"instance", "kind"},
    "Patient.gender": {"male", "female", "other", "unknown"},
    "Flag.status": {"active", "inactive", "entered-in-error"},
    "Bundle.type": {"searchset"},
    "OperationOutcome.issue.severity": {"fatal", "error", "warning", "information"},
}  # fmt: skip


def check_codes(resource: dict[str, Any]) -> None:
    kind = resource["resourceType"]
    for path, allowed in ALLOWED_CODES.items():
        head, *rest = path.split(".")
        if head != kind:
            continue
        values: list[Any] = [resource]
        for part in rest:
            nxt: list[Any] = []
            for v in values:
                got = v.get(part)
                nxt.extend(got if isinstance(got, list) else [got] if got is not None else [])
            values = nxt
        assert all(v in allowed for v in values), f"{path}: {values}"
    for entry in resource.get("entry", []):
        check_codes(entry["resource"])


def validate(body: dict[str, Any]) -> Any:
    """The body as a FHIR R4 model (``fhir.resources`` R4B: the resources we serve are the
    same in R4 and R4B); an unknown element or a wrong type fails the test here."""
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    check_codes(body)
    return model


@dataclass
class Fhir:
    client: httpx.AsyncClient
    headers: dict[str, str]

    async def get(self, path: str, expect: int = 200, **params: Any) -> dict[str, Any]:
        response = await self.client.get(f"{FHIR}/{path}", headers=self.headers, params=params)
        assert response.status_code == expect, response.text
        assert response.headers["content-type"].startswith(FHIR_JSON)
        body = response.json()
        validate(body)
        if expect >= 400:
            assert body["resourceType"] == "OperationOutcome"
        return body

    async def search(self, resource: str, **params: Any) -> list[dict[str, Any]]:
        bundle = await self.get(resource, **params)
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
        return [e["resource"] for e in bundle.get("entry", [])]

    async def ids(self, resource: str, **params: Any) -> set[str]:
        return {r["id"] for r in await self.search(resource, **params)}


def fhir(client: httpx.AsyncClient, world: Any, user: str = "admin") -> Fhir:
    return Fhir(client, world.auth(user))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


async def post(client: Any, world: Any, path: str, body: dict[str, Any], user: str = "admin"):
    r = await client.post(f"{API}{path}", headers=world.auth(user), json=body)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def add_alert(
    session: Any, admission_id: int | None, ward_id: int, due: str, status: str = "open", **kw: Any
) -> Alert:
    alert = Alert(
        rule=kw.pop("rule", "ADM_PURPOSE_REVIEW"),
        severity=kw.pop("severity", "medium"),
        status=status,
        subject_type="admission" if admission_id else "ward",
        subject_id=admission_id or ward_id,
        admission_id=admission_id,
        ward_id=ward_id,
        due_at=at(due),
        raised_at=at(due),
        parameters={},
        message=kw.pop("message", "Purpose of admission not reviewed within 72 h"),
        **kw,
    )
    session.add(alert)
    await session.commit()
    return alert


__all__ = ["API", "iso"]
