"""GeoJSON lists and areas, the clustered viewport and hotspots, through the ASGI app."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from geo.tiles import refresh_map_cells
from tests.conftest import DAM_SQUARE, VONDELPARK, World, bearer
from tests.geo import map_fixtures
from tests.geo.map_fixtures import place_reports

map_client = map_fixtures.map_client

GEOJSON = "application/geo+json"
DAM_BOX = "4.8880,52.3715,4.8960,52.3755"


async def test_reports_geojson_is_an_rfc7946_feature_collection(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    dam = await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=3)
    park = await place_reports(session, world, category="pothole", point=VONDELPARK, count=2)
    hidden = await place_reports(session, world, category="nuisance-neighbours", point=DAM_SQUARE, count=1)
    response = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/reports.geojson", params={"bbox": DAM_BOX}
    )
    assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
    body = response.json()
    assert body["type"] == "FeatureCollection"
    ids = [f["id"] for f in body["features"]]
    assert set(dam) <= set(ids) and not (set(park) | set(hidden)) & set(ids)
    feature = next(f for f in body["features"] if f["id"] == dam[0])
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [DAM_SQUARE[0], DAM_SQUARE[1]]}
    assert feature["properties"]["category"] == "pothole"
    limited = await map_client.get("/api/v1/jurisdictions/amsterdam/reports.geojson", params={"limit": 2})
    assert len(limited.json()["features"]) == 2
    closed = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/reports.geojson", params={"status": "closed"}
    )
    assert not {f["id"] for f in closed.json()["features"]} & set(dam)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"bbox": "4.8,52.3,4.9"}, "invalid-bbox"),
        ({"bbox": "a,b,c,d"}, "invalid-bbox"),
        ({"bbox": "4.9,52.3,4.8,52.4"}, "invalid-bbox"),
        ({"bbox": "4.8,52.3,4.9,nan"}, "invalid-bbox"),
        ({"bbox": "190,52.3,191,52.4"}, "invalid-bbox"),
        ({"limit": "0"}, "invalid-input"),
        ({"limit": "5000"}, "invalid-input"),
        ({"category": "ghost"}, "unknown-category"),
        ({"status": "lost"}, "unknown-status"),
    ],
)
async def test_bad_list_parameters(map_client: httpx.AsyncClient, params: dict[str, str], code: str) -> None:
    response = await map_client.get("/api/v1/jurisdictions/amsterdam/reports.geojson", params=params)
    assert response.status_code == 422 and response.json()["code"] == code


async def test_areas_geojson(map_client: httpx.AsyncClient, world: World) -> None:
    response = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/areas.geojson", params={"level": "district"}
    )
    assert response.headers["content-type"] == GEOJSON
    features = response.json()["features"]
    assert len(features) == 9 and all(f["geometry"]["type"] == "MultiPolygon" for f in features)
    assert "Centrum" in {f["properties"]["name"] for f in features}
    missing = await map_client.get("/api/v1/jurisdictions/atlantis/areas.geojson")
    assert missing.status_code == 404


async def test_clusters_count_and_single_points_carry_their_report(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    await place_reports(session, world, category="pothole", point=DAM_SQUARE, count=20, spread=0.0005)
    (single,) = await place_reports(session, world, category="pothole", point=VONDELPARK, count=1)
    for refreshed in (False, True):
        if refreshed:
            await refresh_map_cells(session)
            await session.commit()
        response = await map_client.get(
            "/api/v1/jurisdictions/amsterdam/map/clusters",
            params={"bbox": "4.85,52.35,4.91,52.38", "zoom": "13", "category": "pothole"},
        )
        assert response.status_code == 200 and response.headers["content-type"] == GEOJSON
        features = response.json()["features"]
        assert sum(f["properties"]["count"] for f in features) >= 21
        big = max(features, key=lambda f: f["properties"]["count"])
        assert big["properties"]["count"] >= 20 and big["properties"]["report"] is None
        lon, lat = big["geometry"]["coordinates"]
        assert abs(lon - DAM_SQUARE[0]) < 0.003 and abs(lat - DAM_SQUARE[1]) < 0.003
        singles = [
            f for f in features if f["properties"]["report"] and f["properties"]["report"]["id"] == single
        ]
        assert len(singles) == 1 and singles[0]["properties"]["count"] == 1
    raw = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/map/clusters",
        params={"bbox": DAM_BOX, "zoom": "19", "category": "pothole"},
    )
    assert all(f["properties"]["count"] == 1 for f in raw.json()["features"])


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"bbox": "4.0,52.0,5.5,53.0", "zoom": "16"}, "viewport-too-large"),
        ({"bbox": DAM_BOX}, "invalid-input"),
        ({"bbox": DAM_BOX, "zoom": "23"}, "invalid-input"),
        ({"bbox": "x", "zoom": "10"}, "invalid-bbox"),
        ({"zoom": "10"}, "invalid-input"),
    ],
)
async def test_bad_viewports(map_client: httpx.AsyncClient, params: dict[str, str], code: str) -> None:
    response = await map_client.get("/api/v1/jurisdictions/amsterdam/map/clusters", params=params)
    assert response.status_code == 422 and response.json()["code"] == code


async def test_hotspots_for_staff_and_council(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    spot = await place_reports(
        session, world, category="dumped-waste", point=DAM_SQUARE, count=6, spread=0.0002
    )
    await place_reports(session, world, category="dumped-waste", point=VONDELPARK, count=2)
    params = {"category": "dumped-waste", "radius_m": "30", "min_reports": "5", "days": "30"}
    staff = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/staff/hotspots",
        params=params,
        headers=bearer(world.tokens["waste_staff"]),
    )
    assert staff.status_code == 200, staff.text
    hotspots = staff.json()["hotspots"]
    assert len(hotspots) == 1
    (found,) = hotspots
    assert found["category"] == "dumped-waste" and found["reports"] == 6 and found["open_reports"] == 6
    assert set(found["latest_report_ids"]) == set(spot) and 0 < found["radius_m"] <= 30
    council = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/council/hotspots",
        params=params,
        headers=bearer(world.tokens["council"]),
    )
    assert council.status_code == 200 and council.json()["hotspots"][0]["reports"] == 6
    elsewhere = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/council/hotspots",
        params={**params, "area_id": str(world.areas["Zuid"])},
        headers=bearer(world.tokens["council"]),
    )
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "not-your-area"
    stricter = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/staff/hotspots",
        params={**params, "min_reports": "7"},
        headers=bearer(world.tokens["admin"]),
    )
    assert stricter.json()["hotspots"] == []


@pytest.mark.parametrize(
    ("caller", "route", "status"),
    [
        (None, "staff", 401),
        ("resident", "staff", 403),
        ("council", "staff", 403),
        ("utrecht_staff", "staff", 403),
        ("resident", "council", 403),
        ("roads_staff", "council", 403),
        ("admin", "council", 200),
        ("roads_staff", "staff", 200),
    ],
)
async def test_hotspot_roles(
    map_client: httpx.AsyncClient, world: World, caller: str | None, route: str, status: int
) -> None:
    headers = bearer(world.tokens[caller]) if caller else {}
    response = await map_client.get(f"/api/v1/jurisdictions/amsterdam/{route}/hotspots", headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "params", [{"radius_m": "0"}, {"radius_m": "nan"}, {"min_reports": "1"}, {"days": "0"}, {"area_id": "0"}]
)
async def test_bad_hotspot_parameters(
    map_client: httpx.AsyncClient, world: World, params: dict[str, str]
) -> None:
    response = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/staff/hotspots", params=params, headers=bearer(world.tokens["admin"])
    )
    assert response.status_code == 422 and response.json()["code"] == "invalid-input"


async def test_hotspots_of_an_unknown_area(map_client: httpx.AsyncClient, world: World) -> None:
    response = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/staff/hotspots",
        params={"area_id": "999999"},
        headers=bearer(world.tokens["admin"]),
    )
    assert response.status_code == 404 and response.json()["code"] == "area-not-found"


async def test_council_hotspots_leave_out_non_public_reports(
    map_client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """Issue 12, item 12: a tight cluster of noise reports showed a council member their exact place."""
    await place_reports(
        session, world, category="nuisance-neighbours", point=DAM_SQUARE, count=6, spread=0.00003
    )
    params = {"category": "nuisance-neighbours", "radius_m": "5", "min_reports": "2", "days": "30"}
    staff = await map_client.get(
        "/api/v1/jurisdictions/amsterdam/staff/hotspots",
        params=params,
        headers=bearer(world.tokens["waste_staff"]),
    )
    assert staff.status_code == 200 and staff.json()["hotspots"], staff.text  # staff still see them
    for who in ("council", "admin"):
        council = await map_client.get(
            "/api/v1/jurisdictions/amsterdam/council/hotspots",
            params=params,
            headers=bearer(world.tokens[who]),
        )
        assert council.status_code == 200 and council.json()["hotspots"] == [], (who, council.text)
        everything = await map_client.get(
            "/api/v1/jurisdictions/amsterdam/council/hotspots",
            params={"radius_m": "5", "min_reports": "2", "days": "30"},
            headers=bearer(world.tokens[who]),
        )
        assert all(h["category"] != "nuisance-neighbours" for h in everything.json()["hotspots"])
