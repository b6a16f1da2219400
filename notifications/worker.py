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

Guarantees (several workers, in one process or many, may share one database):

- **Each delivery to one worker at a time.** Events and deliveries are claimed with ``FOR UPDATE SKIP
  LOCKED``; an event is marked processed in the same transaction that inserts its deliveries (unique
  on ``(event_id, recipient, channel)``, so fanning out twice writes nothing new). A delivery is claimed
  with a lease (``status = 'sending'``, ``locked_until``) and ``attempts`` raised *before* it is sent;
  the lease is renewed while its batch is out, so a slow batch is never claimed by a second worker.
- **Nothing lost, duplicates bounded, when a worker dies.** Outcomes are recorded per chunk of
  ``EMAIL_CHUNK`` mails (and as push and webhook requests finish), not per batch. A worker killed
  mid-batch leaves what it claimed to be re-claimed when the lease runs out; only what it had sent
  but not yet recorded — at most one chunk per delivery loop — goes out a second time. Every message
  carries the stable event id (``X-Civicloop-Event-Id``, ``Message-ID``, the webhook body's and the push
  payload's ``event_id``) so receivers drop those; inbox messages are written with their delivery's
  status and are unique per ``(event_id, account_id)``: exactly once.
- **Retries** with exponential back-off and jitter; after ``delivery_max_attempts`` (or at once for a
  permanent failure: SMTP 5xx, webhook 4xx, an expired push subscription, a message that cannot be
  built or encrypted) the delivery is ``dead``, listed and replayable by an administrator. Whatever a
  delivery raises is that delivery's failure, never the batch's. A delivery that keeps killing its
  worker goes dead too, because attempts are counted at claim time.
- **A poison event** (its fan-out raises): the batch is rolled back and fanned out again event by event,
  each in a transaction of its own; the failing one is rolled back and its ``fanout`` dead letter
  written in a fresh transaction. A lost connection is no poison: the batch stays unprocessed and the
  loop retries it (``core.db.is_transient_database_error``).
- **The loops never die silently.** A failed step is logged, counted and retried with back-off
  (0.5 → 4 s), the LISTEN connection opened again; a loop that dies anyway is restarted by
  ``notifications.supervision.supervise`` with back-off and logged. ``/readyz`` reports each loop's
  heartbeat, failures and restarts.
- **Wake-up** by LISTEN/NOTIFY: a trigger on ``outbox_events`` notifies ``civicloop_outbox`` on commit
  (the fan-out loop listens); a fan-out or a replay notifies ``civicloop_deliveries`` (the delivery
  loop). Polling (``worker_poll_seconds``, or the time until the next retry) covers the rest, also a
  NOTIFY lost while the listener was reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import is_transient_database_error
from notifications import fanout, service
from notifications.channels import DeliveryFailed
from notifications.channels.email import EmailSender, OutgoingEmail
from notifications.channels.webhook import WebhookSender
from notifications.channels.webpush import PushGone, PushSender, payload_bytes
from notifications.fanout.account import fill_link
from notifications.outcomes import Outcomes, Stats, backoff_seconds
from notifications.settings import NotificationSettings
from notifications.supervision import LoopHealth, WorkerHealth, backoff, sleep_or_stop, supervise

__all__ = ["Stats", "Worker", "WorkerHealth", "backoff_seconds", "run_workers", "running_in_background"]

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

RENEW_LEASES_SQL = text("""
UPDATE notification_deliveries d
SET locked_until = clock_timestamp() + make_interval(secs => :lease)
FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS integer[])) AS claim(id, attempts)
WHERE d.id = claim.id AND d.attempts = claim.attempts AND d.status = 'sending'
""")

EMAIL_CHUNK = 25
"""Mails sent between two recordings of outcomes: the most a worker killed mid-batch can have sent
without recording it (and so the most that can go out twice), per delivery loop."""
LOOP_RETRY_BASE_SECONDS = 0.5
LOOP_RETRY_MAX_SECONDS = 4.0
"""A failed step is retried after 0.5, 1, 2, 4, 4, … s: after a database restart the worker is back
within ~4 s of the database."""


def _event(row: Any) -> fanout.Event:
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


async def _claim_event(session: AsyncSession, outbox_id: int) -> fanout.Event | None:
    row = (await session.execute(CLAIM_EVENT_SQL, {"id": outbox_id})).first()
    return None if row is None else _event(row)


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
            events = [_event(row) for row in rows]
            # The common case first: the whole batch under ONE savepoint and one INSERT. A savepoint and
            # an INSERT per event were most of the fixed cost of an event (3 of its ~6 round trips).
            try:
                async with session.begin_nested():
                    ctx = fanout.Context(session, self.settings)
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
                return await self._fan_out_one_by_one([event.id for event in events])
            await session.execute(MARK_PROCESSED_SQL, {"ids": [row.id for row in rows]})
            await session.execute(NOTIFY_DELIVERIES_SQL)
            await session.commit()
            return len(rows)

    async def _fan_out_one_by_one(self, outbox_ids: list[int]) -> int:
        """Each event in a transaction of its own; one that fails is dead-lettered in a fresh one.

        Why not a savepoint per event in the batch's transaction: whatever broke the event may have
        broken more than the savepoint (the session or its connection). Rolling the transaction back
        and writing the dead letter in a new one is the only way to be sure it is written. Events are
        claimed again one at a time with ``SKIP LOCKED``: another worker may have taken some meanwhile.
        """
        done = 0
        for outbox_id in outbox_ids:
            async with self.sessionmaker() as session:
                event = await _claim_event(session, outbox_id)
                if event is None:
                    await session.rollback()
                    continue
                try:
                    ctx = fanout.Context(session, self.settings)
                    await fanout.write_deliveries(session, await fanout.plan_deliveries(ctx, event))
                except Exception as error:
                    if is_transient_database_error(error):
                        raise
                    logger.exception(
                        "fan-out of event %s (%s) failed; writing a dead letter", event.id, event.topic
                    )
                    await session.rollback()
                    event = await _claim_event(session, outbox_id)
                    if event is None:
                        await session.rollback()
                        continue
                    await fanout.write_deliveries(session, [_fanout_dead_letter(event, error)])
                await session.execute(MARK_PROCESSED_SQL, {"ids": [outbox_id]})
                await session.execute(NOTIFY_DELIVERIES_SQL)
                await session.commit()
                done += 1
        return done

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
        outcomes = Outcomes(self.sessionmaker, self.settings, stats)
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for delivery in claimed:
            if delivery["attempts"] > self.settings.delivery_max_attempts:
                outcomes.note(delivery, DeliveryFailed("claimed too often without finishing", permanent=True))
            elif delivery["channel"] not in ("email", "push", "webhook", "inbox"):
                outcomes.note(delivery, DeliveryFailed(f"no channel {delivery['channel']!r}", permanent=True))
            else:
                by_channel.setdefault(delivery["channel"], []).append(delivery)
        for delivery in by_channel.get("inbox", []):
            outcomes.note(delivery, None)  # the recorder writes the inbox row with the delivery's status
        renewing = asyncio.create_task(self._renew_leases(claimed, outcomes), name="civicloop-lease-renewal")
        try:
            crashed = [
                result
                for result in await asyncio.gather(
                    self._send_email(by_channel.get("email", []), outcomes),
                    self._send_http(by_channel.get("push", []), by_channel.get("webhook", []), outcomes),
                    return_exceptions=True,
                )
                if isinstance(result, BaseException)
            ]
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        # What went out is recorded even when the database is briefly away (a restart): every send
        # recorded is one a re-claim after the lease will not send a second time.
        await outcomes.flush(until=time.monotonic() + self.settings.delivery_lease_seconds / 2)
        if crashed:
            raise crashed[0]
        return stats

    async def _renew_leases(self, claimed: list[dict[str, Any]], outcomes: Outcomes) -> None:
        """Keep the claim while a batch is being sent, so a slow batch is not claimed and sent again by
        another worker when its lease runs out; only a worker that stopped lets its lease expire."""
        interval = max(0.5, self.settings.delivery_lease_seconds / 3)
        params = {
            "ids": [delivery["id"] for delivery in claimed],
            "attempts": [delivery["attempts"] for delivery in claimed],
            "lease": self.settings.delivery_lease_seconds,
        }
        while True:
            await asyncio.sleep(interval)
            try:
                # Under the recorder's lock: while a batch is out, one database session at a time.
                async with outcomes.lock, self.sessionmaker() as session:
                    await session.execute(RENEW_LEASES_SQL, params)
                    await session.commit()
            except Exception as error:  # a missed renewal risks a duplicate, never a loss
                logger.warning("could not renew delivery leases: %s", type(error).__name__)

    async def _send_email(self, deliveries: list[dict[str, Any]], outcomes: Outcomes) -> None:
        # Recorded after every chunk: a worker killed mid-batch has sent at most one chunk that is not
        # recorded as delivered, and only that chunk can go out a second time.
        for start in range(0, len(deliveries), EMAIL_CHUNK):
            chunk = deliveries[start : start + EMAIL_CHUNK]
            mails = [
                OutgoingEmail(
                    delivery_id=d["id"],
                    event_id=str(d["event_id"]),
                    to=d["address"] or "",
                    subject=d["subject"] or "",
                    body=fill_link(self.settings, d),
                    unsubscribe_url=(d["data"] or {}).get("unsubscribe_url"),
                    locale=d["locale"] or "nl",
                )
                for d in chunk
            ]
            results = await asyncio.to_thread(self.email.send_many, mails)
            for delivery, outcome in zip(chunk, results, strict=True):
                outcomes.note(delivery, outcome)
            await outcomes.flush()

    async def _send_http(
        self, pushes: list[dict[str, Any]], hooks: list[dict[str, Any]], outcomes: Outcomes
    ) -> None:
        if not pushes and not hooks:
            return
        try:
            async with outcomes.lock, self.sessionmaker() as session:
                subscriptions = {
                    row.id: row
                    for row in await session.execute(
                        text(
                            "SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE id = ANY(:ids)"
                        ),
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
        except Exception as error:
            failure = DeliveryFailed(f"could not read the targets: {type(error).__name__}")
            for delivery in [*pushes, *hooks]:
                outcomes.note(delivery, failure)
            return
        limit = asyncio.Semaphore(32)

        async def push(delivery: dict[str, Any]) -> None:
            subscription = subscriptions.get(delivery["data"].get("subscription_id"))
            if subscription is None:
                raise DeliveryFailed("the push subscription was removed", permanent=True)
            data = {k: v for k, v in delivery["data"].items() if k not in ("subscription_id", "answer_token")}
            body = payload_bytes(
                event_id=str(delivery["event_id"]),
                topic=delivery["topic"],
                title=delivery["subject"],
                body=delivery["body"],
                data=data,
            )
            try:
                await self.push.send(
                    endpoint=subscription.endpoint,
                    p256dh=subscription.p256dh,
                    auth=subscription.auth,
                    payload=body,
                )
            except PushGone:
                outcomes.gone(subscription.id)
                raise

        async def hook(delivery: dict[str, Any]) -> None:
            endpoint = endpoints.get(delivery["data"].get("webhook_id"))
            if endpoint is None or not endpoint.is_active:
                raise DeliveryFailed("the webhook was removed or disabled", permanent=True)
            body = json.dumps(delivery["data"]["body"], ensure_ascii=False, separators=(",", ":")).encode()
            await self.webhooks.send(
                url=endpoint.url,
                secret=endpoint.secret,
                allow_private_network=endpoint.allow_private_network,
                event_id=str(delivery["event_id"]),
                body=body,
            )

        async def one(send: Callable[[dict[str, Any]], Awaitable[None]], delivery: dict[str, Any]) -> None:
            """A failure of one delivery — whatever it raises — is that delivery's failure."""
            async with limit:
                try:
                    await send(delivery)
                    failure = None
                except DeliveryFailed as error:
                    failure = error
                except Exception as error:
                    logger.warning(
                        "%s delivery %s failed: %s", delivery["channel"], delivery["id"], type(error).__name__
                    )
                    failure = DeliveryFailed(f"{type(error).__name__}: {error}", permanent=True)
            outcomes.note(delivery, failure)
            await outcomes.flush(minimum=EMAIL_CHUNK)

        await asyncio.gather(*(one(push, d) for d in pushes), *(one(hook, d) for d in hooks))

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

    async def run(
        self, *, listen_url: str, stop: asyncio.Event, health: WorkerHealth | None = None, name: str = "0"
    ) -> None:
        """Run until ``stop`` is set. Fan-out and delivery are two loops, so sending a batch overlaps
        with fanning out the next; LISTEN wakes each, polling covers due retries and lost wake-ups.
        Each loop runs under :func:`supervise`: if it ever dies, it is logged and started again."""
        health = health or WorkerHealth()

        async def fan_out_step() -> bool:
            scheduled = await self.schedule()
            return bool(await self.fan_out() or scheduled)

        async def deliver_step() -> bool:
            return (await self.deliver()).worked

        loops = (
            (
                health.loop(f"fanout-{name}"),
                fan_out_step,
                "civicloop_outbox",
                self.settings.worker_poll_seconds,
            ),
            (health.loop(f"delivery-{name}"), deliver_step, "civicloop_deliveries", None),
        )
        await asyncio.gather(
            *(
                supervise(
                    functools.partial(self._loop, listen_url, stop, step, channel, poll, loop),
                    health=loop,
                    stop=stop,
                )
                for loop, step, channel, poll in loops
            )
        )

    async def _loop(
        self,
        listen_url: str,
        stop: asyncio.Event,
        step: Callable[[], Awaitable[bool]],
        channel: str,
        poll: float | None,
        health: LoopHealth,
    ) -> None:
        """One step after another; a step that fails — for any reason — is logged, counted and retried
        with back-off. The LISTEN connection is opened again after any failure: a database restart
        ends it, and a loop that only polled would still deliver, but seconds later."""
        listener: psycopg.AsyncConnection[Any] | None = None
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if listener is None or listener.closed:
                        listener = await psycopg.AsyncConnection.connect(listen_url, autocommit=True)
                        await listener.execute(f"LISTEN {channel}")
                        if failures:
                            logger.info("worker loop %s: database back, listening again", health.name)
                    worked = await step()
                    health.beat()
                    failures = 0
                    if worked:
                        continue
                    timeout = poll if poll is not None else await self._seconds_until_due()
                    if timeout > 0:
                        await _notified_or_stopped(listener, timeout, stop)
                except Exception as error:
                    failures += 1
                    health.failed(error)
                    delay = backoff(failures, base=LOOP_RETRY_BASE_SECONDS, ceiling=LOOP_RETRY_MAX_SECONDS)
                    if is_transient_database_error(error) or isinstance(error, OSError):
                        logger.warning(
                            "worker loop %s lost the database (%s); retrying in %.1f s",
                            health.name,
                            str(error).strip().splitlines()[0]
                            if str(error).strip()
                            else type(error).__name__,
                            delay,
                        )
                    else:
                        logger.exception(
                            "worker loop %s: a step failed; retrying in %.1f s", health.name, delay
                        )
                    await _close(listener)
                    listener = None
                    await sleep_or_stop(stop, delay)
        finally:
            await _close(listener)


async def _notified_or_stopped(
    listener: psycopg.AsyncConnection[Any], seconds: float, stop: asyncio.Event
) -> None:
    """Wait for a NOTIFY, the timeout or ``stop``, whichever comes first (a stop need not wait a poll)."""

    async def notified() -> None:
        async for _ in listener.notifies(timeout=seconds, stop_after=1):
            pass

    waiting = asyncio.ensure_future(notified())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiting, stopping):
            task.cancel()
        await asyncio.gather(waiting, stopping, return_exceptions=True)
    if waiting.done() and not waiting.cancelled() and (error := waiting.exception()) is not None:
        raise error


async def _close(connection: psycopg.AsyncConnection[Any] | None) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.close()


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
    health: WorkerHealth | None = None,
) -> None:
    health = health or WorkerHealth(stale_after_seconds=stale_after_seconds(settings))
    workers = [Worker(sessionmaker, settings) for _ in range(concurrency)]
    try:
        await asyncio.gather(
            *(
                worker.run(listen_url=listen_url, stop=stop, health=health, name=str(number))
                for number, worker in enumerate(workers)
            )
        )
    finally:
        for worker in workers:
            await worker.aclose()


def stale_after_seconds(settings: NotificationSettings) -> float:
    """A loop that completed no iteration for this long is stuck: longer than a poll and a batch."""
    return max(60.0, 5 * settings.worker_poll_seconds, settings.delivery_lease_seconds)


@dataclass
class BackgroundWorker:
    task: asyncio.Task[None]
    health: WorkerHealth


@contextlib.asynccontextmanager
async def running_in_background(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: NotificationSettings,
    *,
    listen_url: str,
    concurrency: int = 1,
) -> AsyncIterator[BackgroundWorker]:
    """For the app's lifespan (``civicloop serve``): the worker as a task next to the API."""
    stop = asyncio.Event()
    health = WorkerHealth(stale_after_seconds=stale_after_seconds(settings))
    task = asyncio.create_task(
        run_workers(
            sessionmaker, settings, listen_url=listen_url, stop=stop, concurrency=concurrency, health=health
        ),
        name="civicloop-notifications-worker",
    )

    def ended(finished: asyncio.Task[None]) -> None:
        # Each loop is supervised, so this is a bug in the supervision itself; say so, loudly, at once.
        if not stop.is_set() and not finished.cancelled():
            logger.critical("the notifications worker stopped: %r", finished.exception())

    task.add_done_callback(ended)
    try:
        yield BackgroundWorker(task, health)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
