"""Notifications over HTTP: the inbox, preferences, area alerts, web push, webhooks, dead letters,
template overrides, satisfaction answers, reopen decisions and the closing-the-loop metrics.

Policies: residents manage their own inbox, preferences and subscriptions; administrators the
webhooks, dead letters and templates (they configure where personal data may go); field staff decide
reopen requests of their departments. The metrics are COUNCIL (council members and administrators):
they are aggregate numbers for the council dashboard, and a council member's grant is scoped to an
area, so a member sees the metrics of their own area (and its sub-areas), an administrator all.
Two routes are PUBLIC on purpose and carry a signed token instead of a sign-in: one-click
unsubscribe (RFC 8058: the mail client POSTs without cookies) and answering a satisfaction request
from the link in the mail.

The routes only translate HTTP; the rules are in the ``notifications`` package. ``router`` holds the
routes under a jurisdiction, ``links`` the PUBLIC ones under ``/api/v1/notifications``; each module
below adds its routes to them when imported.
"""

from __future__ import annotations

# The order of these imports is the order of the routes, and of the paths in the OpenAPI document.
# isort: off
from api.routers.notifications import inbox, subscriptions, feedback, administration, metrics, public

# isort: on
from api.routers.notifications.common import links, router

ROUTE_MODULES = (inbox, subscriptions, feedback, administration, metrics, public)

__all__ = ["ROUTE_MODULES", "links", "router"]
