"""The demo as a new user meets it: its history is told already, its numbers add up.

``civicloop demo load`` into a scratch database, then the real worker with a real SMTP server: the first
``make run`` must not mail three months of demo history to the demo's residents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from core.db import make_engine, make_sessionmaker
from notifications.settings import NotificationSettings
from notifications.worker import Worker
from tests.notifications.conftest import SmtpSink
from tests.outage import ScratchDatabase, scratch_database


@pytest.fixture(scope="module")
def demo() -> Iterator[ScratchDatabase]:
    with scratch_database() as database:
        loaded = CliRunner().invoke(app, ["demo", "load"], env={"DATABASE_URL": database.url})
        assert loaded.exit_code == 0, loaded.output
        yield database


def one(database: ScratchDatabase, sql: str) -> Any:  # whatever the one column holds
    [(value,)] = database.execute(sql)
    return value


async def test_the_demo_history_is_recorded_as_delivered_and_nothing_of_it_is_sent(
    demo: ScratchDatabase, mail: SmtpSink, notification_settings: NotificationSettings
) -> None:
    events = one(demo, "SELECT count(*) FROM outbox_events")
    assert isinstance(events, int) and events > 400, "the demo writes its history as events"
    assert one(demo, "SELECT count(*) FROM outbox_events WHERE processed_at IS NULL") == 0
    assert one(demo, "SELECT count(*) FROM notification_deliveries WHERE status <> 'delivered'") == 0
    assert one(demo, "SELECT count(*) FROM notification_deliveries WHERE channel = 'email'") >= 30
    # Delivered when it happened, not when it was loaded; the inbox holds it, read.
    assert (
        one(
            demo,
            "SELECT count(*) FROM notification_deliveries WHERE delivered_at > now() - interval '1 hour'",
        )
        < 50
    )
    assert one(demo, "SELECT count(*) FROM inbox_messages") == one(
        demo, "SELECT count(*) FROM notification_deliveries WHERE channel = 'inbox'"
    )
    assert one(demo, "SELECT count(*) FROM inbox_messages WHERE read_at IS NULL") == 0

    engine = make_engine(demo.url, pool_size=2)
    worker = Worker(make_sessionmaker(engine), notification_settings)
    try:
        stats = await worker.run_until_idle()
    finally:
        await worker.aclose()
        await engine.dispose()
    assert mail.messages == [], [m["Subject"] for m in mail.messages]
    assert stats.delivered == 0 and stats.events == 0


def test_the_demo_round_counts_its_voters(demo: ScratchDatabase) -> None:
    ballots = one(demo, "SELECT count(*) FROM ballots b JOIN budget_rounds r ON r.id = b.round_id")
    result = one(demo, "SELECT result->>'num_participations' FROM budget_rounds WHERE result IS NOT NULL")
    assert ballots == 120 and result == "120"  # the round that is voting now has no ballot yet
