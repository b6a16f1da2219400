"""What a resident follows: areas (new reports there, instantly or as a daily digest) and the devices
that receive web push. The daily digests are issued here too, by the worker."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import record_event
from geo.errors import AreaNotFound
from notifications import queries
from notifications.channels.network import check_url_syntax, resolve
from notifications.errors import (
    InvalidPushKey,
    InvalidPushSubscription,
    PushEndpointTaken,
    SubscriptionNotFound,
)
from notifications.events import AreaDigest
from notifications.models import AreaSubscription, PushSubscription
from notifications.settings import NotificationSettings

# ---------------------------------------------------------------------------------------------------
# Area alerts


async def subscribe_area(
    session: AsyncSession, *, jurisdiction_id: int, account_id: int, area_id: int, frequency: str
) -> AreaSubscription:
    if not await queries.area_in_jurisdiction(session, area_id=area_id, jurisdiction_id=jurisdiction_id):
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    return await queries.upsert_area_subscription(
        session, account_id=account_id, area_id=area_id, frequency=frequency
    )


async def unsubscribe_area(session: AsyncSession, *, account_id: int, area_id: int) -> None:
    if not await queries.delete_area_subscription(session, account_id=account_id, area_id=area_id):
        raise SubscriptionNotFound(f"you do not follow area {area_id}")


async def issue_due_digests(session: AsyncSession, *, interval_seconds: float, limit: int = 500) -> int:
    """One digest event per daily subscription that is due and has new reports; each due subscription's
    clock restarts either way. Returns how many digests were issued."""
    issued = 0
    for row in await queries.due_digests(session, interval_seconds=interval_seconds, limit=limit):
        report_ids = await queries.digest_report_ids(
            session,
            area_id=row.area_id,
            jurisdiction_id=row.jurisdiction_id,
            since=row.last_digest_at,
            account_id=row.account_id,
        )
        if report_ids:
            await record_event(
                session,
                jurisdiction_id=row.jurisdiction_id,
                event=AreaDigest(account_id=row.account_id, area_id=row.area_id, report_ids=report_ids),
            )
            issued += 1
        await queries.mark_digested(session, subscription_id=row.id)
    return issued


# ---------------------------------------------------------------------------------------------------
# Web push subscriptions


def _b64url(value: str, *, length: int, name: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as error:
        raise InvalidPushSubscription(f"keys.{name} is not base64url") from error
    if len(raw) != length:
        raise InvalidPushSubscription(f"keys.{name} must be {length} bytes")
    return raw


async def register_push(
    session: AsyncSession,
    *,
    settings: NotificationSettings,
    account_id: int,
    endpoint: str,
    p256dh: str,
    auth: str,
) -> PushSubscription:
    """An endpoint is a capability URL the browser gave this device. It is bound to its owner: another
    account may take it over only with the subscription's own keys (the same browser subscription, e.g.
    after signing in to another account on this device); knowing the URL alone is not enough."""
    scheme, _, _ = check_url_syntax(endpoint)
    point = _b64url(p256dh, length=65, name="p256dh")
    try:
        # The encryption of every push to this device needs the point on the curve; checked here,
        # once, instead of failing at each delivery.
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as error:
        raise InvalidPushKey(
            "keys.p256dh is not a point on the P-256 curve (an uncompressed public key of 65 bytes)"
        ) from error
    _b64url(auth, length=16, name="auth")
    target = await resolve(endpoint, allowlist=settings.network_allowlist)
    if scheme != "https" and not target.allowlisted:
        raise InvalidPushSubscription("push endpoints must use https")
    subscription = await queries.upsert_push_subscription(
        session, account_id=account_id, endpoint=endpoint, p256dh=p256dh, auth=auth
    )
    if subscription is None:
        raise PushEndpointTaken(
            "this push endpoint belongs to another account; unsubscribe in the browser and subscribe again"
        )
    return subscription


async def delete_push(session: AsyncSession, *, account_id: int, subscription_id: int) -> None:
    if not await queries.delete_push_subscription(
        session, account_id=account_id, subscription_id=subscription_id
    ):
        raise SubscriptionNotFound(f"no push subscription {subscription_id} of yours")
