"""weekly report snapshots: immutable, one per week and scope, and their emails

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:00:00.000000

A snapshot is what the directors were sent: the database refuses to change or delete it
(a trigger, as for the clinical tables of 0002 and 0004). Its email is a separate row, so
that marking it sent (or failed, to retry) changes nothing in the snapshot.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "never_deleted: report snapshots are immutable"


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_ending", sa.Date(), nullable=False),
        sa.Column("scope_type", sa.String(length=8), nullable=False),
        sa.Column("scope_code", sa.String(length=32), nullable=False),
        sa.Column("generated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "scope_type IN ('trust', 'site', 'ward')",
            name=op.f("ck_report_snapshots_scope_type"),
        ),
        sa.CheckConstraint(
            "(scope_type = 'trust') = (scope_code = '')",
            name=op.f("ck_report_snapshots_scope_code"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshots")),
        sa.UniqueConstraint(
            "week_ending", "scope_type", "scope_code", name="uq_report_snapshots_week"
        ),
    )
    with op.batch_alter_table("report_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_snapshots_week_ending"), ["week_ending"], unique=False
        )
    op.create_table(
        "report_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["report_snapshots.id"],
            name=op.f("fk_report_emails_snapshot_id_report_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_emails")),
        sa.UniqueConstraint("snapshot_id", name=op.f("uq_report_emails_snapshot_id")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""CREATE TRIGGER trg_report_snapshots_no_{event.lower()} BEFORE {event}
                ON report_snapshots BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
            )
    else:
        op.execute(
            f"""CREATE FUNCTION wardflow_report_snapshots_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23514';
            END $$ LANGUAGE plpgsql"""
        )
        op.execute(
            """CREATE TRIGGER trg_report_snapshots_immutable BEFORE UPDATE OR DELETE
            ON report_snapshots FOR EACH ROW
            EXECUTE FUNCTION wardflow_report_snapshots_immutable()"""
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_report_snapshots_no_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_report_snapshots_immutable ON report_snapshots")
        op.execute("DROP FUNCTION IF EXISTS wardflow_report_snapshots_immutable()")
    op.drop_table("report_emails")
    with op.batch_alter_table("report_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_snapshots_week_ending"))
    op.drop_table("report_snapshots")
