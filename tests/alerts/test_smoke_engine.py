from __future__ import annotations

from datetime import timedelta

from tests.factories import World

API = "/api/v1"
H = timedelta(hours=1)


async def test_a_missed_first_medical_review_is_raised_once(client, world: World, clock) -> None:
    admission = await world.admit(at=clock.now - 5 * H)
    start = clock.now - 3 * H
    r = await client.post(
        f"{API}/admissions/{admission.id}/seclusions",
        json={
            "started_at": start.isoformat(),
            "authorised_by_role": "nurse_in_charge",
            "reason": "Assault on staff",
        },
        headers=world.auth("nurse"),
    )
    assert r.status_code == 201, r.text
    r = await client.post(f"{API}/rules/run", json={}, headers=world.auth())
    assert r.status_code == 200, r.text
    body = r.json()
    print(body["errors"])
    rules = sorted(a["rule"] for a in body["raised"])
    print(rules)
    assert "SECL_MEDICAL_FIRST" in rules
    r = await client.post(f"{API}/rules/run", json={}, headers=world.auth())
    assert r.json()["raised"] == []
