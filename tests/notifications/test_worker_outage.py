"""The running worker against a database that goes away: it never dies, it listens again, it loses nothing.

A real worker (both loops, LISTEN/NOTIFY, polling) runs on a scratch database of its own, reached
through a TCP proxy that can cut every connection and refuse new ones — what a restart of PostgreSQL
looks like from the client — and the SMTP sink counts what arrives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from core.db import make_engine, make_sessionmaker, sync_url
from notifications import fanout
from notifications.settings import NotificationSettings
from notifications.supervision import LoopHealth, WorkerHealth, supervise
from notifications.worker import Worker
from tests.notifications.conftest import SmtpSink, free_port
from tests.outage import ScratchDatabase, TcpProxy, scratch_database

RECIPIENTS = 20


@dataclass
class Place:
    database: ScratchDatabase
    jurisdiction: int
    accounts: list[int]

    def insert_events(self, count: int, *, topic: str = "ballot.received", **payload: Any) -> list[str]:
        rows = self.database.execute(
            "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
            " SELECT %s, %s, 'round', 1, jsonb_build_object('title', 'Buurtbudget',"
            " 'account_id', (%s::bigint[])[1 + g %% %s]) || %s::jsonb"
            " FROM generate_series(0, %s - 1) g RETURNING event_id",
            (
                self.jurisdiction,
                topic,
                self.accounts,
                len(self.accounts),
                json.dumps(payload),
                count,
            ),
        )
        return [str(row[0]) for row in rows]

    def counts(self) -> dict[str, int]:
        return {
            str(key): int(str(value))
            for key, value in self.database.execute(
                "SELECT channel || ':' || status, count(*) FROM notification_deliveries GROUP BY 1"
            )
        }


@pytest.fixture(scope="module")
def place() -> Iterator[Place]:
    with scratch_database() as database:
        [(jurisdiction,)] = database.execute(
            "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
            " VALUES ('outage', 'Outage', 'Europe/Amsterdam', 'NL', 'nl') RETURNING id"
        )
        accounts = [
            int(str(row[0]))
            for row in database.execute(
                "INSERT INTO accounts (jurisdiction_id, email, is_anonymous, locale)"
                " SELECT %s, 'resident' || g || '@outage.test', false, 'nl' FROM generate_series(1, %s) g"
                " RETURNING id",
                (jurisdiction, RECIPIENTS),
            )
        ]
        yield Place(database, int(str(jurisdiction)), accounts)


@pytest.fixture
def clean(place: Place, mail: SmtpSink) -> Place:
    place.database.execute("TRUNCATE inbox_messages, notification_deliveries, outbox_events CASCADE")
    return place


def received(mail: SmtpSink) -> Counter[str]:
    with mail.lock:
        return Counter(str(message["X-Civicloop-Event-Id"]) for message in mail.messages)


async def eventually(predicate: Callable[[], bool], within: float) -> float:
    """Seconds until ``predicate()`` held; fails after ``within`` seconds."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@asynccontextmanager
async def running(url: str, settings: NotificationSettings) -> AsyncIterator[tuple[Worker, WorkerHealth]]:
    engine = make_engine(url, pool_size=2)
    worker = Worker(make_sessionmaker(engine), settings)
    health = WorkerHealth()
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(listen_url=sync_url(url), stop=stop, health=health))
    try:
        yield worker, health
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await worker.aclose()
        await engine.dispose()


@pytest.fixture
async def proxy(place: Place) -> AsyncIterator[TcpProxy]:
    relay = TcpProxy(*place.database.host_port)
    await relay.start()
    yield relay
    await relay.stop()


async def test_the_worker_rides_out_a_database_outage_and_listens_again(
    clean: Place, proxy: TcpProxy, mail: SmtpSink, notification_settings: NotificationSettings
) -> None:
    # Polling every 30 s: a delivery within a few seconds can only come from LISTEN/NOTIFY or recovery.
    settings = notification_settings.model_copy(update={"worker_poll_seconds": 30.0})
    async with running(proxy.url(clean.database.url), settings) as (_, health):
        before = set(clean.insert_events(30))
        await eventually(lambda: before <= set(received(mail)), 10)

        await proxy.stop()  # the server goes away: every connection cut, new ones refused
        during = set(clean.insert_events(40))  # committed while the worker cannot see the database
        await asyncio.sleep(2.0)
        await proxy.start()
        back = await eventually(lambda: during <= set(received(mail)), 10)

        # LISTEN is back on both channels: a new event arrives by NOTIFY, long before the 30 s poll.
        await eventually(
            lambda: {"civicloop_outbox", "civicloop_deliveries"} <= clean.database.listening(), 10
        )
        await asyncio.sleep(0.5)
        after = set(clean.insert_events(1))
        by_notify = await eventually(lambda: after <= set(received(mail)), 5)

        counts = received(mail)
        assert set(counts) == before | during | after, "nothing lost"
        assert max(counts.values()) == 1, "nothing sent twice"
        # The mail is in the sink before the worker records it as delivered: wait for the record too.
        expected = {"email:delivered": 71, "inbox:delivered": 71}
        await eventually(lambda: clean.counts() == expected, 5)
        report = health.report()
        assert report["restarts"] == 0 and report["healthy"], report
        assert report["failures"] >= 2, "both loops saw the outage, counted it and went on"
        assert back < 8 and by_notify < 3, (back, by_notify)


async def test_a_connection_killed_during_fan_out_is_retried_and_a_poison_event_dead_lettered(
    clean: Place, mail: SmtpSink, notification_settings: NotificationSettings
) -> None:
    """The event whose fan-out loses its connection is not dead-lettered (it did nothing wrong), the batch
    is fanned out again on a new connection; the poison event gets its dead letter, the rest goes out."""
    kills: list[int] = []

    @fanout.handles("test.connection_killer")
    async def connection_killer(ctx: fanout.Context, event: fanout.Event) -> fanout.Outcome:
        if not kills:
            kills.append(event.id)
            # The server ends this session, as a restart or an administrator would, mid-batch.
            await ctx.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return await fanout.HANDLERS["ballot.received"](
            ctx, dataclasses.replace(event, topic="ballot.received")
        )

    @fanout.handles("test.poison")
    async def poison(ctx: fanout.Context, event: fanout.Event) -> fanout.Outcome:
        raise ValueError("this event cannot be fanned out")

    try:
        good = set(clean.insert_events(10))
        killer = set(clean.insert_events(1, topic="test.connection_killer"))
        clean.insert_events(1, topic="test.poison")
        more = set(clean.insert_events(10))
        async with running(clean.database.url, notification_settings) as (_, health):
            await eventually(lambda: good | killer | more <= set(received(mail)), 15)
            await eventually(lambda: clean.counts().get("fanout:dead") == 1, 5)
        assert kills, "the connection was killed during the fan-out"
        [(topic, error)] = clean.database.execute(
            "SELECT topic, last_error FROM notification_deliveries WHERE channel = 'fanout'"
        )
        assert topic == "test.poison" and "ValueError" in str(error)
        assert max(received(mail).values()) == 1
        report = health.report()
        assert report["restarts"] == 0 and report["loops"]["fanout-0"]["failures"] >= 1, report
        [(unprocessed,)] = clean.database.execute(
            "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL"
        )
        assert unprocessed == 0
    finally:
        fanout.HANDLERS.pop("test.connection_killer", None)
        fanout.HANDLERS.pop("test.poison", None)


async def test_a_lost_notify_loses_nothing_polling_picks_it_up(
    clean: Place, mail: SmtpSink, notification_settings: NotificationSettings
) -> None:
    settings = notification_settings.model_copy(update={"worker_poll_seconds": 0.5})
    [(trigger,)] = clean.database.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'outbox_events'::regclass AND NOT tgisinternal"
    )
    clean.database.execute(f'ALTER TABLE outbox_events DISABLE TRIGGER "{trigger}"')
    try:
        async with running(clean.database.url, settings):
            await eventually(lambda: "civicloop_outbox" in clean.database.listening(), 5)
            events = set(clean.insert_events(5))  # no NOTIFY is sent for these
            waited = await eventually(lambda: events <= set(received(mail)), 5)
        assert waited < 3
    finally:
        clean.database.execute(f'ALTER TABLE outbox_events ENABLE TRIGGER "{trigger}"')


async def test_a_crashed_loop_is_restarted_with_back_off_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    health = LoopHealth("fanout-0")
    starts: list[float] = []

    async def crashes_twice() -> None:
        starts.append(time.monotonic())
        if len(starts) <= 2:
            raise RuntimeError(f"crash {len(starts)}")
        stop.set()

    run: Callable[[], Awaitable[None]] = crashes_twice
    await asyncio.wait_for(supervise(run, health=health, stop=stop, base_delay=0.1, max_delay=1.0), 5)
    assert len(starts) == 3 and health.restarts == 2 and health.failures == 2
    assert starts[1] - starts[0] >= 0.1 and starts[2] - starts[1] >= 0.2, "back-off doubles"
    assert health.last_failure == "RuntimeError"
    logged = [record for record in caplog.records if "restart" in record.getMessage()]
    assert len(logged) == 2 and all(record.exc_info for record in logged)


def test_a_loop_that_stopped_or_stalled_makes_the_worker_unhealthy() -> None:
    health = WorkerHealth(stale_after_seconds=5)
    fan_out, delivery = health.loop("fanout-0"), health.loop("delivery-0")
    fan_out.running = delivery.running = True
    fan_out.beat()
    delivery.beat()
    assert health.problems() == []
    delivery.beat_at -= 6
    fan_out.running = False
    assert health.problems() == [
        "loop fanout-0 is not running",
        "loop delivery-0 has not completed an iteration for 6 s",
    ]


async def test_a_slow_batch_keeps_its_lease_and_no_second_worker_sends_it_again(
    clean: Place, mail: SmtpSink, notification_settings: NotificationSettings
) -> None:
    """A webhook that takes 3 s to answer, a lease of 1 s: the sending worker renews its lease, so a second
    worker that looks after 1.5 s finds nothing to claim, and the receiver gets the event once."""
    requests: list[float] = []

    async def slow(request: web.Request) -> web.Response:
        requests.append(time.monotonic())
        await asyncio.sleep(3.0)
        return web.Response(status=204)

    application = web.Application()
    application.router.add_post("/hook", slow)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    clean.database.execute("DELETE FROM webhook_endpoints")
    clean.database.execute(
        "INSERT INTO webhook_endpoints (jurisdiction_id, url, secret, topics, include_personal_data,"
        " allow_private_network, is_active) VALUES (%s, %s, 'geheim', '[]', true, true, true)",
        (clean.jurisdiction, f"http://127.0.0.1:{port}/hook"),
    )
    settings = notification_settings.model_copy(
        update={"delivery_lease_seconds": 1, "http_timeout_seconds": 10}
    )
    engine = make_engine(clean.database.url, pool_size=2)
    first, second = Worker(make_sessionmaker(engine), settings), Worker(make_sessionmaker(engine), settings)
    try:
        clean.insert_events(1)
        assert await first.fan_out() == 1
        sending = asyncio.create_task(first.deliver())
        await asyncio.sleep(1.5)  # the first lease has run out by now, unless it was renewed
        assert not (await second.deliver()).worked, "the second worker claimed a batch that was being sent"
        stats = await sending
        assert stats.by_channel.get("webhook") == 1
        assert len(requests) == 1
        assert clean.counts().get("webhook:delivered") == 1
    finally:
        await first.aclose()
        await second.aclose()
        await engine.dispose()
        await runner.cleanup()
        clean.database.execute("DELETE FROM webhook_endpoints")
