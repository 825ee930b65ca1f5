"""The weekly report's records typed in late, by ward (issue 22): reviews and observations
typed in during the week, and how many more than an hour (and a day) after they happened."""

from __future__ import annotations

import pytest

from tests.alerts.scenario import MIN, H, Scenario, utc

API = "/api/v1/reports/weekly"
WEEK = {"week_ending": "2026-03-15"}  # Mon 9 to Sun 15 March 2026 (GMT)
T = utc(2026, 3, 9, 8)


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    return Scenario(session, client, world, clock)


async def typed(sc: Scenario, when, action, *args) -> None:  # type: ignore[no-untyped-def]
    sc.clock.now = when
    await action(*args)


async def report(sc: Scenario, **params: str) -> dict:  # type: ignore[type-arg]
    r = await sc.client.get(API, headers=sc.world.auth("director"), params={**WEEK, **params})
    assert r.status_code == 200, r.text
    return dict(r.json()["late_records"])


async def test_records_typed_late_are_counted_by_ward_and_kind(sc: Scenario) -> None:
    sc.clock.now = T
    ash = await sc.admit(T)
    birch = await sc.admit(T, ward="BIRCH", bed="B1", sex="male", given_name="John")
    sc.clock.now = T + 2 * H
    seclusion = await sc.seclusion(ash, T + 2 * H)
    # 30 minutes after: typed in time; 2 hours after: late; 24 h 45 min after: over a day.
    await typed(sc, T + 3 * H + 30 * MIN, sc.seclusion_review, seclusion, "nursing", T + 3 * H)
    await typed(sc, T + 5 * H, sc.seclusion_review, seclusion, "medical", T + 3 * H)
    await typed(sc, T + 27 * H, sc.observe, seclusion, T + 2 * H + 15 * MIN)
    await typed(sc, T + 74 * H, sc.purpose_review, ash, T + 72 * H)
    await typed(sc, T + 72 * H, sc.purpose_review, birch, T + 72 * H)
    # Typed in the next week: that week's figure, not this one's.
    await typed(sc, utc(2026, 3, 16, 9), sc.purpose_review, birch, utc(2026, 3, 15, 20))

    sc.clock.now = utc(2026, 3, 20)
    late = await report(sc)
    assert {k: late[k] for k in ("threshold_minutes", "recorded", "late", "over_a_day")} == {
        "threshold_minutes": 60, "recorded": 5, "late": 3, "over_a_day": 1,
    }  # fmt: skip
    assert late["median_minutes_late"] == 120  # of 120, 120 and 1,485
    assert late["by_ward"] == {
        "ASH": {"recorded": 4, "late": 3, "over_a_day": 1, "median_minutes_late": 120},
        "BIRCH": {"recorded": 1, "late": 0, "over_a_day": 0, "median_minutes_late": None},
    }
    assert late["by_kind"]["seclusion_review"] == {
        "recorded": 2, "late": 1, "over_a_day": 0, "median_minutes_late": 120,
    }  # fmt: skip
    assert late["by_kind"]["seclusion_observation"]["over_a_day"] == 1
    assert late["by_kind"]["segregation_review"]["recorded"] == 0

    only_birch = await report(sc, ward_code="BIRCH")
    assert (only_birch["recorded"], only_birch["late"]) == (1, 0)
    assert list(only_birch["by_ward"]) == ["BIRCH"]


async def test_the_csv_has_the_late_records_by_ward(sc: Scenario) -> None:
    sc.clock.now = T
    ash = await sc.admit(T)
    await typed(sc, T + 80 * H, sc.purpose_review, ash, T + 72 * H)
    sc.clock.now = utc(2026, 3, 20)
    headers = sc.world.auth("director")
    csv = await sc.client.get(f"{API}.csv", headers=headers, params=WEEK)
    assert csv.status_code == 200, csv.text
    assert "late_records.late,ward,ASH,1" in csv.text.replace("\r", "")
