"""The notifications worker: outbox events → deliveries → e-mail, push, webhooks, inbox.

Why a ``SELECT … FOR UPDATE SKIP LOCKED`` loop rather than procrastinate: the queue already exists.
Events are written to ``outbox_events`` in the same transaction as the change, and deliveries are
rows we need anyway (dead letters to list and replay, the unique key that makes fan-out idempotent,
the records the loop metrics are computed from). A job library would add a second copy of each
event in its own schema, its own migrations and its own notion of retries next to ours, for no gain
in safety: both are "a Postgres row locked with SKIP LOCKED". Here the same rows are the queue, the
audit trail and the metrics source.

Queue times use ``clock_timestamp()``, not ``now()`` (the start of the transaction), so a claim in a
long transaction still sees which retries are due.

Guarantees:

- **At-least-once.** An event is marked processed in the same transaction that inserts its deliveries;
  a delivery is claimed with a lease (``status = 'sending'``, ``locked_until``) and ``attempts`` raised
  *before* it is sent, and marked delivered after. A worker killed mid-batch leaves its claimed
  deliveries to be re-claimed when the lease runs out: the in-flight batch may go out twice, nothing
  is lost. Every message carries the stable event id (``X-Civicloop-Event-Id``, ``Message-ID``, the
  webhook body's ``event_id``, the push payload's ``event_id``) so receivers drop those duplicates.
- **Retries** with exponential back-off and jitter; after ``delivery_max_attempts`` (or at once for a
  permanent failure: SMTP 5xx, webhook 4xx, an expired push subscription) the delivery is ``dead``,
  listed and replayable by an administrator. A delivery that keeps killing its worker goes dead too,
  because attempts are counted at claim time.
- **A poison event** (its fan-out raises) is rolled back to a savepoint and recorded as a ``fanout``
  dead letter; the rest of the batch carries on. A batch is first fanned out under one savepoint
  with one INSERT; only when that fails is it redone event by event, a savepoint each.
- **Wake-up** by LISTEN/NOTIFY: a trigger on ``outbox_events`` notifies ``civicloop_outbox`` on commit
  (the fan-out loop listens); a fan-out or a replay notifies ``civicloop_deliveries`` (the delivery
  loop). Polling (``worker_poll_seconds``, or the time until the next retry) covers the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import fanout, service
from notifications.channels import DeliveryFailed
from notifications.channels import inbox as inbox_channel
from notifications.channels.email import EmailSender, OutgoingEmail
from notifications.channels.webhook import WebhookSender
from notifications.channels.webpush import PushGone, PushSender, payload_bytes
from notifications.settings import NotificationSettings

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

FINISH_SQL = text("""
UPDATE notification_deliveries
SET status = CAST(:status AS varchar),
    delivered_at = CASE WHEN CAST(:status AS varchar) = 'delivered' THEN clock_timestamp() END,
    next_attempt_at = clock_timestamp() + make_interval(secs => CAST(:delay AS double precision)),
    locked_until = NULL, last_error = :error, updated_at = now()
WHERE id = :id AND attempts = :attempts AND status = 'sending'
""")

NEXT_DUE_SQL = text("""
SELECT extract(epoch FROM min(coalesce(CASE WHEN status = 'sending' THEN locked_until END, next_attempt_at))
                          - clock_timestamp())
FROM notification_deliveries WHERE status IN ('pending', 'sending')
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


class Worker:
    """One delivery loop. Several may run in one process (``--concurrency``) or in many processes."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: NotificationSettings,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._own_client = http_client is None
        # No proxies from the environment and no redirects: the SSRF guard checked this exact target.
        self.http = http_client or httpx.AsyncClient(trust_env=False, follow_redirects=False)
        self.email = EmailSender(settings)
        self.push = PushSender(settings, self.http)
        self.webhooks = WebhookSender(settings, self.http)
        self._last_schedule = 0.0

    async def aclose(self) -> None:
        await asyncio.to_thread(self.email.close)
        if self._own_client:
            await self.http.aclose()

    # -- fan-out ---------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        async with self.sessionmaker() as session:
            rows = (await session.execute(CLAIM_EVENTS_SQL, {"limit": self.settings.worker_batch_size})).all()
            if not rows:
                await session.rollback()
                return 0
            events = [
                fanout.Event(
                    id=row.id,
                    event_id=str(row.event_id),
                    jurisdiction_id=row.jurisdiction_id,
                    topic=row.topic,
                    aggregate_type=row.aggregate_type,
                    aggregate_id=row.aggregate_id,
                    payload=row.payload if isinstance(row.payload, dict) else {"value": row.payload},
                    created_at=row.created_at,
                )
                for row in rows
            ]
            # The common case first: the whole batch under ONE savepoint and one INSERT. A savepoint and
            # an INSERT per event were most of the fixed cost of an event (3 of its ~6 round trips). If
            # anything in the batch fails, that savepoint is rolled back and the batch is fanned out
            # again event by event, so a poison event is still isolated and dead-lettered.
            try:
                async with session.begin_nested():
                    ctx = fanout.Context(session, self.settings)
                    planned: list[dict[str, Any]] = []
                    for event in events:
                        planned += await fanout.plan_deliveries(ctx, event)
                    await fanout.write_deliveries(session, planned)
            except Exception:
                logger.warning("fan-out of a batch of %d events failed; retrying event by event", len(events))
                await self._fan_out_one_by_one(session, events)
            await session.execute(
                text("UPDATE outbox_events SET processed_at = now() WHERE id = ANY(:ids)"),
                {"ids": [row.id for row in rows]},
            )
            await session.execute(text("SELECT pg_notify('civicloop_deliveries', '')"))
            await session.commit()
            return len(rows)

    async def _fan_out_one_by_one(self, session: AsyncSession, events: list[fanout.Event]) -> None:
        ctx = fanout.Context(session, self.settings)
        for event in events:
            try:
                async with session.begin_nested():
                    await fanout.write_deliveries(session, await fanout.plan_deliveries(ctx, event))
            except Exception as error:  # a poison event must not block the others
                logger.exception("fan-out of event %s (%s) failed; dead-lettered", event.id, event.topic)
                ctx = fanout.Context(session, self.settings)
                await fanout.write_deliveries(session, [_fanout_dead_letter(event, error)])

    # -- delivery --------------------------------------------------------------------------------

    async def deliver(self) -> Stats:
        stats = Stats()
        async with self.sessionmaker() as session:
            claimed = [
                dict(row)
                for row in (
                    await session.execute(
                        CLAIM_DELIVERIES_SQL,
                        {
                            "lease": self.settings.delivery_lease_seconds,
                            "limit": self.settings.worker_batch_size,
                        },
                    )
                ).mappings()
            ]
            await session.commit()
        if not claimed:
            return stats
        results: dict[int, DeliveryFailed | None] = {}
        sendable = []
        for delivery in claimed:
            if delivery["attempts"] > self.settings.delivery_max_attempts:
                results[delivery["id"]] = DeliveryFailed(
                    "claimed too often without finishing", permanent=True
                )
            else:
                sendable.append(delivery)
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for delivery in sendable:
            by_channel.setdefault(delivery["channel"], []).append(delivery)
        gone: list[int] = []
        await asyncio.gather(
            self._send_email(by_channel.get("email", []), results),
            self._send_http(by_channel.get("push", []), by_channel.get("webhook", []), results, gone),
        )
        async with self.sessionmaker() as session:
            inbox = by_channel.get("inbox", [])
            await inbox_channel.deliver(session, inbox)
            for delivery in inbox:
                results[delivery["id"]] = None
            if gone:
                await session.execute(
                    text("DELETE FROM push_subscriptions WHERE id = ANY(:ids)"), {"ids": gone}
                )
            updates = []
            for delivery in claimed:
                failure = results.get(
                    delivery["id"], DeliveryFailed(f"no channel {delivery['channel']!r}", permanent=True)
                )
                if failure is None:
                    status, delay, error = "delivered", 0.0, None
                    stats.delivered += 1
                    stats.by_channel[delivery["channel"]] = stats.by_channel.get(delivery["channel"], 0) + 1
                elif failure.permanent or delivery["attempts"] >= self.settings.delivery_max_attempts:
                    status, delay, error = "dead", 0.0, failure.reason[:2000]
                    stats.dead += 1
                else:
                    status, delay = "pending", backoff_seconds(self.settings, delivery["attempts"])
                    error = failure.reason[:2000]
                    stats.retried += 1
                updates.append(
                    {
                        "id": delivery["id"],
                        "attempts": delivery["attempts"],
                        "status": status,
                        "delay": delay,
                        "error": error,
                    }
                )
            await session.execute(FINISH_SQL, updates)
            await session.commit()
        return stats

    async def _send_email(
        self, deliveries: list[dict[str, Any]], results: dict[int, DeliveryFailed | None]
    ) -> None:
        if not deliveries:
            return
        mails = [
            OutgoingEmail(
                delivery_id=d["id"],
                event_id=str(d["event_id"]),
                to=d["address"],
                subject=d["subject"],
                body=d["body"],
                unsubscribe_url=d["data"].get("unsubscribe_url"),
                locale=d["locale"],
            )
            for d in deliveries
        ]
        outcomes = await asyncio.to_thread(self.email.send_many, mails)
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            results[delivery["id"]] = outcome

    async def _send_http(
        self,
        pushes: list[dict[str, Any]],
        hooks: list[dict[str, Any]],
        results: dict[int, DeliveryFailed | None],
        gone: list[int],
    ) -> None:
        if not pushes and not hooks:
            return
        async with self.sessionmaker() as session:
            subscriptions = {
                row.id: row
                for row in await session.execute(
                    text("SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE id = ANY(:ids)"),
                    {"ids": [d["data"].get("subscription_id") for d in pushes]},
                )
            }
            endpoints = {
                row.id: row
                for row in await session.execute(
                    text(
                        "SELECT id, url, secret, allow_private_network, is_active FROM webhook_endpoints"
                        " WHERE id = ANY(:ids)"
                    ),
                    {"ids": [d["data"].get("webhook_id") for d in hooks]},
                )
            }
        limit = asyncio.Semaphore(32)

        async def push(delivery: dict[str, Any]) -> None:
            subscription = subscriptions.get(delivery["data"].get("subscription_id"))
            if subscription is None:
                results[delivery["id"]] = DeliveryFailed("the push subscription was removed", permanent=True)
                return
            data = {k: v for k, v in delivery["data"].items() if k not in ("subscription_id", "answer_token")}
            body = payload_bytes(
                event_id=str(delivery["event_id"]),
                topic=delivery["topic"],
                title=delivery["subject"],
                body=delivery["body"],
                data=data,
            )
            async with limit:
                try:
                    await self.push.send(
                        endpoint=subscription.endpoint,
                        p256dh=subscription.p256dh,
                        auth=subscription.auth,
                        payload=body,
                    )
                    results[delivery["id"]] = None
                except PushGone as failure:
                    gone.append(subscription.id)
                    results[delivery["id"]] = failure
                except DeliveryFailed as failure:
                    results[delivery["id"]] = failure

        async def hook(delivery: dict[str, Any]) -> None:
            endpoint = endpoints.get(delivery["data"].get("webhook_id"))
            if endpoint is None or not endpoint.is_active:
                results[delivery["id"]] = DeliveryFailed(
                    "the webhook was removed or disabled", permanent=True
                )
                return
            body = json.dumps(delivery["data"]["body"], ensure_ascii=False, separators=(",", ":")).encode()
            async with limit:
                try:
                    await self.webhooks.send(
                        url=endpoint.url,
                        secret=endpoint.secret,
                        allow_private_network=endpoint.allow_private_network,
                        event_id=str(delivery["event_id"]),
                        body=body,
                    )
                    results[delivery["id"]] = None
                except DeliveryFailed as failure:
                    results[delivery["id"]] = failure

        await asyncio.gather(*(push(d) for d in pushes), *(hook(d) for d in hooks))

    # -- scheduled work --------------------------------------------------------------------------

    async def schedule(self, *, force: bool = False) -> int:
        now = time.monotonic()
        if not force and now - self._last_schedule < self.settings.worker_schedule_seconds:
            return 0
        self._last_schedule = now
        async with self.sessionmaker() as session:
            issued = await service.issue_due_satisfaction_requests(session)
            issued += await service.issue_due_digests(
                session, interval_seconds=self.settings.digest_interval_seconds
            )
            await session.commit()
        return issued

    async def tick(self, *, force_schedule: bool = False) -> Stats:
        stats = Stats(scheduled=await self.schedule(force=force_schedule))
        stats.events = await self.fan_out()
        stats.add(await self.deliver())
        return stats

    async def run_until_idle(self, *, max_rounds: int = 1000) -> Stats:
        """Work until nothing is due (``--once`` and the tests); retries not yet due stay queued."""
        total = Stats()
        for round_number in range(max_rounds):
            stats = await self.tick(force_schedule=round_number == 0)
            total.add(stats)
            if not stats.worked:
                break
        return total

    async def _seconds_until_due(self) -> float:
        async with self.sessionmaker() as session:
            value = await session.scalar(NEXT_DUE_SQL)
        poll = self.settings.worker_poll_seconds
        return poll if value is None else max(0.0, min(poll, float(value)))

    async def run(self, *, listen_url: str, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set. Fan-out and delivery are two loops, so sending a batch overlaps
        with fanning out the next; LISTEN wakes each, polling covers due retries and lost wake-ups."""

        async def fan_out_step() -> bool:
            scheduled = await self.schedule()
            return bool(await self.fan_out() or scheduled)

        async def deliver_step() -> bool:
            return (await self.deliver()).worked

        await asyncio.gather(
            self._loop(listen_url, stop, fan_out_step, "civicloop_outbox", self.settings.worker_poll_seconds),
            self._loop(listen_url, stop, deliver_step, "civicloop_deliveries", None),
        )

    async def _loop(
        self,
        listen_url: str,
        stop: asyncio.Event,
        step: Callable[[], Awaitable[bool]],
        channel: str,
        poll: float | None,
    ) -> None:
        listener: psycopg.AsyncConnection[Any] | None = None
        while not stop.is_set():
            try:
                if listener is None or listener.closed:
                    listener = await psycopg.AsyncConnection.connect(listen_url, autocommit=True)
                    await listener.execute(f"LISTEN {channel}")
                if await step():
                    continue
                timeout = poll if poll is not None else await self._seconds_until_due()
                if timeout > 0:
                    async for _ in listener.notifies(timeout=timeout, stop_after=1):
                        pass
            except (psycopg.OperationalError, OSError) as error:
                logger.warning("worker lost the database (%s); retrying in a second", error)
                if listener is not None:
                    await listener.close()
                listener = None
                await asyncio.sleep(1.0)
        if listener is not None:
            await listener.close()


def _fanout_dead_letter(event: fanout.Event, error: BaseException) -> dict[str, Any]:
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


async def run_workers(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: NotificationSettings,
    *,
    listen_url: str,
    stop: asyncio.Event,
    concurrency: int = 1,
) -> None:
    workers = [Worker(sessionmaker, settings) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(worker.run(listen_url=listen_url, stop=stop) for worker in workers))
    finally:
        for worker in workers:
            await worker.aclose()


@contextlib.asynccontextmanager
async def running_in_background(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: NotificationSettings,
    *,
    listen_url: str,
    concurrency: int = 1,
) -> AsyncIterator[asyncio.Task[None]]:
    """For the app's lifespan (``civicloop serve``): the worker as a task next to the API."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_workers(sessionmaker, settings, listen_url=listen_url, stop=stop, concurrency=concurrency),
        name="civicloop-notifications-worker",
    )
    try:
        yield task
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
