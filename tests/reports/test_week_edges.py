"""The week's edges on a small hand-built world (tests/factories.py World), in summer time:
the week ending Sunday 5 July 2026 runs from Monday 29 June 00:00 BST (Sunday 28 June
23:00 UTC) to Monday 6 July 00:00 BST (Sunday 5 July 23:00 UTC). Its midnights, ending
each day: Tue 30 Jun, Wed 1, Thu 2, Fri 3, Sat 4, Sun 5, Mon 6 Jul.

Four people on ASH:
- A admitted Sun 28 Jun 23:59 BST (a minute before the week): last week's admission;
  in all week: 7 bed days.
- B admitted Mon 29 Jun 00:00 BST (the week's first instant): this week's admission;
  the midnight it arrived at is not one it spent in the bed: 7 bed days (Tue to Mon).
- C admitted Fri 26 Jun, discharged Sun 5 Jul 23:59 BST (the week's last minute): this
  week's discharge; 6 bed days (Tue 30 to Sun 5). Secluded Sun 28 Jun 22:00 BST to Mon 29
  Jun 02:00 BST: 2 hours in each week.
- D admitted Fri 26 Jun, discharged Mon 6 Jul 00:00 BST (the next week's first instant):
  next week's discharge; 7 bed days (Tue 30 to Mon 6, the midnight it left at).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.reports.scenario import iso, post

pytestmark = pytest.mark.usefixtures("no_suppression")

API = "/api/v1/reports/weekly"
NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)  # Wednesday, the week after finished too


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def edges(client, world, clock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    clock.now = world.now = NOW
    admitted = {}
    for name, bed, at in (
        ("A", "A1", utc(6, 28, 22, 59)),
        ("B", "A2", utc(6, 28, 23, 0)),
        ("C", "A3", utc(6, 26, 10)),
        ("D", "A4", utc(6, 26, 10)),
    ):
        admitted[name] = (await world.admit(bed=bed, at=at)).id
    seclusion = await post(
        client,
        world,
        f"/admissions/{admitted['C']}/seclusions",
        {"started_at": iso(utc(6, 28, 21)), "authorised_by_role": "psychiatrist",
         "reason": "Assaulted a member of staff"},
    )  # fmt: skip
    await post(client, world, f"/seclusions/{seclusion['id']}/end",
               {"at": iso(utc(6, 29, 1)), "note": "Calm, returned to the ward"})  # fmt: skip
    for name, at in (("C", utc(7, 5, 22, 59)), ("D", utc(7, 5, 23, 0))):
        await post(client, world, f"/admissions/{admitted[name]}/discharge",
                   {"at": iso(at), "destination": "usual_residence"})  # fmt: skip
    return admitted


async def weekly(client, world, ending: str = "2026-07-05", **params: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(
        API, headers=world.auth("director"), params={"week_ending": ending, **params}
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_arrivals_and_departures_belong_to_the_week_they_happen_in_uk_time(
    client, world, edges
) -> None:
    week = await weekly(client, world)
    assert (week["week_start"], week["week_ending"]) == ("2026-06-29", "2026-07-05")
    assert (week["admissions"], week["discharges"]) == (1, 1)  # B in; C out
    before = await weekly(client, world, "2026-06-28")
    assert before["admissions"] == 3  # C and D on Friday, A a minute before midnight
    after = await weekly(client, world, "2026-07-12")
    assert after["discharges"] == 1  # D, at the first instant of that week


async def test_bed_days_count_the_midnights_each_person_spent_in_a_bed(
    client, world, edges
) -> None:
    week = await weekly(client, world)
    # A 7 + B 7 + C 6 + D 7.
    assert week["occupied_bed_days"] == 27
    assert [n["occupied"] for n in week["occupancy_nights"]] == [
        4,
        4,
        4,
        4,
        4,
        4,
        3,
    ]  # C left before Mon 6
    assert week["occupancy_nights"][0]["midnight"] == "2026-06-30"
    assert week["occupancy_nights"][-1]["midnight"] == "2026-07-06"
    # ASH's six beds, open all week.
    ash = await weekly(client, world, ward_code="ASH")
    assert ash["available_bed_days"] == 42
    assert ash["occupancy_rate"] == round(27 / 42, 4)
    assert ash["nights_over_85"] == 0  # 4 of 6 is 67 %
    # The other wards' figures are not ASH's.
    birch = await weekly(client, world, ward_code="BIRCH")
    assert (birch["occupied_bed_days"], birch["available_bed_days"]) == (0, 28)


async def test_seclusion_across_the_weeks_edge_is_split_at_it(client, world, edges) -> None:
    week = await weekly(client, world)
    assert week["seclusion"]["episodes"] == 1 and week["seclusion"]["started"] == 0
    assert week["seclusion"]["hours"] == 2.0
    assert week["seclusion"]["median_hours"] == 4.0  # ended in the week, counted whole
    before = await weekly(client, world, "2026-06-28")
    assert before["seclusion"]["started"] == 1 and before["seclusion"]["hours"] == 2.0


async def test_the_csv_holds_every_figure_of_the_json_with_the_same_value(
    client, world, edges
) -> None:
    """A director's spreadsheet and the API say the same: every figure of the JSON's
    week, by name `section.figure`, in a four-column long form."""
    auth = world.auth("director")
    params = {"week_ending": "2026-07-05", "ward_code": "ASH"}
    data = (await client.get(API, headers=auth, params=params)).json()
    r = await client.get(API + ".csv", headers=auth, params=params)
    assert r.status_code == 200
    assert "wardflow-weekly-ward-ASH-2026-07-05.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["measure", "breakdown", "group", "value"]
    assert all(len(row) == 4 for row in rows)
    keyed = {(m, b, g): v for m, b, g, v in rows[1:]}
    assert len(keyed) == len(rows) - 1  # no figure twice

    def cell(value: Any) -> str:
        return "" if value is None else str(value)

    assert keyed["scope", "all", "all"] == "ward:ASH"
    for key in ("week_start", "week_ending", "generated_at", "occupied_bed_days",
                "available_bed_days", "occupancy_rate", "nights_over_85", "admissions",
                "discharges", "all_active_at_end"):  # fmt: skip
        assert keyed[key, "all", "all"] == cell(data[key]), key
    for section in ("waits", "restrictive_interventions", "seclusion", "segregation",
                    "out_of_area", "delayed_discharge", "long_stays", "alerts"):  # fmt: skip
        for key, value in data[section].items():
            if not isinstance(value, dict):
                assert keyed[f"{section}.{key}", "all", "all"] == cell(value), (section, key)
    for night in data["occupancy_nights"]:
        assert keyed["occupied_beds", "midnight", night["midnight"]] == str(night["occupied"])
        assert keyed["open_beds", "midnight", night["midnight"]] == str(night["open"])
    for band, n in data["out_of_area"]["active_at_end_by_distance"].items():
        assert keyed["out_of_area.active_at_end", "distance_band", band] == str(n)
    white = data["equality"]["ethnic_group"]["groups"]["white"]
    assert keyed["occupied_bed_days", "ethnic_group", "white"] == str(white["occupied_bed_days"])
    assert keyed["seclusion_hours", "ethnic_group", "white"] == "2.0"
    occupancy = data["trends"]["occupancy"]
    assert keyed["trend.occupancy", "week_ending", "2026-07-05"] == str(occupancy["values"][-1])
    assert keyed["trend.occupancy.mean", "all", "all"] == cell(occupancy["spc"]["mean"])
