"""ballots of an open round are stored encrypted (contents), in clear only after the seal

Revision ID: 0009_encrypted_ballots
Revises: 0008_my_reports
Create Date: 2026-12-06

The write-ahead log keeps each voter's participation next to the ballot written for it (issue 12, item 5;
docs/ballot-secrecy.md). From now on a cast writes ``contents`` (AES-GCM ciphertext under a key the
database never holds) and leaves ``projects``/``points`` empty; the close decrypts, shuffles and writes
them in clear. Rows already in the table (closed rounds, or a round voting during the upgrade) keep their
clear columns; the seal handles both. Downgrading is refused while an encrypted ballot exists (they
cannot be decrypted in SQL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_encrypted_ballots"
down_revision: str | None = "0008_my_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ballots", sa.Column("contents", sa.LargeBinary(), nullable=True))
    op.alter_column("ballots", "projects", nullable=True)
    op.create_check_constraint(
        op.f("ck_ballots_sealed_or_clear"), "ballots", "(contents IS NULL) <> (projects IS NULL)"
    )


def downgrade() -> None:
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM ballots WHERE contents IS NOT NULL) THEN"
        " RAISE EXCEPTION 'close the voting rounds first: encrypted ballots cannot be downgraded'; END IF; END $$"
    )
    op.drop_constraint(op.f("ck_ballots_sealed_or_clear"), "ballots", type_="check")
    op.alter_column("ballots", "projects", nullable=False)
    op.drop_column("ballots", "contents")
