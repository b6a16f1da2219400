"""Fan-out: one outbox event → deliveries, one per recipient × channel.

A registry maps each topic to a small handler (:data:`HANDLERS`, filled by :func:`handles`), one module
per domain: ``reports`` (report events and the report messages notifications schedules), ``alerts``
(the area digest), ``participation`` (rounds, projects, consultations), ``account`` (account mails).
A handler reads the event's typed payload (``core.events``; rows of older versions are upgraded first,
see ``legacy``) and returns *plans*: who (recipients), what kind of message (for preferences), which
template, and the values to fill it with in each language. ``deliveries`` then applies preferences,
renders per recipient language and writes the delivery rows, and adds the webhooks' rows. An unknown
topic tells nobody (webhooks still get it). URLs come from ``notifications.links``.
"""

from __future__ import annotations

from notifications.fanout import account, alerts, participation, reports  # noqa: F401  (register handlers)
from notifications.fanout.base import (
    HANDLERS,
    Context,
    Event,
    Handler,
    Outcome,
    Plan,
    Recipient,
    email_key,
    handles,
    localized,
)
from notifications.fanout.deliveries import (
    PERSONAL_KEYS,
    PERSONAL_TOPICS,
    USER_CHANNELS,
    plan_deliveries,
    unsubscribe_page,
    unsubscribe_token,
    unsubscribe_url,
    webhook_body,
    write_deliveries,
)

__all__ = [
    "HANDLERS",
    "PERSONAL_KEYS",
    "PERSONAL_TOPICS",
    "USER_CHANNELS",
    "Context",
    "Event",
    "Handler",
    "Outcome",
    "Plan",
    "Recipient",
    "email_key",
    "handles",
    "localized",
    "plan_deliveries",
    "unsubscribe_page",
    "unsubscribe_token",
    "unsubscribe_url",
    "webhook_body",
    "write_deliveries",
]
