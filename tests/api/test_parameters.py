"""The shared query parameters (``api.parameters``): each mistake is refused alike by every route taking it.

One table of mistakes per parameter, run against every route that declares that parameter: the API's
routes answer 422 problem+json with the mistake's code, Open311 its own error list (400). A route that
parsed the parameter itself again would drift from the table and fail here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.models import Report
from tests.conftest import DAM_SQUARE, World, bearer, report_body

BASE = "/api/v1/jurisdictions/amsterdam"
DAM_BOX = "4.88,52.37,4.90,52.38"
OPEN311 = "/open311/v2/requests.json"


class Route:
    """A route and what it needs besides the parameter under test."""

    def __init__(self, path: str, *, needs: dict[str, str] | None = None, staff: bool = False) -> None:
        self.path, self.needs, self.staff = path, needs or {}, staff

    @property
    def open311(self) -> bool:
        return self.path.startswith("/open311/")

    def __repr__(self) -> str:
        return self.path

    async def get(self, client: httpx.AsyncClient, world: World, params: dict[str, str]) -> httpx.Response:
        headers = bearer(world.tokens["roads_staff"]) if self.staff else {}
        return await client.get(self.path, params={**self.needs, **params}, headers=headers)


REPORTS = Route(f"{BASE}/reports")
GEOJSON = Route(f"{BASE}/reports.geojson")
CLUSTERS = Route(f"{BASE}/map/clusters", needs={"bbox": DAM_BOX, "zoom": "14"})
TILE = Route("/tiles/reports/14/8415/5384.mvt", needs={"jurisdiction": "amsterdam"})
WORKLIST = Route(f"{BASE}/worklist", staff=True)
DUPLICATES = Route(
    f"{BASE}/reports/duplicates",
    needs={"category": "pothole", "longitude": str(DAM_SQUARE[0]), "latitude": str(DAM_SQUARE[1])},
)
REQUESTS = Route(OPEN311, needs={"jurisdiction_id": "amsterdam"})
JURISDICTIONS = Route("/api/v1/jurisdictions")
TAKING_PART = Route(f"{BASE}/taking-part")

TAKES = {
    "bbox": [REPORTS, GEOJSON, CLUSTERS],
    "near": [REPORTS],
    "radius": [REPORTS, DUPLICATES],
    "position": [DUPLICATES, WORKLIST, JURISDICTIONS, TAKING_PART],
    "status": [REPORTS, GEOJSON, CLUSTERS, TILE, WORKLIST, REQUESTS],
}

MISTAKES: dict[str, list[tuple[dict[str, str], str]]] = {
    "bbox": [
        ({"bbox": "a,b,c,d"}, "invalid-bbox"),
        ({"bbox": "4.8,52.3,4.9"}, "invalid-bbox"),
        ({"bbox": "4.8,52.3,4.9,52.4,5"}, "invalid-bbox"),
        ({"bbox": "4.8,52.3,4.9,nan"}, "invalid-bbox"),
        ({"bbox": "4.8,52.3,inf,52.4"}, "invalid-bbox"),
        ({"bbox": "-200,52.3,4.9,52.4"}, "invalid-bbox"),
        ({"bbox": "4.8,-95,4.9,52.4"}, "invalid-bbox"),
        ({"bbox": "4.9,52.3,4.8,52.4"}, "invalid-bbox"),  # min > max
        ({"bbox": "4.8,52.3,4.8,52.4"}, "invalid-bbox"),  # min = max: an empty box
        ({"bbox": ",,,"}, "invalid-bbox"),
        ({"bbox": "1," * 101}, "invalid-input"),  # longer than any box
    ],
    "near": [
        ({"near": "200,52"}, "invalid-near"),
        ({"near": "4.9"}, "invalid-near"),
        ({"near": "4.9,52.3,7"}, "invalid-near"),
        ({"near": "4.9,-inf"}, "invalid-near"),
        ({"near": "x,y"}, "invalid-near"),
    ],
    "radius": [
        ({"radius": "0"}, "invalid-radius"),
        ({"radius": "-5"}, "invalid-radius"),
        ({"radius": "nan"}, "invalid-radius"),
        ({"radius": "100000"}, "invalid-radius"),  # above every route's maximum
        ({"radius": "ten"}, "invalid-input"),
    ],
    "position": [
        ({"longitude": "200", "latitude": "52.37"}, "invalid-position"),
        ({"longitude": "4.89", "latitude": "-91"}, "invalid-position"),
        ({"longitude": "nan", "latitude": "52.37"}, "invalid-position"),
        ({"longitude": "4.89", "latitude": "inf"}, "invalid-position"),
    ],
    "status": [
        ({"status": "bogus"}, "unknown-status"),
        ({"status": "submitted,SUBMITTED"}, "unknown-status"),
        ({"status": "open,pending"}, "unknown-status"),
        ({"status": "x" * 501}, "invalid-input"),
    ],
}

CASES = [
    pytest.param(route, params, code, id=f"{name}:{route!r}:{params}"[:90])
    for name, routes in TAKES.items()
    for route in routes
    for params, code in MISTAKES[name]
]


def assert_refused(route: Route, response: httpx.Response, code: str) -> None:
    if route.open311:
        assert response.status_code == 400, response.text
        errors = response.json()
        assert isinstance(errors, list) and errors and all(e["code"] == 400 for e in errors)
    else:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code


@pytest.mark.parametrize(("route", "params", "code"), CASES)
async def test_each_mistake_is_refused_alike_on_every_route(
    client: httpx.AsyncClient, world: World, route: Route, params: dict[str, str], code: str
) -> None:
    if route is DUPLICATES and "radius" in params and params["radius"] == "100000":
        params = {"radius": "1001"}  # its own maximum is 1000 m
    if route is REPORTS and "radius" in params:
        params = {**params, "near": "4.89,52.37"}
    assert_refused(route, await route.get(client, world, params), code)


@pytest.mark.parametrize("route", [DUPLICATES, WORKLIST, JURISDICTIONS, TAKING_PART], ids=repr)
async def test_half_a_position_is_refused(client: httpx.AsyncClient, world: World, route: Route) -> None:
    needs = {k: v for k, v in route.needs.items() if k != "latitude"}
    response = await Route(route.path, needs=needs, staff=route.staff).get(
        client, world, {"longitude": "4.9"}
    )
    assert_refused(route, response, "invalid-position")


@pytest.mark.parametrize("route", TAKES["status"], ids=repr)
@pytest.mark.parametrize("status", ["open", "closed", "open,closed", "submitted", "resolved,on_hold"])
async def test_one_status_vocabulary_everywhere(
    client: httpx.AsyncClient, world: World, route: Route, status: str
) -> None:
    response = await route.get(client, world, {"status": status})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("route", TAKES["bbox"], ids=repr)
async def test_a_good_bbox_is_taken(client: httpx.AsyncClient, world: World, route: Route) -> None:
    assert (await route.get(client, world, {"bbox": DAM_BOX})).status_code == 200


async def test_closed_is_the_group_of_final_statuses(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    """``closed`` means resolved or closed in the report list, as on the map and in Open311."""
    created = await client.post(
        f"{BASE}/reports", json=report_body(), headers=bearer(world.tokens["resident"])
    )
    report_id = created.json()["id"]
    report = await session.get_one(Report, report_id)
    report.status = "resolved"
    await session.flush()
    closed = await client.get(f"{BASE}/reports", params={"status": "closed", "limit": "500"})
    final = await client.get(f"{BASE}/reports", params={"status": "resolved,closed", "limit": "500"})
    assert report_id in {item["id"] for item in closed.json()["items"]}
    assert closed.json() == final.json()


TIME_RANGES: list[tuple[Route, str, str]] = [
    (REPORTS, "created_after", "created_before"),
    (REQUESTS, "start_date", "end_date"),
]


def _ids(route: Route, response: httpx.Response) -> set[int]:
    assert response.status_code == 200, response.text
    if route.open311:
        return {int(item["service_request_id"]) for item in response.json()}
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize(("route", "start", "end"), TIME_RANGES, ids=[r[1] for r in TIME_RANGES])
async def test_time_range_is_half_open_everywhere(
    client: httpx.AsyncClient, session: AsyncSession, world: World, route: Route, start: str, end: str
) -> None:
    """``start <= created_at < end`` on every route: a report made exactly at the end is left out."""
    created = await client.post(
        f"{BASE}/reports", json=report_body(), headers=bearer(world.tokens["resident"])
    )
    report_id = created.json()["id"]
    moment = await session.scalar(select(Report.created_at).where(Report.id == report_id))
    assert moment is not None
    hour = timedelta(hours=1)
    extra: dict[str, str] = {} if route.open311 else {"limit": "500"}

    async def listed(after: Any, before: Any) -> set[int]:
        params = {**extra, start: after.isoformat(), end: before.isoformat()}
        return _ids(route, await route.get(client, world, params))

    assert report_id in await listed(moment, moment + hour)  # the start is inclusive
    assert report_id not in await listed(moment - hour, moment)  # the end is exclusive
    for after, before in ((moment, moment), (moment + hour, moment)):
        response = await route.get(client, world, {start: after.isoformat(), end: before.isoformat()})
        assert_refused(route, response, "invalid-time-range")


async def test_the_duplicate_check_says_both_coordinates_are_required(
    client: httpx.AsyncClient, world: World
) -> None:
    """Where a position is required, half of one is not told "or neither"."""
    needs = {k: v for k, v in DUPLICATES.needs.items() if k not in ("longitude", "latitude")}
    for given in ({"longitude": "4.9"}, {"latitude": "52.37"}, {}):
        response = await Route(DUPLICATES.path, needs=needs).get(client, world, given)
        assert_refused(DUPLICATES, response, "invalid-position")
        assert response.json()["detail"] == "longitude and latitude are both required", given
