"""A resident reports: photo, neighbourhood, duplicates, "me too", follow; events in the outbox."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import OutboxEvent
from geo.models import ReportFollower, ReportStatusChange, ReportSupporter
from tests.conftest import DAM_SQUARE, NORTH_SEA, UTRECHT_DOM, VONDELPARK, World, bearer, report_body
from tests.photos import GPS_IFD, phone_jpeg

BASE = "/api/v1/jurisdictions/amsterdam"


async def submit(client: httpx.AsyncClient, token: str, **kwargs: Any) -> httpx.Response:
    return await client.post(f"{BASE}/reports", json=report_body(**kwargs), headers=bearer(token))


async def test_a_report_with_a_photo_lands_in_its_neighbourhood_without_exif(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    upload = await client.post(
        f"{BASE}/photos",
        files={"file": ("gat.jpg", phone_jpeg(), "image/jpeg")},
        headers=bearer(world.tokens["device"]),
    )
    assert upload.status_code == 201, upload.text
    photo_id = upload.json()["id"]
    response = await submit(
        client,
        world.tokens["device"],
        photo_ids=[photo_id],
        contact={"email": "Melder@Example.org", "phone": "+31 20 123 4567"},
        address="Dam 1, Amsterdam",
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert response.headers["location"].endswith(f"/reports/{report['id']}")
    assert report["area"]["name"] == "Dam"
    assert report["status"] == "submitted"
    assert report["due_at"] is not None
    assert "melder@example.org" not in response.text.lower() and "123 4567" not in response.text
    [photo] = report["photos"]
    image_bytes = (await client.get(photo["url"])).content
    image = Image.open(io.BytesIO(image_bytes))
    assert image.format == "JPEG"
    assert not image.getexif().get_ifd(GPS_IFD) and len(image.getexif()) == 0
    thumbnail = await client.get(photo["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    # The change, its first status record, the reporter following it and the event: one transaction.
    history = await session.scalar(select(func.count()).where(ReportStatusChange.report_id == report["id"]))
    assert history == 1
    assert (
        await session.scalar(
            select(ReportFollower.account_id).where(ReportFollower.report_id == report["id"])
        )
        == world.accounts["device"]
    )
    event = await session.scalar(select(OutboxEvent).where(OutboxEvent.aggregate_id == report["id"]))
    assert event is not None and event.topic == "report.submitted"
    assert event.payload["area_id"] == world.areas["Dam"]


async def test_outside_the_neighbourhood_the_district_is_the_deepest_area(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await submit(client, world.tokens["resident"], point=VONDELPARK)
    assert response.status_code == 201
    assert response.json()["area"] == {"id": world.areas["Zuid"], "name": "Zuid", "level": "district"}


async def test_a_point_outside_the_jurisdiction_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    before = await session.scalar(select(func.count()).select_from(OutboxEvent))
    for point in (NORTH_SEA, UTRECHT_DOM):
        response = await submit(client, world.tokens["resident"], point=point)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "location-outside-jurisdiction"
    assert await session.scalar(select(func.count()).select_from(OutboxEvent)) == before


async def test_on_the_edge_of_the_neighbourhood_counts_as_inside(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await submit(client, world.tokens["resident"], point=(4.8880, 52.3735))
    assert response.json()["area"]["name"] == "Dam"


async def test_extra_fields_are_validated_against_the_category(
    client: httpx.AsyncClient, world: World
) -> None:
    missing = await submit(client, world.tokens["resident"], category="street-light", extra={"kind": "blue"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {
        "pole_number": "this field is required",
        "kind": "must be one of ['flicker', 'off']",
    }
    good = await submit(
        client,
        world.tokens["resident"],
        category="street-light",
        extra={"pole_number": "AMS-1234", "kind": "off"},
    )
    assert good.status_code == 201
    assert good.json()["extra"] == {"pole_number": "AMS-1234", "kind": "off"}


async def test_duplicates_are_open_reports_of_the_category_nearest_first(
    client: httpx.AsyncClient, world: World
) -> None:
    near = (DAM_SQUARE[0] + 0.0003, DAM_SQUARE[1])  # ~20 m east
    nearer = (DAM_SQUARE[0] + 0.0001, DAM_SQUARE[1])  # ~7 m east
    far = (DAM_SQUARE[0] + 0.0015, DAM_SQUARE[1])  # ~100 m east
    ids = {}
    for name, point, category in (
        ("near", near, "pothole"),
        ("nearer", nearer, "pothole"),
        ("far", far, "pothole"),
        ("other", nearer, "dumped-waste"),
    ):
        ids[name] = (await submit(client, world.tokens["resident"], point=point, category=category)).json()[
            "id"
        ]
    params: dict[str, str | float] = {
        "category": "pothole",
        "longitude": DAM_SQUARE[0],
        "latitude": DAM_SQUARE[1],
    }
    found = (await client.get(f"{BASE}/reports/duplicates", params=params)).json()
    assert [d["id"] for d in found] == [ids["nearer"], ids["near"]]
    assert 5 < found[0]["distance_m"] < 9 and 18 < found[1]["distance_m"] < 23
    wider = (await client.get(f"{BASE}/reports/duplicates", params=params | {"radius": 150})).json()
    assert [d["id"] for d in wider] == [ids["nearer"], ids["near"], ids["far"]]


async def test_me_too_counts_once_per_resident_and_follows(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    report_id = (await submit(client, world.tokens["resident"])).json()["id"]
    for _ in range(2):
        response = await client.post(
            f"{BASE}/reports/{report_id}/supporters", headers=bearer(world.tokens["other_resident"])
        )
        assert response.status_code == 201
        assert response.json() == {"report_id": report_id, "supporters": 1, "following": True}
    assert (await client.get(f"{BASE}/reports/{report_id}")).json()["supporters"] == 1
    followers = set(
        await session.scalars(select(ReportFollower.account_id).where(ReportFollower.report_id == report_id))
    )
    assert followers == {world.accounts["resident"], world.accounts["other_resident"]}
    events = list(
        await session.scalars(select(OutboxEvent.topic).where(OutboxEvent.aggregate_id == report_id))
    )
    assert events.count("report.supported") == 1


async def test_follow_and_unfollow(client: httpx.AsyncClient, world: World, session: AsyncSession) -> None:
    report_id = (await submit(client, world.tokens["resident"])).json()["id"]
    token = world.tokens["device"]
    assert (
        await client.put(f"{BASE}/reports/{report_id}/followers/me", headers=bearer(token))
    ).status_code == 204
    query = select(func.count()).where(
        ReportFollower.report_id == report_id, ReportFollower.account_id == world.accounts["device"]
    )
    assert await session.scalar(query) == 1
    assert (
        await client.delete(f"{BASE}/reports/{report_id}/followers/me", headers=bearer(token))
    ).status_code == 204
    assert await session.scalar(query) == 0


async def test_public_list_filters_and_pages(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    # Rows of this test carry its transaction's timestamp; rows other tests committed are older.
    since = (await session.scalar(select(func.now()))).isoformat()
    made = []
    for point, category in (
        (DAM_SQUARE, "pothole"),
        (VONDELPARK, "pothole"),
        (VONDELPARK, "dumped-waste"),
        (DAM_SQUARE, "nuisance-neighbours"),
    ):
        made.append(
            (await submit(client, world.tokens["resident"], point=point, category=category)).json()["id"]
        )

    async def ids(**params: object) -> list[int]:
        response = await client.get(f"{BASE}/reports", params={"created_after": since} | params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids() == [made[2], made[1], made[0]]  # newest first; the non-public one is not listed
    assert await ids(category="pothole") == [made[1], made[0]]
    assert await ids(category="street") == [made[1], made[0]]  # a group stands for its categories
    assert await ids(area_id=world.areas["Centrum"]) == [made[0]]
    assert await ids(status="accepted") == []
    assert await ids(bbox="4.86,52.35,4.87,52.36") == [made[2], made[1]]
    assert await ids(near=f"{DAM_SQUARE[0]},{DAM_SQUARE[1]}", radius=100) == [made[0]]
    assert await ids(created_after="2000-01-01T00:00:00Z", created_before="2001-01-01T00:00:00Z") == []
    assert made[0] in await ids(created_after="2000-01-01T00:00:00Z")
    first = (await client.get(f"{BASE}/reports", params={"limit": 2, "created_after": since})).json()
    assert [i["id"] for i in first["items"]] == [made[2], made[1]] and first["next_cursor"]
    second = (
        await client.get(
            f"{BASE}/reports", params={"limit": 2, "cursor": first["next_cursor"], "created_after": since}
        )
    ).json()
    assert [i["id"] for i in second["items"]] == [made[0]] and second["next_cursor"] is None


async def test_public_view_of_a_non_public_category(client: httpx.AsyncClient, world: World) -> None:
    report_id = (await submit(client, world.tokens["resident"], category="nuisance-neighbours")).json()["id"]
    assert (await client.get(f"{BASE}/reports/{report_id}")).status_code == 404
    other = await client.get(f"{BASE}/reports/{report_id}", headers=bearer(world.tokens["other_resident"]))
    assert other.status_code == 404
    own = await client.get(f"{BASE}/reports/{report_id}", headers=bearer(world.tokens["resident"]))
    assert own.status_code == 200
    staff = await client.get(f"{BASE}/reports/{report_id}", headers=bearer(world.tokens["waste_staff"]))
    assert staff.status_code == 200
    me_too = await client.post(
        f"{BASE}/reports/{report_id}/supporters", headers=bearer(world.tokens["device"])
    )
    assert me_too.status_code == 404


async def test_supporters_table_is_the_source_of_the_count(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    report_id = (await submit(client, world.tokens["resident"])).json()["id"]
    session.add(ReportSupporter(report_id=report_id, account_id=world.accounts["council"]))
    await session.commit()
    assert (await client.get(f"{BASE}/reports/{report_id}")).json()["supporters"] == 1


async def test_near_lists_nearest_first_and_pages_by_distance(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    since = (await session.scalar(select(func.now()))).isoformat()
    made = {}
    for metres in (30, 10, 60, 20):
        point = (DAM_SQUARE[0] + metres / 68_000, DAM_SQUARE[1])  # ~68 km per degree of longitude here
        made[metres] = (await submit(client, world.tokens["resident"], point=point)).json()["id"]
    params = {"near": f"{DAM_SQUARE[0]},{DAM_SQUARE[1]}", "radius": 50, "limit": 2, "created_after": since}
    first = (await client.get(f"{BASE}/reports", params=params)).json()
    assert [i["id"] for i in first["items"]] == [made[10], made[20]]
    second = (await client.get(f"{BASE}/reports", params=params | {"cursor": first["next_cursor"]})).json()
    assert [i["id"] for i in second["items"]] == [made[30]] and second["next_cursor"] is None
    newest_cursor = (await client.get(f"{BASE}/reports", params={"limit": 1})).json()["next_cursor"]
    mixed = await client.get(f"{BASE}/reports", params=params | {"cursor": newest_cursor})
    assert mixed.status_code == 422 and mixed.json()["code"] == "invalid-cursor"


async def test_near_pages_through_reports_at_the_very_same_point_in_id_order(
    client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    """Reports at one address tie on distance: the id breaks the tie, and a page boundary inside the tie
    group neither drops nor repeats one. The index walk stops after a page, so it must keep the whole
    group; the tied rows are written highest id first, so a walk that kept only the first rows it met
    would list the wrong ones."""
    since = (await session.scalar(select(func.now()))).isoformat()
    nearest = (
        await submit(client, world.tokens["resident"], point=(DAM_SQUARE[0] + 10 / 68_000, DAM_SQUARE[1]))
    ).json()["id"]
    next_ids = text("SELECT nextval(pg_get_serial_sequence('reports', 'id')) FROM generate_series(1, 5)")
    tied = sorted((await session.execute(next_ids)).scalars())
    for report_id in reversed(tied):
        await session.execute(
            text("""
            INSERT INTO reports (id, jurisdiction_id, category_id, location, description, extra, status,
                                 is_public, version)
            SELECT :id, :j, id, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'Same address', '{}',
                   'submitted', true, 1
            FROM categories WHERE jurisdiction_id = :j AND code = 'pothole'
            """),
            {"id": report_id, "j": world.amsterdam, "lon": DAM_SQUARE[0] + 20 / 68_000, "lat": DAM_SQUARE[1]},
        )
    await session.commit()
    params = {"near": f"{DAM_SQUARE[0]},{DAM_SQUARE[1]}", "radius": 50, "limit": 2, "created_after": since}
    pages, cursor = [], None
    for _ in range(4):
        page = (
            await client.get(f"{BASE}/reports", params=params | ({"cursor": cursor} if cursor else {}))
        ).json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [[nearest, tied[0]], tied[1:3], tied[3:5]]


async def test_photos_of_non_public_reports_are_never_cached_by_shared_caches(
    client: httpx.AsyncClient, world: World
) -> None:
    """Issue 12, item 13: a non-public report's photo is private, no-store; a public one's is immutable."""
    token = world.tokens["resident"]
    urls = {}
    for category in ("pothole", "nuisance-neighbours"):
        upload = await client.post(
            f"{BASE}/photos", files={"file": ("p.jpg", phone_jpeg(), "image/jpeg")}, headers=bearer(token)
        )
        assert upload.status_code == 201
        report = (await submit(client, token, category=category, photo_ids=[upload.json()["id"]])).json()
        [photo] = (await client.get(f"{BASE}/reports/{report['id']}", headers=bearer(token))).json()["photos"]
        urls[category] = photo
    for kind in ("url", "thumbnail_url"):
        private = await client.get(urls["nuisance-neighbours"][kind], headers=bearer(token))
        assert private.status_code == 200 and private.headers["cache-control"] == "private, no-store"
        public = await client.get(urls["pothole"][kind])
        assert (
            public.status_code == 200
            and public.headers["cache-control"] == "public, max-age=31536000, immutable"
        )
