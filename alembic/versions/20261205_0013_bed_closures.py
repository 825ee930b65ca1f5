"""bed availability as data: bed closures, ward and bed opening, segregation updated_at

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:00:00.000000

Issue 18, change 8. The weekly report and the occupancy rule count open beds from periods
(bed_closures, and when each ward and bed opened) instead of replaying the audit log, and a
windowed rule run finds the segregations written since from segregations.updated_at. The
new columns and closures are backfilled once from the audit log, read exactly as the old
report read it, so every figure already reported stays the same.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REOPENED = sa.text("reopened_at IS NULL")
WARD_STARTED = "ix_ward_stays_ward_started"
# The required columns this revision adds, filled by the backfill.
REQUIRED = (("wards", "created_at"), ("beds", "created_at"), ("segregations", "updated_at"))
PLACEHOLDER = "1970-01-01 00:00:00.000000"
# The reason a closure backfilled from the log carries when the log kept none.
UNKNOWN_REASON = "Closed (no reason recorded before bed closures were kept)"

audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", app.db.UTCDateTime(timezone=True)),
    sa.column("action", sa.String),
    sa.column("entity_type", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", sa.JSON),
    sa.column("after", sa.JSON),
)
wards = sa.table(
    "wards",
    sa.column("id", sa.Integer),
    sa.column("created_at", app.db.UTCDateTime(timezone=True)),
)
beds = sa.table(
    "beds",
    sa.column("id", sa.Integer),
    sa.column("ward_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("closed_reason", sa.Text),
    sa.column("created_at", app.db.UTCDateTime(timezone=True)),
)
ward_stays = sa.table("ward_stays", sa.column("started_at", app.db.UTCDateTime(timezone=True)))
segregations = sa.table(
    "segregations",
    sa.column("id", sa.Integer),
    sa.column("created_at", app.db.UTCDateTime(timezone=True)),
    sa.column("updated_at", app.db.UTCDateTime(timezone=True)),
)
bed_closures = sa.table(
    "bed_closures",
    sa.column("bed_id", sa.Integer),
    sa.column("closed_at", app.db.UTCDateTime(timezone=True)),
    sa.column("reopened_at", app.db.UTCDateTime(timezone=True)),
    sa.column("reason", sa.Text),
)


def upgrade() -> None:
    op.create_table(
        "bed_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bed_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reopened_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "reopened_at IS NULL OR reopened_at > closed_at",
            name=op.f("ck_bed_closures_reopened_after_closed"),
        ),
        sa.CheckConstraint(
            "length(trim(reason)) > 0", name=op.f("ck_bed_closures_reason_not_blank")
        ),
        sa.ForeignKeyConstraint(["bed_id"], ["beds.id"], name=op.f("fk_bed_closures_bed_id_beds")),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["users.id"], name=op.f("fk_bed_closures_closed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["reopened_by_id"], ["users.id"], name=op.f("fk_bed_closures_reopened_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_closures")),
    )
    with op.batch_alter_table("bed_closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bed_closures_bed_id"), ["bed_id"], unique=False)
        batch_op.create_index(
            "uq_bed_closures_one_open_per_bed",
            ["bed_id"],
            unique=True,
            sqlite_where=REOPENED,
            postgresql_where=REOPENED,
        )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in REQUIRED:
        # SQLite makes a column required only by copying its table, which its foreign keys
        # and triggers forbid inside a migration's transaction: it adds the column required
        # with a placeholder default the backfill below overwrites (autogenerate compares no
        # server defaults). PostgreSQL adds it empty and requires it once filled.
        op.add_column(
            table,
            sa.Column(
                column,
                app.db.UTCDateTime(timezone=True),
                nullable=not sqlite,
                server_default=sa.text(f"'{PLACEHOLDER}'") if sqlite else None,
            ),
        )
    for table in ("wards", "beds"):
        op.add_column(table, sa.Column("opened_at", app.db.UTCDateTime(timezone=True)))

    _backfill(op.get_bind())

    if not sqlite:
        for table, column in REQUIRED:
            op.alter_column(
                table, column, existing_type=app.db.UTCDateTime(timezone=True), nullable=False
            )
    op.create_index(op.f("ix_segregations_updated_at"), "segregations", ["updated_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Built without blocking admissions and transfers (as 0008): ward_stays is large.
        with op.get_context().autocommit_block():
            op.create_index(
                WARD_STARTED, "ward_stays", ["ward_id", "started_at"], postgresql_concurrently=True
            )
    else:
        op.create_index(WARD_STARTED, "ward_stays", ["ward_id", "started_at"])


def _created(conn: sa.Connection, action: str, entity_type: str) -> dict[int, datetime]:
    """Each record's creation as the audit log has it."""
    rows = conn.execute(
        sa.select(audit_log.c.entity_id, sa.func.min(audit_log.c.at))
        .where(audit_log.c.action == action, audit_log.c.entity_type == entity_type)
        .group_by(audit_log.c.entity_id)
    )
    return {int(entity_id): at for entity_id, at in rows if entity_id.isdigit()}


def _backfill(conn: sa.Connection) -> None:
    now = datetime.now(UTC)
    # A ward or bed with no creation in the log (seeded, imported) was there before anything
    # recorded: the old report counted such beds open for any week, and so does this.
    earliest = [
        conn.scalar(sa.select(sa.func.min(ward_stays.c.started_at))),
        conn.scalar(sa.select(sa.func.min(audit_log.c.at))),
        now,
    ]
    before_records = min(e for e in earliest if e is not None)

    ward_created = _created(conn, "ward.create", "wards")
    ward_ids = list(conn.scalars(sa.select(wards.c.id)))
    ward_at = {w: ward_created.get(w, before_records) for w in ward_ids}
    if ward_ids:
        conn.execute(
            wards.update()
            .where(wards.c.id == sa.bindparam("w_id"))
            .values(created_at=sa.bindparam("w_at")),
            [{"w_id": w, "w_at": at} for w, at in ward_at.items()],
        )

    bed_created = _created(conn, "bed.create", "beds")
    bed_rows = conn.execute(
        sa.select(beds.c.id, beds.c.ward_id, beds.c.status, beds.c.closed_reason)
    ).all()
    bed_at = {b: bed_created.get(b, ward_at[w]) for b, w, _s, _r in bed_rows}
    if bed_rows:
        conn.execute(
            beds.update()
            .where(beds.c.id == sa.bindparam("b_id"))
            .values(created_at=sa.bindparam("b_at")),
            [{"b_id": b, "b_at": at} for b, at in bed_at.items()],
        )

    changes = _changes(conn)
    closures = [
        closure
        for bed_id, _ward, status, reason in bed_rows
        for closure in _closures(bed_id, bed_at[bed_id], status, reason, changes.get(bed_id, []))
    ]
    if closures:
        conn.execute(bed_closures.insert(), closures)

    # Last written: its start, or the latest notification or end the log keeps.
    written = conn.execute(
        sa.select(audit_log.c.entity_id, sa.func.max(audit_log.c.at))
        .where(
            audit_log.c.entity_type == "segregations",
            audit_log.c.action.in_(("segregation.notification", "segregation.end")),
        )
        .group_by(audit_log.c.entity_id)
    )
    conn.execute(segregations.update().values(updated_at=segregations.c.created_at))
    changed = [
        {"s_id": int(entity_id), "s_at": at} for entity_id, at in written if entity_id.isdigit()
    ]
    if changed:
        conn.execute(
            segregations.update()
            .where(
                segregations.c.id == sa.bindparam("s_id"),
                segregations.c.created_at < sa.bindparam("s_at"),
            )
            .values(updated_at=sa.bindparam("s_at")),
            changed,
        )


Change = tuple[datetime, str, dict[str, Any], dict[str, Any]]


def _changes(conn: sa.Connection) -> dict[int, list[Change]]:
    """Each bed's opening and closing entries in the log, in order."""
    changes: dict[int, list[Change]] = defaultdict(list)
    rows = conn.execute(
        sa.select(
            audit_log.c.entity_id,
            audit_log.c.at,
            audit_log.c.action,
            audit_log.c.before,
            audit_log.c.after,
        )
        .where(audit_log.c.entity_type == "beds", audit_log.c.action.in_(("bed.open", "bed.close")))
        .order_by(audit_log.c.at, audit_log.c.id)
    )
    for entity_id, at, action, before, after in rows:
        if entity_id.isdigit():
            changes[int(entity_id)].append((at, action, before or {}, after or {}))
    return changes


def _closures(
    bed_id: int,
    created_at: datetime,
    status: str,
    closed_reason: str | None,
    changes: list[Change],
) -> list[dict[str, Any]]:
    """The bed's closures as the old report read the log: between two entries the bed was
    as the later entry's `before` says; after the last, as it is now; before the first, as
    the first's `before` says, back to the bed's creation."""
    starts = [min([created_at, *(at for at, *_ in changes)])] + [at for at, *_ in changes]
    states: list[str] = []
    reasons: list[str | None] = []
    for _at, action, before, _after in changes:
        states.append(before.get("status") or ("open" if action == "bed.close" else "closed"))
        reasons.append(before.get("closed_reason"))
    states.append(status)
    reasons.append(closed_reason)
    # The reason a closure starting at entry k gave is in that entry's `after`.
    start_reasons = [reasons[0]] + [after.get("closed_reason") for *_, after in changes]
    result: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for k, state in enumerate(states):
        if state == "closed" and current is None:
            reason = start_reasons[k] or reasons[k] or UNKNOWN_REASON
            current = {"bed_id": bed_id, "closed_at": starts[k], "reopened_at": None}
            current["reason"] = reason.strip() or UNKNOWN_REASON
        elif state != "closed" and current is not None:
            current["reopened_at"] = starts[k]
            if current["reopened_at"] > current["closed_at"]:
                result.append(current)
            current = None
    if current is not None:
        result.append(current)
    return result


def downgrade() -> None:
    # The closures and opening times came from (and are still in) the audit log, which the
    # report before this revision replays; nothing clinical is in them.
    op.drop_index(op.f("ix_segregations_updated_at"), table_name="segregations")
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(WARD_STARTED, "ward_stays", postgresql_concurrently=True)
    else:
        op.drop_index(WARD_STARTED, table_name="ward_stays")
    # Dropped in place (SQLite 3.35+ too): copying the tables is what the upgrade avoided.
    for table, column in REQUIRED:
        op.drop_column(table, column)
    for table in ("wards", "beds"):
        op.drop_column(table, "opened_at")
    with op.batch_alter_table("bed_closures", schema=None) as batch_op:
        batch_op.drop_index("uq_bed_closures_one_open_per_bed")
        batch_op.drop_index(batch_op.f("ix_bed_closures_bed_id"))
    op.drop_table("bed_closures")
