"""merge the branches of Open311 keys, participation, notifications and report indexes

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
Create Date: 2026-11-24

The four revisions were written side by side on top of the foundation; none depends on another.
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | tuple[str, ...] | None = ("0002", "0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
