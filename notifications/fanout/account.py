"""Mails about a resident's account (``account.link``): confirm a sign-up, the note to the owner of a
known address, a password reset. Transactional: e-mail only, never switched off by a preference, no
unsubscribe footer. The link itself is not in the delivery row: its place holds
``core.account_links.LINK_PLACEHOLDER`` and the worker puts the link in when it sends the mail
(:func:`fill_link`), so no table holds a usable token.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from core.account_links import LINK_PLACEHOLDER, AccountLinkIssued, link_url
from notifications.fanout.base import Context, Event, Outcome, Plan, Recipient, handles
from notifications.settings import NotificationSettings

TEMPLATES = {
    "sign-up": "account.sign_up",
    "sign-up-exists": "account.sign_up_exists",
    "password-reset": "account.password_reset",
}


@handles(AccountLinkIssued.topic)
async def account_link(ctx: Context, event: Event) -> Outcome:
    link_id = (await ctx.payload(event, AccountLinkIssued)).link_id
    link = (
        await ctx.session.execute(
            text(
                "SELECT id, purpose, email, locale, used_at, expires_at > now() AS valid FROM account_links"
                " WHERE id = :id AND jurisdiction_id = :j"
            ),
            {"id": link_id, "j": event.jurisdiction_id},
        )
    ).first()
    if link is None or link.used_at is not None or not link.valid:
        return Outcome([], webhook_safe=False)  # used or expired before the mail went out: nothing to send
    recipient = Recipient(account_id=None, locale=link.locale, email=link.email)
    return Outcome(
        [
            Plan(
                "account",
                TEMPLATES[link.purpose],
                [recipient],
                lambda _locale: {"url": LINK_PLACEHOLDER},
                data={"account_link": {"id": link.id, "purpose": link.purpose}},
                transactional=True,
            )
        ],
        webhook_safe=False,
    )


def fill_link(settings: NotificationSettings, delivery: dict[str, Any]) -> str:
    """The mail's body with the account link in its place (computed now, never stored)."""
    body: str = delivery["body"] or ""
    link = (delivery.get("data") or {}).get("account_link")
    if not link or LINK_PLACEHOLDER not in body:
        return body
    url = link_url(
        settings.public_base_url, settings.secret_key.get_secret_value(), link["purpose"], int(link["id"])
    )
    return body.replace(LINK_PLACEHOLDER, url)
