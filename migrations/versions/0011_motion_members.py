"""council motions: the members are fixed when the motion opens

Revision ID: 0011_motion_members
Revises: 0010_paper_ballots
Create Date: 2026-12-06

Roll calls counted members granted after the motion opened, and votes of members revoked since (issue 12,
item 14). ``council_motion_members`` holds the area's council as it was at the opening. Motions opened
before this revision get the accounts that voted on them plus the area's current members (the best
record there is of who held a seat).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_motion_members"
down_revision: str | None = "0010_paper_ballots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "council_motion_members",
        sa.Column("motion_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["motion_id"],
            ["council_motions.id"],
            name=op.f("fk_council_motion_members_motion_id_council_motions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_council_motion_members_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("motion_id", "account_id", name=op.f("pk_council_motion_members")),
    )
    op.execute(
        "INSERT INTO council_motion_members (motion_id, account_id)"
        " SELECT m.id, g.account_id FROM council_motions m JOIN role_grants g"
        "   ON g.role = 'council_member' AND g.area_id = m.area_id WHERE m.status <> 'draft'"
        " UNION SELECT motion_id, account_id FROM council_motion_votes"
        " ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_table("council_motion_members")
