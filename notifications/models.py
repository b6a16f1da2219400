"""ORM tables of notifications: deliveries, the inbox, subscriptions, preferences, feedback requests.

A delivery is one message to one recipient over one channel for one outbox event. The unique
``(event_id, recipient, channel)`` makes fan-out idempotent: a worker that dies after inserting
deliveries but before marking the event processed re-inserts nothing on restart.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

CHANNELS = ("email", "push", "webhook", "inbox")
FANOUT = "fanout"
"""The pseudo-channel of a dead letter that records an event whose fan-out itself failed."""
KINDS = ("report_updates", "area_alerts", "satisfaction", "participation")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "dead")


class Delivery(Base):
    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    outbox_event_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True
    )
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(5))
    address: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "channel"),
        CheckConstraint("channel IN ('email', 'push', 'webhook', 'inbox', 'fanout')", name="channel"),
        CheckConstraint("status IN ('pending', 'sending', 'delivered', 'dead')", name="status"),
        Index(
            "ix_notification_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index(
            "ix_notification_deliveries_dead",
            "jurisdiction_id",
            "id",
            postgresql_where=text("status = 'dead'"),
        ),
    )


class InboxMessage(Base):
    __tablename__ = "inbox_messages"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    topic: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    read_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("event_id", "account_id"),
        Index("ix_inbox_messages_account", "account_id", text("id DESC")),
        Index("ix_inbox_messages_unread", "account_id", postgresql_where=text("read_at IS NULL")),
    )


class Preference(Base):
    """An opt-out (or back in) per recipient, kind and channel; absent means the default: on.

    ``recipient`` is ``account:<id>`` or ``email:<sha256 of the address>`` for someone without an
    account who left an address on a report, so this table holds no contact data itself.
    """

    __tablename__ = "notification_preferences"

    recipient: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        PrimaryKeyConstraint("recipient", "kind", "channel"),
        CheckConstraint("channel IN ('email', 'push', 'inbox')", name="channel"),
        CheckConstraint(
            "kind IN ('report_updates', 'area_alerts', 'satisfaction', 'participation')", name="kind"
        ),
    )


class PushSubscription(Base):
    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(200))
    topics: Mapped[list[str]] = mapped_column(JSONB, default=list)
    include_personal_data: Mapped[bool] = mapped_column(default=False)
    allow_private_network: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class AreaSubscription(Base):
    __tablename__ = "area_subscriptions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[str] = mapped_column(String(8))
    last_digest_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        UniqueConstraint("account_id", "area_id"),
        CheckConstraint("frequency IN ('instant', 'daily')", name="frequency"),
    )


class TemplateOverride(Base):
    """A municipality's own wording for one template, optionally per status and category."""

    __tablename__ = "notification_template_overrides"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(32))
    category_code: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        Index(
            "uq_notification_template_overrides_key",
            "jurisdiction_id",
            "topic",
            "status",
            "category_code",
            "locale",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint("locale IN ('nl', 'en')", name="locale"),
    )


class SatisfactionRequest(Base):
    """ "Is it fixed? How satisfied are you?", asked once per resolution and follower."""

    __tablename__ = "satisfaction_requests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    outbox_event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    issued_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    fixed: Mapped[bool | None]
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        UniqueConstraint("outbox_event_id", "account_id"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score"),
        Index(
            "ix_satisfaction_requests_due",
            "due_at",
            postgresql_where=text("issued_at IS NULL AND cancelled_at IS NULL"),
        ),
    )


class ReopenRequest(Base):
    """An unhappy answer: staff accept (the report is reopened) or reject it with a message."""

    __tablename__ = "reopen_requests"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    satisfaction_request_id: Mapped[int] = mapped_column(
        ForeignKey("satisfaction_requests.id", ondelete="CASCADE"), unique=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (CheckConstraint("status IN ('pending', 'accepted', 'rejected')", name="status"),)
