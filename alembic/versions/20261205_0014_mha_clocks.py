"""Mental Health Act clocks: when a period's clock starts, renewals, rights given, tribunal
events, the first medicine and consent certificates (issue 19)

Revision ID: 0014
Revises: 0013
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
down_revision: str | None = "0013"
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
    op.create_table(
        "mha_tribunal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('application', 'reference', 'hearing')",
            name=op.f("ck_mha_tribunal_events_kind"),
        ),
        sa.CheckConstraint(
            "withdrawn_at IS NULL OR (kind = 'application' AND withdrawn_at >= at)",
            name=op.f("ck_mha_tribunal_events_withdrawn_application"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_mha_tribunal_events_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_mha_tribunal_events_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mha_tribunal_events")),
    )
    op.create_index(
        op.f("ix_mha_tribunal_events_admission_id"), "mha_tribunal_events", ["admission_id"]
    )
    op.create_table(
        "mha_medicine_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_mha_medicine_starts_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_mha_medicine_starts_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mha_medicine_starts")),
    )
    op.create_index(
        op.f("ix_mha_medicine_starts_admission_id"), "mha_medicine_starts", ["admission_id"]
    )
    op.create_table(
        "mha_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=4), nullable=False),
        sa.Column("issued_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("covers", sa.Text(), nullable=False),
        sa.Column("fallen_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("form IN ('T2', 'T3')", name=op.f("ck_mha_certificates_form")),
        sa.CheckConstraint(
            "fallen_at IS NULL OR fallen_at >= issued_at",
            name=op.f("ck_mha_certificates_falls_after_issue"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_mha_certificates_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_mha_certificates_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mha_certificates")),
    )
    op.create_index(op.f("ix_mha_certificates_admission_id"), "mha_certificates", ["admission_id"])

    op.create_table(
        "mha_place_of_safety_episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=8), nullable=False),
        sa.Column("place_type", sa.String(length=24), nullable=False),
        sa.Column("arrived_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extension_authorised_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("extension_hours", sa.Float(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("ended_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "section IN ('s135', 's136')", name=op.f("ck_mha_place_of_safety_episodes_section")
        ),
        sa.CheckConstraint(
            "place_type IN ('hospital', 'emergency_department', 'police_station', 'other')",
            name=op.f("ck_mha_place_of_safety_episodes_place_type"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('admitted_informal', 'detained', 'released')",
            name=op.f("ck_mha_place_of_safety_episodes_outcome"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= arrived_at",
            name=op.f("ck_mha_place_of_safety_episodes_ends_after_arrival"),
        ),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (outcome IS NULL)",
            name=op.f("ck_mha_place_of_safety_episodes_end_has_outcome"),
        ),
        sa.CheckConstraint(
            "extension_hours IS NULL OR (extension_hours > 0 AND extension_hours <= 12)",
            name=op.f("ck_mha_place_of_safety_episodes_extension_at_most_12_hours"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_mha_place_of_safety_episodes_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_mha_place_of_safety_episodes_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mha_place_of_safety_episodes")),
    )
    op.create_index(
        op.f("ix_mha_place_of_safety_episodes_patient_id"),
        "mha_place_of_safety_episodes",
        ["patient_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_mha_place_of_safety_episodes_patient_id"),
        table_name="mha_place_of_safety_episodes",
    )
    op.drop_table("mha_place_of_safety_episodes")
    for table in ("mha_certificates", "mha_medicine_starts", "mha_tribunal_events"):
        op.drop_index(op.f(f"ix_{table}_admission_id"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_mha_rights_admission_id"), table_name="mha_rights")
    op.drop_table("mha_rights")
    op.drop_index(op.f("ix_mha_renewals_period_id"), table_name="mha_renewals")
    op.drop_table("mha_renewals")
    with op.batch_alter_table("legal_status_changes", schema=None) as batch_op:
        batch_op.drop_column("clock_start_day")
