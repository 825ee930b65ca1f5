"""Bulk writing: rows as tuples with ids given in advance, sent a table at a time in the
order the foreign keys need. PostgreSQL gets COPY (asyncpg's copy_records_to_table);
SQLite gets SQLAlchemy Core inserts, executemany in batches. Both in the caller's
transaction, so a failed build leaves nothing behind, and both go through every check
constraint, partial unique index and trigger the schema has.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app import models

# Each table's columns in the order the generator builds its tuples. Listing them here,
# rather than taking the table's own order, keeps a column added later (with a default or
# nullable) from shifting the values; a new required column makes the COPY fail loudly.
COLUMNS: dict[str, tuple[str, ...]] = {
    "localities": ("id", "code", "name", "latitude", "longitude"),
    "sites": ("id", "code", "name", "locality_id"),
    "wards": (
        "id", "code", "name", "site_id", "ward_type", "sex", "min_age", "max_age", "created_at",
    ),
    "beds": ("id", "ward_id", "label", "status", "closed_reason", "created_at"),
    "patients": (
        "id", "nhs_number", "given_name", "family_name", "date_of_birth", "sex",
        "ethnic_category", "home_locality_id", "learning_disability", "autistic", "created_at",
    ),
    "admissions": (
        "id", "patient_id", "admitted_at", "decision_to_admit_at", "reason", "expected_benefit",
        "legal_status", "expected_discharge_date", "discharged_at", "discharge_destination",
        "created_at", "created_by_id",
    ),
    "ward_stays": (
        "id", "admission_id", "ward_id", "bed_id", "started_at", "ended_at", "transfer_reason",
    ),
    "legal_status_changes": (
        "id", "admission_id", "legal_status", "at", "recorded_at", "recorded_by_id",
    ),
    "purpose_reviews": (
        "id", "admission_id", "at", "still_needed", "note", "recorded_at", "recorded_by_id",
    ),
    "ready_for_discharge": (
        "id", "admission_id", "started_at", "ended_at", "reason_code", "attributable_to",
        "created_at", "created_by_id", "updated_at",
    ),
    "bed_requests": (
        "id", "patient_id", "decision_to_admit_at", "ward_type", "note", "status", "closed_at",
        "cancel_reason", "admission_id", "created_at", "created_by_id", "updated_at",
    ),
    "out_of_area_placements": (
        "id", "patient_id", "bed_request_id", "provider_name", "latitude", "longitude",
        "distance_km", "bed_type", "reason_code", "daily_cost", "started_at", "ended_at",
        "outcome", "created_at", "created_by_id", "updated_at",
    ),
    "out_of_area_reviews": ("id", "placement_id", "at", "note", "recorded_at", "recorded_by_id"),
    "seclusions": (
        "id", "admission_id", "started_at", "ended_at", "authorised_by_role", "reason",
        "end_note", "created_at", "created_by_id", "ended_by_id",
    ),
    "seclusion_reviews": (
        "id", "seclusion_id", "kind", "at", "note", "outcome", "recorded_at", "recorded_by_id",
    ),
    "seclusion_observations": (
        "id", "seclusion_id", "at", "note", "recorded_at", "recorded_by_id",
    ),
    "segregations": (
        "id", "admission_id", "started_at", "ended_at", "reason", "end_note",
        "commissioner_informed_at", "imha_informed_at", "from_seclusion_id", "created_at",
        "created_by_id", "ended_by_id", "updated_at",
    ),
    "segregation_reviews": (
        "id", "segregation_id", "kind", "at", "note", "recorded_at", "recorded_by_id",
    ),
    "restrictive_interventions": (
        "id", "admission_id", "ward_id", "place", "started_at", "ended_at", "reason_code",
        "description", "in_care_plan", "non_unit_staff_reason", "outcome", "avoidance_efforts",
        "patient_injury", "staff_injury", "care_plan_notification_sent", "debriefed_at",
        "version", "created_at", "created_by_id",
    ),
    "intervention_types": (
        "id", "intervention_id", "type_code", "started_at", "ended_at", "retired_at",
    ),
    "intervention_staff": ("id", "intervention_id", "name", "job_title", "retired_at"),
    "intervention_versions": (
        "id", "intervention_id", "version", "data", "reason", "recorded_at", "recorded_by_id",
    ),
}  # fmt: skip
# Parents before children (COLUMNS' order is this order).
ORDER = tuple(COLUMNS)
SQLITE_CHUNK = 5000


Batch = dict[str, list[tuple[Any, ...]]]


class Rows:
    """Rows waiting to be written, and the next id of every table."""

    def __init__(self, first_ids: dict[str, int]) -> None:
        self._next = dict(first_ids)
        self.pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in ORDER}

    def next_id(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.pending[table].append(row)

    def count(self) -> int:
        return sum(len(rows) for rows in self.pending.values())

    def take(self) -> Batch:
        """The pending rows, handed over for writing; a new batch starts empty."""
        batch, self.pending = self.pending, {name: [] for name in ORDER}
        return batch


def _table(name: str) -> Table:
    table = models.Base.metadata.tables[name]
    assert isinstance(table, Table)
    return table


async def first_ids(session: AsyncSession) -> dict[str, int]:
    """Where each table's ids start: after any rows already there."""
    result = {}
    for name in ORDER:
        table = _table(name)
        highest = await session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
        result[name] = int(highest or 0) + 1
    return result


class Writer:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    async def write(self, batch: Batch) -> dict[str, int]:
        """Write a batch, parents first. Returns the rows written per table."""
        written = {}
        for name in ORDER:
            table_rows = batch.get(name)
            if not table_rows:
                continue
            if self.postgres:
                await self._copy(name, table_rows)
            else:
                await self._insert(name, table_rows)
            written[name] = len(table_rows)
        return written

    async def _copy(self, name: str, batch: Sequence[tuple[Any, ...]]) -> None:
        columns = COLUMNS[name]
        table = _table(name)
        json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        if json_at:
            batch = [
                tuple(json.dumps(v) if i in json_at else v for i, v in enumerate(row))
                for row in batch
            ]
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(name, records=batch, columns=list(columns))

    async def _insert(self, name: str, batch: Sequence[tuple[Any, ...]]) -> None:
        columns = COLUMNS[name]
        statement = _table(name).insert()
        for start in range(0, len(batch), SQLITE_CHUNK):
            chunk = batch[start : start + SQLITE_CHUNK]
            await self.session.execute(
                statement, [dict(zip(columns, row, strict=True)) for row in chunk]
            )

    async def finish(self) -> None:
        """PostgreSQL: move each id sequence past the ids given here, and gather the
        planner's statistics for the new rows (SQLite's rowids need neither)."""
        if not self.postgres:
            return
        for name in ORDER:
            await self.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                )
            )
        await self.session.execute(text("ANALYZE"))
