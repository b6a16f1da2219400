"""Who may look at an area's figures: the rules for council members, in one place.

A council member is granted one or more areas (a district, a neighbourhood); their own areas include every
area inside a granted one. An administrator of the jurisdiction sees every area. The role itself (council
member or administrator) is checked by the route's policy; these rules add the area.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotYourArea
from core.identity import Identity
from geo import queries
from geo.errors import AreaNotFound
from geo.jurisdiction_queries import area_in_jurisdiction


async def require_area(session: AsyncSession, *, jurisdiction_id: int, area_id: int) -> int:
    """``area_id`` when it is an area of this jurisdiction; an id of another jurisdiction is the same 404 as
    one that does not exist."""
    if not await area_in_jurisdiction(session, jurisdiction_id=jurisdiction_id, area_id=area_id):
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    return area_id


async def check_council_area(
    session: AsyncSession, identity: Identity, *, jurisdiction_id: int, area_id: int, refusal: str
) -> None:
    """An administrator passes; a council member only for one of their areas or an area inside one.
    ``refusal`` is the detail of the 403 (it names what the route shows)."""
    if identity.is_admin_of(jurisdiction_id):
        return
    if not await queries.area_within(session, area_id=area_id, ancestors=identity.council_area_ids):
        raise NotYourArea(refusal)


def council_area_roots(identity: Identity, *, jurisdiction_id: int) -> tuple[int, ...] | None:
    """The areas an overview covers when the caller names none: every area (``None``) for an
    administrator, else the council member's own."""
    return None if identity.is_admin_of(jurisdiction_id) else tuple(sorted(identity.council_area_ids))
