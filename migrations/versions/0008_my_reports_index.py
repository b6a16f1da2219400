"""index reports by their reporter: the app's "My reports" list

Revision ID: 0008_my_reports
Revises: 0007
Create Date: 2026-12-06

"My reports" lists the reports an account made (also those it stopped following), newest first.
Without an index that is a scan of the jurisdiction's reports; a partial btree on
(reporter_account_id, id DESC) answers it with one range scan and costs an insert little (anonymous
Open311 reports, with no reporter account, are not in it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_my_reports"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_reports_reporter ON reports (reporter_account_id, id DESC)"
        " WHERE reporter_account_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_reports_reporter")
