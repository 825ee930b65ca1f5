"""The `wardflow` command as a person or a script uses it (API.md: Command line)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

WARDFLOW = str(Path(sys.executable).parent / "wardflow")


@pytest.fixture
def cli_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDFLOW_")}
    env["WARDFLOW_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env["WARDFLOW_SECRET_KEY"] = "cli-test-secret"
    return env


def run(env, *args, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603
        [WARDFLOW, *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def test_upgrade_create_user_make_token_and_use_it(cli_env):
    run(cli_env, "db", "upgrade")
    run(cli_env, "db", "upgrade")  # idempotent
    run(
        cli_env,
        "users",
        "create",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a-long-password\n",
    )
    result = run(cli_env, "users", "token", "alice")
    token = result.stdout.strip().splitlines()[-1]
    assert len(token) >= 40 and " " not in token

    # The token works against the real app on the same database.
    code = (
        "import os, httpx, asyncio\n"
        "from app.main import create_app\n"
        "async def main():\n"
        "    app = create_app()\n"
        "    transport = httpx.ASGITransport(app=app)\n"
        "    async with httpx.AsyncClient(transport=transport, base_url='http://t') as c:\n"
        "        ok = await c.get('/api/v1/wards', headers={'Authorization': 'Bearer "
        + token
        + "'})\n"
        "        bad = await c.get('/api/v1/wards', headers={'Authorization': 'Bearer nope'})\n"
        "        print(ok.status_code, bad.status_code)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env,
        capture_output=True,  # noqa: S603
        text=True,
        timeout=300,
    )
    assert out.stdout.split() == ["200", "401"], out.stderr


def test_user_creation_refuses_bad_input(cli_env):
    run(cli_env, "db", "upgrade")
    short = run(
        cli_env,
        "users",
        "create",
        "bob",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
        check=False,
    )
    assert short.returncode != 0 and "at least 12 characters" in short.stderr
    # Issue 17, finding 8: ten spaces were accepted; twelve, or a breached password, are not.
    for weak in (" " * 12, "password1234", "qwertyuiopasdf"):
        refused = run(
            cli_env,
            "users",
            "create",
            "bob",
            "--role",
            "admin",
            "--password-stdin",
            stdin=weak + "\n",
            check=False,
        )
        assert refused.returncode != 0 and "password" in refused.stderr, weak
    role = run(
        cli_env,
        "users",
        "create",
        "bob",
        "--role",
        "king",
        "--password-stdin",
        stdin="a-long-password\n",
        check=False,
    )
    assert role.returncode != 0 and "role" in role.stderr
    ward = run(
        cli_env,
        "users",
        "create",
        "bob",
        "--role",
        "ward_staff",
        "--ward",
        "NOPE",
        "--password-stdin",
        stdin="a-long-password\n",
        check=False,
    )
    assert ward.returncode != 0 and "NOPE" in ward.stderr
    unknown = run(cli_env, "users", "token", "nobody", check=False)
    assert unknown.returncode != 0 and "nobody" in unknown.stderr


def api_status(env, token: str) -> int:
    """What GET /api/v1/wards answers with this token, from the real app on env's database."""
    code = (
        "import httpx, asyncio\n"
        "from app.main import create_app\n"
        "async def main():\n"
        "    transport = httpx.ASGITransport(app=create_app())\n"
        "    async with httpx.AsyncClient(transport=transport, base_url='http://t') as c:\n"
        f"        r = await c.get('/api/v1/wards', headers={{'Authorization': 'Bearer {token}'}})\n"
        "        print(r.status_code)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    return int(out.stdout.strip())


def test_users_token_list_revoke_disable_passwd_enable(cli_env):
    """Issue 17, findings 5 and 6: account management from the command line."""
    run(cli_env, "db", "upgrade")
    for name, role in (("alice", "admin"), ("carol", "director")):
        run(
            cli_env,
            "users",
            "create",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin="a-long-password\n",
        )
    token = run(cli_env, "users", "token", "carol", "--name", "nightly").stdout.splitlines()[-1]
    assert api_status(cli_env, token) == 200

    listed = run(cli_env, "users", "list").stdout
    carol = next(line for line in listed.splitlines() if "carol" in line)
    assert "director" in carol and "active" in carol and "1" in carol

    assert "1 token" in run(cli_env, "users", "revoke-tokens", "carol").stdout
    assert api_status(cli_env, token) == 401

    again = run(cli_env, "users", "token", "carol").stdout.splitlines()[-1]
    run(cli_env, "users", "disable", "carol")
    assert api_status(cli_env, again) == 401
    assert "disabled" in next(
        line for line in run(cli_env, "users", "list").stdout.splitlines() if "carol" in line
    )
    only_admin = run(cli_env, "users", "disable", "alice", check=False)
    assert only_admin.returncode != 0 and "only active admin" in only_admin.stderr

    weak = run(
        cli_env, "users", "passwd", "carol", "--password-stdin", stdin="password1234\n", check=False
    )
    assert weak.returncode != 0 and "breach" in weak.stderr
    run(cli_env, "users", "passwd", "carol", "--password-stdin", stdin="tulip-harbour-lantern\n")
    run(cli_env, "users", "enable", "carol")
    assert "active" in next(
        line for line in run(cli_env, "users", "list").stdout.splitlines() if "carol" in line
    )
    for missing in ("disable", "enable", "revoke-tokens"):
        unknown = run(cli_env, "users", missing, "nobody", check=False)
        assert unknown.returncode != 0 and "nobody" in unknown.stderr


def test_help_lists_the_contract_commands(cli_env):
    out = run(cli_env, "--help").stdout
    for command in ("db", "seed", "users", "serve"):
        assert command in out


def test_seed_demo_builds_a_realistic_trust_once(cli_env):
    import asyncio

    from sqlalchemy import func, select

    from app.db import make_engine
    from app.wards.codes import ETHNIC_CATEGORIES
    from app.wards.models import Bed, Patient, Site, Ward, WardStay

    run(cli_env, "db", "upgrade")
    out = run(cli_env, "seed", "demo").stdout
    assert "wardflow-demo" in out and "nurse" in out  # tells a new user how to sign in
    words = " ".join(out.split())  # rich wraps at the terminal's width
    assert "people waiting for a bed" in words and "ready for discharge" in words
    again = run(cli_env, "seed", "demo", "--if-empty")
    assert "already holds data" in again.stdout

    async def facts() -> dict:
        engine = make_engine(cli_env["WARDFLOW_DATABASE_URL"])
        async with engine.connect() as conn:
            count = lambda model: conn.scalar(select(func.count()).select_from(model))  # noqa: E731
            result = {
                "sites": await count(Site),
                "wards": await count(Ward),
                "beds": await count(Bed),
                "open_beds": await conn.scalar(select(func.count()).where(Bed.status == "open")),
                "occupied": await conn.scalar(
                    select(func.count()).select_from(WardStay).where(WardStay.ended_at.is_(None))
                ),
                "past": await conn.scalar(
                    select(func.count()).select_from(WardStay).where(WardStay.ended_at.is_not(None))
                ),
                "ethnic": set(await conn.scalars(select(Patient.ethnic_category).distinct())),
                "ld_or_autistic": await conn.scalar(
                    select(func.count()).where(Patient.learning_disability | Patient.autistic)
                ),
                "ward_kinds": set((await conn.execute(select(Ward.ward_type, Ward.sex))).all()),
            }
        await engine.dispose()
        return result

    f = asyncio.run(facts())
    assert f["sites"] >= 3 and f["wards"] >= 12
    assert 180 <= f["beds"] <= 220
    assert 0.80 <= f["occupied"] / f["open_beds"] <= 0.90
    assert f["past"] > f["occupied"]  # months of history
    assert f["ethnic"] == set(ETHNIC_CATEGORIES)
    assert f["ld_or_autistic"] > 0
    assert len({kind for kind, _ in f["ward_kinds"]}) >= 4
    assert {sex for _, sex in f["ward_kinds"]} == {"male", "female", "mixed"}


def test_serve_keeps_idle_connections_open_past_the_proxys_idle_timeout(monkeypatch):
    """A proxy (nginx, a load balancer: 60 s idle) reuses a connection the service must not
    be closing at that moment, or a user gets a 502: `serve` hands uvicorn the setting,
    longer than 60 s unless told otherwise. (uvicorn itself is the edge replaced here.)"""
    import uvicorn
    from typer.testing import CliRunner

    from app import cli
    from app.config import get_settings

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: started.update(options))
    for value, expected in ((None, 75), ("120", 120)):
        if value is None:
            monkeypatch.delenv("WARDFLOW_KEEP_ALIVE_SECONDS", raising=False)
        else:
            monkeypatch.setenv("WARDFLOW_KEEP_ALIVE_SECONDS", value)
        get_settings.cache_clear()
        result = CliRunner().invoke(cli.app, ["serve", "--port", "8123"])
        assert result.exit_code == 0, result.output
        assert started["timeout_keep_alive"] == expected
        assert started["port"] == 8123
    get_settings.cache_clear()
