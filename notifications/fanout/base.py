"""What every fan-out handler shares: the event as read from the outbox, the plan a handler returns, the
batch's context, and the registry topic → handler."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import EVENT_TYPES, EventPayload, Link
from notifications import links, templates
from notifications.fanout import legacy
from notifications.settings import NotificationSettings

P = TypeVar("P", bound=EventPayload)


@dataclass(frozen=True, slots=True)
class Event:
    """An outbox row. ``payload`` is the stored JSON (webhooks get it as it is); handlers read it typed,
    through :meth:`Context.payload`."""

    id: int
    event_id: str
    jurisdiction_id: int
    topic: str
    aggregate_type: str
    aggregate_id: int
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Recipient:
    account_id: int | None
    locale: str
    email: str | None

    @property
    def key(self) -> str:
        if self.account_id is not None:
            return f"account:{self.account_id}"
        return email_key(self.email or "")


def email_key(address: str) -> str:
    return "email:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()


Values = Callable[[str], dict[str, object]]
"""The values to fill a template with, per locale."""


@dataclass
class Plan:
    kind: str
    template: str
    recipients: list[Recipient]
    values: Values
    status: str | None = None
    category: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    transactional: bool = False
    """About the recipient's own account (a link they asked for): e-mail only, whatever the preferences,
    without an unsubscribe footer."""


@dataclass
class Outcome:
    plans: list[Plan]
    webhook_safe: bool = True
    """False for events about non-public reports: only webhooks allowed personal data get them."""


@dataclass
class Context:
    """What one fan-out batch shares: the session, settings and per-batch caches."""

    session: AsyncSession
    settings: NotificationSettings
    jurisdictions: dict[int, Any] = field(default_factory=dict)
    overrides: dict[tuple[int, str], list[templates.Override]] = field(default_factory=dict)
    webhooks: dict[int, list[Any]] = field(default_factory=dict)

    async def jurisdiction(self, jurisdiction_id: int) -> Any:
        if jurisdiction_id not in self.jurisdictions:
            self.jurisdictions[jurisdiction_id] = (
                await self.session.execute(
                    text("SELECT id, slug, name, default_locale FROM jurisdictions WHERE id = :id"),
                    {"id": jurisdiction_id},
                )
            ).one()
        return self.jurisdictions[jurisdiction_id]

    async def payload(self, event: Event, payload_type: type[P]) -> P:
        """The event's payload as ``payload_type``, rows of older versions upgraded first (see ``legacy``).
        A payload that does not fit raises (the worker writes the event's dead letter)."""
        stored = await legacy.upgrade(
            self.session,
            jurisdiction_id=event.jurisdiction_id,
            topic=event.topic,
            aggregate_type=event.aggregate_type,
            aggregate_id=event.aggregate_id,
            payload=event.payload,
        )
        try:
            return payload_type.model_validate(stored)
        except ValidationError as error:
            # A ValueError with pydantic's account of each field: what the dead letter shows.
            raise ValueError(f"{event.topic} payload is not a {payload_type.__name__}: {error}") from None

    async def registered_payload(self, event: Event) -> EventPayload:
        """The payload by its topic's registered type: for emitters ``notifications`` may not import."""
        payload_type = EVENT_TYPES.get(event.topic)
        if payload_type is None:
            raise LookupError(
                f"no payload type registered for {event.topic!r}: the process must import its emitter's"
                " events module (the composition root, ``api``, imports them all)"
            )
        return await self.payload(event, payload_type)

    def url(self, path: str, *, jurisdiction: str | None = None, **parts: object) -> str:
        return links.public_url(self.settings.public_base_url, path, jurisdiction=jurisdiction, **parts)

    def app_url(self, link: Link, *, jurisdiction: str | None = None) -> str:
        return links.app_url(self.settings.public_base_url, link, jurisdiction=jurisdiction)


Handler = Callable[[Context, Event], Awaitable[Outcome]]
HANDLERS: dict[str, Handler] = {}


def handles(*topics: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for topic in topics:
            HANDLERS[topic] = handler
        return handler

    return register


def localized(value: object, locale: str) -> str:
    if isinstance(value, dict):
        return str(value.get(locale) or value.get("nl") or value.get("en") or next(iter(value.values()), ""))
    return "" if value is None else str(value)
