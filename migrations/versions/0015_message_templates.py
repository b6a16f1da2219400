"""public message templates: ready texts staff pick (and may edit) when they change a report's status

Revision ID: 0015_message_templates
Revises: 0014_retention
Create Date: 2026-12-06

One row per template: the status it is for, optionally one category (null: every category), a short
title and the message in Dutch and English (JSONB, like category names). Few rows per jurisdiction; the
index serves "the templates for this status".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015_message_templates"
down_revision: str | None = "0014_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "public_message_templates",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("title", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("message", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'scheduled', 'in_progress', 'on_hold', 'resolved', 'closed', 'reopened')",
            name=op.f("ck_public_message_templates_status"),
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_public_message_templates_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["categories.id"],
            name=op.f("fk_public_message_templates_category_id_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_message_templates")),
    )
    op.create_index(
        "ix_public_message_templates_jurisdiction_status",
        "public_message_templates",
        ["jurisdiction_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_public_message_templates_jurisdiction_status", table_name="public_message_templates")
    op.drop_table("public_message_templates")
