"""What the residents' app needs of the API: my reports, the jurisdiction at a point, keeping a
device's reports when it signs up, duplicates with a photo, and e-mail links into the app."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.account_links import link_token
from core.settings import PLACEHOLDER_SECRET
from tests.conftest import DAM_SQUARE, NORTH_SEA, UTRECHT_DOM, World, bearer, report_body

J = "/api/v1/jurisdictions/amsterdam"


async def new_device(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/devices", json={"jurisdiction": "amsterdam"})
    assert answer.status_code == 201, answer.text
    return bearer(answer.json()["token"])


async def report(client: httpx.AsyncClient, who: dict[str, str], **extra: Any) -> dict:
    answer = await client.post(f"{J}/reports", json=report_body(**extra), headers=who)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_my_reports_lists_what_i_made_and_follow_newest_first(client: httpx.AsyncClient) -> None:
    me, neighbour = await new_device(client), await new_device(client)
    first = await report(client, me, description="Eerste")
    private = await report(client, me, category="nuisance-neighbours", description="Geluid")
    theirs = await report(client, neighbour, description="Van de buurman")
    other = await report(client, neighbour, description="Niet van mij")
    assert (await client.post(f"{J}/reports/{theirs['id']}/supporters", headers=me)).status_code == 201

    page = (await client.get(f"{J}/me/reports", headers=me)).json()
    assert [i["id"] for i in page["items"]] == [theirs["id"], private["id"], first["id"]]
    assert page["next_before_id"] is None
    by_id = {i["id"]: i for i in page["items"]}
    assert by_id[first["id"]]["reported"] is True and by_id[first["id"]]["following"] is True
    assert by_id[theirs["id"]]["reported"] is False and by_id[theirs["id"]]["following"] is True
    assert by_id[private["id"]]["category_name"]["nl"] == "Overlast door buren"  # my own, though not public
    assert other["id"] not in by_id

    # Unfollowing my own report keeps it in "my reports"; paging and one report by id.
    assert (await client.delete(f"{J}/reports/{first['id']}/followers/me", headers=me)).status_code == 204
    one = (await client.get(f"{J}/me/reports", params={"limit": 1}, headers=me)).json()
    assert [i["id"] for i in one["items"]] == [theirs["id"]] and one["next_before_id"] == theirs["id"]
    rest = (
        await client.get(f"{J}/me/reports", params={"before_id": one["next_before_id"]}, headers=me)
    ).json()
    assert [i["id"] for i in rest["items"]] == [private["id"], first["id"]]
    assert rest["items"][1]["following"] is False
    single = (await client.get(f"{J}/me/reports", params={"report_id": other["id"]}, headers=me)).json()
    assert single == {"items": [], "next_before_id": None}


async def test_my_reports_refuses_bad_paging(client: httpx.AsyncClient) -> None:
    me = await new_device(client)
    for params in ({"limit": 0}, {"limit": 201}, {"before_id": 0}, {"report_id": "x"}):
        answer = await client.get(f"{J}/me/reports", params=params, headers=me)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid-input", params


async def test_my_reports_show_the_first_photo(client: httpx.AsyncClient) -> None:
    me = await new_device(client)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 100, 10)).save(buffer, format="JPEG")
    upload = await client.post(
        f"{J}/photos", files={"file": ("a.jpg", buffer.getvalue(), "image/jpeg")}, headers=me
    )
    made = await report(client, me, photo_ids=[upload.json()["id"]])
    [item] = (await client.get(f"{J}/me/reports", headers=me)).json()["items"]
    assert item["thumbnail_url"] == f"{J}/reports/{made['id']}/photos/{upload.json()['id']}/thumbnail"
    assert (await client.get(item["thumbnail_url"])).status_code == 200
    # The duplicate suggestions carry the same thumbnail, so the resident can tell "is this it?".
    [candidate] = [
        c
        for c in (
            await client.get(
                f"{J}/reports/duplicates",
                params={"category": "pothole", "longitude": DAM_SQUARE[0], "latitude": DAM_SQUARE[1]},
            )
        ).json()
        if c["id"] == made["id"]
    ]
    assert candidate["thumbnail_url"] == item["thumbnail_url"]


async def test_the_jurisdiction_at_a_point(client: httpx.AsyncClient, world: World) -> None:
    every = (await client.get("/api/v1/jurisdictions")).json()
    assert [j["slug"] for j in every] == ["amsterdam", "utrecht"]
    amsterdam = every[0]
    west, south, east, north = amsterdam["bbox"]
    assert west < DAM_SQUARE[0] < east and south < DAM_SQUARE[1] < north
    for point, expected in ((DAM_SQUARE, ["amsterdam"]), (UTRECHT_DOM, ["utrecht"]), (NORTH_SEA, [])):
        found = await client.get(
            "/api/v1/jurisdictions", params={"longitude": point[0], "latitude": point[1]}
        )
        assert [j["slug"] for j in found.json()] == expected, point


async def test_the_jurisdiction_lookup_refuses_half_a_point(client: httpx.AsyncClient) -> None:
    half = await client.get("/api/v1/jurisdictions", params={"longitude": 4.9})
    assert half.status_code == 422 and half.json()["code"] == "invalid-position"
    far = await client.get("/api/v1/jurisdictions", params={"longitude": 4.9, "latitude": 91})
    assert far.status_code == 422 and far.json()["code"] == "invalid-position"


async def test_signing_up_keeps_the_devices_reports(client: httpx.AsyncClient, session: AsyncSession) -> None:
    device = await new_device(client)
    made = await report(client, device)
    device_id = (await client.get("/api/v1/me", headers=device)).json()["account_id"]
    email = f"bewoner-{uuid.uuid4().hex[:8]}@example.org"
    body = {"jurisdiction": "amsterdam", "email": email, "password": "een lang wachtwoord"}
    asked = await client.post("/api/v1/auth/accounts", json=body, headers=device)
    assert asked.status_code == 202
    # The link the mail carries (tests/notifications/test_account_links.py follows the real mail).
    link_id = await session.scalar(text("SELECT id FROM account_links WHERE email = :e"), {"e": email})
    token = link_token(PLACEHOLDER_SECRET, "sign-up", link_id)
    signed_up = await client.post("/api/v1/auth/accounts/confirmations", json={"token": token})
    assert signed_up.status_code == 201 and signed_up.json()["account_id"] == device_id
    account = bearer(signed_up.json()["token"])
    me = (await client.get("/api/v1/me", headers=account)).json()
    assert me["account_id"] == device_id and me["is_anonymous"] is False
    assert [i["id"] for i in (await client.get(f"{J}/me/reports", headers=account)).json()["items"]] == [
        made["id"]
    ]
    # On another phone: sign in, and the reports are there.
    signed_in = await client.post(
        "/api/v1/auth/tokens",
        json={"jurisdiction": "amsterdam", "email": email, "password": body["password"]},
    )
    other_phone = bearer(signed_in.json()["token"])
    assert [i["id"] for i in (await client.get(f"{J}/me/reports", headers=other_phone)).json()["items"]] == [
        made["id"]
    ]
    # Signing up again with the address says nothing new (the owner is mailed instead).
    again = await client.post("/api/v1/auth/accounts", json=body, headers=account)
    taken = await client.post("/api/v1/auth/accounts", json=body, headers=await new_device(client))
    assert again.status_code == taken.status_code == 202 and again.json() == taken.json() == asked.json()
