"""audit log hash chain (placeholder: filled in by the audit-integrity work)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 21:00:00.000000
"""

from collections.abc import Sequence

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
