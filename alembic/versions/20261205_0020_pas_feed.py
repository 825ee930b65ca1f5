"""PAS feed: HL7 v2 ADT messages with their ACKs, held messages, location mappings, PAS numbers

Revision ID: 20261205_0020_pas_feed
Revises: 0014
Create Date: 2026-12-05 07:42:09.741414

Issue 21. New tables only (nothing existing changes), so the downgrade drops them; the
clinical records a message made are in the existing tables and stay.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "20261205_0020_pas_feed"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pas_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sending_application", sa.String(length=180), nullable=False),
        sa.Column("sending_facility", sa.String(length=180), nullable=False),
        sa.Column("control_id", sa.String(length=199), nullable=False),
        sa.Column("received_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_type", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("event_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("processed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ack_code IN ('AA', 'AE', 'AR')", name=op.f("ck_pas_messages_ack_code")),
        sa.CheckConstraint(
            "outcome IN ('applied', 'ignored', 'held', 'error', 'rejected')",
            name=op.f("ck_pas_messages_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pas_messages_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pas_messages")),
        sa.UniqueConstraint(
            "sending_application",
            "sending_facility",
            "control_id",
            name="uq_pas_messages_control_id",
        ),
    )
    with op.batch_alter_table("pas_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pas_messages_outcome_received_at", ["outcome", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pas_messages_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pas_messages_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "pas_patient_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assigning_authority", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_pas_patient_numbers_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pas_patient_numbers")),
        sa.UniqueConstraint("assigning_authority", "number", name="uq_pas_patient_numbers_number"),
    )
    with op.batch_alter_table("pas_patient_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pas_patient_numbers_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "pas_held_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("held_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resolved_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('applied', 'expired', 'error')",
            name=op.f("ck_pas_held_messages_resolution"),
        ),
        sa.CheckConstraint(
            "(resolved_at IS NULL) = (resolution IS NULL)",
            name=op.f("ck_pas_held_messages_resolved_has_resolution"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["pas_messages.id"],
            name=op.f("fk_pas_held_messages_message_id_pas_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pas_held_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_pas_held_messages_message_id")),
    )
    with op.batch_alter_table("pas_held_messages", schema=None) as batch_op:
        batch_op.create_index("ix_pas_held_messages_open", ["resolved_at", "held_at"], unique=False)

    op.create_table(
        "pas_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_of_care", sa.String(length=64), nullable=False),
        sa.Column("pas_bed", sa.String(length=64), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("bed_label", sa.String(length=32), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "length(trim(point_of_care)) > 0", name=op.f("ck_pas_locations_point_of_care_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pas_locations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_pas_locations_ward_id_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pas_locations")),
        sa.UniqueConstraint("point_of_care", "pas_bed", name="uq_pas_locations_point_of_care"),
    )
    with op.batch_alter_table("pas_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pas_locations_ward_id"), ["ward_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pas_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pas_locations_ward_id"))

    op.drop_table("pas_locations")
    with op.batch_alter_table("pas_held_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_pas_held_messages_open")

    op.drop_table("pas_held_messages")
    with op.batch_alter_table("pas_patient_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pas_patient_numbers_patient_id"))

    op.drop_table("pas_patient_numbers")
    with op.batch_alter_table("pas_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pas_messages_received_at"))
        batch_op.drop_index(batch_op.f("ix_pas_messages_patient_id"))
        batch_op.drop_index("ix_pas_messages_outcome_received_at")

    op.drop_table("pas_messages")
