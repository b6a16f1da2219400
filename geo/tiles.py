"""Mapbox Vector Tiles of reports and areas, built by PostGIS (``ST_AsMVT``) and returned as bytes.

Raw points only from ``RAW_MIN_ZOOM`` on: a z10 tile over a million reports would ship hundreds of
thousands of points (13 MB, 650 ms). Below it, a tile carries grid cells of 1/32 of its side (128 of 4096
units) with their count, placed at the mean position of their reports.

Counting a million rows per request cannot meet a 50 ms budget, so the counts come from
``report_map_cells``: the public reports pre-aggregated per Web Mercator grid level (``level`` = cells of
``world / 2**level``), per category, with one count column per status, refreshed in one transaction by
``refresh_map_cells`` (readers keep seeing the previous snapshot meanwhile). Reports created after the
last refresh (``id > max_report_id``) are aggregated live and added, so a new report shows up at every zoom
at once; a status change shows up in status-filtered low-zoom counts at the next refresh (the totals do not
change). This keeps writes free of any extra work or lock: a trigger-maintained counter would make every
submission in a city queue on the same coarse cell rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    Table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import Base
from geo.workflow import Status

EXTENT = 4096
BUFFER = 64
CELL_BITS = 5  # 32 cells per tile side at aggregated zooms
RAW_MIN_ZOOM = 16
MAX_ZOOM = 22
FINEST_LEVEL = RAW_MIN_ZOOM - 1 + CELL_BITS  # 20: the cells of a z15 tile
COARSEST_LEVEL = 2
RAW_POINT_LIMIT = 20_000  # a safety net: at z16 the densest Amsterdam tile holds ~4,000 reports
HALF_WORLD = 20037508.342789244
WORLD = 2 * HALF_WORLD
STATUSES = tuple(s.value for s in Status)
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"

report_map_cells = Table(
    "report_map_cells",
    Base.metadata,
    Column("level", SmallInteger, primary_key=True),
    Column("cell_x", Integer, primary_key=True),
    Column("cell_y", Integer, primary_key=True),
    Column("category_id", Integer, primary_key=True),
    Column("jurisdiction_id", Integer, nullable=False),
    *[Column(f"n_{status}", Integer, nullable=False, server_default="0") for status in STATUSES],
    Column("sum_x", Float, nullable=False),
    Column("sum_y", Float, nullable=False),
)
report_map_cells_state = Table(
    "report_map_cells_state",
    Base.metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("max_report_id", BigInteger, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class MapFilter:
    """Which reports a map layer shows; ``None`` means no restriction."""

    jurisdiction_id: int | None = None
    category_ids: tuple[int, ...] | None = None
    statuses: tuple[str, ...] | None = None

    def count_expression(self) -> str:
        """The sum of the selected status columns (names from the fixed whitelist only)."""
        chosen = [s for s in STATUSES if self.statuses is None or s in self.statuses]
        return " + ".join(f"c.n_{s}" for s in chosen) if chosen else "0"


def cell_size(level: int) -> float:
    return WORLD / (1 << level)


def tile_exists(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)


# --------------------------------------------------------------------------------------------------------
# Refresh

_LEVEL_COUNTS = ", ".join(f"count(*) FILTER (WHERE status = '{s}')" for s in STATUSES)
_SUM_COUNTS = ", ".join(f"sum(n_{s})" for s in STATUSES)
_COUNT_COLUMNS = ", ".join(f"n_{s}" for s in STATUSES)

# The f-strings below join only module constants (status names from ``Status``, numbers); no input.
_INSERT_CELLS = (
    "INSERT INTO report_map_cells (level, cell_x, cell_y, category_id, jurisdiction_id, "
    f"{_COUNT_COLUMNS}, sum_x, sum_y)"
)
REFRESH_FINEST_SQL = f"""
{_INSERT_CELLS}
SELECT {FINEST_LEVEL}, floor((ST_X(p) + {HALF_WORLD}) / {cell_size(FINEST_LEVEL)})::int,
       floor(({HALF_WORLD} - ST_Y(p)) / {cell_size(FINEST_LEVEL)})::int, category_id, jurisdiction_id,
       {_LEVEL_COUNTS}, sum(ST_X(p)), sum(ST_Y(p))
FROM (SELECT ST_Transform(location, 3857) AS p, category_id, jurisdiction_id, status
      FROM reports WHERE is_public AND id <= :max_id) AS points
GROUP BY 2, 3, 4, 5
"""  # noqa: S608

REFRESH_COARSER_SQL = f"""
{_INSERT_CELLS}
SELECT :level, cell_x / 2, cell_y / 2, category_id, jurisdiction_id, {_SUM_COUNTS}, sum(sum_x), sum(sum_y)
FROM report_map_cells WHERE level = :level + 1
GROUP BY 2, 3, 4, 5
"""  # noqa: S608


async def refresh_map_cells(session: AsyncSession) -> int:
    """Rebuild the aggregated cells from the reports; returns the high-water mark. Flushes, never commits.

    A transaction-scoped advisory lock makes concurrent refreshes queue instead of doing the work twice.
    """
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('civicloop.report_map_cells'))"))
    max_id = int(await session.scalar(text("SELECT coalesce(max(id), 0) FROM reports")) or 0)
    await session.execute(text("DELETE FROM report_map_cells"))
    await session.execute(text(REFRESH_FINEST_SQL), {"max_id": max_id})
    for level in range(FINEST_LEVEL - 1, COARSEST_LEVEL - 1, -1):
        await session.execute(text(REFRESH_COARSER_SQL), {"level": level})
    await session.execute(
        text("UPDATE report_map_cells_state SET max_report_id = :max_id, refreshed_at = now() WHERE id = 1"),
        {"max_id": max_id},
    )
    return max_id


AUTO_REFRESH_SECONDS = 600
"""How old the aggregated cells may grow while the map is being looked at."""
_AUTO_REFRESH_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtext('civicloop.report_map_cells.auto'))"
_CELLS_OLDER_THAN_SQL = (
    "SELECT refreshed_at < now() - make_interval(secs => :seconds) FROM report_map_cells_state WHERE id = 1"
)


async def refresh_map_cells_if_stale(
    sessionmaker: async_sessionmaker[AsyncSession], *, max_age_seconds: float = AUTO_REFRESH_SECONDS
) -> bool:
    """Rebuild the aggregated cells when older than ``max_age_seconds``; one worker at a time. Returns
    whether it rebuilt them.

    A job, not a service: it opens its own session and commits, being its own unit of work (the map's
    routes start it in the background after answering). Another worker that holds the lock is doing the
    same work, so this one skips instead of queueing behind it.
    """
    async with sessionmaker() as session:
        locked = await session.scalar(text(_AUTO_REFRESH_LOCK_SQL))
        stale = bool(
            locked and await session.scalar(text(_CELLS_OLDER_THAN_SQL), {"seconds": max_age_seconds})
        )
        if stale:
            await refresh_map_cells(session)
        await session.commit()
    return stale


HIGH_WATER_MARK_SQL = "SELECT max_report_id FROM report_map_cells_state WHERE id = 1"


async def high_water_mark(session: AsyncSession) -> int:
    """The last report id the stored cells include; later ones are counted live."""
    return int(await session.scalar(text(HIGH_WATER_MARK_SQL)) or 0)


# --------------------------------------------------------------------------------------------------------
# Aggregated cells (shared by tiles and the clustered viewport)


def _live_filter(flt: MapFilter, params: dict[str, object]) -> str:
    # The high-water mark travels as a value, not a subquery, so the planner sees how few rows lie past it
    # and walks the primary key instead of the whole tile's spatial index.
    where = ["r.is_public", "r.id > :hwm"]
    if flt.jurisdiction_id is not None:
        where.append("r.jurisdiction_id = :jurisdiction_id")
        params["jurisdiction_id"] = flt.jurisdiction_id
    if flt.category_ids is not None:
        where.append("r.category_id = ANY(:category_ids)")
        params["category_ids"] = list(flt.category_ids)
    return " AND ".join(where)


def _stored_filter(flt: MapFilter) -> str:
    where = []
    if flt.jurisdiction_id is not None:
        where.append("c.jurisdiction_id = :jurisdiction_id")
    if flt.category_ids is not None:
        where.append("c.category_id = ANY(:category_ids)")
    return "".join(f" AND {clause}" for clause in where)


def cells_sql(flt: MapFilter, params: dict[str, object]) -> str:
    """Cells of ``:level`` in ``[:x0, :x1] × [:y0, :y1]``: stored counts plus the reports past ``:hwm``.

    Yields ``cell_x, cell_y, n, mx, my`` (mean position in EPSG:3857). Only whitelisted clause strings are
    joined in; every value is a bind parameter.
    """
    live_where = _live_filter(flt, params)
    status_match = "true"
    if flt.statuses is not None:
        params["statuses"] = list(flt.statuses)
        status_match = "q.status = ANY(:statuses)"
    every_status = " + ".join(f"c.n_{s}" for s in STATUSES)
    return f"""
WITH stored AS (
    SELECT c.cell_x, c.cell_y, ({flt.count_expression()}) AS n, ({every_status}) AS n_all,
           c.sum_x, c.sum_y
    FROM report_map_cells c
    WHERE c.level = :level AND c.cell_x BETWEEN :x0 AND :x1
      AND c.cell_y BETWEEN :y0 AND :y1{_stored_filter(flt)}
), live AS (
    SELECT floor((ST_X(q.p) + {HALF_WORLD}) / :size)::int AS cell_x,
           floor(({HALF_WORLD} - ST_Y(q.p)) / :size)::int AS cell_y,
           ({status_match})::int AS n, 1 AS n_all, ST_X(q.p) AS sum_x, ST_Y(q.p) AS sum_y
    FROM (SELECT ST_Transform(r.location, 3857) AS p, r.status FROM reports r
          WHERE {live_where}
            AND r.location && ST_Transform(ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 3857), 4326)) AS q
)
SELECT cell_x, cell_y, sum(n) AS n, sum(sum_x) / sum(n_all) AS mx, sum(sum_y) / sum(n_all) AS my
FROM (SELECT * FROM stored UNION ALL SELECT * FROM live) AS merged
WHERE cell_x BETWEEN :x0 AND :x1 AND cell_y BETWEEN :y0 AND :y1
GROUP BY cell_x, cell_y
HAVING sum(n) > 0
"""  # noqa: S608


def cell_window(level: int, minx: float, miny: float, maxx: float, maxy: float) -> dict[str, object]:
    """Bind parameters for the cells of ``level`` that cover a Web Mercator box."""
    size = cell_size(level)
    last = (1 << level) - 1
    return {
        "level": level,
        "size": size,
        "x0": max(0, math.floor((minx + HALF_WORLD) / size)),
        "x1": min(last, math.floor((maxx + HALF_WORLD) / size)),
        "y0": max(0, math.floor((HALF_WORLD - maxy) / size)),
        "y1": min(last, math.floor((HALF_WORLD - miny) / size)),
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
    }


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    size = WORLD / (1 << z)
    minx = -HALF_WORLD + x * size
    maxy = HALF_WORLD - y * size
    return minx, maxy - size, minx + size, maxy


# --------------------------------------------------------------------------------------------------------
# Tiles


def _point_filter(flt: MapFilter, params: dict[str, object]) -> str:
    where = ["r.is_public"]
    if flt.jurisdiction_id is not None:
        where.append("r.jurisdiction_id = :jurisdiction_id")
        params["jurisdiction_id"] = flt.jurisdiction_id
    if flt.category_ids is not None:
        where.append("r.category_id = ANY(:category_ids)")
        params["category_ids"] = list(flt.category_ids)
    if flt.statuses is not None:
        where.append("r.status = ANY(:statuses)")
        params["statuses"] = list(flt.statuses)
    return " AND ".join(where)


def report_tile_sql(*, z: int, x: int, y: int, flt: MapFilter, hwm: int = 0) -> tuple[str, dict[str, object]]:
    """The statement behind one ``reports`` tile (also run verbatim by the raw-SQL benchmark baseline).

    ``hwm`` is ``high_water_mark()``: reports past it are aggregated live at low zoom.
    """
    params: dict[str, object] = {"z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER, "hwm": hwm}
    if z < RAW_MIN_ZOOM:
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        params |= cell_window(z + CELL_BITS, minx, miny, maxx, maxy)
        sql = f"""
SELECT ST_AsMVT(t, 'reports', :extent, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(cells.mx, cells.my), 3857), ST_TileEnvelope(:z, :x, :y),
                        :extent, :buffer, true) AS geom,
           cells.n::int AS count, true AS cluster
    FROM ({cells_sql(flt, params)}) AS cells
) AS t WHERE t.geom IS NOT NULL
"""  # noqa: S608
    else:
        margin = (WORLD / (1 << z)) * BUFFER / EXTENT
        params |= {"margin": margin, "limit": RAW_POINT_LIMIT}
        sql = f"""
SELECT ST_AsMVT(t, 'reports', :extent, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(r.location, 3857), ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true)
               AS geom,
           r.id, c.code AS category, r.status, 1 AS count, false AS cluster
    FROM reports r JOIN categories c ON c.id = r.category_id
    WHERE {_point_filter(flt, params)}
      AND ST_Transform(r.location, 3857) && ST_Expand(ST_TileEnvelope(:z, :x, :y), :margin)
    ORDER BY r.id DESC
    LIMIT :limit
) AS t WHERE t.geom IS NOT NULL
"""  # noqa: S608
    return sql, params


async def report_tile(session: AsyncSession, *, z: int, x: int, y: int, flt: MapFilter) -> bytes:
    """One tile of the ``reports`` layer: cells with ``count`` below ``RAW_MIN_ZOOM``, points from it on."""
    hwm = await high_water_mark(session) if z < RAW_MIN_ZOOM else 0
    sql, params = report_tile_sql(z=z, x=x, y=y, flt=flt, hwm=hwm)
    tile = await session.scalar(text(sql), params)
    return bytes(tile or b"")


AREA_TILE_SQL = """
SELECT ST_AsMVT(t, 'areas', :extent, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(a.geom, 3857), ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true)
               AS geom,
           a.id, a.name, a.level, a.code, a.parent_id
    FROM areas a
    WHERE a.jurisdiction_id = :jurisdiction_id {level}
      AND a.geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326)
) AS t WHERE t.geom IS NOT NULL
"""


async def area_tile(
    session: AsyncSession, *, z: int, x: int, y: int, jurisdiction_id: int, level: str | None
) -> bytes:
    params: dict[str, object] = {
        "z": z,
        "x": x,
        "y": y,
        "extent": EXTENT,
        "buffer": BUFFER,
        "margin": BUFFER / EXTENT,
        "jurisdiction_id": jurisdiction_id,
    }
    level_clause = ""
    if level is not None:
        level_clause = "AND a.level = :level"
        params["level"] = level
    tile = await session.scalar(text(AREA_TILE_SQL.replace("{level}", level_clause)), params)
    return bytes(tile or b"")
