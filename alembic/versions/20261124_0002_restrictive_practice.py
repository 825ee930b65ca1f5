# ruff: noqa: S608 -- trigger DDL is built from the fixed table lists below, never from input
"""restrictive practice

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:45:01.244960
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The invariants that span tables are triggers, on both databases, so no code path (or
# hand-written SQL) can break them: every review, observation and episode falls inside
# what it belongs to; an episode cannot end before what was recorded in it; a discharge
# is refused while seclusion or segregation is open; and clinical records are never
# deleted (use-of-force records must be kept at least 3 years; we keep everything).

# (child table, its time column, parent table, foreign key, parent start, parent end, name)
WITHIN = [
    (
        "seclusion_reviews",
        "at",
        "seclusions",
        "seclusion_id",
        "started_at",
        "ended_at",
        "review_outside_episode",
    ),
    (
        "seclusion_observations",
        "at",
        "seclusions",
        "seclusion_id",
        "started_at",
        "ended_at",
        "observation_outside_episode",
    ),
    (
        "segregation_reviews",
        "at",
        "segregations",
        "segregation_id",
        "started_at",
        "ended_at",
        "review_outside_episode",
    ),
    (
        "seclusions",
        "started_at",
        "admissions",
        "admission_id",
        "admitted_at",
        "discharged_at",
        "episode_outside_admission",
    ),
    (
        "segregations",
        "started_at",
        "admissions",
        "admission_id",
        "admitted_at",
        "discharged_at",
        "episode_outside_admission",
    ),
    (
        "restrictive_interventions",
        "started_at",
        "admissions",
        "admission_id",
        "admitted_at",
        "discharged_at",
        "episode_outside_admission",
    ),
]
NEVER_DELETED = [
    "seclusions",
    "seclusion_reviews",
    "seclusion_observations",
    "segregations",
    "segregation_reviews",
    "restrictive_interventions",
    "intervention_types",
    "intervention_staff",
    "intervention_versions",
]
RESTRICTIONS = ["seclusions", "segregations"]


def _outside(child_time: str, start: str, end: str) -> str:
    return f"(NEW.{child_time} < p.{start} OR (p.{end} IS NOT NULL AND NEW.{child_time} > p.{end}))"


def _sqlite_statements() -> list[str]:
    statements = []
    for child, time, parent, fk, start, end, name in WITHIN:
        for event in ("INSERT", f"UPDATE OF {time}, {fk}"):
            suffix = "ins" if event == "INSERT" else "upd"
            statements.append(
                f"""CREATE TRIGGER trg_{child}_within_{suffix} BEFORE {event} ON {child}
                WHEN EXISTS (SELECT 1 FROM {parent} p WHERE p.id = NEW.{fk}
                    AND {_outside(time, start, end)})
                BEGIN SELECT RAISE(ABORT, '{name}: {child}.{time} outside its {parent} row');
                END"""
            )
        statements.append(
            f"""CREATE TRIGGER trg_{parent}_{end}_after_{child} BEFORE UPDATE OF {end} ON {parent}
            WHEN NEW.{end} IS NOT NULL AND EXISTS (
                SELECT 1 FROM {child} c WHERE c.{fk} = NEW.id AND c.{time} > NEW.{end})
            BEGIN SELECT RAISE(ABORT, 'record_after_end: {child} recorded after the new end');
            END"""
        )
    for table in RESTRICTIONS:
        statements.append(
            f"""CREATE TRIGGER trg_admissions_discharge_{table} BEFORE UPDATE OF discharged_at
            ON admissions
            WHEN NEW.discharged_at IS NOT NULL AND EXISTS (
                SELECT 1 FROM {table} e WHERE e.admission_id = NEW.id
                AND (e.ended_at IS NULL OR e.ended_at > NEW.discharged_at))
            BEGIN SELECT RAISE(ABORT, 'discharge_while_restricted: {table} open at discharge');
            END"""
        )
    for table in NEVER_DELETED:
        statements.append(
            f"""CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, 'never_deleted: {table} rows are never deleted'); END"""
        )
    statements.append(
        """CREATE TRIGGER trg_intervention_versions_no_update BEFORE UPDATE
        ON intervention_versions
        BEGIN SELECT RAISE(ABORT, 'never_deleted: intervention_versions is append-only'); END"""
    )
    return statements


def _sqlite_drops() -> list[str]:
    names = []
    for child, _time, parent, _fk, _start, end, _name in WITHIN:
        names += [f"trg_{child}_within_ins", f"trg_{child}_within_upd"]
        names.append(f"trg_{parent}_{end}_after_{child}")
    names += [f"trg_admissions_discharge_{t}" for t in RESTRICTIONS]
    names += [f"trg_{t}_no_delete" for t in NEVER_DELETED]
    names.append("trg_intervention_versions_no_update")
    return [f"DROP TRIGGER IF EXISTS {n}" for n in names]


def _pg_raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = '23514';"


def _postgres_statements() -> list[str]:
    statements = []
    for child, time, parent, fk, start, end, name in WITHIN:
        statements += [
            f"""CREATE FUNCTION wardflow_{child}_within() RETURNS trigger AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM {parent} p WHERE p.id = NEW.{fk}
                        AND {_outside(time, start, end)}) THEN
                    {_pg_raise(f"{name}: {child}.{time} outside its {parent} row")}
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER trg_{child}_within BEFORE INSERT OR UPDATE OF {time}, {fk}
            ON {child} FOR EACH ROW EXECUTE FUNCTION wardflow_{child}_within()""",
            f"""CREATE FUNCTION wardflow_{parent}_{end}_after_{child}() RETURNS trigger AS $$
            BEGIN
                IF NEW.{end} IS NOT NULL AND EXISTS (
                        SELECT 1 FROM {child} c WHERE c.{fk} = NEW.id AND c.{time} > NEW.{end})
                THEN
                    {_pg_raise(f"record_after_end: {child} recorded after the new end")}
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER trg_{parent}_{end}_after_{child} BEFORE UPDATE OF {end}
            ON {parent} FOR EACH ROW
            EXECUTE FUNCTION wardflow_{parent}_{end}_after_{child}()""",
        ]
    for table in RESTRICTIONS:
        statements += [
            f"""CREATE FUNCTION wardflow_admissions_discharge_{table}() RETURNS trigger AS $$
            BEGIN
                IF NEW.discharged_at IS NOT NULL AND EXISTS (
                        SELECT 1 FROM {table} e WHERE e.admission_id = NEW.id
                        AND (e.ended_at IS NULL OR e.ended_at > NEW.discharged_at)) THEN
                    {_pg_raise(f"discharge_while_restricted: {table} open at discharge")}
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql""",
            f"""CREATE TRIGGER trg_admissions_discharge_{table} BEFORE UPDATE OF discharged_at
            ON admissions FOR EACH ROW
            EXECUTE FUNCTION wardflow_admissions_discharge_{table}()""",
        ]
    statements.append(
        """CREATE FUNCTION wardflow_never_deleted() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'never_deleted: % rows are never deleted', TG_TABLE_NAME
                USING ERRCODE = '23514';
        END $$ LANGUAGE plpgsql"""
    )
    for table in NEVER_DELETED:
        statements.append(
            f"""CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION wardflow_never_deleted()"""
        )
    statements.append(
        """CREATE TRIGGER trg_intervention_versions_no_update BEFORE UPDATE
        ON intervention_versions FOR EACH ROW EXECUTE FUNCTION wardflow_never_deleted()"""
    )
    return statements


def _postgres_drops() -> list[str]:
    drops = []
    for table in [*NEVER_DELETED, "intervention_versions_no_update"]:
        if table == "intervention_versions_no_update":
            drops.append(f"DROP TRIGGER IF EXISTS trg_{table} ON intervention_versions")
        else:
            drops.append(f"DROP TRIGGER IF EXISTS trg_{table}_no_delete ON {table}")
    drops.append("DROP FUNCTION IF EXISTS wardflow_never_deleted()")
    for table in RESTRICTIONS:
        drops += [
            f"DROP TRIGGER IF EXISTS trg_admissions_discharge_{table} ON admissions",
            f"DROP FUNCTION IF EXISTS wardflow_admissions_discharge_{table}()",
        ]
    for child, _time, parent, _fk, _start, end, _name in WITHIN:
        drops += [
            f"DROP TRIGGER IF EXISTS trg_{child}_within ON {child}",
            f"DROP FUNCTION IF EXISTS wardflow_{child}_within()",
            f"DROP TRIGGER IF EXISTS trg_{parent}_{end}_after_{child} ON {parent}",
            f"DROP FUNCTION IF EXISTS wardflow_{parent}_{end}_after_{child}()",
        ]
    return drops


def _run(sqlite: list[str], postgres: list[str]) -> None:
    for statement in sqlite if op.get_bind().dialect.name == "sqlite" else postgres:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "restrictive_interventions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason_code", sa.String(length=2), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("in_care_plan", sa.Boolean(), nullable=True),
        sa.Column("non_unit_staff_reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("avoidance_efforts", sa.Text(), nullable=True),
        sa.Column("patient_injury", sa.Boolean(), nullable=True),
        sa.Column("staff_injury", sa.Boolean(), nullable=True),
        sa.Column("care_plan_notification_sent", sa.Boolean(), nullable=True),
        sa.Column("debriefed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "reason_code IS NULL OR reason_code IN ('10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '98', '99')",
            name=op.f("ck_restrictive_interventions_reason_code"),
        ),
        sa.CheckConstraint(
            "debriefed_at IS NULL OR debriefed_at >= started_at",
            name=op.f("ck_restrictive_interventions_debrief_after"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_restrictive_interventions_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_restrictive_interventions_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_restrictive_interventions_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_id"], ["wards.id"], name=op.f("fk_restrictive_interventions_ward_id_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_restrictive_interventions")),
    )
    with op.batch_alter_table("restrictive_interventions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_restrictive_interventions_admission_id"), ["admission_id"], unique=False
        )
        batch_op.create_index(
            "ix_restrictive_interventions_started_at", ["started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_restrictive_interventions_ward_id"), ["ward_id"], unique=False
        )

    op.create_table(
        "seclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("authorised_by_role", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("end_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "authorised_by_role IN ('psychiatrist', 'approved_clinician', 'nurse_in_charge')",
            name=op.f("ck_seclusions_authorised_by_role"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_seclusions_ends_after_start"),
        ),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_seclusions_reason_not_blank")),
        sa.ForeignKeyConstraint(
            ["admission_id"], ["admissions.id"], name=op.f("fk_seclusions_admission_id_admissions")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_seclusions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["users.id"], name=op.f("fk_seclusions_ended_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seclusions")),
    )
    with op.batch_alter_table("seclusions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seclusions_admission_id"), ["admission_id"], unique=False
        )
        batch_op.create_index("ix_seclusions_open", ["ended_at"], unique=False)
        batch_op.create_index(
            "uq_seclusions_one_open_per_admission",
            ["admission_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "intervention_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "length(trim(job_title)) > 0", name=op.f("ck_intervention_staff_job_title_not_blank")
        ),
        sa.CheckConstraint(
            "length(trim(name)) > 0", name=op.f("ck_intervention_staff_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["restrictive_interventions.id"],
            name=op.f("fk_intervention_staff_intervention_id_restrictive_interventions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_staff")),
    )
    with op.batch_alter_table("intervention_staff", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intervention_staff_current", ["intervention_id", "retired_at"], unique=False
        )

    op.create_table(
        "intervention_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("type_code", sa.String(length=2), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "type_code IN ('01', '04', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17')",
            name=op.f("ck_intervention_types_type_code"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_intervention_types_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["restrictive_interventions.id"],
            name=op.f("fk_intervention_types_intervention_id_restrictive_interventions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_types")),
    )
    with op.batch_alter_table("intervention_types", schema=None) as batch_op:
        batch_op.create_index("ix_intervention_types_code", ["type_code"], unique=False)
        batch_op.create_index(
            "ix_intervention_types_current", ["intervention_id", "retired_at"], unique=False
        )

    op.create_table(
        "intervention_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["intervention_id"],
            ["restrictive_interventions.id"],
            name=op.f("fk_intervention_versions_intervention_id_restrictive_interventions"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_intervention_versions_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_versions")),
        sa.UniqueConstraint("intervention_id", "version", name="uq_intervention_versions_version"),
    )
    op.create_table(
        "seclusion_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seclusion_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "length(trim(note)) > 0", name=op.f("ck_seclusion_observations_note_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_seclusion_observations_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["seclusion_id"],
            ["seclusions.id"],
            name=op.f("fk_seclusion_observations_seclusion_id_seclusions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seclusion_observations")),
    )
    with op.batch_alter_table("seclusion_observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seclusion_observations_seclusion_at", ["seclusion_id", "at"], unique=False
        )

    op.create_table(
        "seclusion_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seclusion_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('medical', 'nursing', 'mdt', 'independent_mdt')",
            name=op.f("ck_seclusion_reviews_kind"),
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('continue', 'end')",
            name=op.f("ck_seclusion_reviews_outcome"),
        ),
        sa.CheckConstraint(
            "length(trim(note)) > 0", name=op.f("ck_seclusion_reviews_note_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_seclusion_reviews_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["seclusion_id"],
            ["seclusions.id"],
            name=op.f("fk_seclusion_reviews_seclusion_id_seclusions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seclusion_reviews")),
    )
    with op.batch_alter_table("seclusion_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_seclusion_reviews_seclusion_at", ["seclusion_id", "at"], unique=False
        )

    op.create_table(
        "segregations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("end_note", sa.Text(), nullable=True),
        sa.Column("commissioner_informed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imha_informed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("from_seclusion_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "commissioner_informed_at IS NULL OR commissioner_informed_at >= started_at",
            name=op.f("ck_segregations_commissioner_after_start"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_segregations_ends_after_start"),
        ),
        sa.CheckConstraint(
            "imha_informed_at IS NULL OR imha_informed_at >= started_at",
            name=op.f("ck_segregations_imha_after_start"),
        ),
        sa.CheckConstraint(
            "length(trim(reason)) > 0", name=op.f("ck_segregations_reason_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_segregations_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_segregations_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["users.id"], name=op.f("fk_segregations_ended_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["from_seclusion_id"],
            ["seclusions.id"],
            name=op.f("fk_segregations_from_seclusion_id_seclusions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segregations")),
    )
    with op.batch_alter_table("segregations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_segregations_admission_id"), ["admission_id"], unique=False
        )
        batch_op.create_index("ix_segregations_open", ["ended_at"], unique=False)
        batch_op.create_index(
            "uq_segregations_one_open_per_admission",
            ["admission_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "segregation_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segregation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('approved_clinician', 'mdt', 'external', 'icetr')",
            name=op.f("ck_segregation_reviews_kind"),
        ),
        sa.CheckConstraint(
            "length(trim(note)) > 0", name=op.f("ck_segregation_reviews_note_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_segregation_reviews_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["segregation_id"],
            ["segregations.id"],
            name=op.f("fk_segregation_reviews_segregation_id_segregations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segregation_reviews")),
    )
    with op.batch_alter_table("segregation_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_segregation_reviews_segregation_at", ["segregation_id", "at"], unique=False
        )

    _run(_sqlite_statements(), _postgres_statements())


def downgrade() -> None:
    _run(_sqlite_drops(), _postgres_drops())
    with op.batch_alter_table("segregation_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_segregation_reviews_segregation_at")

    op.drop_table("segregation_reviews")
    with op.batch_alter_table("segregations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_segregations_one_open_per_admission",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_segregations_open")
        batch_op.drop_index(batch_op.f("ix_segregations_admission_id"))

    op.drop_table("segregations")
    with op.batch_alter_table("seclusion_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_seclusion_reviews_seclusion_at")

    op.drop_table("seclusion_reviews")
    with op.batch_alter_table("seclusion_observations", schema=None) as batch_op:
        batch_op.drop_index("ix_seclusion_observations_seclusion_at")

    op.drop_table("seclusion_observations")
    op.drop_table("intervention_versions")
    with op.batch_alter_table("intervention_types", schema=None) as batch_op:
        batch_op.drop_index("ix_intervention_types_current")
        batch_op.drop_index("ix_intervention_types_code")

    op.drop_table("intervention_types")
    with op.batch_alter_table("intervention_staff", schema=None) as batch_op:
        batch_op.drop_index("ix_intervention_staff_current")

    op.drop_table("intervention_staff")
    with op.batch_alter_table("seclusions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_seclusions_one_open_per_admission",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_seclusions_open")
        batch_op.drop_index(batch_op.f("ix_seclusions_admission_id"))

    op.drop_table("seclusions")
    with op.batch_alter_table("restrictive_interventions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_restrictive_interventions_ward_id"))
        batch_op.drop_index("ix_restrictive_interventions_started_at")
        batch_op.drop_index(batch_op.f("ix_restrictive_interventions_admission_id"))

    op.drop_table("restrictive_interventions")
