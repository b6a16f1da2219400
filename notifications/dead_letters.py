"""Dead letters: deliveries (and fan-outs) that gave up, and putting one back in the queue.
Listing them is a plain read (:func:`notifications.queries.dead_letters`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import queries
from notifications.errors import DeliveryNotFound
from notifications.models import Delivery


async def replay(session: AsyncSession, *, jurisdiction_id: int | None, delivery_id: int) -> Delivery | None:
    """Put a dead letter back in the queue. A failed fan-out is replayed by fanning the event out again
    (its dead-letter row is removed, so the retry can record a new one if it fails again): then None.
    ``jurisdiction_id`` None is the operator's command line, which may replay any jurisdiction's."""
    delivery = await queries.dead_letter_for_update(
        session, jurisdiction_id=jurisdiction_id, delivery_id=delivery_id
    )
    if delivery is None:
        raise DeliveryNotFound(f"no dead letter {delivery_id}")
    if delivery.channel == "fanout":
        await queries.unprocess_outbox_event(session, outbox_event_id=delivery.outbox_event_id)
        await session.delete(delivery)
        await session.flush()
        return None
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = datetime.now(UTC)
    delivery.locked_until = None
    await queries.wake_delivery_workers(session)
    await session.flush()
    return delivery
