"""open311 and the map: API keys, Open311 provenance of reports, map cells, a Web Mercator index

Whatever the file name says, this revision creates the map's tables and indexes too (the second half
below): Open311 and the map were merged as one revision, and a revision that has run is never renamed.

Hand-reviewed. ``open311_api_keys`` holds only the SHA-256 of each key. ``open311_devices`` maps a client's
``device_id`` to the anonymous account its reports belong to; ``open311_requests`` records which client
application submitted a report, its ``media_url`` (a reference, never fetched) and its token.

``report_map_cells`` is the pre-aggregated grid behind low-zoom tiles and clusters (see ``geo/tiles.py``);
``report_map_cells_state`` its single high-water-mark row. ``ix_reports_location_3857`` serves raw-point
tiles in their own projection; ``ix_reports_location_listing`` makes the box scans of GeoJSON lists and
cells index-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_COLUMNS = (
    "submitted",
    "accepted",
    "scheduled",
    "in_progress",
    "on_hold",
    "resolved",
    "closed",
    "reopened",
)


def upgrade() -> None:
    op.create_table(
        "open311_api_keys",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_open311_api_keys_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_api_keys_key_hash")),
    )
    op.create_table(
        "open311_devices",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["open311_api_keys.id"],
            name=op.f("fk_open311_devices_api_key_id_open311_api_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_open311_devices_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "device_id", name=op.f("pk_open311_devices")),
    )
    op.create_table(
        "open311_requests",
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("media_url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_open311_requests_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["open311_api_keys.id"],
            name=op.f("fk_open311_requests_api_key_id_open311_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_open311_requests")),
        sa.UniqueConstraint("token", name=op.f("uq_open311_requests_token")),
    )
    op.create_table(
        "report_map_cells",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("cell_x", sa.Integer(), nullable=False),
        sa.Column("cell_y", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        *[
            sa.Column(f"n_{name}", sa.Integer(), server_default="0", nullable=False)
            for name in STATUS_COLUMNS
        ],
        sa.Column("sum_x", sa.Float(), nullable=False),
        sa.Column("sum_y", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("level", "cell_x", "cell_y", "category_id", name=op.f("pk_report_map_cells")),
    )
    op.create_table(
        "report_map_cells_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("max_report_id", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_report_map_cells_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_map_cells_state")),
    )
    op.execute("INSERT INTO report_map_cells_state (id, max_report_id, refreshed_at) VALUES (1, 0, now())")
    # Map reads filter a box and then order or project a handful of columns: carrying them in the GiST
    # index lets the box scan be index-only, instead of fetching every row of a dense box from the heap.
    # Raw-point tiles filter in the tile's own projection (measured faster at z16 than the 4326 box).
    op.create_index(
        "ix_reports_location_3857",
        "reports",
        [sa.text("ST_Transform(location, 3857)")],
        unique=False,
        postgresql_using="gist",
    )
    op.execute(
        "CREATE INDEX ix_reports_location_listing ON reports USING gist (location)"
        " INCLUDE (id, created_at, jurisdiction_id, category_id, status, is_public)"
    )


def downgrade() -> None:
    op.drop_index("ix_reports_location_listing", table_name="reports")
    op.drop_index("ix_reports_location_3857", table_name="reports", postgresql_using="gist")
    op.drop_table("report_map_cells_state")
    op.drop_table("report_map_cells")
    op.drop_table("open311_requests")
    op.drop_table("open311_devices")
    op.drop_table("open311_api_keys")
