"""Who may do what in participation, beyond the role a route's policy (``api.auth``) already checked:
the rules that need the object (its jurisdiction, its area). One place, so a route and a service that
ask the same question get the same answer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotYourArea, RoleRequired
from core.identity import Identity
from geo import queries as geo_queries


def is_staff_of_jurisdiction(identity: Identity, jurisdiction_id: int) -> bool:
    """Municipal staff of this jurisdiction: a field staff grant or an administrator, or a member of one
    of its departments."""
    return identity.is_staff_of(jurisdiction_id, None) or bool(
        identity.department_ids and identity.jurisdiction_id == jurisdiction_id
    )


def check_staff_of_jurisdiction(identity: Identity, jurisdiction_id: int) -> None:
    if not is_staff_of_jurisdiction(identity, jurisdiction_id):
        raise RoleRequired("this needs municipal staff of this jurisdiction")


async def is_consultation_insider(
    session: AsyncSession, identity: Identity | None, *, jurisdiction_id: int, area_id: int
) -> bool:
    """Who reads a consultation round's results (free texts included) before it closes: the
    jurisdiction's staff and administrators, and the council members of the round's area or of an area
    around it."""
    if identity is None or identity.jurisdiction_id != jurisdiction_id:
        return False
    if identity.admin or identity.department_ids:
        return True
    return await geo_queries.area_within(session, area_id=area_id, ancestors=identity.council_area_ids)


async def check_may_export_consultation(
    session: AsyncSession, identity: Identity, *, jurisdiction_id: int, area_id: int
) -> None:
    """Exports hold every response: an administrator's, or the council's of the round's area."""
    if not identity.is_admin_of(jurisdiction_id) and not await geo_queries.area_within(
        session, area_id=area_id, ancestors=identity.council_area_ids
    ):
        raise NotYourArea("council members export the rounds of their own area")
