"""Every figure of the weekly report for the constructed week of scenario.py, worked out by
hand: a stay inside the week, stays and episodes across its edges, the week the clocks go
forward, a closed bed, and groups with no bed days."""

from __future__ import annotations

import pytest

from tests.reports import scenario

pytestmark = pytest.mark.usefixtures("no_suppression")

API = "/api/v1/reports/weekly"


@pytest.fixture
async def built(client, world, clock, session):
    result = await scenario.build(client, world, clock)
    await scenario.add_alerts(session, world, result.admissions["P1"])
    return result


async def weekly(client, world, **params):
    r = await client.get(
        API, headers=world.auth("director"), params={"week_ending": "2026-03-29", **params}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_trust_figures_for_a_week_worked_by_hand(client, world, built) -> None:
    r = await weekly(client, world)
    assert r["scope"] == {"type": "trust", "code": None, "name": "The trust"}
    assert (r["week_start"], r["week_ending"]) == ("2026-03-23", "2026-03-29")
    # P1 7 + P2 2 (in and out inside the week) + P3 2 (across the end) + P4 0 (left Monday).
    assert r["occupied_bed_days"] == 11
    # 13 beds x 7 midnights, less C3's two closed midnights (Fri 27, Sat 28).
    assert r["available_bed_days"] == 89
    assert r["occupancy_rate"] == round(11 / 89, 4)
    assert [n["midnight"] for n in r["occupancy_nights"]] == [
        "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27", "2026-03-28", "2026-03-29",
        "2026-03-30",
    ]  # fmt: skip
    assert [n["occupied"] for n in r["occupancy_nights"]] == [1, 2, 2, 1, 1, 2, 2]
    assert [n["open"] for n in r["occupancy_nights"]] == [13, 13, 13, 12, 12, 13, 13]
    assert r["nights_over_85"] == 0
    assert (r["admissions"], r["discharges"]) == (2, 2)  # P2, P3 in; P4, P2 out
    # P4's 72 days: a discharge after 60+ days, not 90+; no one in 60+ days at the end.
    assert r["long_stays"] == {
        "over_60_days": 1,
        "over_90_days": 0,
        "in_hospital_over_60_days": 0,
        "in_hospital_over_90_days": 0,
    }
    # P3 waited Sat 08:00 to 22:00: 14 h = 840 min, past 12 h inside the week.
    assert r["waits"] == {
        "requests": 1, "over_12h": 1, "median_minutes": 840.0, "waiting_at_end": 0,
    }  # fmt: skip
    # P2 (prone) and P1 (standing); P1's of the week before is not this week's.
    assert r["restrictive_interventions"] == {
        "count": 2, "people": 2, "per_1000_obd": round(1000 * 2 / 11, 2), "prone": 1,
    }  # fmt: skip
    # 2 h after Monday 00:00 of one across the start; 2 real hours of one across the change
    # of clocks (00:30 GMT to 03:30 BST). Whole lengths 6 h and 2 h: median 4 h.
    assert r["seclusion"] == {
        "episodes": 2, "started": 1, "people": 1, "hours": 4.0, "median_hours": 4.0,
        "open_at_end": 0,
    }  # fmt: skip
    # Sun 12:00 BST to the week's end (Mon 00:00 BST): 12 h = 0.5 days; it went on after.
    assert r["segregation"] == {
        "episodes": 1, "started": 1, "people": 1, "days": 0.5, "median_days": None,
        "open_at_end": 1,
    }  # fmt: skip
    # Placed Fri 10:00: the midnights of Sat 28, Sun 29, Mon 30.
    oap = r["out_of_area"]
    assert {k: oap[k] for k in ("inappropriate_started", "inappropriate_bed_days",
                                "active_at_end", "ended", "all_active_at_end")} == {
        "inappropriate_started": 1, "inappropriate_bed_days": 3, "active_at_end": 1, "ended": 0,
        "all_active_at_end": 1,
    }  # fmt: skip
    assert oap["active_at_end_by_distance"] == {"0-19": 0, "20-49": 0, "50-99": 1, "100+": 0}
    assert r["all_active_at_end"] == 1
    # P1 ready from Thu 15:00: the midnights of Fri 27 .. Mon 30.
    assert r["delayed_discharge"] == {
        "delay_days": 4, "people_at_end": 1, "by_reason": {"09": 4},
        "by_attributable": {"social_care": 4},
    }  # fmt: skip
    assert r["alerts"] == {
        "raised": 1, "cleared": 0, "acknowledged": 0, "resolved": 1, "open_at_end": 1,
        "awaiting_review_at_end": 0, "withdrawn": 0,
        "by_rule": {"ADM_PURPOSE_REVIEW": {"raised": 1, "open_at_end": 1}},
    }  # fmt: skip


async def test_rights_by_ethnic_group_as_rates_with_the_ratio_to_white(
    client, world, built
) -> None:
    groups = (await weekly(client, world))["by_ethnic_group"]
    assert list(groups) == ["white", "mixed", "asian", "black", "other", "not_known"]
    white, black, asian = groups["white"], groups["black"], groups["asian"]
    assert (white["occupied_bed_days"], white["restrictive_interventions"]) == (7, 1)
    assert white["seclusion_episodes"] == 2
    assert white["per_1000_obd"] == 142.86  # 1 / 7 x 1000
    assert white["ratio_to_white"] == 1.0
    assert (black["occupied_bed_days"], black["restrictive_interventions"]) == (2, 1)
    assert black["per_1000_obd"] == 500.0
    assert black["ratio_to_white"] == 3.5  # 500 / 142.86
    assert black["rates"]["prone"] == 500.0
    assert black["ratios"]["prone"] is None  # the White prone rate is zero
    assert asian["occupied_bed_days"] == 2
    assert (asian["per_1000_obd"], asian["ratio_to_white"]) == (0.0, 0.0)
    assert (asian["segregation_episodes"], asian["segregation_days"]) == (1, 0.5)
    assert asian["rates"]["segregation_days"] == 250.0  # 0.5 / 2 x 1000
    # No bed days in the week (P4 left on Monday; P5 is out of area): no rate, no ratio.
    for name in ("mixed", "other", "not_known"):
        assert groups[name]["occupied_bed_days"] == 0
        assert groups[name]["per_1000_obd"] is None
        assert groups[name]["ratio_to_white"] is None


async def test_rights_by_sex_age_band_and_learning_disability(client, world, built) -> None:
    equality = (await weekly(client, world))["equality"]
    sex = equality["sex"]
    assert sex["reference"] == "female"  # the most bed days: 9
    assert sex["groups"]["female"]["occupied_bed_days"] == 9
    assert sex["groups"]["female"]["rates"]["restrictive_interventions"] == 222.22
    assert sex["groups"]["male"]["occupied_bed_days"] == 2
    assert sex["groups"]["male"]["ratios"]["restrictive_interventions"] == 0.0
    ages = equality["age_band"]
    assert {g: f["occupied_bed_days"] for g, f in ages["groups"].items()} == {
        "35-44": 9,
        "55-64": 2,
    }
    ld = equality["learning_disability_or_autism"]
    assert ld["reference"] == "neither"
    assert ld["groups"]["ld_or_autism"]["occupied_bed_days"] == 2
    assert ld["groups"]["ld_or_autism"]["rates"]["segregation_episodes"] == 500.0


async def test_a_ward_and_a_site(client, world, built) -> None:
    ash = await weekly(client, world, ward_code="ASH")
    assert ash["scope"] == {"type": "ward", "code": "ASH", "name": "Ash Ward"}
    assert (ash["occupied_bed_days"], ash["available_bed_days"]) == (9, 42)
    assert (ash["admissions"], ash["discharges"]) == (1, 1)
    assert ash["restrictive_interventions"]["count"] == 2
    assert ash["seclusion"]["episodes"] == 2
    assert ash["segregation"]["episodes"] == 0  # P3 was on BIRCH
    assert ash["delayed_discharge"]["delay_days"] == 4
    assert ash["out_of_area"]["inappropriate_bed_days"] == 3  # trust-wide
    birch = await weekly(client, world, ward_code="BIRCH")
    assert (birch["occupied_bed_days"], birch["segregation"]["days"]) == (2, 0.5)
    assert birch["alerts"]["raised"] == 0
    site = await weekly(client, world, site_code="STJ")
    assert site["occupied_bed_days"] == 11
    assert site["available_bed_days"] == 89


async def test_the_trend_counts_each_week_the_same_way(client, world, built) -> None:
    r = await weekly(client, world)
    occupancy = r["trends"]["occupancy"]
    assert len(occupancy["weeks"]) == 26
    assert occupancy["weeks"][-2:] == ["2026-03-22", "2026-03-29"]
    # The week before: P4 all 7 midnights, P1 from Fri 20 (Sat 21, Sun 22, Mon 23): 10 of
    # 13 x 7 = 91 open bed days.
    assert occupancy["values"][-2] == round(100 * round(10 / 91, 4), 1)
    assert occupancy["values"][-1] == round(100 * round(11 / 89, 4), 1)
    # Before the wards were made (10 March): CEDAR counts all 3 beds open from its first
    # recorded stay (P4's, from January; issue 18), ASH and BIRCH had none: 7 of 21.
    assert occupancy["values"][-4] == round(100 * round(7 / 21, 4), 1)
    assert r["trends"]["seclusion_hours"]["values"][-2:] == [4.0, 4.0]  # 4 h of the first before
    assert occupancy["reading"].startswith("Occupancy 12.4 %: above the 85 % limit on 0 of 7")
