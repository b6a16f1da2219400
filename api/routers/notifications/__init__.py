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
routes under a jurisdiction, ``links`` the PUBLIC ones under ``/api/v1/notifications``.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routers.notifications import administration, feedback, inbox, metrics, public, subscriptions

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["notifications"])
for part in (inbox, subscriptions, feedback, administration, metrics):
    router.include_router(part.router)

links = public.router

__all__ = ["links", "router"]
