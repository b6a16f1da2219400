"""paper ballots: the election officer role, a register per round, an audit trail of entries

Revision ID: 0010_paper_ballots
Revises: 0009_encrypted_ballots
Create Date: 2026-12-06

Any field staff member could enter paper ballots with invented references, each counted as a new voter
(issue 12, item 6). Now only an ``election_officer`` grant may enter them; a reference must be on the
round's register (``paper_register_entries``, keyed hashes, put in by an administrator); every entry is
recorded (``paper_ballot_entries``: who, when, by code or register).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_paper_ballots"
down_revision: str | None = "0009_encrypted_ballots"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_role_grants_role"), "role_grants", type_="check")
    op.create_check_constraint(
        op.f("ck_role_grants_role"),
        "role_grants",
        "role IN ('council_member', 'field_staff', 'election_officer', 'admin')",
    )
    op.create_table(
        "paper_register_entries",
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("voter_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("added_by_account_id", sa.BigInteger(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_paper_register_entries_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["added_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_paper_register_entries_added_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("round_id", "voter_key", name=op.f("pk_paper_register_entries")),
    )
    op.create_table(
        "paper_ballot_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("entered_by_account_id", sa.BigInteger(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.CheckConstraint("via IN ('code', 'register')", name=op.f("ck_paper_ballot_entries_via")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_paper_ballot_entries_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_paper_ballot_entries_entered_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_ballot_entries")),
    )
    op.create_index(
        op.f("ix_paper_ballot_entries_round_id"), "paper_ballot_entries", ["round_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_ballot_entries_round_id"), table_name="paper_ballot_entries")
    op.drop_table("paper_ballot_entries")
    op.drop_table("paper_register_entries")
    op.execute("DELETE FROM role_grants WHERE role = 'election_officer'")
    op.drop_constraint(op.f("ck_role_grants_role"), "role_grants", type_="check")
    op.create_check_constraint(
        op.f("ck_role_grants_role"), "role_grants", "role IN ('council_member', 'field_staff', 'admin')"
    )
