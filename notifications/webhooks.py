"""A municipality's webhooks: where events go to other systems. Every target passes the SSRF guard
when it is set, and every topic must be one the fan-out knows. The secret that signs the deliveries
is made here and shown once (at creation and when rotated)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import queries
from notifications.channels.network import resolve
from notifications.errors import InvalidNull, UnknownTopic, WebhookNotFound
from notifications.fanout import HANDLERS
from notifications.models import WebhookEndpoint
from notifications.settings import NotificationSettings

NULLABLE = frozenset({"description"})
"""The only field a change may set to null; every other one has a value or is left out."""


async def _check_target(settings: NotificationSettings, url: str, allow_private_network: bool) -> None:
    await resolve(url, allow_private=allow_private_network, allowlist=settings.network_allowlist)


def _check_topics(topics: list[str]) -> None:
    if unknown := sorted(set(topics) - set(HANDLERS)):
        raise UnknownTopic(f"unknown topics: {', '.join(unknown)}", allowed=sorted(HANDLERS))


async def create_webhook(
    session: AsyncSession, *, settings: NotificationSettings, jurisdiction_id: int, data: dict[str, Any]
) -> WebhookEndpoint:
    await _check_target(settings, data["url"], data.get("allow_private_network", False))
    _check_topics(data.get("topics", []))
    webhook = WebhookEndpoint(jurisdiction_id=jurisdiction_id, secret=secrets.token_urlsafe(32), **data)
    session.add(webhook)
    await session.flush()
    return webhook


async def get_webhook(session: AsyncSession, *, jurisdiction_id: int, webhook_id: int) -> WebhookEndpoint:
    webhook = await queries.webhook(session, jurisdiction_id=jurisdiction_id, webhook_id=webhook_id)
    if webhook is None:
        raise WebhookNotFound(f"no webhook {webhook_id} in this jurisdiction")
    return webhook


async def update_webhook(
    session: AsyncSession,
    *,
    settings: NotificationSettings,
    jurisdiction_id: int,
    webhook_id: int,
    changes: dict[str, Any],
    rotate_secret: bool = False,
) -> WebhookEndpoint:
    """Apply the fields given (``changes`` holds only those the caller set)."""
    if any(value is None for key, value in changes.items() if key not in NULLABLE):
        raise InvalidNull("only description may be set to null")
    webhook = await get_webhook(session, jurisdiction_id=jurisdiction_id, webhook_id=webhook_id)
    if "url" in changes or "allow_private_network" in changes:
        await _check_target(
            settings,
            changes.get("url", webhook.url),
            changes.get("allow_private_network", webhook.allow_private_network),
        )
    if "topics" in changes:
        _check_topics(changes["topics"])
    for key, value in changes.items():
        setattr(webhook, key, value)
    if rotate_secret:
        webhook.secret = secrets.token_urlsafe(32)
    await session.flush()
    return webhook


async def delete_webhook(session: AsyncSession, *, jurisdiction_id: int, webhook_id: int) -> None:
    webhook = await get_webhook(session, jurisdiction_id=jurisdiction_id, webhook_id=webhook_id)
    await session.delete(webhook)
    await session.flush()
