"""The reads of Open311: services, service requests with their history, tokens, the discovery changeset.

One home for the package's SQL; ``service`` translates between GeoReport v2 and civicloop and ``router``
speaks HTTP. (API keys and their devices are read and written by ``keys``, which holds their tables.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.models import Category, Jurisdiction
from geo.queries import add_report_filters

MAX_RESULTS = 1000

# ------------------------------------------------------------------------------------------ jurisdictions


async def last_jurisdiction_change(session: AsyncSession) -> datetime | None:
    """The discovery document's changeset: when the newest jurisdiction was added."""
    return await session.scalar(select(Jurisdiction.created_at).order_by(Jurisdiction.created_at.desc()))


async def first_jurisdictions(session: AsyncSession, *, limit: int) -> list[Jurisdiction]:
    return list(await session.scalars(select(Jurisdiction).order_by(Jurisdiction.id).limit(limit)))


async def jurisdiction(session: AsyncSession, jurisdiction_id: int) -> Jurisdiction:
    return await session.get_one(Jurisdiction, jurisdiction_id)


# ---------------------------------------------------------------------------------------------- services

SERVICES_SQL = text("""
SELECT c.code, c.name, c.description, c.keywords, c.extra_fields, p.name AS group_name
FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
WHERE c.jurisdiction_id = :j AND c.is_active
  AND NOT EXISTS (SELECT 1 FROM categories child WHERE child.parent_id = c.id)
ORDER BY c.id
""")


async def services(session: AsyncSession, *, jurisdiction_id: int) -> Sequence[Row[Any]]:
    """The active leaf categories (groups are not services), with their group's name."""
    return (await session.execute(SERVICES_SQL, {"j": jurisdiction_id})).all()


async def has_subcategories(session: AsyncSession, *, category_id: int) -> bool:
    found = await session.scalar(select(Category.id).where(Category.parent_id == category_id).limit(1))
    return found is not None


# -------------------------------------------------------------------------------------- service requests


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """The parsed filters of ``GET requests``: by ids, or by services, statuses and a creation window."""

    ids: tuple[int, ...] | None = None
    category_ids: tuple[int, ...] | None = None
    statuses: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = MAX_RESULTS
    offset: int = 0


REQUESTS_SQL = """
SELECT r.id, r.status, r.status_reason, r.description, r.address, r.created_at, r.updated_at, r.due_at,
       r.is_public, ST_X(r.location) AS longitude, ST_Y(r.location) AS latitude,
       c.code, c.name AS category_name, d.name AS department, o.media_url, o.token,
       (SELECT s.public_message FROM report_status_changes s
        WHERE s.report_id = r.id AND s.public_message IS NOT NULL
        ORDER BY s.id DESC LIMIT 1) AS status_notes,
       (SELECT p.id FROM photos p WHERE p.report_id = r.id AND p.kind = 'report'
        ORDER BY p.id LIMIT 1) AS photo_id
FROM reports r
JOIN categories c ON c.id = r.category_id
LEFT JOIN departments d ON d.id = r.department_id
LEFT JOIN open311_requests o ON o.report_id = r.id
WHERE {where}
ORDER BY r.created_at DESC, r.id DESC
LIMIT :limit OFFSET :offset
"""


async def service_requests(
    session: AsyncSession, *, jurisdiction_id: int, query: RequestQuery
) -> Sequence[Row[Any]]:
    """Public reports of the jurisdiction matching ``query``, newest first."""
    where = ["r.jurisdiction_id = :j", "r.is_public"]
    params: dict[str, Any] = {"j": jurisdiction_id, "limit": query.limit, "offset": query.offset}
    if query.ids is not None:
        where.append("r.id = ANY(:ids)")
        params["ids"] = list(query.ids)
    add_report_filters(
        where,
        params,
        category_ids=query.category_ids,
        statuses=query.statuses,
        created_after=query.start,
        created_before=query.end,
    )
    # Only the fixed clauses above are joined in; every value is a bind parameter.
    return (await session.execute(text(REQUESTS_SQL.replace("{where}", " AND ".join(where))), params)).all()


HISTORY_SQL = text("""
SELECT report_id, to_status, reason, public_message, created_at
FROM report_status_changes WHERE report_id = ANY(:ids) ORDER BY id
""")


async def status_history(session: AsyncSession, *, report_ids: list[int]) -> Sequence[Row[Any]]:
    """Every status change of these reports, oldest first."""
    return (await session.execute(HISTORY_SQL, {"ids": report_ids})).all()


TOKEN_SQL = text("""
SELECT o.report_id FROM open311_requests o JOIN reports r ON r.id = o.report_id
WHERE o.token = :token AND r.jurisdiction_id = :j
""")


async def report_for_token(session: AsyncSession, *, jurisdiction_id: int, token: str) -> int | None:
    found = await session.scalar(TOKEN_SQL, {"token": token, "j": jurisdiction_id})
    return None if found is None else int(found)
