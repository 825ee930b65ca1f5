"""Statements per request for the pages and calls a ward uses all day, counted on the test
engine: the board (HTML and JSON), bed search, and POST /api/v1/admissions. Each costs a
round trip to the database; at national scale their number, not the rows, sets the time
(bench/README.md, "Profiles and fixes"). The bounds are today's counts plus about 30 %,
so a change that adds a reload or a per-row query fails here rather than in production."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import admission_body

API = "/api/v1"
H = timedelta(hours=1)
D = timedelta(days=1)


def counted(statements: list[str]) -> list[str]:
    """What a request sends: the test's own savepoints (its commits) are left out."""
    return [s for s in statements if "SAVEPOINT" not in s.upper()]


async def statements_of(query_counter: list[str], call) -> tuple[list[str], object]:  # type: ignore[no-untyped-def]
    start = len(query_counter)
    response = await call
    return counted(query_counter[start:]), response


@pytest.fixture
async def busy_ward(client, world, clock):  # type: ignore[no-untyped-def]
    """ASH with every kind of card: an ordinary stay, a seclusion with a review and an
    observation, a segregation, and a person ready for discharge."""
    h = world.auth("nurse")
    plain = await world.admit(bed="A1", at=clock.now - 5 * D)
    secluded = await world.admit(bed="A2", at=clock.now - 5 * D)
    segregated = await world.admit(bed="A3", at=clock.now - 5 * D)
    ready = await world.admit(bed="A4", at=clock.now - 5 * D)
    r = await client.post(
        f"{API}/admissions/{secluded.id}/seclusions",
        headers=h,
        json={
            "started_at": (clock.now - 3 * H).isoformat(),
            "reason": "Serious risk to others",
            "authorised_by_role": "psychiatrist",
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/admissions/{segregated.id}/segregations",
        headers=h,
        json={"started_at": (clock.now - 2 * D).isoformat(), "reason": "Sustained risk"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/admissions/{ready.id}/ready-for-discharge",
        headers=h,
        json={
            "started_at": (clock.now - 2 * D).isoformat(),
            "reason_code": "01",
            "attributable_to": "nhs",
        },
    )
    assert r.status_code == 201, r.text
    return plain


# Counted on SQLite and PostgreSQL alike (the same ORM statements on both). Before the
# work in bench/README.md ("Profiles and fixes"): board 20, admission 26, search 6.
BOARD_AT_MOST = 19  # 15 now, with a seclusion, a segregation and a delay on the ward
ADMISSION_AT_MOST = 14  # 11 now
SEARCH_AT_MOST = 5  # 4 now


def show(sql: list[str]) -> str:
    return "\n".join(" ".join(s.split())[:200] for s in sql)


async def test_the_board_api_is_a_few_statements(client, world, busy_ward, query_counter):  # type: ignore[no-untyped-def]
    h = world.auth("nurse")
    assert (await client.get(f"{API}/wards/ASH/board", headers=h)).status_code == 200
    sql, response = await statements_of(
        query_counter, client.get(f"{API}/wards/ASH/board", headers=h)
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    occupants = [b["occupant"] for b in response.json()["beds"] if b["occupant"]]  # type: ignore[attr-defined]
    assert len(occupants) == 4
    assert {f for o in occupants for f in o["flags"]} >= {
        "secluded",
        "segregated",
        "ready_for_discharge",
    }
    assert len(sql) <= BOARD_AT_MOST, show(sql)
    # The rule settings (the countdowns' thresholds, the out-of-area distance) once.
    assert sum(1 for s in sql if "FROM rule_settings" in s) == 1, show(sql)


async def test_the_board_page_is_a_few_statements(nurse, world, busy_ward, query_counter):  # type: ignore[no-untyped-def]
    assert (await nurse.get("/wards/ASH")).status_code == 200
    sql, response = await statements_of(query_counter, nurse.get("/wards/ASH"))
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert len(sql) <= BOARD_AT_MOST, show(sql)


async def test_who_is_asking_is_one_statement(client, world, query_counter):  # type: ignore[no-untyped-def]
    """The token, its user and the user's wards: asked on every API call."""
    h = world.auth("nurse")
    assert (await client.get(f"{API}/wards", headers=h)).status_code == 200
    sql, _ = await statements_of(query_counter, client.get(f"{API}/localities", headers=h))
    assert len(sql) == 2, show(sql)  # who is asking, then the localities


async def test_an_admission_is_a_few_statements_and_answers_in_full(client, world, query_counter):  # type: ignore[no-untyped-def]
    h = world.auth("nurse")
    patient = await world.patient()
    assert (await client.get(f"{API}/wards", headers=h)).status_code == 200
    sql, response = await statements_of(
        query_counter,
        client.post(
            f"{API}/admissions",
            headers=h,
            # Ward staff name a registered person by NHS number and date of birth.
            json=admission_body(
                patient.id,
                admitted_at="2026-03-10T10:00:00+01:00",
                decision_to_admit_at=None,
                nhs_number=patient.nhs_number,
                date_of_birth=patient.date_of_birth.isoformat(),
            ),
        ),
    )
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    assert len(sql) <= ADMISSION_AT_MOST, show(sql)
    assert not [s for s in sql if s.lstrip().upper().startswith(("DELETE", "UPDATE"))]
    # The answer is built from what was written, and is what reading it back gives.
    made = response.json()  # type: ignore[attr-defined]
    again = await client.get(f"{API}/admissions/{made['id']}", headers=h)
    assert again.status_code == 200
    assert made == again.json()
    assert made["admitted_at"] in ("2026-03-10T09:00:00Z", "2026-03-10T09:00:00+00:00")
    assert made["ward_code"] == "ASH" and made["bed_label"] == "A1"
    assert made["patient"]["home_locality_code"] == "LDS"
    assert made["legal_status_history"] == [{"legal_status": "s2", "at": made["admitted_at"]}]


async def test_bed_search_is_a_few_statements(client, world, busy_ward, query_counter):  # type: ignore[no-untyped-def]
    h = world.auth("beds")
    params = {"sex": "female", "age": 30, "locality_code": "LDS"}
    assert (await client.get(f"{API}/beds/search", headers=h, params=params)).status_code == 200
    sql, response = await statements_of(
        query_counter, client.get(f"{API}/beds/search", headers=h, params=params)
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert len(sql) <= SEARCH_AT_MOST, show(sql)
