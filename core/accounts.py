"""Accounts and their tokens: anonymous devices, registered residents, sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.blocking import password_hashing
from core.errors import AccountExists, InvalidCredentials
from core.identity import AccessToken, Account, hash_token, new_token

_hasher = PasswordHasher()
# A hash to verify against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


async def issue_token(
    session: AsyncSession, *, account_id: int, kind: str, ttl_days: int, token: str | None = None
) -> str:
    token = token or new_token()
    session.add(
        AccessToken(
            token_hash=hash_token(token),
            account_id=account_id,
            kind=kind,
            expires_at=datetime.now(UTC) + timedelta(days=ttl_days),
        )
    )
    await session.flush()
    return token


async def register_device(
    session: AsyncSession, *, jurisdiction_id: int, locale: str, ttl_days: int, token: str | None = None
) -> tuple[Account, str]:
    """``token``: given when it is derived from the request's Idempotency-Key (:func:`device_token`)."""
    account = Account(jurisdiction_id=jurisdiction_id, is_anonymous=True, locale=locale)
    session.add(account)
    await session.flush()
    return account, await issue_token(
        session, account_id=account.id, kind="device", ttl_days=ttl_days, token=token
    )


def device_token(secret: str, *, jurisdiction_id: int, idempotency_key: str) -> str:
    """The token of a device registered with an Idempotency-Key: keyed with the server's secret, so the
    stored answer of a retry needs no token in it (only its hash is stored, in ``access_tokens``) and only
    the client that holds the key (its own random secret) gets the token back."""
    digest = hmac.new(
        secret.encode(), f"device-token\0{jurisdiction_id}\0{idempotency_key}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register_account(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    email: str,
    password: str,
    display_name: str | None,
    locale: str,
    ttl_days: int,
) -> tuple[Account, str]:
    email = email.lower()
    if await session.scalar(
        select(Account.id).where(Account.jurisdiction_id == jurisdiction_id, Account.email == email)
    ):
        # Only for the demo, the tests and the command line: over HTTP a sign-up is confirmed by e-mail
        # and never says whether an address has an account (core.account_links).
        raise AccountExists("an account with this e-mail address exists; sign in instead")
    account = Account(
        jurisdiction_id=jurisdiction_id,
        email=email,
        password_hash=await password_hashing.run(_hasher.hash, password),
        display_name=display_name,
        is_anonymous=False,
        locale=locale,
    )
    session.add(account)
    await session.flush()
    return account, await issue_token(session, account_id=account.id, kind="session", ttl_days=ttl_days)


async def sign_in(
    session: AsyncSession, *, jurisdiction_id: int, email: str, password: str, ttl_days: int
) -> tuple[Account, str]:
    account = await session.scalar(
        select(Account).where(Account.jurisdiction_id == jurisdiction_id, Account.email == email.lower())
    )
    try:
        await password_hashing.run(
            _hasher.verify,
            account.password_hash if account and account.password_hash else _DUMMY_HASH,
            password,
        )
    except (VerificationError, InvalidHashError):
        account = None
    if account is None:
        raise InvalidCredentials("unknown e-mail address or wrong password")
    return account, await issue_token(session, account_id=account.id, kind="session", ttl_days=ttl_days)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches (in the bounded thread pool: Argon2 blocks)."""
    try:
        await password_hashing.run(_hasher.verify, password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None
