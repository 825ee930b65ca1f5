"""`wardflow backup` and `wardflow restore`, as an operator runs them: a round trip into a
fresh database keeps every record and the audit chain; a database with data is not
overwritten without --force; a missing pg_dump is said plainly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.security import scratchdb

TABLES = ("patients", "admissions", "ward_stays", "beds", "users", "audit_log", "audit_seals")


async def snapshot(url: str) -> dict[str, Any]:
    """What must survive: row counts, and the audit log as it is chained."""

    async def read(session: AsyncSession) -> dict[str, Any]:
        counts = {
            t: await session.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608
            for t in TABLES
        }
        audit = (
            await session.execute(
                text("SELECT id, username, action, entity_id, seq, hash FROM audit_log ORDER BY id")
            )
        ).all()
        people = (
            await session.execute(text("SELECT nhs_number, family_name FROM patients ORDER BY id"))
        ).all()
        return {"counts": counts, "audit": [tuple(r) for r in audit], "people": people}

    return await scratchdb.with_session(url, read)


@pytest.fixture
def source(database_url: str, tmp_path: Path) -> Iterator[str]:
    url = scratchdb.migrated(scratchdb.scratch_url(database_url, tmp_path, "backup_source"))
    yield url
    scratchdb.drop(url)


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (SQLite: no file yet)."""
    url = scratchdb.scratch_url(database_url, tmp_path, "backup_target")
    scratchdb.create_empty(url)
    yield url
    scratchdb.drop(url)


async def test_backup_and_restore_into_a_fresh_database_keep_records_and_the_audit_chain(
    source, target, tmp_path, clock
):
    await scratchdb.seed(source, clock.now)
    file = tmp_path / "wardflow.backup"

    made = scratchdb.wardflow(source, "backup", "-o", str(file))
    assert made.returncode == 0, made.stderr + made.stdout
    assert file.is_file() and file.stat().st_size > 0
    assert file.stat().st_mode & 0o077 == 0  # patient data: the owner alone reads it
    head = made.stdout.split("Audit chain head: ")[1].split()[0]
    before = await snapshot(source)
    assert before["counts"]["admissions"] == 2
    assert all(row[4] is not None for row in before["audit"])  # sealed before the dump

    restored = scratchdb.wardflow(target, "restore", str(file))
    assert restored.returncode == 0, restored.stderr + restored.stdout

    assert await snapshot(target) == before
    verified = scratchdb.wardflow(target, "audit", "verify", "--expect-head", head)
    assert verified.returncode == 0, verified.stderr + verified.stdout
    assert "intact" in verified.stdout


async def test_restore_refuses_a_database_with_data_unless_forced(source, target, tmp_path, clock):
    await scratchdb.seed(source, clock.now)
    file = tmp_path / "first.backup"
    assert scratchdb.wardflow(source, "backup", "-o", str(file)).returncode == 0
    assert scratchdb.wardflow(target, "restore", str(file)).returncode == 0
    # More happens in the target after the restore.
    await scratchdb.execute(target, "UPDATE beds SET label = 'A1-renamed' WHERE label = 'A1'")
    kept = await snapshot(target)

    refused = scratchdb.wardflow(target, "restore", str(file))

    assert refused.returncode == 2
    assert "already holds data" in refused.stderr and "--force" in refused.stderr
    assert await snapshot(target) == kept
    renamed = await scratchdb.with_session(
        target, lambda s: s.scalar(text("SELECT count(*) FROM beds WHERE label = 'A1-renamed'"))
    )
    assert renamed == 1

    forced = scratchdb.wardflow(target, "restore", "--force", str(file))
    assert forced.returncode == 0, forced.stderr + forced.stdout
    renamed = await scratchdb.with_session(
        target, lambda s: s.scalar(text("SELECT count(*) FROM beds WHERE label = 'A1-renamed'"))
    )
    assert renamed == 0
    assert await snapshot(target) == await snapshot(source)


@pytest.fixture
def migrated_empty(database_url: str, tmp_path: Path) -> Iterator[str]:
    url = scratchdb.migrated(scratchdb.scratch_url(database_url, tmp_path, "backup_empty"))
    yield url
    scratchdb.drop(url)


async def test_a_migrated_but_empty_database_takes_a_restore_without_force(
    source, migrated_empty, tmp_path, clock
):
    await scratchdb.seed(source, clock.now)
    file = tmp_path / "x.backup"
    assert scratchdb.wardflow(source, "backup", "-o", str(file)).returncode == 0

    result = scratchdb.wardflow(migrated_empty, "restore", str(file))

    assert result.returncode == 0, result.stderr + result.stdout
    assert await snapshot(migrated_empty) == await snapshot(source)


def test_restore_refuses_a_file_that_is_not_a_backup_and_changes_nothing(source, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database" * 100)

    result = scratchdb.wardflow(source, "restore", "--force", str(junk))

    assert result.returncode == 2
    assert "junk.backup" in result.stderr or "pg_restore" in result.stderr
    still = scratchdb.wardflow(source, "audit", "verify")
    assert still.returncode == 0, still.stderr  # the database is still there, migrated


def test_backup_will_not_overwrite_a_file(source, tmp_path):
    file = tmp_path / "exists.backup"
    file.write_text("keep me")

    result = scratchdb.wardflow(source, "backup", "-o", str(file))

    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert file.read_text() == "keep me"


def test_without_pg_dump_on_the_path_the_error_says_so(source, tmp_path, dialect):
    if dialect != "postgresql":
        pytest.skip("SQLite backups need no outside tool")
    empty_path = tmp_path / "bin"
    empty_path.mkdir()

    result = scratchdb.wardflow(
        source, "backup", "-o", str(tmp_path / "b.backup"), PATH=str(empty_path)
    )

    assert result.returncode == 2
    assert "pg_dump was not found on PATH" in result.stderr
    assert not (tmp_path / "b.backup").exists()
