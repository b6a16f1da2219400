"""The map: vector tiles, GeoJSON for GIS tools, a clustered viewport for simple clients, and hotspots.

Tiles live at ``/tiles/...`` so a CDN can front them as a whole; they carry ``Cache-Control`` and a strong
``ETag`` (``If-None-Match`` gets a 304). Every parameter is checked at the edge and a bad one gets a
problem+json with a precise code: ``invalid-tile-coordinates`` (not integers, 422), ``tile-out-of-range``
(no such tile, 404), ``invalid-bbox``, ``viewport-too-large``, ``unknown-category``, ``unknown-status``
(the last four shared with every route, from ``api.parameters``).
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import COUNCIL, PUBLIC, STAFF
from api.deps import SessionDep
from api.errors import InvalidTileCoordinates, TileOutOfRange
from api.parameters import BBox, RequiredBBox, Statuses, limit_parameter
from api.path_objects import PathJurisdiction
from core.identity import Identity
from geo import map_queries, tiles
from geo import permissions as geo_permissions
from geo import service as geo_service
from geo.schemas import ClusterCollection, HotspotsRead

router = APIRouter(tags=["map"])
GEOJSON = "application/geo+json"
REPORT_TILE_CACHE = "public, max-age=60, s-maxage=300, stale-while-revalidate=600"
AREA_TILE_CACHE = "public, max-age=3600, s-maxage=86400"
TILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {tiles.MVT_MEDIA_TYPE: {}}},
    304: {"description": "Not Modified: the tile's ETag matches If-None-Match; no body"},
}


class GeoJSONResponse(JSONResponse):
    """JSON sent as ``application/geo+json``; as a route's ``response_class`` its OpenAPI describes the
    model under that media type, the one the answer carries."""

    media_type = GEOJSON


_CHECK_EVERY_SECONDS = 60


def _tile_coordinates(z: str, x: str, y: str) -> tuple[int, int, int]:
    if not all(part.isdigit() and len(part) <= 8 for part in (z, x, y)):
        raise InvalidTileCoordinates("z, x and y must be non-negative integers")
    zoom, column, row = int(z), int(x), int(y)
    if not tiles.tile_exists(zoom, column, row):
        raise TileOutOfRange(
            f"no tile {zoom}/{column}/{row}: z runs from 0 to {tiles.MAX_ZOOM}, x and y from 0 to 2^z - 1"
        )
    return zoom, column, row


def _cached(request: Request, body: bytes, media_type: str, cache_control: str) -> Response:
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _schedule_refresh(request: Request, background: BackgroundTasks) -> None:
    """Start ``geo.tiles.refresh_map_cells_if_stale`` after the answer, at most once a minute per process.

    Started by the routes that read the cells rather than by a timer in the app's lifespan: a server
    nobody looks at the map on does no work, a test or benchmark turns it off through one attribute
    (``map_refresh_checked_at``), and no long-lived task needs supervising. The job itself (its lock,
    SQL and commit) lives in ``geo``."""
    state = request.app.state
    now = time.monotonic()
    if now - getattr(state, "map_refresh_checked_at", -math.inf) >= _CHECK_EVERY_SECONDS:
        state.map_refresh_checked_at = now
        background.add_task(tiles.refresh_map_cells_if_stale, state.sessionmaker)


@router.get(
    "/tiles/reports/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses=TILE_RESPONSES,
    summary="Reports as a Mapbox Vector Tile (layer 'reports')",
)
async def report_tile(
    z: str,
    x: str,
    y: str,
    request: Request,
    background: BackgroundTasks,
    statuses: Statuses,
    jurisdiction: str | None = Query(default=None, max_length=64),
    category: str | None = Query(default=None, max_length=2000, description="codes, comma-separated"),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    """Below zoom 16 the features are grid cells with a ``count``; from 16 on, the reports themselves."""
    zoom, column, row = _tile_coordinates(z, x, y)
    jurisdiction_id = (await geo_service.get_jurisdiction(session, jurisdiction)).id if jurisdiction else None
    flt = tiles.MapFilter(
        jurisdiction_id=jurisdiction_id,
        category_ids=await geo_service.category_ids_for_codes(
            session, jurisdiction_id=jurisdiction_id, raw=category
        ),
        statuses=statuses,
    )
    body = await tiles.report_tile(session, z=zoom, x=column, y=row, flt=flt)
    if zoom < tiles.RAW_MIN_ZOOM:
        _schedule_refresh(request, background)
    return _cached(request, body, tiles.MVT_MEDIA_TYPE, REPORT_TILE_CACHE)


@router.get(
    "/tiles/areas/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses=TILE_RESPONSES,
    summary="Area boundaries as a Mapbox Vector Tile (layer 'areas')",
)
async def area_tile(
    z: str,
    x: str,
    y: str,
    request: Request,
    jurisdiction: str = Query(max_length=64),
    level: Literal["municipality", "district", "neighbourhood"] | None = None,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    zoom, column, row = _tile_coordinates(z, x, y)
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    body = await tiles.area_tile(session, z=zoom, x=column, y=row, jurisdiction_id=found.id, level=level)
    return _cached(request, body, tiles.MVT_MEDIA_TYPE, AREA_TILE_CACHE)


@router.get(
    "/api/v1/jurisdictions/{jurisdiction}/reports.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    summary="Public reports as an RFC 7946 FeatureCollection (newest first)",
)
async def reports_geojson(
    jurisdiction: str,
    bbox: BBox,
    statuses: Statuses,
    category: str | None = Query(default=None, max_length=2000),
    limit: int = limit_parameter(default=500, maximum=1000),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    flt = tiles.MapFilter(
        jurisdiction_id=found.id,
        category_ids=await geo_service.category_ids_for_codes(
            session, jurisdiction_id=found.id, raw=category
        ),
        statuses=statuses,
    )
    body = await map_queries.reports_geojson(session, flt=flt, bbox=bbox, limit=limit)
    return Response(body, media_type=GEOJSON)


@router.get(
    "/api/v1/jurisdictions/{jurisdiction}/areas.geojson",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}}},
    summary="Area boundaries as an RFC 7946 FeatureCollection",
)
async def areas_geojson(
    jurisdiction: str,
    level: Literal["municipality", "district", "neighbourhood"] | None = None,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    body = await map_queries.areas_geojson(session, jurisdiction_id=found.id, level=level)
    return Response(body, media_type=GEOJSON, headers={"Cache-Control": AREA_TILE_CACHE})


@router.get(
    "/api/v1/jurisdictions/{jurisdiction}/map/clusters",
    response_class=GeoJSONResponse,
    response_model=ClusterCollection,
    summary="Clusters with counts for a bounding box and zoom; a cluster of one carries its report",
)
async def clustered_viewport(
    jurisdiction: str,
    request: Request,
    background: BackgroundTasks,
    bbox: RequiredBBox,
    statuses: Statuses,
    zoom: int = Query(ge=0, le=tiles.MAX_ZOOM),
    category: str | None = Query(default=None, max_length=2000),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> GeoJSONResponse:
    """Returned as built (no model validation on this hot path); the tests check it against the model."""
    found = await geo_service.get_jurisdiction(session, jurisdiction)
    flt = tiles.MapFilter(
        jurisdiction_id=found.id,
        category_ids=await geo_service.category_ids_for_codes(
            session, jurisdiction_id=found.id, raw=category
        ),
        statuses=statuses,
    )
    body = await map_queries.clustered_viewport(session, flt=flt, bbox=bbox, zoom=zoom)
    _schedule_refresh(request, background)
    return GeoJSONResponse(body)


async def _hotspots(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    category: str | None,
    radius_m: float,
    min_reports: int,
    days: int,
    area_ids: tuple[int, ...] | None,
    public_only: bool,
) -> dict[str, Any]:
    until = datetime.now(UTC)
    query = map_queries.HotspotQuery(
        jurisdiction_id=jurisdiction_id,
        since=until - timedelta(days=days),
        until=until,
        radius_m=radius_m,
        min_reports=min_reports,
        category_ids=await geo_service.category_ids_for_codes(
            session, jurisdiction_id=jurisdiction_id, raw=category
        ),
        area_ids=area_ids,
        public_only=public_only,
    )
    spots = await map_queries.hotspots(session, query)
    return {
        "criteria": {"radius_m": radius_m, "min_reports": min_reports, "days": days, "since": query.since},
        "hotspots": spots,
    }


@router.get(
    "/api/v1/jurisdictions/{jurisdiction}/staff/hotspots",
    response_model=HotspotsRead,
    summary="Recurring problems, for staff",
)
async def staff_hotspots(
    _: Annotated[Identity, Depends(STAFF)],
    found: PathJurisdiction,
    category: str | None = Query(default=None, max_length=2000),
    radius_m: float = Query(default=50, ge=5, le=2000, allow_inf_nan=False),
    min_reports: int = Query(default=5, ge=2, le=1000),
    days: int = Query(default=90, ge=1, le=730),
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    """Places where at least ``min_reports`` reports of one category lie within ``radius_m`` of each other."""
    if area_id is not None:
        await geo_permissions.require_area(session, jurisdiction_id=found.id, area_id=area_id)
    return await _hotspots(
        session,
        jurisdiction_id=found.id,
        category=category,
        radius_m=radius_m,
        min_reports=min_reports,
        days=days,
        area_ids=(area_id,) if area_id else None,
        public_only=False,
    )


@router.get(
    "/api/v1/jurisdictions/{jurisdiction}/council/hotspots",
    response_model=HotspotsRead,
    summary="Recurring problems in my area",
)
async def council_hotspots(
    identity: Annotated[Identity, Depends(COUNCIL)],
    found: PathJurisdiction,
    category: str | None = Query(default=None, max_length=2000),
    radius_m: float = Query(default=50, ge=5, le=2000, allow_inf_nan=False),
    min_reports: int = Query(default=5, ge=2, le=1000),
    days: int = Query(default=90, ge=1, le=730),
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    """A council member sees the hotspots of their own area(s), of public reports only: non-public
    categories (noise, neighbours) are left out, since a cluster would show where and when they were."""
    areas: tuple[int, ...] | None
    if area_id is not None:
        await geo_permissions.require_area(session, jurisdiction_id=found.id, area_id=area_id)
        await geo_permissions.check_council_area(
            session,
            identity,
            jurisdiction_id=found.id,
            area_id=area_id,
            refusal="council members see the hotspots of their own area",
        )
        areas = (area_id,)
    else:
        areas = geo_permissions.council_area_roots(identity, jurisdiction_id=found.id)
    return await _hotspots(
        session,
        jurisdiction_id=found.id,
        category=category,
        radius_m=radius_m,
        min_reports=min_reports,
        days=days,
        area_ids=areas,
        public_only=True,
    )
