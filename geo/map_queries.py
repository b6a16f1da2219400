"""Map reads built in SQL: GeoJSON (RFC 7946) lists and areas, the clustered viewport, hotspots.

Every document is assembled by PostgreSQL (``json_build_object`` / ``json_agg`` / ``ST_AsGeoJSON``) and
handed through as text: on hot read paths the ORM would cost more CPU than the query itself.
Coordinates are WGS84 longitude, latitude with 7 decimals (about 1 cm), as RFC 7946 recommends.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.errors import ViewportTooLarge
from geo.tiles import (
    COARSEST_LEVEL,
    FINEST_LEVEL,
    HALF_WORLD,
    STATUSES,
    MapFilter,
    cell_size,
    cell_window,
    cells_sql,
    high_water_mark,
)
from geo.workflow import FINAL_STATUSES

MAX_CLUSTER_CELLS = 64  # per side of a viewport: far more than any screen shows at 64 px per cell
CLUSTER_RAW_MIN_ZOOM = 19
RAW_VIEWPORT_LIMIT = 1000
FINAL_STATUS_LIST = sorted(s.value for s in FINAL_STATUSES)

REPORTS_GEOJSON_SQL = """
SELECT json_build_object(
    'type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text
FROM (
    SELECT json_build_object(
        'type', 'Feature', 'id', r.id,
        'geometry', ST_AsGeoJSON(r.location, 7)::json,
        'properties', json_build_object(
            'id', r.id, 'category', c.code, 'status', r.status, 'description', left(r.description, 280),
            'area_id', r.area_id, 'created_at', r.created_at, 'updated_at', r.updated_at, 'due_at', r.due_at)
    ) AS feature
    FROM reports r JOIN categories c ON c.id = r.category_id
    WHERE {where}
    ORDER BY r.created_at DESC, r.id DESC
    LIMIT :limit
) AS f
"""


def _report_where(
    flt: MapFilter, params: dict[str, Any], bbox: tuple[float, float, float, float] | None
) -> str:
    where = ["r.is_public", "r.jurisdiction_id = :jurisdiction_id"]
    params["jurisdiction_id"] = flt.jurisdiction_id
    if flt.category_ids is not None:
        where.append("r.category_id = ANY(:category_ids)")
        params["category_ids"] = list(flt.category_ids)
    if flt.statuses is not None:
        where.append("r.status = ANY(:statuses)")
        params["statuses"] = list(flt.statuses)
    if bbox is not None:
        where.append("r.location && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)")
        params.update(zip(("min_lon", "min_lat", "max_lon", "max_lat"), bbox, strict=True))
    return " AND ".join(where)


# The same document, for a box holding few reports: select the box first (an index-only scan of
# ``ix_reports_location_listing``; ``OFFSET 0`` keeps the planner from walking the date index instead), sort
# the ids, then fetch only the winners' rows.
BOX_FIRST_GEOJSON_SQL = """
SELECT json_build_object(
    'type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text
FROM (
    SELECT json_build_object(
        'type', 'Feature', 'id', r.id,
        'geometry', ST_AsGeoJSON(r.location, 7)::json,
        'properties', json_build_object(
            'id', r.id, 'category', c.code, 'status', r.status, 'description', left(r.description, 280),
            'area_id', r.area_id, 'created_at', r.created_at, 'updated_at', r.updated_at, 'due_at', r.due_at)
    ) AS feature
    FROM (
        SELECT inside.id FROM (SELECT r.id, r.created_at FROM reports r WHERE {where} OFFSET 0) AS inside
        ORDER BY inside.created_at DESC, inside.id DESC
        LIMIT :limit
    ) AS picked
    JOIN reports r ON r.id = picked.id JOIN categories c ON c.id = r.category_id
    ORDER BY r.created_at DESC, r.id DESC
) AS f
"""

_ALL_COUNTS = " + ".join(f"n_{status}" for status in STATUSES)
ESTIMATE_SQL = f"""
SELECT (SELECT coalesce(sum({_ALL_COUNTS}), 0) FROM report_map_cells
        WHERE level = :level AND cell_x BETWEEN :x0 AND :x1 AND cell_y BETWEEN :y0 AND :y1
          AND jurisdiction_id = :jurisdiction_id) AS inside,
       (SELECT coalesce(sum({_ALL_COUNTS}), 0) FROM report_map_cells
        WHERE level = {COARSEST_LEVEL} AND jurisdiction_id = :jurisdiction_id) AS total
"""  # noqa: S608  (status names from the fixed ``Status`` enum)


async def _box_first(
    session: AsyncSession, jurisdiction_id: int | None, bbox: tuple[float, float, float, float], limit: int
) -> bool:
    """Whether to scan the box and sort, rather than walk the newest reports until ``limit`` fall in the box.

    Walking the date index reads about ``limit · total / inside`` rows; the box scan reads ``inside``. The
    box scan wins while ``inside² < limit · total``. ``inside`` is estimated from the map cells (one index
    range over a few dozen cells), so the choice costs well under a millisecond.
    """
    minx, miny = _mercator(bbox[0], bbox[1])
    maxx, maxy = _mercator(bbox[2], bbox[3])
    span = max(maxx - minx, maxy - miny, 1.0)
    level = max(COARSEST_LEVEL, min(FINEST_LEVEL, int(math.log2(2 * HALF_WORLD * 8 / span))))
    params = cell_window(level, minx, miny, maxx, maxy) | {"jurisdiction_id": jurisdiction_id}
    row = (await session.execute(text(ESTIMATE_SQL), params)).one()
    return bool(row.total == 0 or row.inside * row.inside < limit * row.total)


async def reports_geojson(
    session: AsyncSession, *, flt: MapFilter, bbox: tuple[float, float, float, float] | None, limit: int
) -> str:
    """The newest public reports as a FeatureCollection, one document built by PostgreSQL."""
    params: dict[str, Any] = {"limit": limit}
    template = REPORTS_GEOJSON_SQL
    if bbox is not None and await _box_first(session, flt.jurisdiction_id, bbox, limit):
        template = BOX_FIRST_GEOJSON_SQL
    sql = template.replace("{where}", _report_where(flt, params, bbox))
    return str(await session.scalar(text(sql), params))


AREAS_GEOJSON_SQL = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
    json_build_object('type', 'Feature', 'id', a.id,
        'geometry', ST_AsGeoJSON(a.geom, 6)::json,
        'properties', json_build_object('id', a.id, 'name', a.name, 'level', a.level, 'code', a.code,
                                        'parent_id', a.parent_id))
    ORDER BY a.id), '[]'::json))::text
FROM areas a WHERE a.jurisdiction_id = :jurisdiction_id AND (CAST(:level AS text) IS NULL OR a.level = :level)
"""


async def areas_geojson(session: AsyncSession, *, jurisdiction_id: int, level: str | None) -> str:
    return str(
        await session.scalar(text(AREAS_GEOJSON_SQL), {"jurisdiction_id": jurisdiction_id, "level": level})
    )


# --------------------------------------------------------------------------------------------------------
# Clustered viewport


def _mercator(longitude: float, latitude: float) -> tuple[float, float]:
    latitude = max(min(latitude, 85.0511287798), -85.0511287798)
    x = longitude * HALF_WORLD / 180
    y = math.log(math.tan((90 + latitude) * math.pi / 360)) * HALF_WORLD / math.pi
    return x, y


SINGLES_SQL = """
SELECT s.cell_x, s.cell_y, json_build_object(
    'id', r.id, 'category', c.code, 'status', r.status, 'description', left(r.description, 280),
    'created_at', r.created_at, 'location', ST_AsGeoJSON(r.location, 7)::json) AS report
FROM unnest(CAST(:xs AS int[]), CAST(:ys AS int[])) AS s(cell_x, cell_y)
CROSS JOIN LATERAL (
    SELECT r.* FROM reports r
    WHERE {where}
      AND r.location && ST_Transform(ST_MakeEnvelope(
          :ox + s.cell_x * :size, :oy - (s.cell_y + 1) * :size,
          :ox + (s.cell_x + 1) * :size, :oy - s.cell_y * :size, 3857), 4326)
      AND floor((ST_X(ST_Transform(r.location, 3857)) - :ox) / :size) = s.cell_x
      AND floor((:oy - ST_Y(ST_Transform(r.location, 3857))) / :size) = s.cell_y
    ORDER BY r.id DESC LIMIT 1
) AS r
JOIN categories c ON c.id = r.category_id
"""


async def clustered_viewport(
    session: AsyncSession, *, flt: MapFilter, bbox: tuple[float, float, float, float], zoom: int
) -> dict[str, Any]:
    """Clusters of ~64 screen pixels at ``zoom`` (grid level ``zoom + 2``); a single carries its report."""
    minx, miny = _mercator(bbox[0], bbox[1])
    maxx, maxy = _mercator(bbox[2], bbox[3])
    if zoom >= CLUSTER_RAW_MIN_ZOOM:
        params: dict[str, Any] = {"limit": RAW_VIEWPORT_LIMIT}
        sql = REPORTS_GEOJSON_SQL.replace("{where}", _report_where(flt, params, bbox))
        collection = json.loads(str(await session.scalar(text(sql), params)))
        features = [
            {
                "type": "Feature",
                "geometry": feature["geometry"],
                "properties": {"count": 1, "report": feature["properties"]},
            }
            for feature in collection["features"]
        ]
        return {"type": "FeatureCollection", "zoom": zoom, "features": features}
    level = zoom + 2
    size = cell_size(level)
    if (maxx - minx) / size > MAX_CLUSTER_CELLS or (maxy - miny) / size > MAX_CLUSTER_CELLS:
        raise ViewportTooLarge(
            f"the bounding box spans more than {MAX_CLUSTER_CELLS} clusters per side at zoom {zoom};"
            " zoom in or ask for a smaller box"
        )
    params = cell_window(level, minx, miny, maxx, maxy) | {"hwm": await high_water_mark(session)}
    rows = (await session.execute(text(cells_sql(flt, params)), params)).all()
    singles = [(row.cell_x, row.cell_y) for row in rows if row.n == 1]
    reports: dict[tuple[int, int], Any] = {}
    if singles:
        single_params: dict[str, Any] = {
            "xs": [single[0] for single in singles],
            "ys": [single[1] for single in singles],
            "size": size,
            "ox": -HALF_WORLD,
            "oy": HALF_WORLD,
        }
        sql = SINGLES_SQL.replace("{where}", _report_where(flt, single_params, None))
        for row in await session.execute(text(sql), single_params):
            reports[(row.cell_x, row.cell_y)] = row.report
    features = []
    for row in sorted(rows, key=lambda r: (r.cell_y, r.cell_x)):
        longitude = row.mx * 180 / HALF_WORLD
        latitude = math.degrees(2 * math.atan(math.exp(row.my * math.pi / HALF_WORLD)) - math.pi / 2)
        report = reports.get((row.cell_x, row.cell_y)) if row.n == 1 else None
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(longitude, 7), round(latitude, 7)]},
                "properties": {"count": int(row.n), "report": report},
            }
        )
    return {"type": "FeatureCollection", "zoom": zoom, "features": features}


# --------------------------------------------------------------------------------------------------------
# Hotspots


@dataclass(frozen=True, slots=True)
class HotspotQuery:
    jurisdiction_id: int
    since: datetime
    until: datetime
    radius_m: float
    min_reports: int
    category_ids: tuple[int, ...] | None = None
    area_ids: tuple[int, ...] | None = None
    public_only: bool = False
    limit: int = 100


HOTSPOTS_SQL = """
WITH scale AS (
    -- Web Mercator stretches distances by 1/cos(latitude): convert the radius once for this city.
    SELECT :radius / cos(radians(coalesce(ST_Y(ST_Centroid(ST_Extent(geom))), 0))) AS eps
    FROM areas WHERE jurisdiction_id = :jurisdiction_id
), points AS (
    SELECT r.id, r.category_id, r.status, r.is_public, r.created_at, ST_Transform(r.location, 3857) AS p
    FROM reports r
    WHERE {where}
), clustered AS (
    SELECT points.*, ST_ClusterDBSCAN(p, eps := (SELECT eps FROM scale), minpoints := :min_reports)
               OVER (PARTITION BY category_id) AS cluster
    FROM points
)
SELECT c.code AS category, count(*) AS reports,
       count(*) FILTER (WHERE k.status <> ALL(:final_statuses)) AS open_reports,
       ST_AsGeoJSON(ST_Transform(ST_Centroid(ST_Collect(k.p)), 4326), 7)::json AS centre,
       ST_MaxDistance(ST_Centroid(ST_Collect(k.p)), ST_Collect(k.p))
           * (SELECT :radius / eps FROM scale) AS radius_m,
       min(k.created_at) AS first_reported_at, max(k.created_at) AS last_reported_at,
       (array_agg(k.id ORDER BY k.created_at DESC) FILTER (WHERE k.is_public OR NOT :public_only))[1:20]
           AS latest_report_ids
FROM clustered k JOIN categories c ON c.id = k.category_id
WHERE k.cluster IS NOT NULL
GROUP BY c.code, k.category_id, k.cluster
HAVING count(*) >= :min_reports
ORDER BY count(*) DESC, max(k.created_at) DESC
LIMIT :limit
"""


async def hotspots(session: AsyncSession, query: HotspotQuery) -> list[dict[str, Any]]:
    """Places where one category's reports keep coming back: DBSCAN clusters of ≥ N reports within R metres.

    A report belongs to a hotspot when it lies within R metres of a report that itself has at least N
    reports of the same category within R metres, over the period: "the same problem, again and again,
    here". Merged duplicates are left out so one incident counts once.
    """
    where = [
        "r.jurisdiction_id = :jurisdiction_id",
        "r.merged_into_id IS NULL",
        "r.created_at >= :since",
        "r.created_at < :until",
    ]
    params: dict[str, Any] = {
        "jurisdiction_id": query.jurisdiction_id,
        "since": query.since,
        "until": query.until,
        "radius": query.radius_m,
        "min_reports": query.min_reports,
        "final_statuses": FINAL_STATUS_LIST,
        "public_only": query.public_only,
        "limit": query.limit,
    }
    if query.public_only:
        # Outside the staff, non-public reports (noise, neighbours) are left out altogether: a cluster of
        # them would give their places and times away (issue 12, item 12), whatever the radius.
        where.append("r.is_public")
    if query.category_ids is not None:
        where.append("r.category_id = ANY(:category_ids)")
        params["category_ids"] = list(query.category_ids)
    if query.area_ids is not None:
        where.append(
            "EXISTS (SELECT 1 FROM areas a WHERE a.id = ANY(:area_ids) AND ST_Intersects(a.geom, r.location))"
        )
        params["area_ids"] = list(query.area_ids)
    sql = HOTSPOTS_SQL.replace("{where}", " AND ".join(where))
    rows = (await session.execute(text(sql), params)).all()
    return [
        {
            "category": row.category,
            "reports": row.reports,
            "open_reports": row.open_reports,
            "centre": row.centre,
            "radius_m": round(float(row.radius_m or 0), 1),
            "first_reported_at": row.first_reported_at,
            "last_reported_at": row.last_reported_at,
            "latest_report_ids": list(row.latest_report_ids or []),
        }
        for row in rows
    ]
