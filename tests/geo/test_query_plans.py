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


async def test_near_list_of_a_non_public_category_does_not_walk_the_radius(
    session: AsyncSession, world: World, many_reports: int
) -> None:
    """Reports of a non-public category are never public: the extended statistics of migration 0016 tell
    the planner so, and it does not walk every report of a 20 km radius in distance order for none."""
    hidden = (
        await session.execute(
            text("SELECT id FROM categories WHERE code = 'nuisance-neighbours' AND jurisdiction_id = :j"),
            {"j": world.amsterdam},
        )
    ).scalar_one()
    await session.execute(
        text("""
        INSERT INTO reports (jurisdiction_id, category_id, location, description, extra, status, is_public,
                             version)
        SELECT :j, :c, (ST_Dump(ST_GeneratePoints(geom, 3000, 11))).geom, 'generated', '{}', 'submitted',
               false, 1
        FROM areas WHERE id = :area
        """),
        {"j": world.amsterdam, "c": hidden, "area": world.areas["Amsterdam"]},
    )
    await session.execute(text("ANALYZE reports"))
    sql, params = queries.report_list_sql(
        queries.ReportFilter(
            jurisdiction_id=world.amsterdam,
            near=DAM_SQUARE,
            radius_m=20_000,
            category_ids=(hidden,),
            limit=50,
        )
    )
    assert '"Order By": "((location)::geography <->' not in await plan(session, sql, params)


@pytest.fixture
async def departments_reports(session: AsyncSession, world: World, many_reports: int) -> dict[str, int]:
    """The generated potholes on the roads department's work list, and 3,000 dumped-waste reports on the
    waste department's."""
    waste = (
        await session.execute(
            text("SELECT id FROM categories WHERE code = 'dumped-waste' AND jurisdiction_id = :j"),
            {"j": world.amsterdam},
        )
    ).scalar_one()
    roads, waste_department = world.departments["amsterdam:Wegen"], world.departments["amsterdam:Afval"]
    await session.execute(
        text("UPDATE reports SET department_id = :d WHERE category_id = :c"), {"d": roads, "c": many_reports}
    )
    await session.execute(
        text("""
        INSERT INTO reports (jurisdiction_id, category_id, department_id, location, description, extra,
                             status, is_public, version)
        SELECT :j, :c, :d, (ST_Dump(ST_GeneratePoints(geom, 3000, 13))).geom, 'generated', '{}', 'submitted',
               true, 1
        FROM areas WHERE id = :area
        """),
        {"j": world.amsterdam, "c": waste, "d": waste_department, "area": world.areas["Amsterdam"]},
    )
    await session.execute(text("ANALYZE reports"))
    return {"roads": roads, "waste_category": waste}


async def worklist_plan(
    session: AsyncSession, world: World, department_id: int, category_ids: list[int] | None
) -> str:
    return await plan(
        session,
        queries.WORKLIST_NEAR_SQL,
        {
            "jurisdiction_id": world.amsterdam,
            "department_ids": [department_id],
            "statuses": queries.OPEN_STATUS_LIST,
            "category_ids": category_ids,
            "longitude": DAM_SQUARE[0],
            "latitude": DAM_SQUARE[1],
            "limit": 50,
        },
    )


async def test_work_list_walks_the_geography_index_nearest_first(
    session: AsyncSession, world: World, departments_reports: dict[str, int]
) -> None:
    explained = await worklist_plan(session, world, departments_reports["roads"], None)
    assert '"Order By": "((location)::geography <->' in explained


async def test_work_list_of_another_departments_category_does_not_walk_the_index(
    session: AsyncSession, world: World, departments_reports: dict[str, int]
) -> None:
    """A category belongs to one department: the extended statistics of migration 0016 tell the planner,
    and it does not walk all reports in distance order looking for the roads department's waste."""
    explained = await worklist_plan(
        session, world, departments_reports["roads"], [departments_reports["waste_category"]]
    )
    assert '"Order By": "((location)::geography <->' not in explained


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
