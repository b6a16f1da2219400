"""Several ``civicloop worker run`` processes on one database: each notification goes out once, and a
worker killed with SIGKILL mid-batch loses nothing (what it had sent but not recorded, at most one chunk,
goes out again with the same event id, and only after its lease ran out).

Real processes (``python -m api.cli worker run``) on a scratch database, a real SMTP server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.settings import PROJECT_DIR
from notifications.worker import EMAIL_CHUNK
from tests.notifications.conftest import SmtpSink, free_port, start_smtp
from tests.outage import ScratchDatabase, scratch_database


@pytest.fixture
def database() -> Iterator[ScratchDatabase]:
    with scratch_database() as scratch:
        [(jurisdiction,)] = scratch.execute(
            "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
            " VALUES ('workers', 'Workers', 'Europe/Amsterdam', 'NL', 'nl') RETURNING id"
        )
        scratch.execute(
            "INSERT INTO accounts (jurisdiction_id, email, is_anonymous, locale)"
            " SELECT %s, 'resident' || g || '@workers.test', false, 'nl' FROM generate_series(1, 50) g",
            (jurisdiction,),
        )
        yield scratch


@pytest.fixture
def mailbox() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = start_smtp(sink)
    yield sink
    controller.stop()


def insert_events(database: ScratchDatabase, count: int) -> set[str]:
    rows = database.execute(
        "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
        " SELECT j.id, 'ballot.received', 'round', 1, jsonb_build_object('title', 'Buurtbudget',"
        " 'account_id', (SELECT array_agg(id ORDER BY id) FROM accounts)[1 + g %% 50])"
        " FROM jurisdictions j, generate_series(0, %s - 1) g RETURNING event_id",
        (count,),
    )
    return {str(row[0]) for row in rows}


def start_worker(database: ScratchDatabase, mailbox: SmtpSink, tmp_path: Path) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIVICLOOP_")}
    environment |= {
        "CIVICLOOP_SMTP_HOST": "127.0.0.1",
        "CIVICLOOP_SMTP_PORT": str(mailbox.port),
        "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(tmp_path / "vapid.pem"),
        "CIVICLOOP_WORKER_POLL_SECONDS": "0.5",
        "CIVICLOOP_DELIVERY_LEASE_SECONDS": "3",
        "CIVICLOOP_WORKER_BATCH_SIZE": "100",
    }
    with (tmp_path / f"worker-{len(list(tmp_path.glob('worker-*.log')))}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "run", "--database-url", database.url],
            cwd=PROJECT_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def what_happened(database: ScratchDatabase, events: set[str], mailbox: SmtpSink, tmp_path: Path) -> str:
    """For a failed wait: the deliveries' states of what did not arrive, and the end of each worker's log."""
    missing = sorted(events - set(received(mailbox)))
    [(unprocessed,)] = database.execute(
        "SELECT count(*) FROM outbox_events WHERE event_id::text = ANY(%s) AND processed_at IS NULL",
        (missing,),
    )
    states = database.execute(
        "SELECT channel, status, attempts, locked_until > now(), count(*) FROM notification_deliveries"
        " WHERE event_id::text = ANY(%s) GROUP BY 1, 2, 3, 4",
        (missing,),
    )
    logs = "\n".join(
        f"{log.name}:\n{log.read_text(errors='replace')[-3000:]}" for log in tmp_path.glob("worker-*.log")
    )
    return (
        f"{len(missing)} missing, {unprocessed} events not fanned out;"
        f" deliveries (channel, status, attempts, leased, count): {states}\n{logs}"
    )


def received(mailbox: SmtpSink) -> Counter[str]:
    with mailbox.lock:
        return Counter(str(message["X-Civicloop-Event-Id"]) for message in mailbox.messages)


def wait_for(predicate: Callable[[], object], within: float) -> bool:
    """Polls until ``predicate`` holds. The limits are generous: alone this test takes ~8 s, but on a CI
    machine under the whole suite's load it once passed 60 s; a failure prints what did not arrive."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        # Each look reads every message's header under the sink's lock, which the SMTP server needs too.
        time.sleep(0.25)
    return False


def test_two_worker_processes_deliver_each_notification_once_and_a_killed_one_loses_nothing(
    database: ScratchDatabase, mailbox: SmtpSink, tmp_path: Path
) -> None:
    workers = [start_worker(database, mailbox, tmp_path) for _ in range(2)]
    try:
        # Both alive: SKIP LOCKED and the leases give every delivery to exactly one of them.
        shared = insert_events(database, 600)
        assert wait_for(lambda: shared <= set(received(mailbox)), 180), what_happened(
            database, shared, mailbox, tmp_path
        )
        time.sleep(1.0)
        assert max(received(mailbox).values()) == 1, "no notification went out twice"

        # One is killed mid-batch; the other goes on, and takes over what the dead one had claimed.
        mailbox.clear()
        events = insert_events(database, 1500)
        assert wait_for(lambda: len(mailbox.messages) >= 300, 180), what_happened(
            database, events, mailbox, tmp_path
        )
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        assert wait_for(lambda: events <= set(received(mailbox)), 180), what_happened(
            database, events, mailbox, tmp_path
        )
        time.sleep(1.0)
        counts = received(mailbox)
        duplicates = sum(n - 1 for n in counts.values())
        assert duplicates <= EMAIL_CHUNK, f"at most one unrecorded chunk goes out again: {duplicates}"
        [(inbox, distinct)] = database.execute(
            "SELECT count(*), count(DISTINCT (event_id, account_id)) FROM inbox_messages"
            " WHERE event_id::text = ANY(%s)",
            (sorted(events),),
        )
        assert inbox == distinct == 1500, "the inbox holds each message exactly once"
        states: dict[str, int] = dict(
            database.execute(
                "SELECT status, count(*) FROM notification_deliveries"
                " WHERE event_id::text = ANY(%s) GROUP BY 1",
                (sorted(events),),
            )
        )
        assert states == {"delivered": 3000}, json.dumps(states, default=str)
        assert workers[1].poll() is None
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
