"""foundation: places, patients, admissions, users, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-24 14:25:13.706607
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Invariants that span tables cannot be CHECK constraints, so they are triggers: the
# database refuses a stay in a closed bed, closing an occupied bed, and any change to
# the audit log, whatever code path (or hand-written SQL) tries it.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER trg_ward_stays_bed_open BEFORE INSERT ON ward_stays
    WHEN (SELECT status FROM beds WHERE id = NEW.bed_id) = 'closed'
    BEGIN SELECT RAISE(ABORT, 'bed_closed: a closed bed takes no one'); END""",
    """CREATE TRIGGER trg_beds_close_empty BEFORE UPDATE OF status ON beds
    WHEN NEW.status = 'closed' AND EXISTS (
        SELECT 1 FROM ward_stays WHERE bed_id = NEW.id AND ended_at IS NULL)
    BEGIN SELECT RAISE(ABORT, 'bed_occupied: a bed with someone in it cannot be closed'); END""",
    """CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER trg_audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]
SQLITE_DROPS = [
    "DROP TRIGGER IF EXISTS trg_ward_stays_bed_open",
    "DROP TRIGGER IF EXISTS trg_beds_close_empty",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_update",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_delete",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION wardflow_ward_stays_bed_open() RETURNS trigger AS $$
    BEGIN
        IF (SELECT status FROM beds WHERE id = NEW.bed_id FOR SHARE) = 'closed' THEN
            RAISE EXCEPTION 'bed_closed: a closed bed takes no one' USING ERRCODE = '23514';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER trg_ward_stays_bed_open BEFORE INSERT ON ward_stays
    FOR EACH ROW EXECUTE FUNCTION wardflow_ward_stays_bed_open()""",
    """CREATE FUNCTION wardflow_beds_close_empty() RETURNS trigger AS $$
    BEGIN
        IF NEW.status = 'closed' AND EXISTS (
            SELECT 1 FROM ward_stays WHERE bed_id = NEW.id AND ended_at IS NULL) THEN
            RAISE EXCEPTION 'bed_occupied: a bed with someone in it cannot be closed'
                USING ERRCODE = '23514';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER trg_beds_close_empty BEFORE UPDATE OF status ON beds
    FOR EACH ROW EXECUTE FUNCTION wardflow_beds_close_empty()""",
    """CREATE FUNCTION wardflow_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '23514';
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION wardflow_append_only()""",
]
POSTGRES_DROPS = [
    "DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS wardflow_append_only()",
    "DROP TRIGGER IF EXISTS trg_beds_close_empty ON beds",
    "DROP FUNCTION IF EXISTS wardflow_beds_close_empty()",
    "DROP TRIGGER IF EXISTS trg_ward_stays_bed_open ON ward_stays",
    "DROP FUNCTION IF EXISTS wardflow_ward_stays_bed_open()",
]


def _create_triggers() -> None:
    statements = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in statements:
        op.execute(statement)


def _drop_triggers() -> None:
    statements = SQLITE_DROPS if op.get_bind().dialect.name == "sqlite" else POSTGRES_DROPS
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:

    op.create_table(
        "localities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_localities_latitude_range")
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_localities_longitude_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_localities")),
        sa.UniqueConstraint("code", name=op.f("uq_localities_code")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'ward_staff', 'bed_manager', 'safeguarding_lead', 'director')",
            name=op.f("ck_users_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("ethnic_category", sa.String(length=2), nullable=False),
        sa.Column("home_locality_id", sa.Integer(), nullable=False),
        sa.Column("learning_disability", sa.Boolean(), nullable=False),
        sa.Column("autistic", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ethnic_category IN ('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'Z', '99')",
            name=op.f("ck_patients_ethnic_category"),
        ),
        sa.CheckConstraint(
            "sex IN ('male', 'female', 'other', 'not_known')", name=op.f("ck_patients_sex")
        ),
        sa.CheckConstraint("length(nhs_number) = 10", name=op.f("ck_patients_nhs_number_length")),
        sa.CheckConstraint(
            "length(trim(family_name)) > 0", name=op.f("ck_patients_family_name_not_blank")
        ),
        sa.CheckConstraint(
            "length(trim(given_name)) > 0", name=op.f("ck_patients_given_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["home_locality_id"],
            ["localities.id"],
            name=op.f("fk_patients_home_locality_id_localities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_patients_nhs_number")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patients_home_locality_id"), ["home_locality_id"], unique=False
        )

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locality_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["locality_id"], ["localities.id"], name=op.f("fk_sites_locality_id_localities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_locality_id"), ["locality_id"], unique=False)

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "admissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_to_admit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expected_benefit", sa.Text(), nullable=False),
        sa.Column("legal_status", sa.String(length=16), nullable=False),
        sa.Column("expected_discharge_date", sa.Date(), nullable=True),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discharge_destination", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "legal_status IN ('informal', 's2', 's3', 's4', 's5_2', 's5_4', 's35', 's36', 's37', 's37_41', 's38', 's47', 's47_49', 's48', 's48_49', 's135', 's136', 'other')",
            name=op.f("ck_admissions_legal_status"),
        ),
        sa.CheckConstraint(
            "(discharged_at IS NULL) = (discharge_destination IS NULL)",
            name=op.f("ck_admissions_discharge_destination"),
        ),
        sa.CheckConstraint(
            "decision_to_admit_at IS NULL OR decision_to_admit_at <= admitted_at",
            name=op.f("ck_admissions_decision_before_admission"),
        ),
        sa.CheckConstraint(
            "discharged_at IS NULL OR discharged_at >= admitted_at",
            name=op.f("ck_admissions_discharge_after_admission"),
        ),
        sa.CheckConstraint(
            "length(trim(expected_benefit)) > 0",
            name=op.f("ck_admissions_expected_benefit_not_blank"),
        ),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_admissions_reason_not_blank")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_admissions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_admissions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admissions")),
    )
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_admissions_discharged_at"), ["discharged_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_admissions_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_admissions_one_open_per_patient",
            ["patient_id"],
            unique=True,
            sqlite_where=sa.text("discharged_at IS NULL"),
            postgresql_where=sa.text("discharged_at IS NULL"),
        )

    op.create_table(
        "wards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("ward_type", sa.String(length=32), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=False),
        sa.Column("max_age", sa.Integer(), nullable=False),
        sa.CheckConstraint("sex IN ('male', 'female', 'mixed')", name=op.f("ck_wards_sex")),
        sa.CheckConstraint(
            "ward_type IN ('adult_acute', 'older_adult_acute', 'picu', 'camhs', 'ld_autism', 'rehabilitation', 'forensic')",
            name=op.f("ck_wards_ward_type"),
        ),
        sa.CheckConstraint(
            "min_age >= 0 AND max_age >= min_age AND max_age <= 130",
            name=op.f("ck_wards_age_range"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_wards_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wards")),
        sa.UniqueConstraint("code", name=op.f("uq_wards_code")),
    )
    with op.batch_alter_table("wards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wards_site_id"), ["site_id"], unique=False)

    op.create_table(
        "beds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(status = 'closed' AND closed_reason IS NOT NULL AND length(trim(closed_reason)) > 0) OR (status = 'open' AND closed_reason IS NULL)",
            name=op.f("ck_beds_closed_reason"),
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_beds_status")),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_beds_ward_id_wards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beds")),
        sa.UniqueConstraint("ward_id", "label", name="uq_beds_ward_label"),
    )
    with op.batch_alter_table("beds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_beds_ward_id"), ["ward_id"], unique=False)

    op.create_table(
        "legal_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("legal_status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "legal_status IN ('informal', 's2', 's3', 's4', 's5_2', 's5_4', 's35', 's36', 's37', 's37_41', 's38', 's47', 's47_49', 's48', 's48_49', 's135', 's136', 'other')",
            name=op.f("ck_legal_status_changes_legal_status"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_legal_status_changes_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_legal_status_changes_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_status_changes")),
    )
    with op.batch_alter_table("legal_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legal_status_changes_admission_id"), ["admission_id"], unique=False
        )

    op.create_table(
        "purpose_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("still_needed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "length(trim(note)) > 0", name=op.f("ck_purpose_reviews_note_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_purpose_reviews_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_purpose_reviews_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purpose_reviews")),
    )
    with op.batch_alter_table("purpose_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purpose_reviews_admission_id"), ["admission_id"], unique=False
        )

    op.create_table(
        "user_wards",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_wards_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_user_wards_ward_id_wards")
        ),
        sa.PrimaryKeyConstraint("user_id", "ward_id", name=op.f("pk_user_wards")),
    )
    op.create_table(
        "ward_stays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("bed_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transfer_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_ward_stays_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admissions.id"], name=op.f("fk_ward_stays_admission_id_admissions")
        ),
        sa.ForeignKeyConstraint(["bed_id"], ["beds.id"], name=op.f("fk_ward_stays_bed_id_beds")),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_ward_stays_ward_id_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ward_stays")),
    )
    with op.batch_alter_table("ward_stays", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ward_stays_admission_id"), ["admission_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ward_stays_bed_id"), ["bed_id"], unique=False)
        batch_op.create_index("ix_ward_stays_ward_open", ["ward_id", "ended_at"], unique=False)
        batch_op.create_index(
            "uq_ward_stays_one_open_per_admission",
            ["admission_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.create_index(
            "uq_ward_stays_one_open_per_bed",
            ["bed_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()

    with op.batch_alter_table("ward_stays", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ward_stays_one_open_per_bed",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_ward_stays_one_open_per_admission",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_ward_stays_ward_open")
        batch_op.drop_index(batch_op.f("ix_ward_stays_bed_id"))
        batch_op.drop_index(batch_op.f("ix_ward_stays_admission_id"))

    op.drop_table("ward_stays")
    op.drop_table("user_wards")
    with op.batch_alter_table("purpose_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purpose_reviews_admission_id"))

    op.drop_table("purpose_reviews")
    with op.batch_alter_table("legal_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_status_changes_admission_id"))

    op.drop_table("legal_status_changes")
    with op.batch_alter_table("beds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beds_ward_id"))

    op.drop_table("beds")
    with op.batch_alter_table("wards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wards_site_id"))

    op.drop_table("wards")
    with op.batch_alter_table("admissions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_admissions_one_open_per_patient",
            sqlite_where=sa.text("discharged_at IS NULL"),
            postgresql_where=sa.text("discharged_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_admissions_patient_id"))
        batch_op.drop_index(batch_op.f("ix_admissions_discharged_at"))

    op.drop_table("admissions")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))

    op.drop_table("user_sessions")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_locality_id"))

    op.drop_table("sites")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_home_locality_id"))

    op.drop_table("patients")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("localities")
