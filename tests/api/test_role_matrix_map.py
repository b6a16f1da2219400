"""The role × route matrix of the map: vector tiles, GeoJSON, the clustered viewport and hotspots.

Tiles, GeoJSON and clusters are PUBLIC and show public reports only; hotspots are for staff (every
category, every report id) and for the council of an area (their own area, ids of public reports only).
The reports are submitted through the API with the reporter's contact data; a non-public report carries a
marker in its description that no map answer may show.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx
import pytest

from api.auth import COUNCIL, PUBLIC, STAFF
from tests.api.role_matrix import (
    STAFF_CALLERS,
    Call,
    Case,
    J,
    MatrixRun,
    Setup,
    cells,
    everyone,
    restricted,
    run_cell,
)
from tests.conftest import DAM_SQUARE

HOTSPOT_SIZE = 5  # the routes' default min_reports
AREA_NOT_FOUND = (404, "area-not-found")


def tile_of(point: tuple[float, float], zoom: int) -> dict[str, int]:
    """The slippy-map tile that holds ``point`` at ``zoom``."""
    longitude, latitude = point
    n = 2**zoom
    x = int((longitude + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(latitude))) / math.pi) / 2 * n)
    return {"z": zoom, "x": x, "y": y}


async def public_and_private(setup: Setup, count: int = 1) -> dict[str, Any]:
    """``count`` public potholes and as many non-public nuisance reports on the Dam, all with contact data."""
    marker = f"Overlast-{uuid.uuid4().hex[:12]}"
    public = [(await setup.report())["id"] for _ in range(count)]
    private = [(await setup.report("nuisance-neighbours", description=marker))["id"] for _ in range(count)]
    return {"public": public, "private": private, "marker": marker}


# Builders of valid requests.


def report_tile(zoom: int, **params: str) -> Any:
    async def build(setup: Setup) -> Call:
        reports = await public_and_private(setup)
        return Call(path=tile_of(DAM_SQUARE, zoom), params=params or None, absent=(reports["marker"],))

    return build


async def area_tile(setup: Setup) -> Call:
    return Call(path=tile_of(DAM_SQUARE, 12), params={"jurisdiction": "amsterdam", "level": "district"})


async def reports_geojson(setup: Setup) -> Call:
    reports = await public_and_private(setup)
    return Call(params={"category": "street,waste"}, absent=(reports["marker"],), facts=reports)


def lists_public_reports_only(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {feature["properties"]["id"] for feature in response.json()["features"]}
    assert set(call.facts["public"]) <= ids, caller
    assert not set(call.facts["private"]) & ids, caller


async def areas_geojson(setup: Setup) -> Call:
    return Call(params={"level": "neighbourhood"})


async def clusters(setup: Setup) -> Call:
    reports = await public_and_private(setup)
    longitude, latitude = DAM_SQUARE
    bbox = f"{longitude - 0.002},{latitude - 0.001},{longitude + 0.002},{latitude + 0.001}"
    return Call(params={"bbox": bbox, "zoom": 19}, absent=(reports["marker"],), facts=reports)


def clusters_public_reports_only(response: httpx.Response, call: Call, caller: str) -> None:
    ids = {f["properties"]["report"]["id"] for f in response.json()["features"] if f["properties"]["report"]}
    assert set(call.facts["public"]) <= ids, caller
    assert not set(call.facts["private"]) & ids, caller


def hotspots_in(area: str | None) -> Any:
    """A hotspot of public potholes and one of non-public nuisance reports on the Dam."""

    async def build(setup: Setup) -> Call:
        reports = await public_and_private(setup, HOTSPOT_SIZE)
        params = {} if area is None else {"area_id": setup.world.areas[area]}
        return Call(params=params, facts=reports | {"area": area})

    return build


def staff_see_every_hotspot(response: httpx.Response, call: Call, caller: str) -> None:
    shown = {i for spot in response.json()["hotspots"] for i in spot["latest_report_ids"]}
    assert set(call.facts["public"]) | set(call.facts["private"]) <= shown, caller


def council_see_public_ids_only(response: httpx.Response, call: Call, caller: str) -> None:
    spots = response.json()["hotspots"]
    shown = {i for spot in spots for i in spot["latest_report_ids"]}
    if call.facts["area"] in (None, "Dam", "Centrum"):
        assert set(call.facts["public"]) <= shown, caller
    assert not set(call.facts["private"]) & shown, caller


MATRIX: dict[str, Case] = {
    "report tile": Case("GET", "/tiles/reports/{z}/{x}/{y}.mvt", PUBLIC, report_tile(16), everyone(200)),
    "report tile of one jurisdiction, filtered": Case(
        "GET",
        "/tiles/reports/{z}/{x}/{y}.mvt",
        PUBLIC,
        report_tile(17, jurisdiction="amsterdam", category="street,waste", status="open"),
        everyone(200),
    ),
    "area tile": Case("GET", "/tiles/areas/{z}/{x}/{y}.mvt", PUBLIC, area_tile, everyone(200)),
    "reports as GeoJSON": Case(
        "GET",
        f"{J}/reports.geojson",
        PUBLIC,
        reports_geojson,
        everyone(200),
        check=lists_public_reports_only,
    ),
    "areas as GeoJSON": Case("GET", f"{J}/areas.geojson", PUBLIC, areas_geojson, everyone(200)),
    "clustered viewport": Case(
        "GET",
        f"{J}/map/clusters",
        PUBLIC,
        clusters,
        everyone(200),
        check=clusters_public_reports_only,
    ),
    "staff hotspots": Case(
        "GET",
        f"{J}/staff/hotspots",
        STAFF,
        hotspots_in(None),
        restricted(200, STAFF_CALLERS),
        check=staff_see_every_hotspot,
    ),
    "staff hotspots of an area": Case(
        "GET",
        f"{J}/staff/hotspots",
        STAFF,
        hotspots_in("Dam"),
        restricted(200, STAFF_CALLERS),
        check=staff_see_every_hotspot,
    ),
    "staff hotspots of another jurisdiction's area": Case(
        "GET",
        f"{J}/staff/hotspots",
        STAFF,
        hotspots_in("Utrecht"),
        restricted(AREA_NOT_FOUND, STAFF_CALLERS),
    ),
    "council hotspots": Case(
        "GET",
        f"{J}/council/hotspots",
        COUNCIL,
        hotspots_in(None),
        restricted(200, ("council", "admin")),
        check=council_see_public_ids_only,
    ),
    "council hotspots of own district": Case(
        "GET",
        f"{J}/council/hotspots",
        COUNCIL,
        hotspots_in("Centrum"),
        restricted(200, ("council", "admin")),
        check=council_see_public_ids_only,
    ),
    "council hotspots of a neighbourhood in own district": Case(
        "GET",
        f"{J}/council/hotspots",
        COUNCIL,
        hotspots_in("Dam"),
        restricted(200, ("admin", "council")),
        check=council_see_public_ids_only,
    ),
    "council hotspots of another district": Case(
        "GET",
        f"{J}/council/hotspots",
        COUNCIL,
        hotspots_in("Zuid"),
        restricted(200, ("admin",), council=(403, "not-your-area")),
        check=council_see_public_ids_only,
    ),
    "council hotspots of another jurisdiction's area": Case(
        "GET",
        f"{J}/council/hotspots",
        COUNCIL,
        hotspots_in("Utrecht"),
        restricted(AREA_NOT_FOUND, ("council", "admin")),
    ),
}


@pytest.mark.parametrize(("name", "caller"), cells(MATRIX))
async def test_map_role_matrix(matrix_run: MatrixRun, name: str, caller: str) -> None:
    await run_cell(matrix_run, MATRIX, name, caller)
