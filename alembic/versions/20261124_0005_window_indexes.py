"""indexes for windowed rule runs: when each record was created or last changed

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 19:50:00.000000

A windowed rule run looks at what is unfinished, what ended since the previous run, what
was recorded since, and what still has an alert to clear (app/alerts/checks/window.py):
one OR of four conditions per table. PostgreSQL answers an OR from indexes (a BitmapOr)
only when every branch has one; these are the missing branches. Without them each run
reads the whole of admissions and bed_requests, and its time grows with the years of
history (measured on the national benchmark set: bench/README.md).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column): the index is ix_<table>_<column>, as the models name it (index=True).
INDEXES = (
    ("admissions", "admitted_at"),
    ("admissions", "created_at"),
    ("seclusions", "created_at"),
    ("segregations", "created_at"),
    ("bed_requests", "closed_at"),
    ("bed_requests", "updated_at"),
    ("ready_for_discharge", "updated_at"),
    ("out_of_area_placements", "updated_at"),
    # "recorded since the last run" for the purpose-review and use-of-force rules.
    ("purpose_reviews", "recorded_at"),
    ("intervention_versions", "recorded_at"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
    # Each admission's latest review, from the index alone (ADM_PURPOSE_REVIEW); it also
    # serves every lookup by admission, so the single-column index goes.
    with op.batch_alter_table("purpose_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_purpose_reviews_admission_id_at", ["admission_id", "at"], unique=False
        )
        batch_op.drop_index("ix_purpose_reviews_admission_id")


def downgrade() -> None:
    with op.batch_alter_table("purpose_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_purpose_reviews_admission_id", ["admission_id"], unique=False)
        batch_op.drop_index("ix_purpose_reviews_admission_id_at")
    for table, column in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
