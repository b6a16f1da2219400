"""Reads of what a jurisdiction is made of: its areas, categories and departments, and the report counts
of one area (the council's summary). The routers of ``api`` ask these; they hold no SQL of their own.

Kept apart from ``geo.queries`` (the reports' hot read paths) so each file stays about one thing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Account
from geo.models import Area, Category, Department, Jurisdiction

# ------------------------------------------------------------------------------------------------ areas


async def areas(session: AsyncSession, *, jurisdiction_id: int, level: str | None = None) -> list[Area]:
    query = select(Area).where(Area.jurisdiction_id == jurisdiction_id).order_by(Area.level, Area.name)
    if level is not None:
        query = query.where(Area.level == level)
    return list(await session.scalars(query))


AREA_FEATURE_SQL = text("""
SELECT json_build_object('type', 'Feature', 'id', id,
       'geometry', ST_AsGeoJSON(geom, 6)::json,
       'properties', json_build_object('name', name, 'level', level, 'code', code,
                                       'parent_id', parent_id))::text
FROM areas WHERE id = :id AND jurisdiction_id = :j
""")


async def area_feature_json(session: AsyncSession, *, jurisdiction_id: int, area_id: int) -> str | None:
    """One area as an RFC 7946 Feature built by PostGIS; ``None`` when it is not this jurisdiction's."""
    found = await session.execute(AREA_FEATURE_SQL, {"id": area_id, "j": jurisdiction_id})
    return found.scalar_one_or_none()


async def area_in_jurisdiction(session: AsyncSession, *, jurisdiction_id: int, area_id: int) -> bool:
    found = await session.scalar(
        select(Area.id).where(Area.id == area_id, Area.jurisdiction_id == jurisdiction_id)
    )
    return found is not None


AREA_REPORT_SUMMARY_SQL = text("""
SELECT c.code AS category, r.status, count(*) AS reports,
       count(*) FILTER (WHERE r.due_at < coalesce(r.resolved_at, now())) AS overdue
FROM reports r JOIN categories c ON c.id = r.category_id
WHERE r.jurisdiction_id = :j
  AND ST_Intersects(r.location, (SELECT geom FROM areas WHERE id = :area_id))
  AND r.merged_into_id IS NULL
GROUP BY c.code, r.status
ORDER BY c.code, r.status
""")


async def area_report_summary(session: AsyncSession, *, jurisdiction_id: int, area_id: int) -> dict[str, Any]:
    """Reports in an area per category and status, non-public categories included (as counts only)."""
    rows = (await session.execute(AREA_REPORT_SUMMARY_SQL, {"j": jurisdiction_id, "area_id": area_id})).all()
    return {
        "area_id": area_id,
        "rows": [dict(row._mapping) for row in rows],
        "total": sum(row.reports for row in rows),
    }


# ------------------------------------------------------------------------------------------- categories


async def active_categories(session: AsyncSession, *, jurisdiction_id: int) -> list[Category]:
    return list(
        await session.scalars(
            select(Category)
            .where(Category.jurisdiction_id == jurisdiction_id, Category.is_active)
            .order_by(Category.id)
        )
    )


async def parent_code(session: AsyncSession, category: Category) -> str | None:
    """The code of the category's group, if it has one."""
    if not category.parent_id:
        return None
    parent = await session.get(Category, category.parent_id)
    return parent.code if parent is not None else None


# ------------------------------------------------------------------------------------------ departments


async def departments(session: AsyncSession, *, jurisdiction_id: int) -> list[Department]:
    query = select(Department).where(Department.jurisdiction_id == jurisdiction_id)
    return list(await session.scalars(query))


# ------------------------------------------------------------------------------------------- accounts


async def account_home(session: AsyncSession, *, account_id: int) -> tuple[str, str | None]:
    """The slug of the account's jurisdiction and its e-mail address (``/me``): one join, here because
    ``geo`` owns jurisdictions and may read ``core``'s accounts, not the other way round."""
    row = (
        await session.execute(
            select(Jurisdiction.slug, Account.email)
            .join(Account, Account.jurisdiction_id == Jurisdiction.id)
            .where(Account.id == account_id)
        )
    ).one()
    return row.slug, row.email
