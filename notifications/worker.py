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

This module is the worker's public face and its supervision (the two loops, LISTEN, back-off, the
background task of ``civicloop serve``). The work itself lives beside it: ``notifications.claiming``
(the claims, fan-out and its dead letter: SQL and transactions) and ``notifications.delivering``
(sending a claimed batch: chunks, channels, lease renewal).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import is_transient_database_error
from notifications import claiming, feedback, subscriptions
from notifications.channels.email import EmailSender
from notifications.channels.webhook import WebhookSender
from notifications.channels.webpush import PushSender
from notifications.delivering import EMAIL_CHUNK, Delivering
from notifications.outcomes import Stats, backoff_seconds
from notifications.settings import NotificationSettings
from notifications.supervision import LoopHealth, WorkerHealth, backoff, sleep_or_stop, supervise

__all__ = [
    "EMAIL_CHUNK",
    "Stats",
    "Worker",
    "WorkerHealth",
    "backoff_seconds",
    "run_workers",
    "running_in_background",
]

logger = logging.getLogger("civicloop.notifications.worker")

LOOP_RETRY_BASE_SECONDS = 0.5
LOOP_RETRY_MAX_SECONDS = 4.0
"""A failed step is retried after 0.5, 1, 2, 4, 4, … s: after a database restart the worker is back
within ~4 s of the database."""


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

    # -- the work (notifications.claiming, notifications.delivering) -----------------------------

    async def fan_out(self) -> int:
        return await claiming.fan_out(self.sessionmaker, self.settings)

    async def deliver(self) -> Stats:
        # Built per step from the current settings and senders: a test may swap ``settings`` between steps.
        return await Delivering(
            self.sessionmaker, self.settings, self.email, self.push, self.webhooks
        ).deliver()

    # -- scheduled work --------------------------------------------------------------------------

    async def schedule(self, *, force: bool = False) -> int:
        now = time.monotonic()
        if not force and now - self._last_schedule < self.settings.worker_schedule_seconds:
            return 0
        self._last_schedule = now
        async with self.sessionmaker() as session:
            issued = await feedback.issue_due_satisfaction_requests(session)
            issued += await subscriptions.issue_due_digests(
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
        return await claiming.seconds_until_due(self.sessionmaker, self.settings)

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
