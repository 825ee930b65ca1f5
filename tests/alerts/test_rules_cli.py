"""`wardflow rules run [--as-of TIME]` as a person or a script uses it (API.md: Command line;
RULES.md 1: any instant may be asked about)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from app.alerts.models import Alert, AlertNotification, RuleRun
from tests.factories import World

WARDFLOW = str(Path(sys.executable).parent / "wardflow")
NOW = datetime.fromisoformat("2026-03-10T12:00:00+00:00")
SUMMARY = re.compile(r"Rule run as of (\S+): (\d+) raised, (\d+) cleared\.")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env["WARDFLOW_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'rules-cli.db'}"
    env["WARDFLOW_SECRET_KEY"] = "cli-test-secret"
    env["COLUMNS"] = "250"  # rich would otherwise wrap the tables at 80 columns
    run(env, "db", "upgrade")
    return env


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    folder = Path(make_url(env["WARDFLOW_DATABASE_URL"]).database or ".").parent
    result = subprocess.run(  # noqa: S603 (cwd: no developer's .env)
        [WARDFLOW, *args], env=env, capture_output=True, text=True, timeout=300, cwd=folder
    )
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def in_db(env: dict[str, str], work):  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        from app.db import make_engine

        engine = make_engine(env["WARDFLOW_DATABASE_URL"], poolclass=NullPool)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def seclusion(session: AsyncSession, now: datetime = NOW) -> int:
    """A seclusion started three hours before `now`, through the services."""
    from app.segregation import schemas, service

    start = now - timedelta(hours=3)
    world = await World.build(session, now)
    admission = await world.admit(at=start - timedelta(hours=2))
    episode = await service.start_seclusion(
        session,
        actor=world.users["nurse"],
        admission_id=admission.id,
        data=schemas.SeclusionIn(
            started_at=start, authorised_by_role="nurse_in_charge", reason="Assault on staff"
        ),
        now=now,
    )
    await session.commit()
    return episode.id


def summary(out: str) -> tuple[str, int, int]:
    found = SUMMARY.search(out)
    assert found, out
    return found[1], int(found[2]), int(found[3])


def test_a_run_as_of_a_moment_prints_what_it_raised_and_cleared(cli_env) -> None:
    sid = in_db(cli_env, seclusion)

    result = run(cli_env, "rules", "run", "--as-of", "2026-03-10T12:00:00Z")
    # 11 missed observations, the first medical review, the first two-hourly nursing review
    assert summary(result.stdout) == ("2026-03-10T12:00:00+00:00", 13, 0)
    assert "Raised: 13" in result.stdout and "Cleared: 0" in result.stdout
    for rule in ("SECL_MEDICAL_FIRST", "SECL_NURSING_REVIEW", "SECL_OBSERVATION"):
        assert rule in result.stdout
    assert f"seclusion {sid}" in result.stdout
    assert "2026-03-10T10:00+00:00" in result.stdout  # the first medical review's due time

    # The same question again: nothing new.
    again = run(cli_env, "rules", "run", "--as-of", "2026-03-10T12:00:00Z")
    assert summary(again.stdout)[1:] == (0, 0)

    # The doctor came at 12:30: asked about 13:00 (an offset other than Z), the missed
    # first review is cleared, and four more observations are missed.
    async def review(session: AsyncSession) -> None:
        from app.auth.models import User
        from app.segregation import schemas, service

        admin = await session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        await service.add_seclusion_review(
            session,
            actor=admin,
            seclusion_id=sid,
            data=schemas.SeclusionReviewIn(
                kind="medical", at=NOW + timedelta(minutes=30), note="Seen by the duty doctor"
            ),
            now=NOW + timedelta(minutes=35),
        )
        await session.commit()

    in_db(cli_env, review)
    later = run(cli_env, "rules", "run", "--as-of", "2026-03-10T14:00:00+01:00")
    assert summary(later.stdout) == ("2026-03-10T13:00:00+00:00", 4, 1)
    cleared = later.stdout.split("Cleared: 1", 1)[1]
    assert "SECL_MEDICAL_FIRST" in cleared and "cleared" in cleared

    async def recorded(session: AsyncSession) -> tuple[list[tuple[str, int, int]], int]:
        runs = await session.execute(
            select(RuleRun.trigger, RuleRun.raised, RuleRun.cleared).order_by(RuleRun.id)
        )
        alerts = await session.scalar(select(func.count()).select_from(Alert))
        return [tuple(r) for r in runs], int(alerts or 0)

    runs, alerts = in_db(cli_env, recorded)
    assert runs == [("cli", 13, 0), ("cli", 0, 0), ("cli", 4, 1)]
    assert alerts == 17


def test_without_as_of_the_run_is_now(cli_env) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    in_db(cli_env, lambda session: seclusion(session, now))
    result = run(cli_env, "rules", "run")
    as_of, raised, cleared = summary(result.stdout)
    assert now <= datetime.fromisoformat(as_of) <= datetime.now(UTC)
    # 12 observations now (the 12th fell due at `now`, just before the run), the first
    # medical review and the first nursing review
    assert (raised, cleared) == (14, 0)


BAD_AS_OF = [
    ("2026-03-10T12:00:00", "give the time with an offset"),
    ("2026-03-10", "give the time with an offset"),
    ("yesterday", "'yesterday' is not an ISO 8601 time"),
    ("2026-13-40T12:00:00Z", "is not an ISO 8601 time"),
    ("", "is not an ISO 8601 time"),
    ("2999-01-01T00:00:00Z", "is in the future"),
]


def test_a_bad_as_of_is_refused_with_a_clear_message_and_runs_nothing(cli_env) -> None:
    in_db(cli_env, seclusion)
    for as_of, message in BAD_AS_OF:
        result = run(cli_env, "rules", "run", "--as-of", as_of, check=False)
        assert result.returncode == 2, (as_of, result.stdout + result.stderr)
        error = " ".join(result.stderr.replace("│", " ").split())
        assert "--as-of" in error and message in error, (as_of, result.stderr)
        assert "Traceback" not in result.stderr

    async def counts(session: AsyncSession) -> list[int]:
        return [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (RuleRun, Alert, AlertNotification)
        ]

    assert in_db(cli_env, counts) == [0, 0, 0]


def test_the_rules_and_scheduler_commands_are_listed(cli_env) -> None:
    out = run(cli_env, "--help").stdout
    assert "rules" in out and "scheduler" in out
    out = run(cli_env, "rules", "run", "--help").stdout
    assert "--as-of" in out


def test_everything_looks_again_at_what_windowed_runs_skip(cli_env) -> None:
    """A correction made in the database by hand (here, a seclusion that really lasted two
    hours, recorded as ten minutes) is invisible to the windowed runs, which read only what
    changed through the service since the last run; `--everything` reads the whole history
    and raises what the correction uncovers."""
    sid = in_db(cli_env, seclusion)  # began at NOW - 3 h

    async def end_then_correct(session: AsyncSession) -> None:

        from app.auth.models import User
        from app.segregation import schemas, service

        admin = await session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        start = NOW - timedelta(hours=3)
        await service.end_seclusion(
            session,
            actor=admin,
            seclusion_id=sid,
            data=schemas.EndIn(at=start + timedelta(minutes=10), note="Calm"),
            now=start + timedelta(minutes=12),
        )
        await session.commit()

    in_db(cli_env, end_then_correct)
    first = run(cli_env, "rules", "run", "--as-of", "2026-03-10T12:00:00Z")
    assert summary(first.stdout)[1:] == (0, 0)  # ten minutes: nothing was yet due

    async def correct(session: AsyncSession) -> None:
        from sqlalchemy import update

        from app.segregation.models import Seclusion

        await session.execute(
            update(Seclusion).where(Seclusion.id == sid).values(ended_at=NOW - timedelta(hours=1))
        )
        await session.commit()

    in_db(cli_env, correct)
    windowed = run(cli_env, "rules", "run", "--as-of", "2026-03-10T12:01:00Z")
    assert summary(windowed.stdout)[1:] == (0, 0)
    everything = run(cli_env, "rules", "run", "--as-of", "2026-03-10T12:01:00Z", "--everything")
    _, raised, cleared = summary(everything.stdout)
    # Two hours secluded with nothing recorded: 7 observations (every 15 minutes; the one
    # due at the end was not owed) and the first medical review (1 h).
    assert (raised, cleared) == (8, 0)
    assert "SECL_OBSERVATION" in everything.stdout and "SECL_MEDICAL_FIRST" in everything.stdout
