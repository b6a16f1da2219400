"""API keys of Open311 client applications, and what those clients leave behind.

A key is issued by an administrator per client application (``civicloop apikey create``), shown once, and
stored only as its SHA-256: a database leak does not leak keys. Revoking sets ``revoked_at``; a revoked key
is refused like an unknown one, and the reports it brought in stay.

``Open311Device`` gives each ``device_id`` a client sends one anonymous account, so that device's reports
belong together; ``Open311Request`` records which client submitted a report, the ``media_url`` it gave (a
reference shown back, never fetched: fetching client-supplied URLs would be server-side request forgery)
and the token the client may redeem at ``tokens/{token}``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.errors import Forbidden, NotFound
from core.identity import Account

KEY_PREFIX = "o311_"


class Open311ApiKey(Base):
    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    revoked_at: Mapped[datetime | None]


class Open311Device(Base):
    __tablename__ = "open311_devices"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("open311_api_keys.id", ondelete="CASCADE"))
    device_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (PrimaryKeyConstraint("api_key_id", "device_id"),)


class Open311Request(Base):
    __tablename__ = "open311_requests"

    report_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("open311_api_keys.id", ondelete="SET NULL"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    media_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class InvalidApiKey(Forbidden):
    code = "invalid-api-key"
    title = "Invalid API key"


class ApiKeyRequired(InvalidApiKey):
    code = "api-key-required"
    title = "API key required"


class ApiKeyNotFound(NotFound):
    code = "api-key-not-found"
    title = "API key not found"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly created key: ``key`` is shown once and never stored."""

    id: int
    jurisdiction_id: int
    name: str
    key: str


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_key(session: AsyncSession, *, jurisdiction_id: int, name: str) -> IssuedKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = Open311ApiKey(jurisdiction_id=jurisdiction_id, name=name, key_hash=hash_key(key))
    session.add(row)
    await session.flush()
    return IssuedKey(id=row.id, jurisdiction_id=jurisdiction_id, name=name, key=key)


async def revoke_key(session: AsyncSession, *, key_id: int) -> Open311ApiKey:
    row = await session.get(Open311ApiKey, key_id)
    if row is None:
        raise ApiKeyNotFound(f"no API key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await session.flush()
    return row


async def list_keys(session: AsyncSession, *, jurisdiction_id: int | None = None) -> list[Open311ApiKey]:
    query = select(Open311ApiKey).order_by(Open311ApiKey.id)
    if jurisdiction_id is not None:
        query = query.where(Open311ApiKey.jurisdiction_id == jurisdiction_id)
    return list(await session.scalars(query))


async def authenticate(session: AsyncSession, key: str | None) -> Open311ApiKey:
    """The live key behind ``key``; unknown, revoked and missing keys are refused alike (403)."""
    if not key:
        raise ApiKeyRequired("api_key is required to submit a service request")
    row = await session.scalar(
        select(Open311ApiKey).where(
            Open311ApiKey.key_hash == hash_key(key), Open311ApiKey.revoked_at.is_(None)
        )
    )
    if row is None:
        raise InvalidApiKey("api_key is unknown or revoked")
    return row


async def reporter_account(
    session: AsyncSession,
    *,
    api_key: Open311ApiKey,
    device_id: str | None,
    display_name: str | None,
    locale: str,
) -> int:
    """The anonymous account a submission belongs to: one per device of a client, else one per request."""
    if device_id:
        found = await session.scalar(
            select(Open311Device.account_id).where(
                Open311Device.api_key_id == api_key.id, Open311Device.device_id == device_id
            )
        )
        if found is not None:
            if display_name:
                account = await session.get_one(Account, found)
                account.display_name = display_name
            return found
    account = Account(
        jurisdiction_id=api_key.jurisdiction_id,
        is_anonymous=True,
        locale=locale if locale in ("nl", "en") else "nl",
        display_name=display_name,
    )
    session.add(account)
    await session.flush()
    if device_id:
        # Two first submissions of one device may race: the loser adopts the winner's account.
        claimed = await session.scalar(
            pg_insert(Open311Device)
            .values(api_key_id=api_key.id, device_id=device_id, account_id=account.id)
            .on_conflict_do_nothing()
            .returning(Open311Device.account_id)
        )
        if claimed is None:
            winner = await session.scalar(
                select(Open311Device.account_id).where(
                    Open311Device.api_key_id == api_key.id, Open311Device.device_id == device_id
                )
            )
            if winner is not None:
                await session.delete(account)
                await session.flush()
                return winner
    return account.id


def new_request_token() -> str:
    return secrets.token_urlsafe(24)
