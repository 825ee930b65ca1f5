"""withdrawn alerts: a record typed in later shows the deadline was met (issue 22)

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-04 16:30:00.000000

RULES.md 1.1: the new status ``withdrawn``, with when, the record that withdrew it and a
sentence saying so; and the indexes a windowed run needs to re-read the seclusions and
segregations whose reviews or observations were typed in since the previous run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('open', 'acknowledged', 'cleared', 'resolved')"
NEW_STATUSES = "status IN ('open', 'acknowledged', 'cleared', 'resolved', 'withdrawn')"
WITHDRAWN = "status != 'withdrawn' OR (withdrawn_at IS NOT NULL AND withdrawn_reason IS NOT NULL)"
KINDS = "kind IN ('raised', 'withdrawn')"
# (table, column): ix_<table>_<column>, as the models name it (index=True).
INDEXES = (
    ("seclusion_reviews", "recorded_at"),
    ("seclusion_observations", "recorded_at"),
    ("segregation_reviews", "recorded_at"),
)


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", app.db.UTCDateTime(timezone=True)))
        batch_op.add_column(sa.Column("withdrawn_by_type", sa.String(length=40)))
        batch_op.add_column(sa.Column("withdrawn_by_id", sa.Integer()))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.Text()))
        batch_op.drop_constraint(op.f("ck_alerts_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alerts_status"), NEW_STATUSES)
        batch_op.create_check_constraint(op.f("ck_alerts_withdrawn_has_record"), WITHDRAWN)
    # A second notice per channel for an alert: "withdrawn: ... was recorded late".
    with op.batch_alter_table("alert_notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="raised")
        )
        batch_op.drop_constraint("uq_alert_notifications_channel", type_="unique")
        batch_op.create_unique_constraint(
            "uq_alert_notifications_channel", ["alert_id", "channel", "kind"]
        )
        batch_op.create_check_constraint(op.f("ck_alert_notifications_kind"), KINDS)
    if op.get_bind().dialect.name == "postgresql":
        # Built without blocking the wards' writes (as 0008): reviews and observations are
        # typed in all day.
        with op.get_context().autocommit_block():
            for table, column in INDEXES:
                op.create_index(
                    f"ix_{table}_{column}", table, [column], postgresql_concurrently=True
                )
        return
    for table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for table, column in INDEXES:
                op.drop_index(f"ix_{table}_{column}", table, postgresql_concurrently=True)
    else:
        for table, column in INDEXES:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_index(f"ix_{table}_{column}")
    # Nothing is deleted: a withdrawn alert becomes resolved by the system, its reason
    # kept as the note (out of the queue, as it was).
    op.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = withdrawn_at, "
        "resolved_by = 'system', resolve_note = 'Withdrawn: ' || withdrawn_reason "
        "WHERE status = 'withdrawn'"
    )
    # The withdrawn notices go (they are messages about an alert, not clinical records;
    # the audit log keeps the withdrawal): one notice per alert and channel again.
    op.execute("DELETE FROM alert_notifications WHERE kind = 'withdrawn'")
    with op.batch_alter_table("alert_notifications", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_notifications_kind"), type_="check")
        batch_op.drop_constraint("uq_alert_notifications_channel", type_="unique")
        batch_op.create_unique_constraint("uq_alert_notifications_channel", ["alert_id", "channel"])
        batch_op.drop_column("kind")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_withdrawn_has_record"), type_="check")
        batch_op.drop_constraint(op.f("ck_alerts_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alerts_status"), OLD_STATUSES)
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_by_id")
        batch_op.drop_column("withdrawn_by_type")
        batch_op.drop_column("withdrawn_at")
