"""Accounts, access tokens and role grants: who is calling, and what they may do.

A resident is any account, signed in or anonymous (a device token). The other roles are grants
scoped to one jurisdiction and, for council members, an area or, for field staff, a department.
Tokens are random and stored only as their SHA-256, so a database leak does not leak sessions.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy import Identity as IdentityColumn
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Role(enum.StrEnum):
    PUBLIC = "public"
    RESIDENT = "resident"
    COUNCIL_MEMBER = "council_member"
    FIELD_STAFF = "field_staff"
    ELECTION_OFFICER = "election_officer"
    ADMIN = "admin"


GRANTABLE_ROLES = (Role.COUNCIL_MEMBER, Role.FIELD_STAFF, Role.ELECTION_OFFICER, Role.ADMIN)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, IdentityColumn(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(String(200))
    is_anonymous: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        Index("uq_accounts_jurisdiction_email", "jurisdiction_id", "email", unique=True),
        CheckConstraint("locale IN ('nl', 'en')", name="locale"),
    )


class AccessToken(Base):
    __tablename__ = "access_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("kind IN ('device', 'session')", name="kind"),)


class AccountLink(Base):
    """A link mailed to an address: confirm a sign-up, or reset a password. The link's token is never
    stored: it is an HMAC of the row's purpose and id under the server's secret
    (``core.accounts.link_token``), computed when the mail is sent and checked when the link is used.
    ``sign-up-exists`` tells the owner of an address that someone tried to sign up with it (the caller
    got the same answer as for a new address)."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(BigInteger, IdentityColumn(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(5))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    device_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    password_hash: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("purpose IN ('sign-up', 'sign-up-exists', 'password-reset')", name="purpose"),
    )


class RoleGrant(Base):
    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(BigInteger, IdentityColumn(), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))

    __table_args__ = (
        CheckConstraint(
            "role IN ('council_member', 'field_staff', 'election_officer', 'admin')", name="role"
        ),
        CheckConstraint(
            "(role = 'council_member') = (area_id IS NOT NULL)"
            " AND (role = 'field_staff') = (department_id IS NOT NULL)",
            name="scope",
        ),
        Index(
            "uq_role_grants_scope",
            "account_id",
            "role",
            "area_id",
            "department_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of one request, resolved from its bearer token."""

    account_id: int
    jurisdiction_id: int
    is_anonymous: bool
    locale: str = "nl"
    admin: bool = False
    election_officer: bool = False
    """Enters paper ballots (a grant of its own: not implied by admin or field staff)."""
    council_area_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def roles(self) -> frozenset[Role]:
        roles = {Role.RESIDENT}
        if self.admin:
            roles.add(Role.ADMIN)
        if self.council_area_ids:
            roles.add(Role.COUNCIL_MEMBER)
        if self.department_ids:
            roles.add(Role.FIELD_STAFF)
        if self.election_officer:
            roles.add(Role.ELECTION_OFFICER)
        return frozenset(roles)

    def is_admin_of(self, jurisdiction_id: int) -> bool:
        return self.admin and self.jurisdiction_id == jurisdiction_id

    def is_staff_of(self, jurisdiction_id: int, department_id: int | None) -> bool:
        if self.jurisdiction_id != jurisdiction_id:
            return False
        return self.admin or (department_id is not None and department_id in self.department_ids)
