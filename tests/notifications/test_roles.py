"""Every notifications route × role: who may call it, who gets 401/403; metrics scoped to council areas."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import World, bearer
from tests.notifications.helpers import BASE

RESIDENT_ROUTES = [
    ("GET", "/me/inbox"),
    ("GET", "/me/inbox/unread-count"),
    ("POST", "/me/inbox/read-all"),
    ("GET", "/me/notification-preferences"),
    ("GET", "/me/area-subscriptions"),
    ("GET", "/me/satisfaction-requests"),
]
STAFF_ROUTES = [("GET", "/reopen-requests")]
ADMIN_ROUTES = [("GET", "/webhooks"), ("GET", "/dead-letters"), ("GET", "/notification-templates")]
ALLOWED = {
    "device": "resident",
    "resident": "resident",
    "roads_staff": "staff",
    "council": "council",
    "admin": "admin",
}


def expected(person: str, needed: str) -> int:
    if needed == "resident":
        return 200
    if person == "admin":
        return 200
    if needed == "staff" and person == "roads_staff":
        return 200
    return 403


@pytest.mark.parametrize("person", sorted(ALLOWED))
@pytest.mark.parametrize(
    ("method", "path", "needed"),
    [(m, p, "resident") for m, p in RESIDENT_ROUTES]
    + [(m, p, "staff") for m, p in STAFF_ROUTES]
    + [(m, p, "admin") for m, p in ADMIN_ROUTES],
)
async def test_role_matrix(
    client: httpx.AsyncClient, world: World, person: str, method: str, path: str, needed: str
) -> None:
    response = await client.request(method, BASE + path, headers=bearer(world.tokens[person]))
    assert response.status_code == expected(person, needed), response.text
    anonymous = await client.request(method, BASE + path)
    assert anonymous.status_code == 401
    other_city = await client.request(method, BASE + path, headers=bearer(world.tokens["utrecht_admin"]))
    assert other_city.status_code == 403 and other_city.json()["code"] == "wrong-jurisdiction"


async def test_metrics_are_for_council_members_of_the_area_and_admins(
    client: httpx.AsyncClient, world: World
) -> None:
    url = f"{BASE}/loop-metrics"
    assert (await client.get(url, headers=bearer(world.tokens["resident"]))).status_code == 403
    assert (await client.get(url, headers=bearer(world.tokens["roads_staff"]))).status_code == 403
    own = await client.get(
        url,
        params={"area_id": world.areas["Dam"], "group_by": "category"},
        headers=bearer(world.tokens["council"]),
    )
    assert own.status_code == 200, own.text  # Dam lies inside the member's Centrum
    other = await client.get(
        url, params={"area_id": world.areas["Zuid"]}, headers=bearer(world.tokens["council"])
    )
    assert other.status_code == 403 and other.json()["code"] == "not-your-area"
    whole = await client.get(url, headers=bearer(world.tokens["council"]))
    assert whole.status_code == 403
    admin = await client.get(url, params={"group_by": "area"}, headers=bearer(world.tokens["admin"]))
    assert admin.status_code == 200
    bad_period = await client.get(
        url,
        params={"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        headers=bearer(world.tokens["admin"]),
    )
    assert bad_period.status_code == 422 and bad_period.json()["code"] == "invalid-period"
    naive = await client.get(
        url, params={"start": "2026-01-01T00:00:00"}, headers=bearer(world.tokens["admin"])
    )
    assert naive.status_code == 422
    unknown_area = await client.get(
        url, params={"area_id": world.areas["Utrecht"]}, headers=bearer(world.tokens["admin"])
    )
    assert unknown_area.status_code == 404
    bad_group = await client.get(url, params={"group_by": "x"}, headers=bearer(world.tokens["admin"]))
    assert bad_group.status_code == 422


async def test_public_link_routes_refuse_garbage(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/notifications/unsubscribe/not-a-token")).status_code == 422
    forged = await client.post(
        "/api/v1/notifications/unsubscribe/eyJyIjoiYSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    )
    assert forged.status_code == 403
    answer = await client.post(
        "/api/v1/notifications/satisfaction/eyJpZCI6MX0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        json={"fixed": True, "score": 5},
    )
    assert answer.status_code == 403
    vapid = await client.get("/api/v1/notifications/vapid-public-key")
    assert vapid.status_code == 200 and len(vapid.json()["public_key"]) == 87
