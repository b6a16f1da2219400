"""The raw-SQL baseline for the map: the same statements as civicloop's tile and GeoJSON endpoints, on a
bare ``psycopg_pool`` with no session, policy or dependency layer of ours.

Per request it sends what civicloop sends, in the same order: the jurisdiction lookup (``get_jurisdiction``'s
SELECT), then the layer's statement, built by the very functions civicloop uses
(``geo.tiles.report_tile_sql``,
``geo.map_queries.REPORTS_GEOJSON_SQL``), so both sides do identical database work and ship identical bytes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from psycopg_pool import AsyncConnectionPool

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from geo.map_queries import REPORTS_GEOJSON_SQL  # noqa: E402
from geo.tiles import HIGH_WATER_MARK_SQL, MVT_MEDIA_TYPE, RAW_MIN_ZOOM, MapFilter, report_tile_sql  # noqa: E402

POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "10"))
JURISDICTION_SQL = (
    "SELECT jurisdictions.id, jurisdictions.slug, jurisdictions.name, jurisdictions.timezone,"
    " jurisdictions.holiday_country, jurisdictions.default_locale, jurisdictions.created_at"
    " FROM jurisdictions WHERE jurisdictions.slug = %(slug)s"
)


def _named(sql: str) -> str:
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = AsyncConnectionPool(
        os.environ["BENCH_DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE, open=False
    )
    await pool.open()
    app.state.pool = pool
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/tiles/reports/{z}/{x}/{y}.mvt")
async def tile(z: int, x: int, y: int, jurisdiction: str) -> Response:
    async with app.state.pool.connection() as connection:
        row = await (await connection.execute(JURISDICTION_SQL, {"slug": jurisdiction})).fetchone()
        hwm = 0
        if z < RAW_MIN_ZOOM:
            hwm = (await (await connection.execute(HIGH_WATER_MARK_SQL)).fetchone())[0]
        sql, params = report_tile_sql(z=z, x=x, y=y, flt=MapFilter(jurisdiction_id=row[0]), hwm=hwm)
        body = (await (await connection.execute(_named(sql), params)).fetchone())[0]
    return Response(bytes(body or b""), media_type=MVT_MEDIA_TYPE)


@app.get("/api/v1/jurisdictions/{jurisdiction}/reports.geojson")
async def geojson(jurisdiction: str, bbox: str, limit: int = 500) -> Response:
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox.split(","))
    async with app.state.pool.connection() as connection:
        row = await (await connection.execute(JURISDICTION_SQL, {"slug": jurisdiction})).fetchone()
        where = (
            "r.is_public AND r.jurisdiction_id = :jurisdiction_id"
            " AND r.location && ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"
        )
        params = {
            "jurisdiction_id": row[0],
            "limit": limit,
            "min_lon": min_lon,
            "min_lat": min_lat,
            "max_lon": max_lon,
            "max_lat": max_lat,
        }
        sql = _named(REPORTS_GEOJSON_SQL.replace("{where}", where))
        body = (await (await connection.execute(sql, params)).fetchone())[0]
    return Response(body, media_type="application/geo+json")
