"""Expected failures of notifications, each with a stable code."""

from __future__ import annotations

from core.errors import Conflict, ConstraintRule, Forbidden, InvalidInput, NotFound


class InboxMessageNotFound(NotFound):
    code = "inbox-message-not-found"
    title = "Inbox message not found"


class SubscriptionNotFound(NotFound):
    code = "subscription-not-found"
    title = "Subscription not found"


class WebhookNotFound(NotFound):
    code = "webhook-not-found"
    title = "Webhook not found"


class DeliveryNotFound(NotFound):
    code = "delivery-not-found"
    title = "Delivery not found"


class SatisfactionRequestNotFound(NotFound):
    code = "satisfaction-request-not-found"
    title = "Satisfaction request not found"


class ReopenRequestNotFound(NotFound):
    code = "reopen-request-not-found"
    title = "Reopen request not found"


class TemplateOverrideNotFound(NotFound):
    code = "template-override-not-found"
    title = "Template override not found"


class InvalidLinkToken(Forbidden):
    """A signed link that was tampered with, expired, or made for something else."""

    code = "invalid-link-token"
    title = "Invalid link token"


class AlreadyAnswered(Conflict):
    code = "already-answered"
    title = "Already answered"


class AlreadyDecided(Conflict):
    code = "already-decided"
    title = "Already decided"


class NotYetAsked(Conflict):
    code = "satisfaction-not-asked-yet"
    title = "Satisfaction not asked yet"


class ForbiddenTarget(InvalidInput):
    """A URL the SSRF guard refuses: it resolves to loopback, link-local, private or reserved space."""

    code = "forbidden-target"
    title = "Forbidden target"


class UnknownTemplate(InvalidInput):
    code = "unknown-template"
    title = "Unknown template"


class InvalidPeriod(InvalidInput):
    code = "invalid-period"
    title = "Invalid period"


class PushEndpointTaken(Conflict):
    code = "push-endpoint-taken"
    title = "Push endpoint taken"


# One class per code raised at a single place, beside its family.


class UnresolvableTarget(ForbiddenTarget):
    """A webhook or push host that does not resolve."""

    code = "unresolvable-target"
    title = "Unresolvable target"


class InvalidPushSubscription(InvalidInput):
    code = "invalid-push-subscription"
    title = "Invalid push subscription"


class InvalidPushKey(InvalidInput):
    code = "invalid-push-key"
    title = "Invalid push key"


class MalformedLinkToken(InvalidInput):
    """An unsubscribe or satisfaction link that is malformed (a tampered or misused one:
    ``invalid-link-token``, 403)."""

    code = "malformed-link-token"
    title = "Malformed link"


class UnknownTopic(InvalidInput):
    code = "unknown-topic"
    title = "Unknown topic"


class InvalidNull(InvalidInput):
    """Only ``description`` may be set to null."""

    code = "invalid-null"
    title = "Invalid null"


class MessageRequired(InvalidInput):
    """Say why the report stays closed."""

    code = "message-required"
    title = "Message required"


class UnknownPlaceholder(UnknownTemplate):
    code = "unknown-placeholder"
    title = "Unknown placeholder"


# The constraints of notifications' tables a request can reach, by name (see core.errors.ConstraintRule).
CONSTRAINTS: dict[str, ConstraintRule] = {
    "uq_push_subscriptions_endpoint": ConstraintRule(
        PushEndpointTaken,
        "this push endpoint belongs to another account; unsubscribe in the browser and subscribe again",
    ),
    "ck_satisfaction_requests_score": ConstraintRule(InvalidInput, "the score lies between 1 and 5"),
}
