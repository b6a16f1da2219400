"""Recording what happened to each claimed delivery: delivered, retried later, or dead.

The worker sends a batch in chunks and records each chunk's outcomes as soon as it is sent, rather
than the whole batch at the end: what a worker killed mid-batch has sent but not recorded — the only
thing a re-claim can send twice — is then one chunk, not a batch. Inbox messages are written in the
same transaction as their delivery's status, so they exist exactly once.

A row that cannot be recorded (an inbox message the database refuses) must not keep the others of
its chunk unrecorded: the chunk is then recorded row by row, and the refused row is recorded dead.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import is_transient_database_error
from notifications.channels import DeliveryFailed
from notifications.channels import inbox as inbox_channel
from notifications.settings import NotificationSettings

logger = logging.getLogger("civicloop.notifications.worker")

FINISH_SQL = text("""
UPDATE notification_deliveries
SET status = CAST(:status AS varchar),
    delivered_at = CASE WHEN CAST(:status AS varchar) = 'delivered' THEN clock_timestamp() END,
    next_attempt_at = clock_timestamp() + make_interval(secs => CAST(:delay AS double precision)),
    locked_until = NULL, last_error = :error, updated_at = now()
WHERE id = :id AND attempts = :attempts AND status = 'sending'
""")


@dataclass
class Stats:
    events: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    scheduled: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def add(self, other: Stats) -> None:
        self.events += other.events
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.scheduled += other.scheduled
        for channel, count in other.by_channel.items():
            self.by_channel[channel] = self.by_channel.get(channel, 0) + count

    @property
    def worked(self) -> bool:
        return bool(self.events or self.delivered or self.retried or self.dead or self.scheduled)


def backoff_seconds(settings: NotificationSettings, attempts: int) -> float:
    """Exponential with "equal jitter": half fixed, half random, so retries of a burst spread out."""
    ceiling = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** max(0, attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


Outcome = tuple[dict[str, Any], DeliveryFailed | None]


class Outcomes:
    """The outcomes of one claimed batch, written in chunks as they come in."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: NotificationSettings,
        stats: Stats,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.stats = stats
        self.pending: list[Outcome] = []
        self.gone_subscriptions: list[int] = []
        # Held by whoever uses the database while the batch is being sent (recording, the target
        # lookup, lease renewal): one session at a time, so a worker on a single connection (the
        # tests') never runs two statements at once, and recordings never interleave.
        self.lock = asyncio.Lock()

    def note(self, delivery: dict[str, Any], failure: DeliveryFailed | None) -> None:
        self.pending.append((delivery, failure))

    def gone(self, subscription_id: int) -> None:
        self.gone_subscriptions.append(subscription_id)

    async def flush(self, *, minimum: int = 1, until: float | None = None) -> None:
        """Write what is pending (when at least ``minimum`` is). Without ``until`` a database error
        leaves it pending for a later flush; with it, transient errors are retried until that
        ``time.monotonic()`` and then raised."""
        async with self.lock:
            if len(self.pending) < minimum and not (until is not None and self.gone_subscriptions):
                return
            attempt = 0
            while self.pending or self.gone_subscriptions:
                batch, gone = list(self.pending), list(self.gone_subscriptions)
                try:
                    await self._write(batch, gone)
                except Exception as error:
                    if until is None:
                        logger.warning("recording delivery outcomes failed (%s); later", type(error).__name__)
                        return
                    attempt += 1
                    if not is_transient_database_error(error):
                        await self._write_one_by_one(batch, gone)
                    elif time.monotonic() >= until:
                        raise
                    else:
                        await asyncio.sleep(min(2.0, 0.25 * 2 ** (attempt - 1)))
                        continue
                del self.pending[: len(batch)]
                del self.gone_subscriptions[: len(gone)]

    async def _write_one_by_one(self, batch: list[Outcome], gone: list[int]) -> None:
        for delivery, failure in batch:
            try:
                await self._write([(delivery, failure)], [])
            except Exception as error:
                if is_transient_database_error(error):
                    raise
                logger.exception("recording delivery %s failed; recording it dead", delivery["id"])
                await self._write(
                    [
                        (
                            delivery,
                            DeliveryFailed(f"cannot be recorded: {type(error).__name__}", permanent=True),
                        )
                    ],
                    [],
                )
        if gone:
            await self._write([], gone)

    async def _write(self, batch: list[Outcome], gone: list[int]) -> None:
        counts = Stats()
        updates = []
        async with self.sessionmaker() as session:
            await inbox_channel.deliver(
                session,
                [
                    delivery
                    for delivery, failure in batch
                    if failure is None and delivery["channel"] == "inbox"
                ],
            )
            if gone:
                await session.execute(
                    text("DELETE FROM push_subscriptions WHERE id = ANY(:ids)"), {"ids": gone}
                )
            for delivery, failure in batch:
                if failure is None:
                    status, delay, error = "delivered", 0.0, None
                    counts.delivered += 1
                    counts.by_channel[delivery["channel"]] = counts.by_channel.get(delivery["channel"], 0) + 1
                elif failure.permanent or delivery["attempts"] >= self.settings.delivery_max_attempts:
                    status, delay, error = "dead", 0.0, failure.reason[:2000]
                    counts.dead += 1
                else:
                    status, delay = "pending", backoff_seconds(self.settings, delivery["attempts"])
                    error = failure.reason[:2000]
                    counts.retried += 1
                updates.append(
                    {
                        "id": delivery["id"],
                        "attempts": delivery["attempts"],
                        "status": status,
                        "delay": delay,
                        "error": error,
                    }
                )
            if updates:
                await session.execute(FINISH_SQL, updates)
            await session.commit()
        self.stats.add(counts)
