"""drop ix_reports_location: 0002's covering GiST index on the same column serves every query it served

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Two GiST indexes on ``reports.location`` doubled the index work of every report insert; the covering
``ix_reports_location_listing`` answers the bbox and area predicates (and index-only map scans).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_reports_location")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_reports_location ON reports USING gist (location)")
