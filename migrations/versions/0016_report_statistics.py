"""reports: extended statistics on columns that go together, so nearest-first plans stay bounded

Revision ID: 0016_report_statistics
Revises: 0015_message_templates
Create Date: 2026-12-07

The near-list and the work list walk the geography index in distance order and stop after a page
(``geo.queries.REPORT_NEAR_SQL``, ``WORKLIST_NEAR_SQL``). That is the fast plan when the other filters
let rows through, and the slow one when they let none through: the walk then reads every report in
reach. PostgreSQL picks between it and reading the filtered rows from their own index by its row
estimate, and it multiplies the selectivities of columns it takes for independent. Two pairs are not:

- ``(category_id, is_public)``: a report is public exactly when its category is (``geo.submission``),
  so a public list of a non-public category is empty, yet was estimated at thousands of rows (5 % in
  the category times 95 % public): a 4 s walk at 50 km over a million reports, 0.3-0.7 s with these.
- ``(department_id, category_id)``: a category belongs to one department, so a work list of a
  department filtered to another department's category is empty: 430 ms walked instead of 30-40 ms.

SQLAlchemy has no construct for ``CREATE STATISTICS``, so the model does not declare them (and
``alembic check`` does not compare them); ``geo/models.py`` says so beside the table's indexes. The
upgrade analyses the three columns so the statistics hold from the start (a sample: about a second
at a million rows).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_report_statistics"
down_revision: str | None = "0015_message_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE STATISTICS st_reports_category_public (mcv, dependencies) ON category_id, is_public FROM reports"
    )
    op.execute(
        "CREATE STATISTICS st_reports_department_category (mcv, dependencies)"
        " ON department_id, category_id FROM reports"
    )
    op.execute("ANALYZE reports (category_id, is_public, department_id)")


def downgrade() -> None:
    op.execute("DROP STATISTICS st_reports_department_category")
    op.execute("DROP STATISTICS st_reports_category_public")
