"""Shared set-up for bed-flow API tests: more places, people waiting, and a reference
great-circle distance worked out independently of the service's library."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from tests.factories import patient_body

API = "/api/v1"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def reference_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine on a sphere of radius 6371.0088 km, written out here to check the service."""
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


LEEDS = (53.8, -1.55)


async def add_place(
    client: Any,
    world: Any,
    code: str,
    lat: float,
    lon: float,
    wards: list[dict[str, Any]],
) -> None:
    """A locality with one site and its wards (each dict: code, ward_type, sex, min_age,
    max_age, beds)."""
    headers = world.auth()
    r = await client.post(
        f"{API}/localities",
        headers=headers,
        json={"code": code, "name": code.title(), "latitude": lat, "longitude": lon},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/sites",
        headers=headers,
        json={"code": f"S{code}", "name": f"{code.title()} Hospital", "locality_code": code},
    )
    assert r.status_code == 201, r.text
    for ward in wards:
        beds = ward.pop("beds", 2)
        r = await client.post(
            f"{API}/wards",
            headers=headers,
            json={"name": f"{ward['code'].title()} Ward", "site_code": f"S{code}", **ward},
        )
        assert r.status_code == 201, r.text
        for i in range(1, beds + 1):
            r = await client.post(
                f"{API}/wards/{ward['code']}/beds", headers=headers, json={"label": f"B{i}"}
            )
            assert r.status_code == 201, r.text


async def new_patient(client: Any, world: Any, **overrides: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/patients", headers=world.auth(), json=patient_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


async def waiting(
    client: Any, world: Any, patient_id: int, decided: datetime, user: str = "beds", **extra: Any
) -> dict[str, Any]:
    r = await client.post(
        f"{API}/bed-requests",
        headers=world.auth(user),
        json={
            "patient_id": patient_id,
            "decision_to_admit_at": iso(decided),
            "ward_type": "adult_acute",
            "note": "Assessed in A&E, needs an acute bed",
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
