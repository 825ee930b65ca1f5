"""The `wardflow` command: database, demo data, users, the web service."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar

import typer
from alembic.config import Config
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import utcnow
from app.config import PROJECT_ROOT, get_settings
from app.errors import DomainError

app = typer.Typer(
    help="Wardflow: inpatient bed flow and least-restrictive-practice monitoring.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
seed_app = typer.Typer(help="Demo and test data.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in, and their API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(users_app, name="users")
rules_app = typer.Typer(help="The rights rules and their runs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in one transaction, committed only if it all succeeds."""
    from app.db import make_engine

    async def main() -> T:
        engine = make_engine()
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc


def alembic_config(database_url: str | None = None) -> Config:

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database named by the settings."""
    from alembic import command

    command.upgrade(alembic_config(), revision)
    console.print(f"Database is at revision [bold]{revision}[/bold].")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Step the schema back (every migration has a working downgrade)."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


@seed_app.command("demo")
def seed_demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if data exists.")
    ] = False,
) -> None:
    """A realistic demo trust: sites, wards, beds, patients and months of history."""
    from app import seed

    async def work(session: AsyncSession) -> seed.DemoSummary | None:
        if not await seed.database_is_empty(session):
            if if_empty:
                return None
            err.print(
                "[red]The database already holds data; the demo trust goes into an empty one.[/red]"
            )
            raise typer.Exit(1)
        with Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def report(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = progress.add_task(step, total=total)
                progress.update(tasks[step], completed=done, total=total)

            return await seed.seed_demo(session, now=utcnow(), progress=report)

    summary = _run(work)
    if summary is None:
        console.print("The database already holds data; demo not loaded.")
        return
    console.print(
        f"Demo trust ready: {summary.sites} sites, {summary.wards} wards, {summary.beds} beds, "
        f"{summary.open_admissions} people in hospital, {summary.past_admissions} past admissions."
    )
    console.print(
        f"Restrictive practice: {summary.seclusions} seclusions, {summary.segregations} "
        f"long-term segregations, {summary.uses_of_force} uses of force."
    )
    print_demo_users(summary.users)


@seed_app.command("synthetic")
def seed_synthetic(
    beds: Annotated[int, typer.Option("--beds", min=6, help="Beds in all (England: 20000).")],
    years: Annotated[
        float | None, typer.Option("--years", min=0.01, help="Years of history behind now.")
    ] = None,
    admissions: Annotated[
        int | None,
        typer.Option(
            "--admissions", min=1, help="Instead of --years: about this many past admissions."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same data.")] = 1,
    now: Annotated[
        str | None,
        typer.Option("--now", help="ISO 8601 with an offset: build as of then (default now)."),
    ] = None,
) -> None:
    """A synthetic region or nation for benchmarks: hospitals, wards, years of history."""
    import time

    from rich.table import Table

    from app import synthetic

    if (years is None) == (admissions is None):
        raise typer.BadParameter("give either --years or --admissions", param_hint="'--years'")
    if years is None:
        assert admissions is not None
        years = synthetic.years_for(beds, admissions, seed)
    as_of = utcnow()
    if now is not None:
        try:
            as_of = datetime.fromisoformat(now.replace("Z", "+00:00"))
        except ValueError as exc:
            raise typer.BadParameter(
                f"{now!r} is not an ISO 8601 time", param_hint="'--now'"
            ) from exc
        if as_of.tzinfo is None:
            raise typer.BadParameter("give the time with an offset", param_hint="'--now'")
    history = years
    started = time.monotonic()

    async def work(session: AsyncSession) -> synthetic.Summary | None:
        from app import seed as demo

        if not await demo.database_is_empty(session):
            err.print(
                "[red]The database already holds data; the synthetic set needs it empty.[/red]"
            )
            raise typer.Exit(1)
        with Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def report(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = progress.add_task(step, total=total)
                progress.update(tasks[step], completed=done, total=total)

            return await synthetic.build(
                session, beds=beds, years=history, seed=seed, now=as_of, progress=report
            )

    summary = _run(work)
    assert summary is not None
    table = Table(title=f"Synthetic set (seed {seed}, {time.monotonic() - started:.0f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in summary.rows.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(
        f"{summary.sites} hospitals, {summary.wards} wards, {summary.beds:,} beds "
        f"({summary.closed_beds} closed), {summary.occupancy:.1%} occupied now; "
        f"{summary.years:.2f} years: {summary.past_admissions:,} past admissions, "
        f"{summary.patients:,} patients, {summary.restrictive_episodes:,} restrictive episodes."
    )
    if summary.large_ward:
        console.print(f"A {synthetic.LARGE_WARD}-bed ward: {summary.large_ward}.")
    print_demo_users(summary.users)


def print_demo_users(users: list[tuple[str, str, str]]) -> None:
    from rich.table import Table

    table = Table(title="Demo sign-ins (change these before real use)")
    for column in ("username", "role", "password"):
        table.add_column(column)
    for row in users:
        table.add_row(*row)
    console.print(table)


@users_app.command("create")
def users_create(
    name: str,
    role: Annotated[
        str, typer.Option(help="admin, ward_staff, bed_manager, safeguarding_lead, director")
    ],
    ward: Annotated[
        list[str] | None, typer.Option(help="A ward code (repeat for several).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a person who can sign in."""
    from app.auth import service

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> None:
        await service.create_user(
            session,
            username=name,
            role=role,
            password=password,
            ward_codes=ward or [],
            now=utcnow(),
        )

    _run(work)
    console.print(f"User [bold]{name}[/bold] ({role}) created.")


@users_app.command("token")
def users_token(name: str) -> None:
    """Make an API token for a user; the token is printed alone on the last line."""
    from app.auth import service

    async def work(session: AsyncSession) -> str:
        user = await service.get_user(session, name)
        return await service.make_api_token(session, user=user, now=utcnow())

    token = _run(work)
    err.print("Keep this token secret; it is shown once and stored only as a hash.")
    print(token)


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
) -> None:
    """The web service."""
    import uvicorn

    settings = get_settings()
    if settings.database_url.startswith("sqlite") and workers > 1:
        err.print(
            "[yellow]SQLite serves one writer at a time; "
            "use PostgreSQL for several workers.[/yellow]"
        )
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        log_level="info",
    )


def _parse_as_of(value: str | None) -> datetime:
    """--as-of: an instant with an offset, not in the future (as the API's as_of: a run
    ahead of time would raise breaches that have not happened, and notify them)."""
    now = utcnow()
    if value is None:
        return now
    hint = "'--as-of'"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=hint) from exc
    if moment.tzinfo is None:
        raise typer.BadParameter(
            "give the time with an offset, e.g. 2026-03-02T14:00:00Z", param_hint=hint
        )
    if moment > now + timedelta(minutes=get_settings().future_tolerance_minutes):
        raise typer.BadParameter(f"{value} is in the future", param_hint=hint)
    return moment.astimezone(UTC)


@rules_app.command("run")
def rules_run(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO 8601 with an offset; default now")
    ] = None,
) -> None:
    """One rule run, printing what was raised and cleared."""
    from rich.table import Table

    from app.alerts import engine

    moment = _parse_as_of(as_of)

    async def work(session: AsyncSession) -> engine.RunResult:
        return await engine.run_rules(session, as_of=moment, now=utcnow(), trigger="cli")

    result = _run(work)
    for title, alerts in (("Raised", result.raised), ("Cleared", result.cleared)):
        table = Table(title=f"{title}: {len(alerts)}")
        for column in ("id", "rule", "severity", "status", "subject", "due (UTC)", "message"):
            table.add_column(column)
        for a in alerts:
            table.add_row(
                str(a.id), a.rule, a.severity, a.status, f"{a.subject_type} {a.subject_id}",
                a.due_at.isoformat(timespec="minutes"), a.message,
            )  # fmt: skip
        console.print(table)
    for code, error in (result.run.errors or {}).items():
        err.print(f"[red]{code} failed: {error}[/red]")
    console.print(
        f"Rule run as of {moment.isoformat()}: {len(result.raised)} raised, "
        f"{len(result.cleared)} cleared."
    )
    if result.run.errors:
        raise typer.Exit(1)


@app.command("scheduler")
def scheduler() -> None:
    """The scheduler alone (rule runs and notices), for deployments with several workers."""
    from app.alerts import jobs

    console.print(
        f"Scheduler running every {get_settings().rules_interval_seconds} s; Ctrl+C stops it."
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(jobs.run_forever())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
