"""Mental Health Act clocks: when a period's clock starts, renewals, rights given (issue 19)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05 08:00:00.000000

A detention period is a legal status change (app/mha/models.py), so the existing legal
status history needs no copying: every change already is a period, and its clock starts
on the day of the change unless `clock_start_day` says otherwise (null for every change
recorded before this).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("legal_status_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_start_day", sa.Date(), nullable=True))
    op.create_table(
        "mha_renewals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("examined_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agreed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("furnished_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "furnished_at >= examined_at", name=op.f("ck_mha_renewals_furnished_after_examination")
        ),
        sa.CheckConstraint(
            "furnished_at >= agreed_at", name=op.f("ck_mha_renewals_furnished_after_agreement")
        ),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["legal_status_changes.id"],
            name=op.f("fk_mha_renewals_period_id_legal_status_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_mha_renewals_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mha_renewals")),
    )
    op.create_index(op.f("ix_mha_renewals_period_id"), "mha_renewals", ["period_id"])
    op.create_table(
        "mha_rights",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("given_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("oral", sa.Boolean(), nullable=False),
        sa.Column("written", sa.Boolean(), nullable=False),
        sa.Column("understood", sa.String(length=8), nullable=False),
        sa.Column("nearest_relative_copy_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "nearest_relative_copy_declined",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('s132', 's132a', 's130d')", name=op.f("ck_mha_rights_kind")),
        sa.CheckConstraint(
            "understood IN ('yes', 'partly', 'no')", name=op.f("ck_mha_rights_understood")
        ),
        sa.CheckConstraint("oral OR written", name=op.f("ck_mha_rights_given_somehow")),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admissions.id"], name=op.f("fk_mha_rights_admission_id_admissions")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_mha_rights_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mha_rights")),
    )
    op.create_index(op.f("ix_mha_rights_admission_id"), "mha_rights", ["admission_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_mha_rights_admission_id"), table_name="mha_rights")
    op.drop_table("mha_rights")
    op.drop_index(op.f("ix_mha_renewals_period_id"), table_name="mha_renewals")
    op.drop_table("mha_renewals")
    with op.batch_alter_table("legal_status_changes", schema=None) as batch_op:
        batch_op.drop_column("clock_start_day")
