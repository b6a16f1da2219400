"""rate limit counters (fixed windows), shared by every process

Revision ID: 0012_rate_limits
Revises: 0011_motion_members
Create Date: 2026-12-06

Anonymous device registration, writes of anonymous devices, failed sign-ins and account mails are
limited per client address and per account (issue 12, items 9 and 10); ``core/throttle.py``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_rate_limits"
down_revision: str | None = "0011_motion_members"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_limit_counters")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
