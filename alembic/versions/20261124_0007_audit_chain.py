"""audit log hash chain: seq and hash on each entry, the seals, a trigger that allows sealing only

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 21:00:00.000000

Entries already in the log stay unsealed until the first seal (the scheduler's next tick,
or `wardflow audit verify`), which chains them all in id order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column but seq and hash: what a seal must leave as it was.
_KEPT = ("id", "at", "user_id", "username", "action", "entity_type", "entity_id")

# 0001's triggers refuse any UPDATE or DELETE of audit_log. They become: no DELETE, and an
# UPDATE only when it seals an unsealed entry (seq and hash from NULL to set) and changes
# nothing else. audit_seals is append-only outright.
SQLITE_SEAL_ONLY = (
    "CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON audit_log\n"
    "WHEN NOT (OLD.seq IS NULL AND OLD.hash IS NULL"
    " AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL"
    + "".join(f" AND NEW.{c} IS OLD.{c}" for c in (*_KEPT, "before", "after"))
    + ")\nBEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)
SQLITE_UP = [
    "DROP TRIGGER IF EXISTS trg_audit_log_no_update",
    SQLITE_SEAL_ONLY,
    """CREATE TRIGGER trg_audit_seals_no_update BEFORE UPDATE ON audit_seals
    BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END""",
    """CREATE TRIGGER trg_audit_seals_no_delete BEFORE DELETE ON audit_seals
    BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END""",
]
# Before the columns go (SQLite's batch mode copies the table, and its triggers with it go).
SQLITE_DOWN_FIRST = [
    "DROP TRIGGER IF EXISTS trg_audit_seals_no_update",
    "DROP TRIGGER IF EXISTS trg_audit_seals_no_delete",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_update",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_delete",
]
SQLITE_DOWN_AFTER = [
    """CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER trg_audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]

_PG_OLD = ", ".join([*(f"OLD.{c}" for c in _KEPT), "OLD.before::text", "OLD.after::text"])
_PG_NEW = ", ".join([*(f"NEW.{c}" for c in _KEPT), "NEW.before::text", "NEW.after::text"])
POSTGRES_UP = [
    f"""CREATE FUNCTION wardflow_audit_log_seal_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash IS NULL
                AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
                AND ROW({_PG_NEW}) IS NOT DISTINCT FROM ROW({_PG_OLD}) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '23514';
    END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log",
    """CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION wardflow_audit_log_seal_only()""",
    """CREATE TRIGGER trg_audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION wardflow_append_only()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS trg_audit_seals_append_only ON audit_seals",
    "DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log",
    "DROP FUNCTION IF EXISTS wardflow_audit_log_seal_only()",
    """CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION wardflow_append_only()""",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("last_seq", name=op.f("uq_audit_seals_last_seq")),
    )
    # Plain ALTER TABLE ADD COLUMN on both databases: the table (and its triggers) stay.
    op.add_column("audit_log", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(length=64), nullable=True))
    op.create_index("uq_audit_log_seq", "audit_log", ["seq"], unique=True)
    op.create_index(
        "ix_audit_log_unsealed",
        "audit_log",
        ["id"],
        unique=False,
        sqlite_where=sa.text("seq IS NULL"),
        postgresql_where=sa.text("seq IS NULL"),
    )
    for statement in SQLITE_UP if sqlite else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in SQLITE_DOWN_FIRST:
            op.execute(statement)
    else:
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    op.drop_index("ix_audit_log_unsealed", table_name="audit_log")
    op.drop_index("uq_audit_log_seq", table_name="audit_log")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("seq")
    op.drop_table("audit_seals")
    if sqlite:
        for statement in SQLITE_DOWN_AFTER:
            op.execute(statement)
