"""Granting and revoking roles in a jurisdiction: which role is scoped to what.

Only an administrator of the jurisdiction grants (the route's policy checks that). The rules here are
what a grant may be: a council member is granted for an area, field staff for a department, an
administrator or election officer for the whole jurisdiction; roles go to registered accounts of the
jurisdiction only. Granting what is already granted returns the existing grant, so a retried request
does not create a second one.

Here, in ``geo``, because a grant's scope is one of geo's areas or departments; the grants and accounts
themselves are ``core``'s (``core.identity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AccountNotFound, GrantScope
from core.identity import Account, RoleGrant
from geo.errors import AccountAnonymous, AreaNotFound, DepartmentNotFound, RoleGrantNotFound
from geo.models import Area, Department

GrantedRole = Literal["council_member", "field_staff", "election_officer", "admin"]


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a role is granted for: ``area``, ``department`` or the whole jurisdiction (``None``)."""

    kind: Literal["area", "department"] | None
    refusal: str  # the detail of the 422 when a grant names another scope


SCOPES: dict[str, _Scope] = {
    "council_member": _Scope("area", "a council member is granted for an area_id"),
    "field_staff": _Scope("department", "field staff are granted for a department_id"),
    "election_officer": _Scope(
        None, "an administrator's or election officer's grant covers the whole jurisdiction"
    ),
    "admin": _Scope(None, "an administrator's or election officer's grant covers the whole jurisdiction"),
}


async def _grantee(session: AsyncSession, *, jurisdiction_id: int, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None or account.jurisdiction_id != jurisdiction_id:
        raise AccountNotFound(f"no account {account_id} in this jurisdiction")
    if account.is_anonymous:
        raise AccountAnonymous("roles go to registered accounts, not anonymous devices")
    return account


async def _scope(
    session: AsyncSession, *, jurisdiction_id: int, role: str, area_id: int | None, department_id: int | None
) -> tuple[int | None, int | None]:
    """The checked ``(area_id, department_id)`` of a grant of ``role``."""
    scope = SCOPES[role]
    if scope.kind == "area":
        if area_id is None or department_id is not None:
            raise GrantScope(scope.refusal)
        area = await session.get(Area, area_id)
        if area is None or area.jurisdiction_id != jurisdiction_id:
            raise AreaNotFound(f"no area {area_id} in this jurisdiction")
        return area.id, None
    if scope.kind == "department":
        if department_id is None or area_id is not None:
            raise GrantScope(scope.refusal)
        department = await session.get(Department, department_id)
        if department is None or department.jurisdiction_id != jurisdiction_id:
            raise DepartmentNotFound(f"no department {department_id} in this jurisdiction")
        return None, department.id
    if area_id is not None or department_id is not None:
        raise GrantScope(scope.refusal)
    return None, None


async def grant_role(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    account_id: int,
    role: GrantedRole,
    area_id: int | None = None,
    department_id: int | None = None,
) -> RoleGrant:
    account = await _grantee(session, jurisdiction_id=jurisdiction_id, account_id=account_id)
    granted_area, granted_department = await _scope(
        session, jurisdiction_id=jurisdiction_id, role=role, area_id=area_id, department_id=department_id
    )
    existing = await session.scalar(
        select(RoleGrant).where(
            RoleGrant.account_id == account.id,
            RoleGrant.role == role,
            RoleGrant.area_id.is_not_distinct_from(granted_area),
            RoleGrant.department_id.is_not_distinct_from(granted_department),
        )
    )
    if existing is not None:
        return existing
    grant = RoleGrant(
        account_id=account.id,
        jurisdiction_id=jurisdiction_id,
        role=role,
        area_id=granted_area,
        department_id=granted_department,
    )
    session.add(grant)
    await session.flush()
    return grant


async def revoke_role(session: AsyncSession, *, jurisdiction_id: int, grant_id: int) -> None:
    result = await session.execute(
        delete(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.jurisdiction_id == jurisdiction_id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # a DELETE's CursorResult; typed as Result
        raise RoleGrantNotFound(f"no role grant {grant_id} in this jurisdiction")
