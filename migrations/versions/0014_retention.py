"""retention per jurisdiction: how long reporter contact data and photos of closed reports are kept

Revision ID: 0014_retention
Revises: 0013_account_links
Create Date: 2026-12-06

Issue 12, item 17 (the AVG/GDPR). ``NULL`` means the defaults of the settings
(``CIVICLOOP_CONTACT_RETENTION_DAYS``, ``CIVICLOOP_PHOTO_RETENTION_MONTHS``). The index finds the status
change that closed a report without a scan of the history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_retention"
down_revision: str | None = "0013_account_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jurisdictions", sa.Column("contact_retention_days", sa.Integer(), nullable=True))
    op.add_column("jurisdictions", sa.Column("photo_retention_months", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_jurisdictions_retention"),
        "jurisdictions",
        "(contact_retention_days IS NULL OR contact_retention_days >= 0)"
        " AND (photo_retention_months IS NULL OR photo_retention_months >= 0)",
    )
    op.add_column("reports", sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_report_status_changes_report_to_status",
        "report_status_changes",
        ["report_id", "to_status", sa.text("created_at DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_report_status_changes_report_to_status", table_name="report_status_changes")
    op.drop_column("reports", "anonymised_at")
    op.drop_constraint(op.f("ck_jurisdictions_retention"), "jurisdictions", type_="check")
    op.drop_column("jurisdictions", "photo_retention_months")
    op.drop_column("jurisdictions", "contact_retention_days")
