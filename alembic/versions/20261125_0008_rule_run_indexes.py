"""indexes for rule runs: stays, uses of force and placement reviews by when they ended or were recorded

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 00:40:00.000000

The branches of the windowed runs' ORs that still read a whole table every minute on the
national benchmark set (bench/README.md): ward stays ended after as_of (ward occupancy),
uses of force by their end (debrief, record completion), prone restraints by their start,
and out-of-area reviews recorded since the last run.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the index is ix_<table>_<column>, as the models name it.
INDEXES = (
    ("ward_stays", "ended_at"),
    ("restrictive_interventions", "ended_at"),
    ("intervention_types", "started_at"),
    ("out_of_area_reviews", "recorded_at"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Built without blocking the wards' writes: at national size each index takes a
        # while, and a plain CREATE INDEX holds off every admission and transfer meanwhile.
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
            for table, column in reversed(INDEXES):
                op.drop_index(f"ix_{table}_{column}", table, postgresql_concurrently=True)
        return
    for table, column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_{column}")
