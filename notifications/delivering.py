"""Sending what was claimed: e-mail in chunks, push and webhooks concurrently, inbox rows, leases renewed.

The delivery loop's one step (``Delivering.deliver``) and everything it needs on the network side: the
senders, the chunking that bounds duplicates after a crash (``EMAIL_CHUNK``), the rule that whatever one
delivery raises is that delivery's failure, and the lease renewal that keeps a slow batch from being
claimed by a second worker. It is separate from ``notifications.claiming`` (which rows are whose: SQL and
transactions) and from ``notifications.worker`` (the loops, LISTEN and supervision) because this is the
part that talks to SMTP servers, push services and webhooks, and where their failures are classified.

``Delivering`` is built by the worker for each step from its *current* settings and senders, so a
changed ``Worker.settings`` takes effect at the next step, as it always has.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.channels import DeliveryFailed
from notifications.channels.email import EmailSender, OutgoingEmail
from notifications.channels.webhook import WebhookSender
from notifications.channels.webpush import PushGone, PushSender, payload_bytes
from notifications.claiming import claim_deliveries
from notifications.fanout.account import fill_link
from notifications.outcomes import Outcomes, Stats
from notifications.settings import NotificationSettings

# The worker's logger: one name for the whole worker, whichever module logs.
logger = logging.getLogger("civicloop.notifications.worker")

RENEW_LEASES_SQL = text("""
UPDATE notification_deliveries d
SET locked_until = clock_timestamp() + make_interval(secs => :lease)
FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS integer[])) AS claim(id, attempts)
WHERE d.id = claim.id AND d.attempts = claim.attempts AND d.status = 'sending'
""")

EMAIL_CHUNK = 25
"""Mails sent between two recordings of outcomes: the most a worker killed mid-batch can have sent
without recording it (and so the most that can go out twice), per delivery loop."""


@dataclass(frozen=True, slots=True)
class Delivering:
    """One delivery step's collaborators: the worker's session factory, settings and senders."""

    sessionmaker: async_sessionmaker[AsyncSession]
    settings: NotificationSettings
    email: EmailSender
    push: PushSender
    webhooks: WebhookSender

    async def deliver(self) -> Stats:
        """Claim a batch, send it over every channel at once, record each outcome; the leases are
        renewed while the batch is out. A delivery's failure is that delivery's, never the batch's."""
        stats = Stats()
        claimed = await claim_deliveries(self.sessionmaker, self.settings)
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
