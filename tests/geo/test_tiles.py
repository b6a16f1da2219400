"""Vector tiles of reports and areas: decoded with an independent MVT decoder (mapbox-vector-tile)."""

from __future__ import annotations

import math

import httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import make_engine
from geo.tiles import AUTO_REFRESH_SECONDS, refresh_map_cells, refresh_map_cells_if_stale
from tests.conftest import DAM_SQUARE, World
from tests.geo import map_fixtures
from tests.geo.map_fixtures import place_reports

map_client = map_fixtures.map_client

MVT = "application/vnd.mapbox-vector-tile"


def tile_of(point: tuple[float, float], zoom: int) -> tuple[int, int]:
    """The slippy-map tile holding a WGS84 point (the OSM wiki's formula)."""
    longitude, latitude = point
    n = 2**zoom
    x = int((longitude + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(latitude))) / math.pi) / 2 * n)
    return x, y


async def fetch(client: httpx.AsyncClient, zoom: int, point: tuple[float, float] = DAM_SQUARE, **params: str):
    x, y = tile_of(point, zoom)
    response = await client.get(
        f"/tiles/reports/{zoom}/{x}/{y}.mvt", params={"jurisdiction": "amsterdam", **params}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    layers = mapbox_vector_tile.decode(response.content)
    return response, layers.get("reports", {"features": []})["features"]


async def test_high_zoom_tiles_carry_the_reports(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    potholes = await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=3)
    hidden = await place_reports(session, world, category="nuisance-neighbours", point=DAM_SQUARE, count=2)
    _, features = await fetch(map_client, 17)
    ids = {f["properties"]["id"] for f in features}
    assert set(potholes) <= ids and not set(hidden) & ids
    mine = [f for f in features if f["properties"]["id"] in potholes]
    assert {
        (f["properties"]["category"], f["properties"]["status"], f["properties"]["count"]) for f in mine
    } == {("pothole", "submitted", 1)}
    assert mine[0]["geometry"]["type"] == "Point"


async def test_filters_by_category_and_status(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    potholes = await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=2)
    waste = await place_reports(
        session, world, category="dumped-waste", point=DAM_SQUARE, count=2, status="resolved"
    )
    _, features = await fetch(map_client, 18, category="pothole")
    ids = {f["properties"]["id"] for f in features}
    assert set(potholes) <= ids and not set(waste) & ids
    _, closed = await fetch(map_client, 18, status="closed")
    ids = {f["properties"]["id"] for f in closed}
    assert set(waste) <= ids and not set(potholes) & ids
    _, grouped = await fetch(map_client, 18, category="waste", status="resolved")
    assert set(waste) <= {f["properties"]["id"] for f in grouped}


async def test_low_zoom_tiles_carry_counted_cells_not_points(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=3000, spread=0.003)
    for zoom in (8, 10, 12, 15):
        _, features = await fetch(map_client, zoom, category="pothole")
        assert all(f["properties"]["cluster"] for f in features)
        assert all("id" not in f["properties"] for f in features)
        assert len(features) <= 32 * 32
        assert sum(f["properties"]["count"] for f in features) >= 3000
    _, raw = await fetch(map_client, 16, category="pothole")
    assert raw and not any(f["properties"]["cluster"] for f in raw)


async def test_stored_cells_and_live_reports_add_up(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=40, spread=0.001)
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=10, status="closed")
    _, before = await fetch(map_client, 11, category="pothole")
    total_before = sum(f["properties"]["count"] for f in before)
    await refresh_map_cells(session)
    await session.commit()
    _, stored = await fetch(map_client, 11, category="pothole")
    assert sum(f["properties"]["count"] for f in stored) == total_before
    _, stored_open = await fetch(map_client, 11, category="pothole", status="open")
    _, stored_closed = await fetch(map_client, 11, category="pothole", status="closed")
    assert sum(f["properties"]["count"] for f in stored_closed) >= 10
    assert (
        sum(f["properties"]["count"] for f in stored_open)
        + sum(f["properties"]["count"] for f in stored_closed)
        == total_before
    )
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=5)
    _, after = await fetch(map_client, 11, category="pothole")
    assert sum(f["properties"]["count"] for f in after) == total_before + 5


async def test_tiles_can_be_cached(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=2)
    response, _ = await fetch(map_client, 17)
    assert response.headers["cache-control"].startswith("public, max-age=")
    etag = response.headers["etag"]
    x, y = tile_of(DAM_SQUARE, 17)
    again = await map_client.get(
        f"/tiles/reports/17/{x}/{y}.mvt",
        params={"jurisdiction": "amsterdam"},
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=1)
    changed, _ = await fetch(map_client, 17)
    assert changed.headers["etag"] != etag


async def test_an_empty_tile_is_empty(map_client: httpx.AsyncClient) -> None:
    response = await map_client.get("/tiles/reports/18/0/0.mvt")
    assert response.status_code == 200 and response.content == b""


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/tiles/reports/a/1/1.mvt", 422, "invalid-tile-coordinates"),
        ("/tiles/reports/3/-1/1.mvt", 422, "invalid-tile-coordinates"),
        ("/tiles/reports/3/1.5/1.mvt", 422, "invalid-tile-coordinates"),
        ("/tiles/reports/3/8/0.mvt", 404, "tile-out-of-range"),
        ("/tiles/reports/3/0/8.mvt", 404, "tile-out-of-range"),
        ("/tiles/reports/23/0/0.mvt", 404, "tile-out-of-range"),
        ("/tiles/reports/99999999999/0/0.mvt", 422, "invalid-tile-coordinates"),
        ("/tiles/reports/3/1/1.mvt?category=ghost", 422, "unknown-category"),
        ("/tiles/reports/3/1/1.mvt?status=lost", 422, "unknown-status"),
        ("/tiles/reports/3/1/1.mvt?jurisdiction=atlantis", 404, "jurisdiction-not-found"),
        ("/tiles/areas/3/9/1.mvt?jurisdiction=amsterdam", 404, "tile-out-of-range"),
        ("/tiles/areas/3/1/1.mvt", 422, "invalid-input"),
        ("/tiles/areas/3/1/1.mvt?jurisdiction=amsterdam&level=street", 422, "invalid-input"),
    ],
)
async def test_bad_tile_requests(map_client: httpx.AsyncClient, path: str, status: int, code: str) -> None:
    response = await map_client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_area_tiles_carry_the_boundaries(map_client: httpx.AsyncClient, world: World) -> None:
    x, y = tile_of(DAM_SQUARE, 14)
    response = await map_client.get(f"/tiles/areas/14/{x}/{y}.mvt", params={"jurisdiction": "amsterdam"})
    assert response.status_code == 200 and response.headers["etag"]
    features = mapbox_vector_tile.decode(response.content)["areas"]["features"]
    names = {f["properties"]["name"] for f in features}
    assert {"Dam", "Centrum", "Amsterdam"} <= names
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    only = await map_client.get(
        f"/tiles/areas/14/{x}/{y}.mvt", params={"jurisdiction": "amsterdam", "level": "neighbourhood"}
    )
    assert {
        f["properties"]["name"] for f in mapbox_vector_tile.decode(only.content)["areas"]["features"]
    } == {"Dam"}


async def test_the_refresh_job_rebuilds_stale_cells_only_and_one_worker_at_a_time(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, world: World, database_url: str
) -> None:
    """The job the map's routes start in the background (``geo.tiles.refresh_map_cells_if_stale``)."""
    reports = await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=3)
    state = "SELECT max_report_id FROM report_map_cells_state WHERE id = 1"
    await session.execute(
        text("UPDATE report_map_cells_state SET max_report_id = 0, refreshed_at = now() - interval '1 hour'")
    )
    await session.commit()
    # Another worker holds the job's lock: this one leaves the stale cells to it.
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as other:
            await other.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('civicloop.report_map_cells.auto'))")
            )
            assert await refresh_map_cells_if_stale(sessionmaker) is False
            assert await session.scalar(text(state)) == 0
            await other.rollback()
    finally:
        await engine.dispose()
    assert await refresh_map_cells_if_stale(sessionmaker, max_age_seconds=AUTO_REFRESH_SECONDS) is True
    assert await session.scalar(text(state)) == max(reports)
    # Refreshed just now (``now()`` is the test transaction's start): fresh, so nothing to do.
    await session.execute(text("UPDATE report_map_cells_state SET max_report_id = 0"))
    await session.commit()
    assert await refresh_map_cells_if_stale(sessionmaker) is False
    assert await session.scalar(text(state)) == 0
