# ruff: noqa: S608 -- trigger DDL is built from the fixed table lists below, never from input
"""bed flow: bed requests, out-of-area placements and their reviews, ready for discharge

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 18:22:40.058669
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# As in 0002, the invariants that span tables are triggers on both databases: a review
# falls inside its placement, a ready-for-discharge period inside its admission (so a
# discharge cannot leave one open or ending later), and nothing here is ever deleted.
# (child table, its time column, parent table, foreign key, parent start, parent end)
WITHIN = [
    (
        "out_of_area_reviews",
        "at",
        "out_of_area_placements",
        "placement_id",
        "started_at",
        "ended_at",
    ),
    (
        "ready_for_discharge",
        "started_at",
        "admissions",
        "admission_id",
        "admitted_at",
        "discharged_at",
    ),
    (
        "ready_for_discharge",
        "ended_at",
        "admissions",
        "admission_id",
        "admitted_at",
        "discharged_at",
    ),
]
NEVER_DELETED = [
    "bed_requests",
    "out_of_area_placements",
    "out_of_area_reviews",
    "ready_for_discharge",
]


def _outside(time: str, start: str, end: str) -> str:
    return (
        f"NEW.{time} IS NOT NULL AND (NEW.{time} < p.{start}"
        f" OR (p.{end} IS NOT NULL AND NEW.{time} > p.{end}))"
    )


def _sqlite_statements() -> list[str]:
    statements = []
    for child, time, parent, fk, start, end in WITHIN:
        for event in ("INSERT", f"UPDATE OF {time}, {fk}"):
            suffix = "ins" if event == "INSERT" else "upd"
            statements.append(
                f"""CREATE TRIGGER trg_{child}_{time}_within_{suffix} BEFORE {event} ON {child}
                WHEN EXISTS (SELECT 1 FROM {parent} p WHERE p.id = NEW.{fk}
                    AND {_outside(time, start, end)})
                BEGIN SELECT RAISE(ABORT, 'outside_parent: {child}.{time} outside its {parent} row');
                END"""
            )
    statements += [
        """CREATE TRIGGER trg_out_of_area_placements_ended_after_reviews BEFORE UPDATE OF ended_at
        ON out_of_area_placements
        WHEN NEW.ended_at IS NOT NULL AND EXISTS (SELECT 1 FROM out_of_area_reviews c
            WHERE c.placement_id = NEW.id AND c.at > NEW.ended_at)
        BEGIN SELECT RAISE(ABORT, 'record_after_end: a review after the placement ended'); END""",
        """CREATE TRIGGER trg_admissions_discharge_ready_for_discharge BEFORE UPDATE OF
        discharged_at ON admissions
        WHEN NEW.discharged_at IS NOT NULL AND EXISTS (SELECT 1 FROM ready_for_discharge r
            WHERE r.admission_id = NEW.id
            AND (r.ended_at IS NULL OR r.ended_at > NEW.discharged_at))
        BEGIN SELECT RAISE(ABORT, 'ready_for_discharge_open: end the period at discharge'); END""",
    ]
    for table in NEVER_DELETED:
        statements.append(
            f"""CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, 'never_deleted: {table} rows are never deleted'); END"""
        )
    return statements


def _sqlite_drops() -> list[str]:
    names = [
        f"trg_{child}_{time}_within_{suffix}"
        for child, time, *_ in WITHIN
        for suffix in ("ins", "upd")
    ]
    names += [
        "trg_out_of_area_placements_ended_after_reviews",
        "trg_admissions_discharge_ready_for_discharge",
    ]
    names += [f"trg_{t}_no_delete" for t in NEVER_DELETED]
    return [f"DROP TRIGGER IF EXISTS {n}" for n in names]


def _pg_function(name: str, condition: str, message: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger AS $$
        BEGIN
            IF {condition} THEN
                RAISE EXCEPTION '{message}' USING ERRCODE = '23514';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql"""


def _postgres_statements() -> list[str]:
    statements = []
    for child, time, parent, fk, start, end in WITHIN:
        name = f"wardflow_{child}_{time}_within"
        statements += [
            _pg_function(
                name,
                f"EXISTS (SELECT 1 FROM {parent} p WHERE p.id = NEW.{fk}"
                f" AND {_outside(time, start, end)})",
                f"outside_parent: {child}.{time} outside its {parent} row",
            ),
            f"""CREATE TRIGGER trg_{child}_{time}_within BEFORE INSERT OR UPDATE OF {time}, {fk}
            ON {child} FOR EACH ROW EXECUTE FUNCTION {name}()""",
        ]
    statements += [
        _pg_function(
            "wardflow_out_of_area_placements_ended_after_reviews",
            "NEW.ended_at IS NOT NULL AND EXISTS (SELECT 1 FROM out_of_area_reviews c"
            " WHERE c.placement_id = NEW.id AND c.at > NEW.ended_at)",
            "record_after_end: a review after the placement ended",
        ),
        """CREATE TRIGGER trg_out_of_area_placements_ended_after_reviews BEFORE UPDATE OF
        ended_at ON out_of_area_placements FOR EACH ROW
        EXECUTE FUNCTION wardflow_out_of_area_placements_ended_after_reviews()""",
        _pg_function(
            "wardflow_admissions_discharge_ready_for_discharge",
            "NEW.discharged_at IS NOT NULL AND EXISTS (SELECT 1 FROM ready_for_discharge r"
            " WHERE r.admission_id = NEW.id"
            " AND (r.ended_at IS NULL OR r.ended_at > NEW.discharged_at))",
            "ready_for_discharge_open: end the period at discharge",
        ),
        """CREATE TRIGGER trg_admissions_discharge_ready_for_discharge BEFORE UPDATE OF
        discharged_at ON admissions FOR EACH ROW
        EXECUTE FUNCTION wardflow_admissions_discharge_ready_for_discharge()""",
    ]
    # wardflow_never_deleted() comes from 0002.
    for table in NEVER_DELETED:
        statements.append(
            f"""CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION wardflow_never_deleted()"""
        )
    return statements


def _postgres_drops() -> list[str]:
    drops = [f"DROP TRIGGER IF EXISTS trg_{t}_no_delete ON {t}" for t in NEVER_DELETED]
    drops += [
        "DROP TRIGGER IF EXISTS trg_admissions_discharge_ready_for_discharge ON admissions",
        "DROP FUNCTION IF EXISTS wardflow_admissions_discharge_ready_for_discharge()",
        "DROP TRIGGER IF EXISTS trg_out_of_area_placements_ended_after_reviews"
        " ON out_of_area_placements",
        "DROP FUNCTION IF EXISTS wardflow_out_of_area_placements_ended_after_reviews()",
    ]
    for child, time, *_ in WITHIN:
        drops += [
            f"DROP TRIGGER IF EXISTS trg_{child}_{time}_within ON {child}",
            f"DROP FUNCTION IF EXISTS wardflow_{child}_{time}_within()",
        ]
    return drops


def _run(sqlite: list[str], postgres: list[str]) -> None:
    for statement in sqlite if op.get_bind().dialect.name == "sqlite" else postgres:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "bed_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("decision_to_admit_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ward_type", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("closed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("admission_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(status = 'admitted') = (admission_id IS NOT NULL)",
            name=op.f("ck_bed_requests_admitted_has_admission"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (closed_at IS NULL)",
            name=op.f("ck_bed_requests_closed_when_not_open"),
        ),
        sa.CheckConstraint(
            "status <> 'cancelled' OR length(trim(coalesce(cancel_reason, ''))) > 0",
            name=op.f("ck_bed_requests_cancel_reason_given"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'admitted', 'placed_out_of_area', 'cancelled')",
            name=op.f("ck_bed_requests_status"),
        ),
        sa.CheckConstraint(
            "ward_type IN ('adult_acute', 'older_adult_acute', 'picu', 'camhs', 'ld_autism', 'rehabilitation', 'forensic')",
            name=op.f("ck_bed_requests_ward_type"),
        ),
        sa.CheckConstraint(
            "closed_at IS NULL OR closed_at >= decision_to_admit_at",
            name=op.f("ck_bed_requests_closes_after_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_bed_requests_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_bed_requests_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_bed_requests_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_requests")),
    )
    with op.batch_alter_table("bed_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bed_requests_admission_id"), ["admission_id"], unique=True
        )
        batch_op.create_index(
            "ix_bed_requests_open", ["status", "decision_to_admit_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bed_requests_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "uq_bed_requests_one_open_per_patient",
            ["patient_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "ready_for_discharge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admission_id", sa.Integer(), nullable=False),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason_code", sa.String(length=2), nullable=False),
        sa.Column("attributable_to", sa.String(length=16), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "attributable_to IN ('nhs', 'social_care', 'both')",
            name=op.f("ck_ready_for_discharge_attributable_to"),
        ),
        sa.CheckConstraint(
            "reason_code IN ('01', '02', '03', '35', '37', '04', '12', '13', '05', '07', '08', '09', '10', '32', '33', '34', '36', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '29', '30', '06', '24', '25', '26', '27', '28', '31', '11', '98')",
            name=op.f("ck_ready_for_discharge_reason_code"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_ready_for_discharge_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["admission_id"],
            ["admissions.id"],
            name=op.f("fk_ready_for_discharge_admission_id_admissions"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_ready_for_discharge_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ready_for_discharge")),
    )
    with op.batch_alter_table("ready_for_discharge", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ready_for_discharge_admission_id"), ["admission_id"], unique=False
        )
        batch_op.create_index(
            "ix_ready_for_discharge_open", ["ended_at", "started_at"], unique=False
        )
        batch_op.create_index(
            "uq_ready_for_discharge_one_open_per_admission",
            ["admission_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "out_of_area_placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("bed_request_id", sa.Integer(), nullable=True),
        sa.Column("provider_name", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=False),
        sa.Column("bed_type", sa.String(length=3), nullable=False),
        sa.Column("reason_code", sa.String(length=2), nullable=False),
        sa.Column("daily_cost", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("started_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "bed_type IN ('200', '201', '202')", name=op.f("ck_out_of_area_placements_bed_type")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('repatriated', 'discharged', 'other')",
            name=op.f("ck_out_of_area_placements_outcome"),
        ),
        sa.CheckConstraint(
            "reason_code IN ('10', '11', '12', '13', '14', '99')",
            name=op.f("ck_out_of_area_placements_reason_code"),
        ),
        sa.CheckConstraint(
            "(ended_at IS NULL) = (outcome IS NULL)",
            name=op.f("ck_out_of_area_placements_ended_has_outcome"),
        ),
        sa.CheckConstraint(
            "daily_cost IS NULL OR daily_cost >= 0",
            name=op.f("ck_out_of_area_placements_daily_cost_not_negative"),
        ),
        sa.CheckConstraint(
            "distance_km >= 0", name=op.f("ck_out_of_area_placements_distance_not_negative")
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_out_of_area_placements_ends_after_start"),
        ),
        sa.CheckConstraint(
            "latitude BETWEEN -90 AND 90", name=op.f("ck_out_of_area_placements_latitude_range")
        ),
        sa.CheckConstraint(
            "length(trim(provider_name)) > 0",
            name=op.f("ck_out_of_area_placements_provider_name_not_blank"),
        ),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_out_of_area_placements_longitude_range")
        ),
        sa.ForeignKeyConstraint(
            ["bed_request_id"],
            ["bed_requests.id"],
            name=op.f("fk_out_of_area_placements_bed_request_id_bed_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_out_of_area_placements_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_out_of_area_placements_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_out_of_area_placements")),
    )
    with op.batch_alter_table("out_of_area_placements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_out_of_area_placements_active", ["ended_at", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_out_of_area_placements_bed_request_id"), ["bed_request_id"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_out_of_area_placements_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            "uq_out_of_area_placements_one_active_per_patient",
            ["patient_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "out_of_area_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "length(trim(note)) > 0", name=op.f("ck_out_of_area_reviews_note_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["out_of_area_placements.id"],
            name=op.f("fk_out_of_area_reviews_placement_id_out_of_area_placements"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_out_of_area_reviews_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_out_of_area_reviews")),
    )
    with op.batch_alter_table("out_of_area_reviews", schema=None) as batch_op:
        batch_op.create_index(
            "ix_out_of_area_reviews_placement_at", ["placement_id", "at"], unique=False
        )

    _run(_sqlite_statements(), _postgres_statements())


def downgrade() -> None:
    _run(_sqlite_drops(), _postgres_drops())
    with op.batch_alter_table("out_of_area_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_out_of_area_reviews_placement_at")

    op.drop_table("out_of_area_reviews")
    with op.batch_alter_table("out_of_area_placements", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_out_of_area_placements_one_active_per_patient",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_out_of_area_placements_patient_id"))
        batch_op.drop_index(batch_op.f("ix_out_of_area_placements_bed_request_id"))
        batch_op.drop_index("ix_out_of_area_placements_active")

    op.drop_table("out_of_area_placements")
    with op.batch_alter_table("ready_for_discharge", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ready_for_discharge_one_open_per_admission",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_index("ix_ready_for_discharge_open")
        batch_op.drop_index(batch_op.f("ix_ready_for_discharge_admission_id"))

    op.drop_table("ready_for_discharge")
    with op.batch_alter_table("bed_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bed_requests_one_open_per_patient",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_bed_requests_patient_id"))
        batch_op.drop_index("ix_bed_requests_open")
        batch_op.drop_index(batch_op.f("ix_bed_requests_admission_id"))

    op.drop_table("bed_requests")
