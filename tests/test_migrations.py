"""The migrations are the only way the schema is made: upgrade, check, downgrade, upgrade."""

import asyncio

from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app.cli import alembic_config
from tests import dbutil


def _scratch_url(database_url: str, tmp_path) -> str:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    return url.set(database=f"{url.database}_migrations").render_as_string(hide_password=False)


def _ensure_pg_database(url: str) -> None:
    from app.db import make_engine

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)

    async def create() -> None:
        engine = make_engine(admin, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        await engine.dispose()

    asyncio.run(create())


def _tables(url: str) -> set[str]:
    from app.db import make_engine

    async def read() -> set[str]:
        engine = make_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names - {"alembic_version"}

    return asyncio.run(read())


def test_upgrade_check_downgrade_upgrade(database_url, tmp_path):
    url = _scratch_url(database_url, tmp_path)
    if url.startswith("postgresql"):
        _ensure_pg_database(url)
    dbutil.reset_database(url)
    config = alembic_config(url)
    config.attributes["configure_logging"] = False

    command.upgrade(config, "head")
    assert {"admissions", "ward_stays", "beds", "patients", "audit_log", "users"} <= _tables(url)
    # The models and the migrations agree: autogenerate finds nothing to add.
    try:
        command.check(config)
    except CommandError as exc:  # pragma: no cover - the failure message is the point
        raise AssertionError(f"models and migrations differ: {exc}") from exc
    command.downgrade(config, "base")
    assert _tables(url) == set()
    command.upgrade(config, "head")
    assert "admissions" in _tables(url)
    dbutil.reset_database(url)


def _run(url: str, work):  # type: ignore[no-untyped-def]
    from app.db import make_engine

    async def go():  # type: ignore[no-untyped-def]
        engine = make_engine(url)
        async with engine.begin() as conn:
            result = await conn.run_sync(work)
        await engine.dispose()
        return result

    return asyncio.run(go())


SCHEMA_QUERIES = {
    "sqlite": (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    ),
    "postgresql": (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    ),
}


def _schema_objects(conn) -> tuple[set[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """Trigger names and each index's definition (its WHERE included), to see that
    SQLite's table copies lost none."""
    triggers, indexes = SCHEMA_QUERIES[conn.dialect.name]
    return (
        {r[0] for r in conn.exec_driver_sql(triggers).all()},
        {name: sql for name, sql in conn.exec_driver_sql(indexes).all()},
    )


def test_0013_backfills_bed_history_from_the_audit_log(database_url, tmp_path):
    """Bed closures, and when wards and beds were made, are read once from the audit log
    as the old weekly report read it; the downgrade gives back 0012's schema exactly."""
    from datetime import UTC, datetime

    from app.audit.models import AuditEntry

    url = _scratch_url(database_url, tmp_path)
    if url.startswith("postgresql"):
        _ensure_pg_database(url)
    dbutil.reset_database(url)
    dbutil.migrate(url, "0012")
    before_0013 = _run(url, _schema_objects)

    def at(day: int, hour: int = 12) -> datetime:
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    def entry(when, action, entity_type, entity_id, before=None, after=None):  # type: ignore[no-untyped-def]
        return {"at": when, "user_id": None, "username": "system", "action": action,
                "entity_type": entity_type, "entity_id": str(entity_id), "before": before,
                "after": after, "seq": None, "hash": None}  # fmt: skip

    def fill(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(
            "INSERT INTO localities (id, code, name, latitude, longitude) "
            "VALUES (1, 'L', 'L', 53.8, -1.5)"
        )
        conn.exec_driver_sql(
            "INSERT INTO sites (id, code, name, locality_id) VALUES (1, 'S', 'S', 1)"
        )
        for ward_id, code in ((1, "SEEDED"), (2, "MADE")):
            conn.exec_driver_sql(
                "INSERT INTO wards (id, code, name, site_id, ward_type, sex, min_age, max_age) "
                f"VALUES ({ward_id}, '{code}', '{code}', 1, 'adult_acute', 'mixed', 18, 64)"
            )
        # Bed 1 (seeded, closed now with no entry); bed 2 closed 5th-8th and 10th-now;
        # bed 3 closed and opened at the same moment (no closure); bed 4 made on ward 2.
        for bed_id, ward_id, status, reason in (
            (1, 1, "closed", "Seeded closed"), (2, 1, "closed", "Leak again"),
            (3, 1, "open", None), (4, 2, "open", None),
        ):  # fmt: skip
            conn.exec_driver_sql(
                "INSERT INTO beds (id, ward_id, label, status, closed_reason) "
                f"VALUES ({bed_id}, {ward_id}, 'B{bed_id}', 'open', NULL)"
            )
            if status == "closed":
                conn.exec_driver_sql(
                    f"UPDATE beds SET status = 'closed', closed_reason = '{reason}' "
                    f"WHERE id = {bed_id}"
                )
        open_ = {"status": "open", "closed_reason": None}
        leak = {"status": "closed", "closed_reason": "Leak"}
        again = {"status": "closed", "closed_reason": "Leak again"}
        other = {"status": "closed", "closed_reason": "X"}
        conn.execute(
            AuditEntry.__table__.insert(),
            [
                entry(at(1), "ward.create", "wards", 2),
                entry(at(1), "bed.create", "beds", 4),
                entry(at(5), "bed.close", "beds", 2, open_, leak),
                entry(at(8), "bed.open", "beds", 2, leak, open_),
                entry(at(10), "bed.close", "beds", 2, open_, again),
                entry(at(11), "bed.close", "beds", 3, open_, other),
                entry(at(11), "bed.open", "beds", 3, other, open_),
            ],
        )

    _run(url, fill)
    dbutil.migrate(url, "head")

    def read(conn):  # type: ignore[no-untyped-def]
        return (
            conn.exec_driver_sql(
                "SELECT bed_id, closed_at, reopened_at, reason FROM bed_closures "
                "ORDER BY bed_id, closed_at"
            ).all(),
            dict(conn.exec_driver_sql("SELECT id, created_at FROM wards").all()),
            dict(conn.exec_driver_sql("SELECT id, created_at FROM beds").all()),
        )

    closures, wards, beds = _run(url, read)

    def moment(value) -> datetime:  # type: ignore[no-untyped-def]
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    # The seeded ward was there before anything recorded: its creation is the log's first.
    assert moment(wards[1]) == at(1) and moment(wards[2]) == at(1)
    assert moment(beds[4]) == at(1) and moment(beds[1]) == at(1)
    assert [(b, moment(c), r and moment(r), why) for b, c, r, why in closures] == [
        (1, at(1), None, "Seeded closed"),
        (2, at(5), at(8), "Leak"),
        (2, at(10), None, "Leak again"),
    ]

    def second_open(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql(
            "INSERT INTO bed_closures (bed_id, closed_at, reason) "
            "VALUES (2, '2026-03-20 12:00:00.000000', 'Twice')"
        )

    # One open closure per bed, whatever writes it.
    try:
        _run(url, second_open)
    except Exception as exc:  # the database's own refusal
        assert "uq_bed_closures_one_open_per_bed" in str(exc) or "UNIQUE" in str(exc).upper()
    else:  # pragma: no cover
        raise AssertionError("a second open closure of one bed was stored")

    after_0013 = _run(url, _schema_objects)
    assert before_0013[0] == after_0013[0], "triggers lost by the upgrade"
    assert {k: v for k, v in after_0013[1].items() if k in before_0013[1]} == before_0013[1]
    dbutil.downgrade(url, "0012")
    assert _run(url, _schema_objects) == before_0013
    assert "bed_closures" not in _tables(url)
    dbutil.migrate(url, "head")
    dbutil.reset_database(url)
