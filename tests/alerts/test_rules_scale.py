"""Rule runs over a national history: more subjects than a statement can carry as bind
parameters (asyncpg refuses more than 32,767), and one failing rule not turning every later
run into a full one. Found by the benchmark (bench/README.md): a full run over 263k
admissions failed ADM_PURPOSE_REVIEW, RI_RECORD_INCOMPLETE and CRFD_DELAY on PostgreSQL, and
since no run after a failed one was windowed, every run after it failed the same way."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import column, func, insert, literal, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts import engine
from app.alerts.breaches import RunContext
from app.alerts.models import Alert, RuleRun
from app.sql import among
from tests.alerts.scenario import SEC, D, H, Scenario, utc

S = utc(2026, 3, 9, 8)
# Above asyncpg's 32,767 and the 32,766 of SQLite builds since 3.32.
MANY = 40_000


@pytest.fixture
async def sc(session, client, world, clock) -> Scenario:
    clock.now = S
    return Scenario(session, client, world, clock)


async def _numbers(session: AsyncSession, count: int) -> None:
    """A temporary table ``numbers(n)`` holding 1..count, made in the database."""
    await session.execute(text("CREATE TEMPORARY TABLE numbers (n INTEGER PRIMARY KEY)"))
    await session.execute(
        text(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) "
            "INSERT INTO numbers (n) SELECT n FROM s"
        ),
        {"count": count},
    )


async def test_among_matches_any_number_of_ids(session: AsyncSession) -> None:
    await _numbers(session, MANY + 10)
    numbers = table("numbers", column("n"))
    wanted = list(range(1, MANY * 2, 2))  # odd numbers, half of them beyond the table
    found = await session.scalar(
        select(func.count()).select_from(numbers).where(among(numbers.c.n, wanted))
    )
    assert found == (MANY + 10 + 1) // 2
    # duplicates and an empty list
    assert (
        await session.scalar(
            select(func.count()).select_from(numbers).where(among(numbers.c.n, [5, 5, 7]))
        )
        == 2
    )
    assert (
        await session.scalar(
            select(func.count()).select_from(numbers).where(among(numbers.c.n, []))
        )
        == 0
    )


async def _pending_alerts(session: AsyncSession, rules: list[str], as_of: datetime) -> None:
    """MANY open alerts for each rule, for subjects with no records (ids from 1,000,001):
    what a full run over a national history leaves open for the next runs to clear."""
    await _numbers(session, MANY)
    for rule in rules:
        await session.execute(
            insert(Alert).from_select(
                [
                    "rule", "severity", "status", "subject_type", "subject_id", "due_at",
                    "raised_at", "parameters", "message",
                ],
                select(
                    literal(rule), literal("high"), literal("open"), literal("admission"),
                    text("n + 1000000"), literal(as_of, Alert.due_at.type),
                    literal(as_of, Alert.raised_at.type), literal({}, Alert.parameters.type),
                    literal("pending"),
                ).select_from(text("numbers")),
            )
        )  # fmt: skip


async def test_a_windowed_run_with_more_open_alerts_than_bind_parameters(
    sc: Scenario,
) -> None:
    """Every check reads the subjects of its open alerts; with 40,000 of them per check,
    each must still run (no errors) and raise the breaches of the real records."""
    admission = await sc.admit(S - 2 * H)
    seclusion = await sc.seclusion(admission, S)
    first = await sc.run(S + SEC)  # a complete run: the next one is windowed
    assert first.run.errors == {}
    # (Ward rules are left out: their subjects are wards, never more than a few thousand.)
    rules = sorted({s.codes[0] for s in engine.CHECKS if not s.codes[0].startswith("WARD_")})
    await _pending_alerts(sc.session, rules, S - 100 * H)
    sc.clock.now = S + 2 * H
    result = await sc.run(S + 2 * H)
    assert result.run.errors == {}
    assert await sc.dues("SECL_MEDICAL_FIRST", seclusion) == [S + H]
    # the fake pending alerts have no records: nothing raised or cleared for them
    assert all(a.subject_id in (admission, seclusion) for a in result.raised)
    assert result.cleared == []


async def test_a_failed_rule_looks_at_everything_again_and_only_that_rule(
    sc: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a run in which one check failed, that check looks at everything next time
    (its breaches since may be missing) while the others keep their window: one broken
    rule must not make every later run as slow as the first."""
    await sc.seclusion(await sc.admit(S - 2 * H), S)
    await sc.run(S + SEC)

    async def broken(session, ctx):
        raise RuntimeError("unreadable")

    seen: dict[str, datetime | None] = {}

    def spy(spec):  # type: ignore[no-untyped-def]
        async def run(session: AsyncSession, ctx: RunContext):  # type: ignore[no-untyped-def]
            seen[spec.codes[0]] = ctx.window_start
            return await spec.run(session, ctx)

        return replace(spec, run=run)

    real = engine.CHECKS
    monkeypatch.setattr(
        engine,
        "CHECKS",
        tuple(replace(s, run=broken) if "ADM_WAIT" in s.codes else s for s in real),
    )
    failed = await sc.run(S + H)
    assert set(failed.run.errors) == {"ADM_WAIT"}

    monkeypatch.setattr(engine, "CHECKS", tuple(spy(s) for s in real))
    after = await sc.run(S + 2 * H)
    assert after.run.errors == {}
    assert seen["ADM_WAIT"] is None  # everything
    assert seen["SECL_MEDICAL_FIRST"] == S + H  # from the failed run's as_of
    assert {code for code, start in seen.items() if start is None} == {"ADM_WAIT"}

    seen.clear()
    await sc.run(S + 3 * H)
    assert seen["ADM_WAIT"] == S + 2 * H  # windowed again once it succeeded
    runs = await sc.session.scalar(select(func.count()).select_from(RuleRun))
    assert runs == 4


# --- ADM_PURPOSE_REVIEW in windowed runs: only chains that can have moved are walked ------

A = utc(2026, 2, 2, 10)
B = A + 70 * H  # the first review, on time


async def test_windowed_purpose_review_runs_raise_at_each_deadline_and_not_before(
    sc: Scenario,
) -> None:
    """Admissions whose next deadline has not passed are skipped by a windowed run; at the
    deadline exactly nothing is owed, one second after it the alert is raised."""
    sc.clock.now = A
    reviewed = await sc.admit(A, bed="A1")
    never = await sc.admit(A, bed="A2")
    await sc.run(A + H)  # the runs after this one are windowed
    sc.clock.now = B
    await sc.purpose_review(reviewed, B)
    await sc.run(A + 72 * H)
    assert await sc.dues("ADM_PURPOSE_REVIEW") == []
    await sc.run(A + 72 * H + SEC)
    assert await sc.dues("ADM_PURPOSE_REVIEW") == [A + 72 * H]
    assert [a.subject_id for a in await sc.alerts("ADM_PURPOSE_REVIEW")] == [never]
    await sc.run(B + 7 * D)
    assert await sc.dues("ADM_PURPOSE_REVIEW", reviewed) == []
    await sc.run(B + 7 * D + SEC)
    assert await sc.dues("ADM_PURPOSE_REVIEW", reviewed) == [B + 7 * D]
    assert await sc.dues("ADM_PURPOSE_REVIEW", never) == [A + 72 * H]  # next at + 7 d


async def test_a_review_recorded_late_and_dated_long_ago_moves_the_chain(sc: Scenario) -> None:
    """A review dated in the past re-anchors the chain, which can put a deadline where there
    was none: the admission is walked again although its latest review is old news."""
    sc.clock.now = A
    admission = await sc.admit(A)
    sc.clock.now = B
    await sc.purpose_review(admission, B)
    sc.clock.now = B + 13 * D
    await sc.purpose_review(admission, B + 13 * D)
    await sc.run(B + 13 * D + H)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [(B + 7 * D, "cleared", B + 13 * D)]
    await sc.run(B + 13 * D + 2 * H)  # nothing new: the chain is skipped
    sc.clock.now = B + 13 * D + 3 * H
    await sc.purpose_review(admission, B + 5 * D)  # found in the notes, typed in now
    await sc.run(B + 13 * D + 3 * H)
    assert await sc.states("ADM_PURPOSE_REVIEW", admission) == [
        (B + 7 * D, "withdrawn", None),  # met by the review at 5 d (RULES.md 1.1)
        (B + 12 * D, "cleared", B + 13 * D),  # B + 5 d + 7 d, met by the review at 13 d
    ]


async def test_an_overdue_chain_is_skipped_between_its_deadlines_and_walked_at_each(
    sc: Scenario,
) -> None:
    """An admission already overdue (its alert open) is walked again only when its next
    missed deadline falls in the run's window, or a review or discharge moves it: at the
    next deadline exactly nothing new, one second after it the second alert; after a long
    downtime every missed week at once; a late review clears the open ones."""
    sc.clock.now = A
    admission = await sc.admit(A)
    first = A + 72 * H
    await sc.run(first + SEC)
    assert await sc.dues("ADM_PURPOSE_REVIEW") == [first]
    await sc.run(first + 3 * D)  # between deadlines: nothing new, the first still open
    assert await sc.states("ADM_PURPOSE_REVIEW") == [(first, "open", None)]
    await sc.run(first + 7 * D)
    assert await sc.dues("ADM_PURPOSE_REVIEW") == [first]
    await sc.run(first + 7 * D + SEC)
    assert await sc.dues("ADM_PURPOSE_REVIEW") == [first, first + 7 * D]
    await sc.run(first + 7 * D + 2 * SEC)  # a window with no deadline in it
    assert len(await sc.dues("ADM_PURPOSE_REVIEW")) == 2
    await sc.run(first + 30 * D)  # downtime: the weeks missed meanwhile, all at once
    assert await sc.dues("ADM_PURPOSE_REVIEW") == [first + k * 7 * D for k in range(5)]
    sc.clock.now = first + 30 * D + H
    await sc.purpose_review(admission, first + 29 * D)  # done yesterday, typed in now
    await sc.run(first + 30 * D + H)
    states = await sc.states("ADM_PURPOSE_REVIEW")
    assert [(due, status) for due, status, _ in states] == [
        (first + k * 7 * D, "cleared") for k in range(5)
    ]
    assert states[-1][2] == first + 29 * D
