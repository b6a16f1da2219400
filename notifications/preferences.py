"""Which kinds of message a recipient gets on which channel, and the one-click unsubscribe link
(RFC 8058) that switches one of them off without a sign-in."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from notifications import queries, tokens
from notifications.errors import MalformedLinkToken
from notifications.models import KINDS
from notifications.settings import NotificationSettings

USER_CHANNELS = ("email", "push", "inbox")
"""The channels that reach a person (webhooks reach systems and are configured by administrators)."""

Matrix = dict[str, dict[str, bool]]


def account_key(account_id: int) -> str:
    """The recipient key of an account in preferences (an unsubscribe link may name other recipients)."""
    return f"account:{account_id}"


async def preferences(session: AsyncSession, *, recipient: str) -> Matrix:
    """Kind → channel → on; every switch the recipient never touched is on."""
    matrix = {kind: dict.fromkeys(USER_CHANNELS, True) for kind in KINDS}
    for row in await queries.preference_rows(session, recipient=recipient):
        matrix[row.kind][row.channel] = row.enabled
    return matrix


async def change_preferences(
    session: AsyncSession, *, recipient: str, changes: Iterable[tuple[str, str, bool]]
) -> Matrix:
    """Apply (kind, channel, enabled) switches in order; the whole matrix afterwards."""
    for kind, channel, enabled in changes:
        await queries.upsert_preference(
            session, recipient=recipient, kind=kind, channel=channel, enabled=enabled
        )
    return await preferences(session, recipient=recipient)


def unsubscribe_claims(settings: NotificationSettings, token: str) -> tuple[str, str, str]:
    """(recipient, kind, channel) of a genuine, well-formed unsubscribe link; preview and POST agree."""
    claims = tokens.verify(settings.secret_key.get_secret_value(), "unsubscribe", token)
    recipient, kind, channel = claims.get("r"), claims.get("k"), claims.get("c")
    if not isinstance(recipient, str) or kind not in KINDS or channel not in USER_CHANNELS:
        raise MalformedLinkToken("this unsubscribe link is malformed")
    return recipient, str(kind), str(channel)


async def unsubscribe(
    session: AsyncSession, *, settings: NotificationSettings, token: str
) -> tuple[str, str]:
    """RFC 8058: the POST from the mail client itself, no sign-in; the token says who and what.
    The (kind, channel) switched off."""
    recipient, kind, channel = unsubscribe_claims(settings, token)
    await queries.upsert_preference(session, recipient=recipient, kind=kind, channel=channel, enabled=False)
    return kind, channel
