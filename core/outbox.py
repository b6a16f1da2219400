"""The transactional outbox: domain events written in the same transaction as the change.

A change and its event commit or vanish together, so the notifications worker can deliver
at-least-once without ever announcing something that did not happen. ``event_id`` is the stable
id receivers use to drop duplicates.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.events import EventPayload


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, server_default=text("gen_random_uuid()"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_events_unprocessed", "id", postgresql_where=text("processed_at IS NULL")),
        Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id"),
    )


async def record_event(session: AsyncSession, *, jurisdiction_id: int, event: EventPayload) -> OutboxEvent:
    """Write ``event`` to the outbox in the session's transaction; its type gives the topic and aggregate."""
    row = OutboxEvent(
        jurisdiction_id=jurisdiction_id,
        topic=event.topic,
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        payload=event.stored(),
    )
    session.add(row)
    await session.flush()
    return row
