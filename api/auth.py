"""Bearer tokens to identities, and the policies every route declares.

A route names its policy with ``Depends(policy)``; a test walks every route and checks each has
exactly one, and the role × route matrix test exercises them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import UnitOfWorkDep, plain_transactions
from api.errors import InvalidAuthorizationHeader, InvalidToken
from core import throttle
from core.db import Reader, fetch_one, psycopg_sql
from core.errors import NotAuthenticated, RoleRequired, WrongJurisdiction
from core.identity import Identity, Role, hash_token
from core.settings import Settings
from geo.queries import JurisdictionRef
from geo.service import get_jurisdiction

IDENTITY_SQL = """
SELECT a.id, a.jurisdiction_id, a.is_anonymous, a.locale,
       coalesce(bool_or(g.role = 'admin'), false) AS admin,
       coalesce(bool_or(g.role = 'election_officer'), false) AS election_officer,
       coalesce(array_agg(g.area_id) FILTER (WHERE g.role = 'council_member'), '{}') AS council_area_ids,
       coalesce(array_agg(g.department_id) FILTER (WHERE g.role = 'field_staff'), '{}') AS department_ids
FROM access_tokens t
JOIN accounts a ON a.id = t.account_id
LEFT JOIN role_grants g ON g.account_id = a.id
WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL AND t.expires_at > now()
GROUP BY a.id
"""
_IDENTITY = psycopg_sql(IDENTITY_SQL)


async def resolve_identity(source: Reader, token: str) -> Identity | None:
    row = await fetch_one(source, _IDENTITY, {"token_hash": hash_token(token)})
    if row is None:
        return None
    return Identity(
        account_id=row.id,
        jurisdiction_id=row.jurisdiction_id,
        is_anonymous=row.is_anonymous,
        locale=row.locale,
        admin=row.admin,
        election_officer=row.election_officer,
        council_area_ids=frozenset(row.council_area_ids),
        department_ids=frozenset(row.department_ids),
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidAuthorizationHeader("use 'Authorization: Bearer <token>'")
    return token.strip()


async def _known_identity(request: Request, source: Reader, token: str) -> Identity:
    identity = await resolve_identity(source, token)
    if identity is None:
        raise InvalidToken("the token is unknown, expired or revoked")
    request.state.identity = identity
    return identity


@dataclass(frozen=True)
class Policy:
    """Who may call a route. ``PUBLIC`` admits anyone; the others need a token of the route's jurisdiction."""

    roles: frozenset[Role]


@dataclass(frozen=True)
class PublicPolicy(Policy):
    """``PUBLIC``: anyone. It opens no ORM session of its own, so a public read that needs none (the
    report list, the duplicate check) runs without one (docs/benchmarks.md, "issue 13"). A token, when
    one is sent, is still checked (401 when unknown): on the route's session if it opened one first,
    else on a public-read connection."""

    async def __call__(self, request: Request) -> Identity | None:
        """The caller, or ``None`` without a token."""
        token = bearer_token(request)
        if token is None:
            return None
        session: AsyncSession | None = getattr(request.state, "session", None)
        if session is not None:
            return await _known_identity(request, session, token)
        async with plain_transactions(request).transaction() as connection:
            return await _known_identity(request, connection, token)


@dataclass(frozen=True)
class RolePolicy(Policy):
    """A policy that needs a token of the route's jurisdiction and one of ``roles``."""

    async def __call__(self, request: Request, unit: Reader = UnitOfWorkDep) -> Identity:
        """The caller, checked in the request's unit of work (an ORM session, or the plain transaction
        of a route marked ``on_plain_transaction``, the report create)."""
        token = bearer_token(request)
        if token is None:
            raise NotAuthenticated("sign in or register this device first")
        identity = await _known_identity(request, unit, token)
        slug = request.path_params.get("jurisdiction")
        if slug is not None:
            jurisdiction = await path_jurisdiction(request, unit, slug)
            if jurisdiction.id != identity.jurisdiction_id:
                raise WrongJurisdiction("your account belongs to another jurisdiction")
        if not (identity.roles & self.roles):
            needed = ", ".join(sorted(r.value for r in self.roles))
            raise RoleRequired(f"this needs one of these roles: {needed}")
        if identity.is_anonymous and request.method not in _SAFE_METHODS:
            await _limit_device_writes(request, unit, identity)
        return identity


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _limit_device_writes(request: Request, unit: Reader, identity: Identity) -> None:
    """Anonymous devices cost nothing to make, so each may write only so often (per hour); registered
    accounts and staff are not limited here."""
    settings: Settings = request.app.state.settings
    await throttle.hit_per_hour(
        unit,
        settings,
        key=f"device-writes:{identity.account_id}",
        limit=settings.device_writes_per_hour,
        what="changes from this device",
    )


async def path_jurisdiction(request: Request, unit: Reader, slug: str) -> JurisdictionRef:
    """The jurisdiction named in the path, looked up once per request: the policy checks the caller
    against it and the route works in it (a session also caches it itself, a plain connection cannot)."""
    found: JurisdictionRef | None = getattr(request.state, "path_jurisdiction", None)
    if found is None or found.slug != slug:
        found = await get_jurisdiction(unit, slug)
        request.state.path_jurisdiction = found
    return found


PUBLIC = PublicPolicy(frozenset({Role.PUBLIC}))
RESIDENT = RolePolicy(frozenset({Role.RESIDENT}))
STAFF = RolePolicy(frozenset({Role.FIELD_STAFF, Role.ADMIN}))
COUNCIL = RolePolicy(frozenset({Role.COUNCIL_MEMBER, Role.ADMIN}))
ADMIN = RolePolicy(frozenset({Role.ADMIN}))
ELECTION_OFFICER = RolePolicy(frozenset({Role.ELECTION_OFFICER}))
ELECTION_OVERSIGHT = RolePolicy(frozenset({Role.ELECTION_OFFICER, Role.ADMIN}))
