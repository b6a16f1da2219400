"""Taking work off the queue: outbox events claimed and fanned out, deliveries claimed with a lease.

Everything here is the database side of the worker's guarantees (see ``notifications.worker``): the
``FOR UPDATE SKIP LOCKED`` claims, an event marked processed in the same transaction that writes its
deliveries, the poison event fanned out again one by one and dead-lettered in a fresh transaction, and the
delivery claim that raises ``attempts`` *before* anything is sent. It is separate from sending
(``notifications.delivering``) and from the loops that drive both (``notifications.worker``) because this is
where exactly-once fan-out and at-most-one-worker-per-delivery are decided: SQL and transactions only, no
network but the database's.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import is_transient_database_error
from notifications import fanout
from notifications.settings import NotificationSettings

# The worker's logger: one name for the whole worker, whichever module logs.
logger = logging.getLogger("civicloop.notifications.worker")

CLAIM_EVENTS_SQL = text("""
SELECT id, event_id, jurisdiction_id, topic, aggregate_type, aggregate_id, payload, created_at
FROM outbox_events
WHERE processed_at IS NULL
ORDER BY id
LIMIT :limit
FOR UPDATE SKIP LOCKED
""")

CLAIM_DELIVERIES_SQL = text("""
UPDATE notification_deliveries d
SET status = 'sending', attempts = d.attempts + 1, updated_at = now(),
    locked_until = clock_timestamp() + make_interval(secs => :lease)
WHERE d.id IN (
    SELECT id FROM notification_deliveries
    WHERE (status = 'pending' OR (status = 'sending' AND locked_until < clock_timestamp()))
      AND next_attempt_at <= clock_timestamp()
    ORDER BY next_attempt_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
RETURNING d.id, d.event_id, d.topic, d.channel, d.account_id, d.locale, d.address, d.subject, d.body,
          d.data, d.attempts
""")

NEXT_DUE_SQL = text("""
SELECT extract(epoch FROM min(coalesce(CASE WHEN status = 'sending' THEN locked_until END, next_attempt_at))
                          - clock_timestamp())
FROM notification_deliveries WHERE status IN ('pending', 'sending')
""")


CLAIM_EVENT_SQL = text("""
SELECT id, event_id, jurisdiction_id, topic, aggregate_type, aggregate_id, payload, created_at
FROM outbox_events
WHERE id = :id AND processed_at IS NULL
FOR UPDATE SKIP LOCKED
""")

MARK_PROCESSED_SQL = text("UPDATE outbox_events SET processed_at = now() WHERE id = ANY(:ids)")
NOTIFY_DELIVERIES_SQL = text("SELECT pg_notify('civicloop_deliveries', '')")


def event_from_row(row: Any) -> fanout.Event:
    return fanout.Event(
        id=row.id,
        event_id=str(row.event_id),
        jurisdiction_id=row.jurisdiction_id,
        topic=row.topic,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        payload=row.payload if isinstance(row.payload, dict) else {"value": row.payload},
        created_at=row.created_at,
    )


async def claim_event(session: AsyncSession, outbox_id: int) -> fanout.Event | None:
    row = (await session.execute(CLAIM_EVENT_SQL, {"id": outbox_id})).first()
    return None if row is None else event_from_row(row)


async def fan_out(sessionmaker: async_sessionmaker[AsyncSession], settings: NotificationSettings) -> int:
    """Claim a batch of outbox events, write their deliveries and mark them processed in one
    transaction; a batch whose fan-out raises is done again event by event. Returns the events done."""
    async with sessionmaker() as session:
        rows = (await session.execute(CLAIM_EVENTS_SQL, {"limit": settings.worker_batch_size})).all()
        if not rows:
            await session.rollback()
            return 0
        events = [event_from_row(row) for row in rows]
        # The common case first: the whole batch under ONE savepoint and one INSERT. A savepoint and
        # an INSERT per event were most of the fixed cost of an event (3 of its ~6 round trips).
        try:
            async with session.begin_nested():
                ctx = fanout.Context(session, settings)
                planned: list[dict[str, Any]] = []
                for event in events:
                    planned += await fanout.plan_deliveries(ctx, event)
                await fanout.write_deliveries(session, planned)
        except Exception as error:
            if is_transient_database_error(error):
                raise  # the database went away: the batch stays unprocessed, the loop retries it
            logger.warning(
                "fan-out of a batch of %d events failed (%s); retrying event by event",
                len(events),
                type(error).__name__,
            )
            await session.rollback()
            return await _fan_out_one_by_one(sessionmaker, settings, [event.id for event in events])
        await session.execute(MARK_PROCESSED_SQL, {"ids": [row.id for row in rows]})
        await session.execute(NOTIFY_DELIVERIES_SQL)
        await session.commit()
        return len(rows)


async def _fan_out_one_by_one(
    sessionmaker: async_sessionmaker[AsyncSession], settings: NotificationSettings, outbox_ids: list[int]
) -> int:
    """Each event in a transaction of its own; one that fails is dead-lettered in a fresh one.

    Why not a savepoint per event in the batch's transaction: whatever broke the event may have
    broken more than the savepoint (the session or its connection). Rolling the transaction back
    and writing the dead letter in a new one is the only way to be sure it is written. Events are
    claimed again one at a time with ``SKIP LOCKED``: another worker may have taken some meanwhile.
    """
    done = 0
    for outbox_id in outbox_ids:
        async with sessionmaker() as session:
            event = await claim_event(session, outbox_id)
            if event is None:
                await session.rollback()
                continue
            try:
                ctx = fanout.Context(session, settings)
                await fanout.write_deliveries(session, await fanout.plan_deliveries(ctx, event))
            except Exception as error:
                if is_transient_database_error(error):
                    raise
                logger.exception(
                    "fan-out of event %s (%s) failed; writing a dead letter", event.id, event.topic
                )
                await session.rollback()
                event = await claim_event(session, outbox_id)
                if event is None:
                    await session.rollback()
                    continue
                await fanout.write_deliveries(session, [fanout_dead_letter(event, error)])
            await session.execute(MARK_PROCESSED_SQL, {"ids": [outbox_id]})
            await session.execute(NOTIFY_DELIVERIES_SQL)
            await session.commit()
            done += 1
    return done


def fanout_dead_letter(event: fanout.Event, error: BaseException) -> dict[str, Any]:
    """The ``fanout`` delivery row of a poison event: dead at once, listed and replayable by an admin."""
    return {
        "event_id": event.event_id,
        "outbox_event_id": event.id,
        "jurisdiction_id": event.jurisdiction_id,
        "topic": event.topic,
        "kind": "fanout",
        "recipient": "fanout",
        "channel": "fanout",
        "account_id": None,
        "locale": "nl",
        "address": None,
        "subject": "",
        "body": "",
        "data": {},
        "status": "dead",
        "last_error": f"{type(error).__name__}: {error}"[:2000],
    }


async def claim_deliveries(
    sessionmaker: async_sessionmaker[AsyncSession], settings: NotificationSettings
) -> list[dict[str, Any]]:
    """Up to a batch of due deliveries, leased to this worker and with ``attempts`` raised, committed
    before anything is sent: a worker that dies while sending has still counted the attempt."""
    async with sessionmaker() as session:
        claimed = [
            dict(row)
            for row in (
                await session.execute(
                    CLAIM_DELIVERIES_SQL,
                    {"lease": settings.delivery_lease_seconds, "limit": settings.worker_batch_size},
                )
            ).mappings()
        ]
        await session.commit()
    return claimed


async def seconds_until_due(
    sessionmaker: async_sessionmaker[AsyncSession], settings: NotificationSettings
) -> float:
    """How long the delivery loop may wait: until the next retry or lease end, at most a poll."""
    async with sessionmaker() as session:
        value = await session.scalar(NEXT_DUE_SQL)
    poll = settings.worker_poll_seconds
    return poll if value is None else max(0.0, min(poll, float(value)))
