"""Bed search's "soon" list is ranked and cut in the database (bench/README.md, "Profiles
and fixes"); these pin that the cut never changes who is shown: beds due out the same day
are still ordered by distance across the cut, and the earlier date still wins over distance."""

from __future__ import annotations

from datetime import date

from tests.flow.helpers import API, add_place


async def soon(client, world, limit):  # type: ignore[no-untyped-def]
    r = await client.get(
        f"{API}/beds/search",
        headers=world.auth("beds"),
        params={"sex": "female", "age": 30, "locality_code": "LDS", "limit": limit},
    )
    assert r.status_code == 200, r.text
    return [(s["ward_code"], s["bed_label"]) for s in r.json()["soon"]]


async def test_a_tie_on_the_date_is_decided_by_distance_across_the_cut(client, world):  # type: ignore[no-untyped-def]
    await add_place(
        client,
        world,
        "HRG",
        53.99,
        -1.54,
        [
            dict(
                code="HEATHER", ward_type="adult_acute", sex="mixed", min_age=18, max_age=64, beds=3
            )
        ],
    )
    same_day = date(2026, 3, 14)
    # Harrogate's beds admitted first (lower ids), so only distance puts Leeds first.
    await world.admit(ward="HEATHER", bed="B1", expected_discharge_date=same_day)
    await world.admit(ward="HEATHER", bed="B2", expected_discharge_date=same_day)
    await world.admit(bed="A5", expected_discharge_date=same_day)
    await world.admit(bed="A4", expected_discharge_date=same_day)
    await world.admit(bed="A1", expected_discharge_date=date(2026, 3, 20))
    await world.admit(ward="HEATHER", bed="B3", expected_discharge_date=date(2026, 3, 12))

    assert await soon(client, world, 1) == [("HEATHER", "B3")]
    assert await soon(client, world, 2) == [("HEATHER", "B3"), ("ASH", "A4")]
    assert await soon(client, world, 3) == [("HEATHER", "B3"), ("ASH", "A4"), ("ASH", "A5")]
    assert await soon(client, world, 10) == [
        ("HEATHER", "B3"),
        ("ASH", "A4"),
        ("ASH", "A5"),
        ("HEATHER", "B1"),
        ("HEATHER", "B2"),
        ("ASH", "A1"),
    ]
