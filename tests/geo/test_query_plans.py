"""The duplicate check, the neighbourhood lookup and the near-list use their spatial indexes.

Written against the very SQL the services run (``geo.queries``), over enough rows that PostgreSQL
would rather scan sequentially if the predicate were not indexable.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo import queries
from tests.conftest import DAM_SQUARE, World


async def plan(session: AsyncSession, sql: str, params: dict[str, object]) -> str:
    result = await session.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"), params)
    return json.dumps(result.scalar_one())


@pytest.fixture
async def many_reports(session: AsyncSession, world: World) -> int:
    category_id = (
        await session.execute(
            text("SELECT id FROM categories WHERE code = 'pothole' AND jurisdiction_id = :j"),
            {"j": world.amsterdam},
        )
    ).scalar_one()
    await session.execute(
        text("""
        INSERT INTO reports (jurisdiction_id, category_id, area_id, location, description, extra, status,
                             is_public, version)
        SELECT :j, :c, NULL, (ST_Dump(ST_GeneratePoints(geom, 30000, 7))).geom, 'generated', '{}',
               'submitted', true, 1
        FROM areas WHERE id = :area
        """),
        {"j": world.amsterdam, "c": category_id, "area": world.areas["Amsterdam"]},
    )
    await session.execute(text("ANALYZE reports"))
    await session.execute(text("ANALYZE areas"))
    return category_id


async def test_duplicate_check_uses_the_geography_index(
    session: AsyncSession, world: World, many_reports: int
) -> None:
    explained = await plan(
        session,
        queries.DUPLICATES_SQL,
        {
            "jurisdiction_id": world.amsterdam,
            "category_id": many_reports,
            "longitude": DAM_SQUARE[0],
            "latitude": DAM_SQUARE[1],
            "radius": 50.0,
            "limit": 20,
        },
    )
    assert "ix_reports_open_location_geography" in explained
    assert (
        '"Node Type": "Seq Scan", "Parallel Aware": false, "Async Capable": false, "Relation Name": "reports"'
        not in explained
    )


async def test_neighbourhood_lookup_uses_the_area_index(session: AsyncSession, world: World) -> None:
    await session.execute(
        text("SET LOCAL enable_seqscan = off")
    )  # 12 areas: only indexability is in question
    explained = await plan(
        session,
        queries.CONTAINING_AREA_SQL,
        {"jurisdiction_id": world.amsterdam, "longitude": DAM_SQUARE[0], "latitude": DAM_SQUARE[1]},
    )
    assert "ix_areas_geom" in explained


async def test_near_list_uses_the_geography_index(
    session: AsyncSession, world: World, many_reports: int
) -> None:
    sql, params = queries.report_list_sql(
        queries.ReportFilter(jurisdiction_id=world.amsterdam, near=DAM_SQUARE, radius_m=300, limit=50)
    )
    explained = await plan(session, sql, params)
    assert "ix_reports_location_geography" in explained
    # Walked in distance order (KNN) and stopped after the page, not every report in the radius sorted.
    assert '"Order By": "((location)::geography <->' in explained


async def test_bbox_list_uses_the_geometry_index(
    session: AsyncSession, world: World, many_reports: int
) -> None:
    sql, params = queries.report_list_sql(
        queries.ReportFilter(jurisdiction_id=world.amsterdam, bbox=(4.89, 52.37, 4.895, 52.375), limit=50)
    )
    explained = await plan(session, sql, params)
    assert "ix_reports_location_listing" in explained


async def test_a_distance_comparison_would_not_use_the_index(
    session: AsyncSession, world: World, many_reports: int
) -> None:
    """The control: the non-indexable form of the same question scans, so the tests above can fail."""
    explained = await plan(
        session,
        "SELECT id FROM reports WHERE ST_Distance(location::geography,"
        " ST_SetSRID(ST_MakePoint(4.89, 52.37), 4326)::geography) < 50",
        {},
    )
    assert "ix_reports_location_geography" not in explained
