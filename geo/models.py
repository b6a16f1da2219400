"""ORM tables of public space. API shapes live in ``schemas.py``, never here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

AREA_LEVELS = ("municipality", "district", "neighbourhood")


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    holiday_country: Mapped[str] = mapped_column(String(2), default="NL")
    default_locale: Mapped[str] = mapped_column(String(5), default="nl")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    # Retention (geo/retention.py); NULL: the defaults of the settings.
    contact_retention_days: Mapped[int | None]
    photo_retention_months: Mapped[int | None]


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (
        CheckConstraint("level IN ('municipality', 'district', 'neighbourhood')", name="level"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        UniqueConstraint("jurisdiction_id", "level", "name"),
        Index("ix_areas_geom", "geom", postgresql_using="gist"),
        Index("ix_areas_jurisdiction_level", "jurisdiction_id", "level"),
    )


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("jurisdiction_id", "name"),)


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[dict[str, str]] = mapped_column(JSONB)
    description: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    keywords: Mapped[list[str]] = mapped_column(JSONB, default=list)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    handling_days: Mapped[int] = mapped_column(default=5)
    handling_day_kind: Mapped[str] = mapped_column(String(16), default="working")
    is_public: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    extra_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)

    __table_args__ = (
        UniqueConstraint("jurisdiction_id", "code"),
        CheckConstraint("handling_day_kind IN ('working', 'calendar')", name="handling_day_kind"),
        CheckConstraint("handling_days BETWEEN 0 AND 365", name="handling_days"),
    )


class Photo(Base):
    """A re-encoded, metadata-free image; the bytes live in the media store under ``storage_key``."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    uploader_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="report")
    storage_key: Mapped[str] = mapped_column(String(128))
    thumbnail_key: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (CheckConstraint("kind IN ('report', 'after')", name="kind"),)


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    location: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    address: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    status_reason: Mapped[str | None] = mapped_column(String(32))
    is_public: Mapped[bool] = mapped_column(default=True)
    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    reporter_email: Mapped[str | None] = mapped_column(String(320))
    reporter_phone: Mapped[str | None] = mapped_column(String(32))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    resolved_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]
    """When retention removed the reporter's contact data and device links (geo/retention.py)."""

    __table_args__ = (
        # Not declared here, as SQLAlchemy has no construct for them: extended statistics on
        # (category_id, is_public) and (department_id, category_id), migration 0016, for nearest-first plans.
        # The GiST index on ``location`` carries the columns the map's box scans read, so they are index-only
        # (migration 0002; the plain one went in 0007); raw-point tiles filter in their own projection.
        Index(
            "ix_reports_location_listing",
            "location",
            postgresql_using="gist",
            postgresql_include=["id", "created_at", "jurisdiction_id", "category_id", "status", "is_public"],
        ),
        Index("ix_reports_location_3857", text("ST_Transform(location, 3857)"), postgresql_using="gist"),
        Index("ix_reports_location_geography", text("(location::geography)"), postgresql_using="gist"),
        Index(
            "ix_reports_open_location_geography",
            text("(location::geography)"),
            postgresql_using="gist",
            postgresql_where=text(
                "merged_into_id IS NULL AND status IN"
                " ('accepted', 'in_progress', 'on_hold', 'reopened', 'scheduled', 'submitted')"
            ),
        ),
        Index(
            "ix_reports_merged_into_id", "merged_into_id", postgresql_where=text("merged_into_id IS NOT NULL")
        ),
        Index("ix_reports_jurisdiction_created", "jurisdiction_id", text("created_at DESC"), text("id DESC")),
        Index("ix_reports_department_status", "department_id", "status"),
        Index("ix_reports_category_status", "category_id", "status"),
        Index("ix_reports_area", "area_id"),
        Index(
            "ix_reports_reporter",
            "reporter_account_id",
            text("id DESC"),
            postgresql_where=text("reporter_account_id IS NOT NULL"),
        ),
        CheckConstraint(
            "status IN ('submitted', 'accepted', 'scheduled', 'in_progress', 'on_hold', 'resolved',"
            " 'closed', 'reopened')",
            name="status",
        ),
    )


class ReportStatusChange(Base):
    """The audit trail: who moved a report from where to where, what the public and staff were told."""

    __tablename__ = "report_status_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    public_message: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("clock_timestamp()"))

    # Retention finds the status change that closed a report without scanning its history (migration 0014).
    __table_args__ = (
        Index("ix_report_status_changes_report_to_status", "report_id", "to_status", text("created_at DESC")),
    )


class ReportSupporter(Base):
    """A "me too": another resident saw the same problem."""

    __tablename__ = "report_supporters"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (PrimaryKeyConstraint("report_id", "account_id"),)


class ReportFollower(Base):
    __tablename__ = "report_followers"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (PrimaryKeyConstraint("report_id", "account_id"),)


class MessageTemplate(Base):
    """A ready public message for a status change (optionally for one category), in nl and en.

    Staff pick one when they move a report and may edit it before it is sent; the text sent is stored
    on the status change, so editing a template later never rewrites what residents were told."""

    __tablename__ = "public_message_templates"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    title: Mapped[dict[str, str]] = mapped_column(JSONB)
    message: Mapped[dict[str, str]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(
            "status IN ('accepted', 'scheduled', 'in_progress', 'on_hold', 'resolved', 'closed', 'reopened')",
            name="status",
        ),
        Index("ix_public_message_templates_jurisdiction_status", "jurisdiction_id", "status"),
    )
