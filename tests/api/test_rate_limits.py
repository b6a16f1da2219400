"""Rate limits on what costs an attacker nothing: anonymous devices per address, writes per device; and a
consultation says who may respond and holds to it (issue 12, item 10). The suite's other tests run with
the limits off (they make many devices from one address); here they are on, set low."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.app import create_app
from core.settings import Settings
from tests.conftest import World, bearer, report_body
from tests.participation.support_rounds import BASE, admin


def limited(settings: Settings, **limits: int) -> Settings:
    return settings.model_copy(update={"rate_limits": True, **limits})


@asynccontextmanager
async def client_at(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], address: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as client:
        yield client


async def test_anonymous_devices_are_limited_per_address(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    config = limited(settings, device_registrations_per_address_per_hour=3)
    body = {"jurisdiction": "amsterdam"}
    async with client_at(config, sessionmaker, "198.51.100.7") as phone:
        made = [await phone.post("/api/v1/auth/devices", json=body) for _ in range(3)]
        assert [r.status_code for r in made] == [201, 201, 201]
        refused = await phone.post(
            "/api/v1/auth/devices", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert (refused.status_code, refused.json()["code"]) == (429, "too-many-requests")
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
    async with client_at(config, sessionmaker, "2001:db8:1:2::99") as other:
        assert (await other.post("/api/v1/auth/devices", json=body)).status_code == 201
    # The same /64 is the same client: an IPv6 host gets a whole /64 to pick addresses from.
    async with client_at(config, sessionmaker, "2001:db8:1:2::100") as same_net:
        for _ in range(2):
            assert (await same_net.post("/api/v1/auth/devices", json=body)).status_code == 201
        assert (await same_net.post("/api/v1/auth/devices", json=body)).status_code == 429


async def test_writes_of_an_anonymous_device_are_limited_and_accounts_are_not(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    config = limited(settings, device_writes_per_hour=2)
    async with client_at(config, sessionmaker, "198.51.100.8") as phone:
        device = bearer(world.tokens["device"])
        answers = [await phone.post(f"{BASE}/reports", json=report_body(), headers=device) for _ in range(3)]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert answers[2].json()["code"] == "too-many-requests" and "retry-after" in answers[2].headers
        assert (
            await phone.get(f"{BASE}/reports", headers=device)
        ).status_code == 200  # reads are not limited
        resident = bearer(world.tokens["resident"])
        for _ in range(3):
            assert (
                await phone.post(f"{BASE}/reports", json=report_body(), headers=resident)
            ).status_code == 201


async def test_a_consultation_for_residents_takes_no_anonymous_device(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await client.post(
        f"{BASE}/consultations",
        headers=admin(world),
        json={
            "title": "Open vraag",
            "rounds": [
                {
                    "title": "Wat vind je?",
                    "area_id": world.areas["Dam"],
                    "eligibility": "residents",
                    "questions": [{"kind": "free_text", "prompt": "Idee?"}],
                }
            ],
        },
    )
    assert created.status_code == 201, created.text
    round_ = created.json()["rounds"][0]
    assert round_["eligibility"] == "residents"
    await client.post(
        f"{BASE}/consultation-rounds/{round_['id']}/status", headers=admin(world), json={"to": "open"}
    )
    answer = {"answers": [{"question_id": round_["questions"][0]["id"], "text": "Meer bankjes"}]}
    devices = [
        (await client.post("/api/v1/auth/devices", json={"jurisdiction": "amsterdam"})).json()["token"]
        for _ in range(3)
    ]
    for token in devices:
        response = await client.put(
            f"{BASE}/consultation-rounds/{round_['id']}/response", json=answer, headers=bearer(token)
        )
        assert (response.status_code, response.json()["code"]) == (403, "registration-required")
    registered = await client.put(
        f"{BASE}/consultation-rounds/{round_['id']}/response",
        json=answer,
        headers=bearer(world.tokens["resident"]),
    )
    assert registered.status_code == 201, registered.text
