"""A rule run that never finished is not "the previous run". After a complete run the
next one reads on from that run's as_of; a run cut off part-way leaves nothing behind (one
transaction: see test_rule_run_kill.py), and even its start left recorded (as a run
committed in steps and then killed would leave it) must not become the point the next run
reads on from, or every deadline between the two would be missed."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.alerts.models import RuleRun
from tests.alerts.scenario import MIN, H, Scenario, utc

S = utc(2026, 3, 9, 8)


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:  # type: ignore[no-untyped-def]
    clock.now = S
    return Scenario(session, client, world, clock)


async def secluded(sc: Scenario, start: datetime = S) -> int:
    admission = await sc.admit(start - 2 * H, bed="A1")
    return await sc.seclusion(admission, start)


async def test_the_next_run_reads_on_from_the_last_finished_run_not_an_unfinished_one(
    sc: Scenario,
) -> None:
    # A seclusion with no reviews or observations recorded, ended (and recorded as ended)
    # before the unfinished run below: nothing makes a run read it again but its window.
    seclusion = await secluded(sc)
    sc.clock.now = S + 10 * MIN
    finished = await sc.run(S + 10 * MIN)  # nothing due yet
    assert finished.run.finished_at is not None and finished.raised == []
    sc.clock.now = S + 150 * MIN
    await sc.end_seclusion(seclusion, S + 150 * MIN)

    # A run as of S+3h that died after recording its start.
    sc.session.add(
        RuleRun(as_of=S + 3 * H, started_at=S + 3 * H, trigger="scheduler", runner="gone:1",
                raised=0, cleared=0, errors={})
    )  # fmt: skip
    await sc.session.commit()

    # The next run reads on from S+10min: every deadline missed since is raised.
    sc.clock.now = S + 4 * H
    await sc.run(S + 4 * H)
    assert await sc.dues("SECL_MEDICAL_FIRST", seclusion) == [S + H]
    assert await sc.dues("SECL_NURSING_REVIEW", seclusion) == [S + 2 * H]
    observations = await sc.dues("SECL_OBSERVATION", seclusion)
    assert observations == [S + k * 15 * MIN for k in range(1, 10)]  # the end at S+150min
