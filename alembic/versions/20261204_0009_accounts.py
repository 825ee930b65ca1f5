"""accounts: the service role, named and ending API tokens, sign-in failures by address

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:40:00.000000

Issue 17, findings 5 to 8. Tokens get a name, an expiry and the address last used from.
Tokens already made get an expiry 90 days from now, except those held by roles that may no
longer make their own (anyone but an admin could mint one at /account/tokens, which never
ended): those are revoked, and an admin makes again any that an integration needs
(`wardflow users token NAME`). The demo accounts are marked while they keep the demo
password (start-up checks it again). Failed sign-ins are counted in their own table, by
client address, instead of locking the account.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = "role IN ('admin', 'ward_staff', 'bed_manager', 'safeguarding_lead', 'director')"
NEW_ROLES = (
    "role IN ('admin', 'ward_staff', 'bed_manager', 'safeguarding_lead', 'director', 'service')"
)
DEMO_USERNAMES = ("admin", "nurse", "bedmanager", "safeguarding", "director")


def upgrade() -> None:
    now = datetime.now(UTC)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", NEW_ROLES)
        batch_op.add_column(
            sa.Column("demo_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name", sa.String(length=64), server_default="API token", nullable=False)
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_client", sa.String(length=64), nullable=True))

    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("role", sa.String),
        sa.column("demo_password", sa.Boolean),
    )
    tokens = sa.table(
        "api_tokens",
        sa.column("user_id", sa.Integer),
        sa.column("expires_at", UTCDateTime()),
        sa.column("revoked_at", UTCDateTime()),
    )
    op.execute(
        tokens.update()
        .where(
            tokens.c.revoked_at.is_(None),
            tokens.c.user_id.in_(sa.select(users.c.id).where(users.c.role != "admin")),
        )
        .values(revoked_at=now)
    )
    op.execute(tokens.update().values(expires_at=now + timedelta(days=90)))
    # Start-up verifies these against the demo password and clears any that changed.
    op.execute(
        users.update().where(users.c.username.in_(DEMO_USERNAMES)).values(demo_password=True)
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )

    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index(
        "ix_sign_in_failures_address_at", "sign_in_failures", ["address", "at"], unique=False
    )
    op.create_index(op.f("ix_sign_in_failures_at"), "sign_in_failures", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_failures_at"), table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_address_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_client")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("name")
    # Service accounts cannot exist under the old constraint: they are disabled and given
    # the old constraint's least role (their rows stay, for the audit log's sake).
    op.execute(sa.text("UPDATE users SET role = 'director', active = false WHERE role = 'service'"))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("demo_password")
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", OLD_ROLES)
