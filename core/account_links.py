"""Sessions that can end, and e-mail links that prove an address: sign-up confirmation, password reset,
password change, sign-out (one token or all of them).

A sign-up never says whether the address has an account (it answered 409 ``account-exists``, which let
anyone test addresses): the answer is always "check your mail", and the mail says what to do — confirm
the new account, or, to the owner of a known address, that someone tried and how to reset the password.
The password is hashed in both cases, so the time taken says nothing either. A password reset answers the
same for every address. A link's token is ``id.HMAC(secret, purpose ‖ id)``: nothing secret is stored
(not in the link's row, not in the outbox, not in the delivery row: the worker puts the link into the
mail when it sends it), links expire and work once, and a reset or a change of password ends every
session of the account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import issue_token
from core.blocking import password_hashing
from core.errors import (
    AccountExists,
    InvalidLink,
    LinkExpired,
    LinkUsed,
    NoPassword,
    WrongPassword,
)
from core.events import EventPayload
from core.identity import AccessToken, Account, AccountLink, hash_token
from core.outbox import record_event

_hasher = PasswordHasher()
SIGN_UP_LINK_HOURS = 24
RESET_LINK_HOURS = 1
LINK_PLACEHOLDER = "[[account-link]]"
"""What a mail's body holds where the link goes; the worker replaces it when it sends (see module doc)."""
LINK_PATHS = {
    "sign-up": "/account/confirm/",
    "password-reset": "/account/reset/",
    "sign-up-exists": "/account",
}


class AccountLinkIssued(EventPayload):
    """Mail the link (``notifications`` reads the link row: its address, purpose and validity)."""

    topic: ClassVar[str] = "account.link"
    aggregate_type: ClassVar[str] = "account_link"
    link_id: int

    @property
    def aggregate_id(self) -> int:
        return self.link_id


def link_token(secret: str, purpose: str, link_id: int) -> str:
    digest = hmac.new(
        secret.encode(), f"account-link\0{purpose}\0{link_id}".encode(), hashlib.sha256
    ).digest()
    return f"{link_id}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def link_url(base_url: str, secret: str, purpose: str, link_id: int) -> str:
    """The page of the residents' app a link opens (the token in its path)."""
    path = LINK_PATHS[purpose]
    if purpose == "sign-up-exists":
        return base_url.rstrip("/") + path
    return base_url.rstrip("/") + path + link_token(secret, purpose, link_id)


async def _usable_link(session: AsyncSession, *, secret: str, token: str, purpose: str) -> AccountLink:
    number, _, _ = token.partition(".")
    if not number.isdigit() or len(number) > 18:
        raise InvalidLink("this link is not valid")
    link = await session.get(AccountLink, int(number), with_for_update=True)
    if link is None or link.purpose != purpose:
        raise InvalidLink("this link is not valid")
    if not hmac.compare_digest(token.encode(), link_token(secret, purpose, link.id).encode()):
        raise InvalidLink("this link is not valid")
    if link.used_at is not None:
        raise LinkUsed("this link was used already")
    if link.expires_at <= datetime.now(UTC):
        raise LinkExpired("this link has expired; ask for a new one")
    return link


async def _mail_link(session: AsyncSession, link: AccountLink) -> None:
    # The payload names the link only: the worker reads the address and computes the token at sending.
    await record_event(
        session, jurisdiction_id=link.jurisdiction_id, event=AccountLinkIssued(link_id=link.id)
    )


async def _account_by_email(session: AsyncSession, jurisdiction_id: int, email: str) -> Account | None:
    return await session.scalar(
        select(Account).where(Account.jurisdiction_id == jurisdiction_id, Account.email == email.lower())
    )


async def request_sign_up(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    email: str,
    password: str,
    display_name: str | None,
    locale: str,
    device_account_id: int | None,
) -> None:
    """Mail a confirmation link (new address) or a note to the owner (known address); same answer."""
    email = email.lower()
    password_hash = await password_hashing.run(_hasher.hash, password)  # in both cases: same timing
    existing = await _account_by_email(session, jurisdiction_id, email)
    now = datetime.now(UTC)
    link = AccountLink(
        jurisdiction_id=jurisdiction_id,
        email=email,
        locale=existing.locale if existing is not None else locale,
        expires_at=now + timedelta(hours=SIGN_UP_LINK_HOURS),
    )
    if existing is not None:
        link.purpose, link.account_id = "sign-up-exists", existing.id
    else:
        link.purpose, link.password_hash, link.display_name = "sign-up", password_hash, display_name
        link.device_account_id = device_account_id
    session.add(link)
    await session.flush()
    await _mail_link(session, link)


async def confirm_sign_up(
    session: AsyncSession, *, secret: str, token: str, ttl_days: int
) -> tuple[Account, str]:
    """The address is proven: the account is made (or the device that asked becomes it, keeping its
    reports); a session token for it."""
    link = await _usable_link(session, secret=secret, token=token, purpose="sign-up")
    link.used_at = datetime.now(UTC)
    if await _account_by_email(session, link.jurisdiction_id, link.email) is not None:
        raise AccountExists("an account with this e-mail address exists; sign in instead")
    account = None
    if link.device_account_id is not None:
        device = await session.get(Account, link.device_account_id, with_for_update=True)
        if device is not None and device.is_anonymous and device.jurisdiction_id == link.jurisdiction_id:
            account = device
    if account is None:
        account = Account(jurisdiction_id=link.jurisdiction_id)
        session.add(account)
    account.email = link.email
    account.password_hash = link.password_hash
    account.display_name = link.display_name
    account.is_anonymous = False
    account.locale = link.locale
    link.password_hash = None  # the account holds it now
    await session.flush()
    return account, await issue_token(session, account_id=account.id, kind="session", ttl_days=ttl_days)


async def request_password_reset(session: AsyncSession, *, jurisdiction_id: int, email: str) -> None:
    """Mail a reset link if the address has an account; the answer is the same either way."""
    account = await _account_by_email(session, jurisdiction_id, email)
    if account is None or account.is_anonymous or account.email is None:
        return
    link = AccountLink(
        jurisdiction_id=jurisdiction_id,
        purpose="password-reset",
        email=account.email,
        locale=account.locale,
        account_id=account.id,
        expires_at=datetime.now(UTC) + timedelta(hours=RESET_LINK_HOURS),
    )
    session.add(link)
    await session.flush()
    await _mail_link(session, link)


async def revoke_all(session: AsyncSession, *, account_id: int) -> int:
    result = await session.execute(
        update(AccessToken)
        .where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    # AsyncSession.execute is typed Result; an UPDATE gives a CursorResult, which has rowcount.
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def revoke(session: AsyncSession, *, token: str) -> None:
    await session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == hash_token(token), AccessToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


async def _set_password(session: AsyncSession, account: Account, password: str, ttl_days: int) -> str:
    account.password_hash = await password_hashing.run(_hasher.hash, password)
    await revoke_all(session, account_id=account.id)  # every other session ends with the old password
    await session.flush()
    return await issue_token(session, account_id=account.id, kind="session", ttl_days=ttl_days)


async def reset_password(
    session: AsyncSession, *, secret: str, token: str, password: str, ttl_days: int
) -> tuple[Account, str]:
    link = await _usable_link(session, secret=secret, token=token, purpose="password-reset")
    link.used_at = datetime.now(UTC)
    account = await session.get(Account, link.account_id, with_for_update=True) if link.account_id else None
    if account is None or account.email != link.email:
        raise InvalidLink("this link is not valid any more")
    # Links asked for earlier are spent too: only the newest mail's link could still be in someone's hands.
    await session.execute(
        update(AccountLink)
        .where(AccountLink.account_id == account.id, AccountLink.purpose == "password-reset")
        .where(AccountLink.used_at.is_(None))
        .values(used_at=link.used_at)
    )
    return account, await _set_password(session, account, password, ttl_days)


async def change_password(
    session: AsyncSession, *, account_id: int, current: str, new: str, ttl_days: int
) -> str:
    account = await session.get_one(Account, account_id, with_for_update=True)
    if account.is_anonymous or account.password_hash is None:
        raise NoPassword("this device has no account with a password")
    try:
        await password_hashing.run(_hasher.verify, account.password_hash, current)
    except (VerificationError, InvalidHashError):
        # 403, not 401: the token is fine (a 401 tells an app to forget its session).
        raise WrongPassword("the current password is wrong") from None
    return await _set_password(session, account, new, ttl_days)
