"""PAS feed rules: when the ward recorded a feed admission's purpose; feed alerts

Revision ID: 0017
Revises: 20261205_0020_pas_feed
Create Date: 2026-12-05 12:40:00.000000

Issue 21. ``admissions.purpose_recorded_at``: when the ward recorded the reason and
expected benefit of an admission that arrived from the PAS feed without them (the moment
ADM_PURPOSE_MISSING clears). The alerts' subjects gain ``pas_feed`` (FEED_SILENT).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0017"
down_revision: str | None = "20261205_0020_pas_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SUBJECTS = (
    "admission", "seclusion", "segregation", "restrictive_intervention", "bed_request",
    "ready_for_discharge", "out_of_area_placement", "ward",
)  # fmt: skip
NEW_SUBJECTS = (*OLD_SUBJECTS, "pas_feed")


def _subjects(values: tuple[str, ...]) -> str:
    return "subject_type IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the table, and
    # the triggers of other tables that name admissions (0002) refuse that.
    op.add_column(
        "admissions",
        sa.Column("purpose_recorded_at", app.db.UTCDateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_subject_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alerts_subject_type"), _subjects(NEW_SUBJECTS))


def downgrade() -> None:
    # A feed alert is about the interface, not a person's record: the schema before this
    # has no subject for it, so those alerts (their raising is in the audit log) go.
    op.execute("DELETE FROM alert_notifications WHERE alert_id IN "
               "(SELECT id FROM alerts WHERE subject_type = 'pas_feed')")  # fmt: skip
    op.execute("DELETE FROM alerts WHERE subject_type = 'pas_feed'")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_subject_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_alerts_subject_type"), _subjects(OLD_SUBJECTS))
    op.drop_column("admissions", "purpose_recorded_at")
