"""Webhooks (signed, SSRF-guarded, retried), SMTP outages and refusals, poison events, dead letters."""

from __future__ import annotations

import ipaddress
import json

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.channels.network import is_public, resolve
from notifications.channels.webhook import verify_signature
from notifications.errors import ForbiddenTarget
from notifications.worker import Worker
from tests.conftest import World, bearer
from tests.notifications.conftest import SmtpSink, start_smtp
from tests.notifications.helpers import BASE, deliveries, let_time_pass, store_raw_event, submit
from tests.notifications.receivers import receiver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "ff02::1",
        # Embedded IPv4 (issue 12, item 16): refused outright, whatever IPv4 address they carry.
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:0808:0808::1",  # 6to4 of a public address: still a transition form, still refused
        "64:ff9b::7f00:1",  # NAT64 well-known prefix
        "64:ff9b:1::a00:1",  # NAT64 local-use prefix
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::7f00:1",  # IPv4-compatible
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT)
        "2a00:1450::5efe:7f00:1",  # ISATAP interface id
    ],
)
def test_the_ssrf_guard_refuses_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_the_ssrf_guard_admits_public_addresses() -> None:
    assert is_public(ipaddress.ip_address("145.7.8.9")) and is_public(ipaddress.ip_address("2a00:1450::1"))


async def test_resolution_is_checked_and_pinned() -> None:
    with pytest.raises(ForbiddenTarget):
        await resolve("http://localhost:9/hook")
    with pytest.raises(ForbiddenTarget):
        await resolve("http://user:pw@example.org/")
    with pytest.raises(ForbiddenTarget):
        await resolve("file:///etc/passwd")
    for literal in ("http://[2002:7f00:1::1]/hook", "https://[64:ff9b::a9fe:a9fe]/latest/meta-data"):
        with pytest.raises(ForbiddenTarget):
            await resolve(literal)
    target = await resolve("http://localhost:9/hook?x=1", allowlist=["127.0.0.0/8", "::1/128"])
    assert target.url in ("http://127.0.0.1:9/hook?x=1", "http://[::1]:9/hook?x=1")
    assert target.host_header == "localhost:9"


async def test_webhooks_are_signed_guarded_retried_and_carry_no_personal_data(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    async with receiver() as hook:
        url = hook.url("/civicloop")
        refused = await client.post(
            f"{BASE}/webhooks", json={"url": url}, headers=bearer(world.tokens["admin"])
        )
        assert refused.status_code == 422 and refused.json()["code"] == "forbidden-target"
        created = await client.post(
            f"{BASE}/webhooks",
            json={"url": url, "allow_private_network": True, "topics": ["report.submitted"]},
            headers=bearer(world.tokens["admin"]),
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        hook.statuses = [503]  # down for the first attempt
        report = await submit(
            client,
            world.tokens["device"],
            contact={"email": "anoniem@example.org", "phone": "+31 6 1234 5678"},
        )
        await submit(
            client, world.tokens["resident"], category="nuisance-neighbours"
        )  # non-public: no webhook
        await worker.run_until_idle()
        await let_time_pass(session, 0.05)  # the longest back-off of the test settings
        await worker.run_until_idle()
        ours = [r for r in hook.requests if json.loads(r.body)["data"]["report_id"] == report["id"]]
        assert len(ours) == 2  # the 503, then the retry
        assert len(hook.requests) == 2
        request = ours[-1]
        body = json.loads(request.body)
        assert body["topic"] == "report.submitted" and body["jurisdiction"] == "amsterdam"
        assert request.headers["X-Civicloop-Event-Id"] == body["event_id"]
        assert verify_signature(
            secret,
            body=request.body,
            timestamp=request.headers["X-Civicloop-Timestamp"],
            signature_header=request.headers["X-Civicloop-Signature"],
        )
        assert not verify_signature(
            secret,
            body=request.body + b" ",
            timestamp=request.headers["X-Civicloop-Timestamp"],
            signature_header=request.headers["X-Civicloop-Signature"],
        )
        assert not verify_signature(
            secret,
            body=request.body,
            timestamp="1000000000",
            signature_header=request.headers["X-Civicloop-Signature"],
        )
        raw = request.body.decode()
        assert "anoniem@example.org" not in raw and "1234 5678" not in raw and "account_id" not in raw
        [delivery] = await deliveries(session, event_id=body["event_id"], channel="webhook")
        assert delivery.status == "delivered" and delivery.attempts == 2
        # The anonymous reporter who left an address gets the mail, in English (the device's language).
        [received] = mail.to("anoniem@example.org")
        assert received["Subject"] == f"We received your report #{report['id']}"


async def test_smtp_down_for_a_while_then_delivered(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    report = await submit(client, world.tokens["resident"])
    worker.email.settings = worker.settings = worker.settings.model_copy(
        update={
            "smtp_port": 1,
            "delivery_max_attempts": 6,
            # A back-off of 30-60 s (equal jitter): no run of the test gets there by itself.
            "retry_base_seconds": 60,
            "retry_max_seconds": 60,
        }
    )
    await worker.run_until_idle()
    event = await session.scalar(
        text("SELECT event_id FROM outbox_events WHERE aggregate_id = :id AND topic = 'report.submitted'"),
        {"id": report["id"]},
    )
    [pending] = await deliveries(session, event_id=event, channel="email")
    assert pending.status == "pending" and pending.attempts == 1 and "SMTP" in pending.last_error
    await worker.run_until_idle()
    [pending] = await deliveries(session, event_id=event, channel="email")
    assert pending.attempts == 1  # the back-off holds the retry
    await let_time_pass(session, 60)
    await worker.run_until_idle()
    [pending] = await deliveries(session, event_id=event, channel="email")
    assert pending.status == "pending" and pending.attempts == 2
    assert mail.to("resident@example.org") == []
    worker.email.settings = worker.settings = worker.settings.model_copy(update={"smtp_port": mail.port})
    await worker.run_until_idle()
    assert mail.to("resident@example.org") == []  # the server is back, but the retry is not due yet
    await let_time_pass(session, 60)
    await worker.run_until_idle()
    [delivered] = await deliveries(session, event_id=event, channel="email")
    assert delivered.status == "delivered" and delivered.attempts == 3
    assert len(mail.to("resident@example.org")) == 1


async def test_a_refused_address_is_dead_lettered_and_replayed_by_an_admin(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    mail.reject.add("resident@example.org")
    report = await submit(client, world.tokens["resident"])
    await worker.run_until_idle()
    listing = await client.get(f"{BASE}/dead-letters", headers=bearer(world.tokens["admin"]))
    [dead] = [d for d in listing.json() if d["channel"] == "email" and d["recipient"].startswith("account:")]
    assert dead["attempts"] == 1 and "550" in dead["last_error"]
    forbidden = await client.get(f"{BASE}/dead-letters", headers=bearer(world.tokens["roads_staff"]))
    assert forbidden.status_code == 403
    mail.reject.clear()
    replayed = await client.post(
        f"{BASE}/dead-letters/{dead['id']}/replay", headers=bearer(world.tokens["admin"])
    )
    assert replayed.status_code == 200 and replayed.json()["replayed"] == "delivery"
    again = await client.post(
        f"{BASE}/dead-letters/{dead['id']}/replay", headers=bearer(world.tokens["admin"])
    )
    assert again.status_code == 404
    await worker.run_until_idle()
    [received] = mail.to("resident@example.org")
    assert received["X-Civicloop-Event-Id"] == dead["event_id"]
    assert report["id"]


async def test_a_poison_event_is_dead_lettered_without_blocking_the_rest(
    client: httpx.AsyncClient, world: World, session: AsyncSession, worker: Worker, mail: SmtpSink
) -> None:
    poison = await store_raw_event(
        session,
        jurisdiction_id=world.amsterdam,
        topic="report.status_changed",
        aggregate_type="report",
        aggregate_id=0,
        payload={"report_id": "not-a-number", "to_status": "resolved"},
    )
    unknown = await store_raw_event(
        session,
        jurisdiction_id=world.amsterdam,
        topic="something.new",
        aggregate_type="x",
        aggregate_id=1,
        payload={},
    )
    await session.commit()
    report = await submit(client, world.tokens["resident"])
    stats = await worker.run_until_idle()
    assert stats.events >= 3
    [dead] = await deliveries(session, outbox_event_id=poison.id)
    assert dead.channel == "fanout" and dead.status == "dead" and "ValueError" in dead.last_error
    assert await deliveries(session, outbox_event_id=unknown.id) == []
    assert len(mail.to("resident@example.org")) == 1
    processed = await session.scalar(
        text("SELECT processed_at FROM outbox_events WHERE id = :id"), {"id": poison.id}
    )
    assert processed is not None
    # Replaying a failed fan-out runs the fan-out again (and dead-letters it again: still poison).
    replayed = await client.post(
        f"{BASE}/dead-letters/{dead.id}/replay", headers=bearer(world.tokens["admin"])
    )
    assert replayed.json()["replayed"] == "fan-out"
    await worker.run_until_idle()
    [again] = await deliveries(session, outbox_event_id=poison.id)
    assert again.id != dead.id and again.status == "dead"
    assert report


async def test_a_smtp_server_restarted_on_the_same_port_is_reconnected(
    world: World, mail: SmtpSink, worker: Worker, client: httpx.AsyncClient
) -> None:
    sink = SmtpSink(port=__import__("tests.notifications.conftest", fromlist=["free_port"]).free_port())
    controller = start_smtp(sink)
    worker.email.settings = worker.settings = worker.settings.model_copy(update={"smtp_port": sink.port})
    await submit(client, world.tokens["resident"])
    await worker.run_until_idle()
    controller.stop()
    controller = start_smtp(sink)
    try:
        await submit(client, world.tokens["resident"])
        await worker.run_until_idle()
        assert len(sink.to("resident@example.org")) == 2
    finally:
        controller.stop()
