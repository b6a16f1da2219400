"""The API when its database restarts: 503 with Retry-After (never a 500), and back by itself; /readyz.

The app runs on its own engine against a scratch database reached through a TCP proxy (see
``tests/outage.py``): stopping the proxy is a server that went away; PostgreSQL itself ends the
sessions (``pg_terminate_backend``) as a fast shutdown does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from notifications.supervision import WorkerHealth
from tests.outage import ScratchDatabase, TcpProxy, scratch_database

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def database() -> Iterator[ScratchDatabase]:
    with scratch_database() as scratch:
        scratch.execute(
            "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
            " VALUES ('outage', 'Outage', 'Europe/Amsterdam', 'NL', 'nl')"
        )
        yield scratch


@pytest.fixture
async def proxy(database: ScratchDatabase) -> AsyncIterator[TcpProxy]:
    relay = TcpProxy(*database.host_port)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
async def client(
    database: ScratchDatabase, proxy: TcpProxy, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    url = proxy.url(database.url)
    engine = make_engine(url, pool_size=2)
    app = create_app(
        Settings(
            environment="test", database_url=url, media_dir=tmp_path / "media", ready_max_lag_seconds=600
        ),
        sessionmaker=make_sessionmaker(engine),
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://civicloop.test") as http:
        yield http
    await engine.dispose()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "2"


async def test_sessions_ended_by_the_server_are_replaced_without_an_error(
    client: httpx.AsyncClient, database: ScratchDatabase
) -> None:
    for _ in range(4):  # every kept connection of the pool in use once
        assert (await client.get("/api/v1/jurisdictions/outage")).status_code == 200
    assert database.terminate_other_backends() >= 1
    await asyncio.sleep(0.2)
    statuses = [(await client.get("/api/v1/jurisdictions/outage")).status_code for _ in range(6)]
    assert statuses == [200] * 6


async def test_a_database_that_is_away_answers_503_with_retry_after_and_then_recovers(
    client: httpx.AsyncClient, proxy: TcpProxy
) -> None:
    assert (await client.get("/api/v1/jurisdictions/outage")).status_code == 200
    await proxy.stop()
    read = await client.get("/api/v1/jurisdictions/outage")
    assert_unavailable(read)
    assert read.json()["code"] == "database-unavailable"
    write = await client.post(
        "/api/v1/auth/devices",
        json={"jurisdiction": "outage", "locale": "nl"},
        headers={"Idempotency-Key": "0b6c7a3e-7f1d-4c55-9a51-3f4b2b8f1e01"},
    )
    assert_unavailable(write)
    not_ready = await client.get("/readyz")
    assert_unavailable(not_ready)
    assert not_ready.json()["code"] == "not-ready"
    assert not_ready.json()["database"] == {"reachable": False, "error": "OperationalError"}
    assert (await client.get("/healthz")).status_code == 200  # liveness asks no database
    await proxy.start()
    assert (await client.get("/api/v1/jurisdictions/outage")).status_code == 200
    again = await client.post(
        "/api/v1/auth/devices",
        json={"jurisdiction": "outage", "locale": "nl"},
        headers={"Idempotency-Key": "0b6c7a3e-7f1d-4c55-9a51-3f4b2b8f1e01"},
    )
    assert again.status_code == 201, again.text
    assert (await client.get("/readyz")).status_code == 200


async def test_readyz_reports_the_database_the_queues_and_the_worker(
    client: httpx.AsyncClient, database: ScratchDatabase
) -> None:
    database.execute("TRUNCATE notification_deliveries, outbox_events CASCADE")
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready" and body["database"]["reachable"] is True
    assert body["outbox"] == {"unprocessed": 0, "oldest_unprocessed_age_seconds": 0.0}
    assert body["deliveries"] == {"due": 0, "oldest_due_age_seconds": 0.0}
    assert body["worker"] == {"in_this_process": False}

    # A worker of this process whose delivery loop stalled: not ready, and the report says which loop.
    app = client._transport.app  # type: ignore[attr-defined]  # httpx's ASGITransport, typed as BaseTransport
    health = WorkerHealth(stale_after_seconds=30)
    fan_out, delivery = health.loop("fanout-0"), health.loop("delivery-0")
    fan_out.running = delivery.running = True
    delivery.beat_at -= 45
    delivery.failures, delivery.restarts = 3, 1
    app.state.worker_health = health
    stalled = await client.get("/readyz")
    assert_unavailable(stalled)
    assert stalled.json()["problems"] == ["loop delivery-0 has not completed an iteration for 45 s"]
    assert stalled.json()["worker"]["loops"]["delivery-0"]["restarts"] == 1
    assert stalled.json()["worker"]["failures"] == 3
    delivery.beat()
    assert (await client.get("/readyz")).status_code == 200

    # An outbox event nobody processed for an hour: no worker anywhere keeps up.
    [(jurisdiction,)] = database.execute("SELECT id FROM jurisdictions WHERE slug = 'outage'")
    database.execute(
        "INSERT INTO outbox_events"
        " (jurisdiction_id, topic, aggregate_type, aggregate_id, payload, created_at)"
        " VALUES (%s, 'report.submitted', 'report', 1, '{}', now() - interval '1 hour')",
        (jurisdiction,),
    )
    lagging = await client.get("/readyz")
    assert_unavailable(lagging)
    assert lagging.json()["outbox"]["unprocessed"] == 1
    assert lagging.json()["outbox"]["oldest_unprocessed_age_seconds"] >= 3600
    assert "oldest unprocessed outbox event" in lagging.json()["problems"][0]
    database.execute("TRUNCATE notification_deliveries, outbox_events CASCADE")
