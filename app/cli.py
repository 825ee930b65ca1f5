"""The `wardflow` command: database, demo data, users, the web service."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
report_app = typer.Typer(help="The directors' weekly report.", no_args_is_help=True)
app.add_typer(report_app, name="report")
export_app = typer.Typer(help="Extracts for national returns.", no_args_is_help=True)
app.add_typer(export_app, name="export")
audit_app = typer.Typer(help="The audit log and its hash chain.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
adt_app = typer.Typer(help="The trust's PAS feed (HL7 v2 ADT).", no_args_is_help=True)
app.add_typer(adt_app, name="adt")

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


@app.callback()
def wire() -> None:
    # Before any subcommand: every command that calls services (admitting from the PAS
    # feed, the seeds, rule runs) sees the same hooks as the web app (app/extensions.py).
    from app import extensions

    extensions.register_all()


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
    from app import demo

    async def work(session: AsyncSession) -> demo.DemoSummary | None:
        if not await demo.database_is_empty(session):
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

            return await demo.seed_demo(session, now=utcnow(), progress=report)

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
    console.print(
        f"Bed flow: {summary.waiting_for_a_bed} people waiting for a bed, "
        f"{summary.out_of_area} placed out of area, "
        f"{summary.ready_for_discharge} ready for discharge."
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

    from app.demo import synthetic

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
        from app import demo

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
        str,
        typer.Option(
            help="admin, ward_staff, bed_manager, safeguarding_lead, director, "
            "service (an integration: API reads only)"
        ),
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

    password = _read_password(password_stdin)

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
def users_token(
    name: str,
    label: Annotated[
        str, typer.Option("--name", help="What the token is for, to know it by later.")
    ] = "command line",
    days: Annotated[
        int | None, typer.Option("--days", help="Days until it ends (default 90).")
    ] = None,
) -> None:
    """Make an API token for a user; the token is printed alone on the last line."""
    from app.auth import service

    async def work(session: AsyncSession) -> str:
        user = await service.get_user(session, name)
        return await service.make_api_token(session, user=user, now=utcnow(), name=label, days=days)

    token = _run(work)
    err.print("Keep this token secret; it is shown once and stored only as a hash.")
    print(token)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Stop a person signing in; every session and token of theirs ends now."""
    from app.auth import service

    async def work(session: AsyncSession) -> None:
        user = await service.get_user(session, name)
        await service.disable_user(session, user=user, now=utcnow(), actor=None)

    _run(work)
    console.print(f"User [bold]{name}[/bold] disabled; their sessions and tokens have ended.")


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Let a disabled person sign in again (their old sessions and tokens stay ended)."""
    from app.auth import service

    async def work(session: AsyncSession) -> None:
        user = await service.get_user(session, name)
        await service.enable_user(session, user=user, now=utcnow(), actor=None)

    _run(work)
    console.print(f"User [bold]{name}[/bold] enabled.")


@users_app.command("passwd")
def users_passwd(
    name: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a person's password; every session and token of theirs ends now."""
    from app.auth import service

    password = _read_password(password_stdin)

    async def work(session: AsyncSession) -> None:
        user = await service.get_user(session, name)
        await service.set_password(session, user=user, password=password, now=utcnow(), actor=None)

    _run(work)
    console.print(f"Password of [bold]{name}[/bold] changed; their sessions and tokens have ended.")


@users_app.command("revoke-tokens")
def users_revoke_tokens(name: str) -> None:
    """Revoke every API token a person holds."""
    from app.auth import service

    async def work(session: AsyncSession) -> int:
        user = await service.get_user(session, name)
        return await service.revoke_all_tokens(session, user=user, now=utcnow(), actor=None)

    revoked = _run(work)
    console.print(f"{revoked} token{'s' if revoked != 1 else ''} of [bold]{name}[/bold] revoked.")


@users_app.command("list")
def users_list() -> None:
    """Everyone who can sign in: role, wards, whether active, live tokens."""
    from rich.table import Table

    from app.auth import service

    async def work(session: AsyncSession) -> list[tuple[str, str, str, str, str]]:
        return [
            (
                a.user.username,
                a.user.role,
                ",".join(w.code for w in a.user.wards),
                ("active" if a.user.active else "disabled")
                + (" (demo password)" if a.user.demo_password and a.user.active else ""),
                str(a.live_tokens),
            )
            for a in await service.list_users(session, utcnow())
        ]

    table = Table(title="Users")
    for column in ("username", "role", "wards", "state", "live tokens"):
        table.add_column(column)
    for row in _run(work):
        table.add_row(*row)
    console.print(table)


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
        # X-Forwarded-Proto (so cookies are Secure behind a TLS proxy) only from the proxy.
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_keep_alive=settings.keep_alive_seconds,
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
    everything: Annotated[
        bool,
        typer.Option(
            "--everything",
            help="look at the whole history, not only what changed since the last run "
            "(after a restore or a correction made in the database by hand)",
        ),
    ] = False,
) -> None:
    """One rule run, printing what was raised and cleared."""
    from rich.table import Table

    from app.alerts import engine

    moment = _parse_as_of(as_of)

    async def work(session: AsyncSession) -> engine.RunResult:
        return await engine.run_rules(
            session, as_of=moment, now=utcnow(), trigger="cli", everything=everything
        )

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


@export_app.command("mhsds")
def export_mhsds(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM (UK time)")],
    output: Annotated[str, typer.Option("-o", "--output", help="directory for the CSV files")],
) -> None:
    """The month's MHSDS-shaped CSV files (MHS501, 502, 505, 515, 518, out of area)."""
    from pathlib import Path

    from app.clock import local_date
    from app.errors import Invalid
    from app.interop import mhsds

    try:
        first = mhsds.parse_month(month, local_date(utcnow()))
    except Invalid as exc:
        raise typer.BadParameter(exc.errors[0].message, param_hint="--month") from exc

    async def work(session: AsyncSession) -> mhsds.Extract:
        from app.audit.exports import record_export

        extract = await mhsds.build(session, first)
        await record_export(
            session, kind="mhsds_extract", ident=extract.label, details={"format": "csv"}
        )
        return extract

    extract = _run(work)
    console.print(f"MHSDS extract for {extract.label} in {output}:", soft_wrap=True)
    for path in extract.write(Path(output)):
        rows = len(extract.tables.get(path.stem, []))
        console.print(f"{path.name}: {rows} row{'s' if rows != 1 else ''}", soft_wrap=True)


@report_app.command("weekly")
def report_weekly(
    week_ending: Annotated[
        str | None,
        typer.Option("--week-ending", help="A Sunday, YYYY-MM-DD; default the last finished week"),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="html, pdf, csv or json")] = "pdf",
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="The file to write; default stdout")
    ] = None,
    ward: Annotated[str | None, typer.Option("--ward", help="One ward's report")] = None,
    site: Annotated[str | None, typer.Option("--site", help="One site's report")] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Also keep it as the week's snapshot (if none yet)")
    ] = False,
) -> None:
    """The director's weekly report for any finished week (app/reports)."""
    from datetime import date
    from pathlib import Path

    from app.reports import export, pdf, service
    from app.reports.period import finished_week, last_finished, resolve_scope
    from app.reports.schemas import WeeklyReport

    if format not in ("html", "pdf", "csv", "json"):
        raise typer.BadParameter("one of html, pdf, csv, json", param_hint="'--format'")
    now = utcnow()
    try:
        ending = date.fromisoformat(week_ending) if week_ending else None
    except ValueError as exc:
        raise typer.BadParameter("a date like 2026-03-08", param_hint="'--week-ending'") from exc

    async def work(session: AsyncSession) -> tuple[WeeklyReport, bytes | None]:
        from app.audit.exports import record_export

        week = finished_week(ending, now, "--week-ending") if ending else last_finished(now)
        scope = await resolve_scope(session, ward_code=ward, site_code=site)
        await record_export(
            session,
            kind="weekly_report",
            ident=week.ending.isoformat(),
            details={"format": format, "scope": scope.type, "code": scope.code or None},
        )
        if keep:
            snapshot, _made = await service.keep(
                session, scope=scope, week=week, now=now, trigger="cli"
            )
            return service.kept_report(snapshot), snapshot.pdf
        return await service.make(session, scope=scope, week=week, now=now), None

    data, kept_pdf = _run(work)
    if format == "json":
        import json

        content: bytes = json.dumps(data.model_dump(mode="json"), indent=2).encode()
    elif format == "csv":
        content = export.to_csv(data).encode()
    elif format == "html":
        content = pdf.html(data).encode()
    else:
        content = kept_pdf or pdf.render(data)
    if output:
        Path(output).write_bytes(content)
        err.print(f"Weekly report for the week ending {data.week_ending} written to {output}.")
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()


@app.command("scheduler")
def scheduler() -> None:
    """The scheduler alone (rule runs and notices), for deployments with several workers."""
    from app import scheduler as scheduling

    console.print(
        f"Scheduler running every {get_settings().rules_interval_seconds} s; Ctrl+C stops it."
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(scheduling.run_forever())


@adt_app.command("listen")
def adt_listen(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MLLP port.")] = 2575,
) -> None:
    """The MLLP listener for the PAS's ADT messages, alone (as the scheduler): any number
    of web workers may run beside it."""
    from app.pas import listener

    console.print(f"Listening for HL7 v2 (MLLP) on {host}:{port}; Ctrl+C stops it.")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(listener.run_forever(host, port))


@adt_app.command("replay")
def adt_replay(
    file: Path,
    host: Annotated[str, typer.Option(help="The listener's address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The listener's MLLP port.")] = 2575,
) -> None:
    """Send a file of HL7 v2 messages to a listener, one at a time, printing each ACK's
    code and text."""
    from app.pas import listener

    messages = listener.split_messages(file.read_text(encoding="utf-8", errors="replace"))
    acks = asyncio.run(listener.replay(host, port, messages))
    for ack in acks:
        msa = next((s for s in ack.split("\r") if s.startswith("MSA|")), "MSA|?")
        console.print(" ".join(msa.split("|")[1:4]), markup=False, highlight=False)
    console.print(f"{len(acks)} messages sent.")


@adt_app.command("demo-day")
def adt_demo_day(
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("var/demo-adt.hl7"),
    hours: Annotated[float, typer.Option(min=1, max=24 * 7, help="Hours before now.")] = 24,
    seed: Annotated[int, typer.Option(help="The same seed and data give the same day.")] = 1,
) -> None:
    """A day of the PAS's ADT traffic for the wards as they are now (the demo trust's, or
    any), ending now: admissions to free beds, transfers, leave, updates and discharges,
    one resent message and one sent ahead of its admission. Send it with `adt replay`."""
    from app.demo import adt

    messages = _run(lambda session: adt.day_of_traffic(session, utcnow(), seed=seed, hours=hours))
    out.parent.mkdir(parents=True, exist_ok=True)
    # One segment a line and a blank line between messages: readable, and `adt replay`
    # reads it back (it splits at each MSH).
    out.write_text("\n".join(m.text.replace("\r", "\n") for m in messages), encoding="utf-8")
    events = ", ".join(f"{n} {event}" for event, n in sorted(adt.counts(messages).items()))
    console.print(f"{len(messages)} messages ({events}) written to {out}.")
    console.print(f"Send them: wardflow adt listen & wardflow adt replay {out}")


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            help="SEQ:HASH noted earlier (e.g. beside a backup): the chain must still hold it.",
        ),
    ] = None,
) -> None:
    """Seal what is unsealed, then recompute the audit log's hash chain from its first entry.

    Exits 1, naming each entry where the chain breaks, if an entry was changed, deleted,
    inserted or reordered."""
    from app.audit import chain
    from app.db import make_engine

    expected: tuple[int, str] | None = None
    if expect_head is not None:
        seq, _, digest = expect_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise typer.BadParameter(
                "give SEQ:HASH, e.g. 1234:9f86d0...", param_hint="'--expect-head'"
            )
        expected = (int(seq), digest.lower())

    async def main() -> chain.VerifyResult:
        engine = make_engine()
        try:
            sealed = await chain.seal_pending(
                async_sessionmaker(engine, expire_on_commit=False), utcnow()
            )
            if sealed is None:
                err.print(
                    "[yellow]The audit log was busy; the newest entries stay unsealed.[/yellow]"
                )
            # One snapshot for the whole check, while the service goes on writing.
            options = (
                {"isolation_level": "REPEATABLE READ"}
                if engine.dialect.name == "postgresql"
                else {}
            )
            async with engine.connect() as conn:
                conn = await conn.execution_options(**options)
                async with AsyncSession(bind=conn) as session:
                    return await chain.verify(session, expect_head=expected)
        finally:
            await engine.dispose()

    result = asyncio.run(main())
    for problem in result.breaks:
        err.print(f"[red]Broken: {problem}[/red]")
    if result.truncated:
        err.print(f"[red]... and more (the first {len(result.breaks)} are shown).[/red]")
    console.print(
        f"{result.entries} sealed entries, {result.unsealed} unsealed; "
        f"head seq {result.head_seq} {result.head_hash}"
    )
    if not result.ok:
        err.print("[red]The audit chain is broken.[/red]")
        raise typer.Exit(1)
    console.print("The audit chain is intact.")


@app.command("backup")
def backup_command(
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="The file to write (default var/backups/...)."),
    ] = None,
) -> None:
    """The whole database to one file (SQLite's backup API, or pg_dump's custom format)."""
    from app import backup

    settings = get_settings()
    now = utcnow()
    target = output or backup.default_path(settings.database_url, now)
    try:
        result = asyncio.run(backup.backup(settings.database_url, target, now=now))
    except backup.BackupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Backup written to {result.path}")
    console.print(
        f"Audit chain head: {result.head_seq}:{result.head_hash}\n"
        "Keep it with the backup; `wardflow audit verify --expect-head` checks it later."
    )


@app.command("restore")
def restore_command(
    file: Path,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that holds data.")
    ] = False,
) -> None:
    """Replace the database with a backup made by `wardflow backup`."""
    from app import backup

    try:
        asyncio.run(backup.restore(get_settings().database_url, file, force=force))
    except backup.BackupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(f"Restored from {file}. Run `wardflow db upgrade`, then `wardflow audit verify`.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
