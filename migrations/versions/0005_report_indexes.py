"""report indexes measured at a million rows: open reports near a point, merged reports

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-24

- ``ix_reports_open_location_geography``: the duplicate check asks only for open, unmerged reports;
  on Dam square at 1M rows the full geography index plus a status filter took 11.8 ms, this partial
  index 0.25 ms (docs/benchmarks.md).
- ``ix_reports_merged_into_id``: ``ON DELETE SET NULL`` of ``merged_into_id`` scanned every report for
  each deleted one (over a minute for 2,000 deletions at 1M rows).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "('accepted', 'in_progress', 'on_hold', 'reopened', 'scheduled', 'submitted')"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_reports_open_location_geography ON reports USING gist ((location::geography))"
        f" WHERE merged_into_id IS NULL AND status IN {OPEN}"
    )
    op.execute(
        "CREATE INDEX ix_reports_merged_into_id ON reports (merged_into_id) WHERE merged_into_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_reports_merged_into_id")
    op.execute("DROP INDEX ix_reports_open_location_geography")
