"""Expected failures of notifications, each with a stable code."""

from __future__ import annotations

from core.errors import Conflict, ConstraintRule, Forbidden, InvalidInput, NotFound


class InboxMessageNotFound(NotFound):
    code = "inbox-message-not-found"


class SubscriptionNotFound(NotFound):
    code = "subscription-not-found"


class WebhookNotFound(NotFound):
    code = "webhook-not-found"


class DeliveryNotFound(NotFound):
    code = "delivery-not-found"


class SatisfactionRequestNotFound(NotFound):
    code = "satisfaction-request-not-found"


class ReopenRequestNotFound(NotFound):
    code = "reopen-request-not-found"


class TemplateOverrideNotFound(NotFound):
    code = "template-override-not-found"


class InvalidLinkToken(Forbidden):
    """A signed link that was tampered with, expired, or made for something else."""

    code = "invalid-link-token"


class AlreadyAnswered(Conflict):
    code = "already-answered"


class AlreadyDecided(Conflict):
    code = "already-decided"


class NotYetAsked(Conflict):
    code = "satisfaction-not-asked-yet"


class ForbiddenTarget(InvalidInput):
    """A URL the SSRF guard refuses: it resolves to loopback, link-local, private or reserved space."""

    code = "forbidden-target"


class UnknownTemplate(InvalidInput):
    code = "unknown-template"


class InvalidPeriod(InvalidInput):
    code = "invalid-period"


class PushEndpointTaken(Conflict):
    code = "push-endpoint-taken"


# The constraints of notifications' tables a request can reach, by name (see core.errors.ConstraintRule).
CONSTRAINTS: dict[str, ConstraintRule] = {
    "uq_push_subscriptions_endpoint": ConstraintRule(
        PushEndpointTaken,
        "this push endpoint belongs to another account; unsubscribe in the browser and subscribe again",
    ),
    "ck_satisfaction_requests_score": ConstraintRule(InvalidInput, "the score lies between 1 and 5"),
}
