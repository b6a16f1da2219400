"""Who may see which closing-the-loop metrics, over which period.

The metrics are aggregate numbers for the council dashboard. A council member's grant is scoped to an
area, so a member sees the metrics of their own area (and its sub-areas); an administrator those of
the whole jurisdiction. A period is at most three years long: the queries count every input in it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotYourArea
from core.identity import Identity
from geo import queries as geo_queries
from geo import service as geo_service
from geo.errors import AreaNotFound
from notifications import queries
from notifications.errors import InvalidPeriod

MAX_PERIOD = timedelta(days=3 * 366)
DEFAULT_PERIOD = timedelta(days=30)


def period(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """``[start, end)``, by default the 30 days up to now; both aware, non-empty, at most three years."""
    end = end or datetime.now(UTC)
    try:
        start = start or end - DEFAULT_PERIOD
    except OverflowError:
        raise InvalidPeriod("the period lies before the calendar begins") from None
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidPeriod("give start and end with a time zone offset")
    if not start < end or end - start > MAX_PERIOD:
        raise InvalidPeriod("the period must be non-empty and at most three years")
    return start, end


async def metrics_scope(
    session: AsyncSession,
    *,
    identity: Identity,
    jurisdiction_id: int,
    start: datetime | None,
    end: datetime | None,
    area_id: int | None,
    category: str | None = None,
) -> tuple[datetime, datetime]:
    """The checked period, once the caller may see the metrics of this area (and the category, when
    given, is one of this jurisdiction's)."""
    start, end = period(start, end)
    if area_id is not None and not await queries.area_in_jurisdiction(
        session, area_id=area_id, jurisdiction_id=jurisdiction_id
    ):
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    if not identity.is_admin_of(jurisdiction_id):
        if area_id is None or not await geo_queries.area_within(
            session, area_id=area_id, ancestors=identity.council_area_ids
        ):
            raise NotYourArea("council members see the metrics of their own area")
    if category is not None:
        await geo_service.get_category(session, jurisdiction_id=jurisdiction_id, code=category)
    return start, end
