"""Fault drills and figures for the notifications worker, against a real PostgreSQL and SMTP server.

Run from the repository root (uses the local cluster; a scratch database is created and dropped):

    .venv/bin/python bench/notifications/drills.py            # every drill and measurement
    .venv/bin/python bench/notifications/drills.py kill       # or smtp-down, poison, throughput, latency

Each drill starts the worker as a separate process (``python -m api.cli_notifications worker run``,
what ``civicloop worker run`` runs), an aiosmtpd server in this process as the SMTP sink, and inserts
outbox events the way ``core.outbox.record_event`` does (``ballot.received``: one e-mail and one inbox
message per event). It prints one JSON line per drill and exits non-zero when a drill fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from core.local_postgres import create_database, drop_database, ensure_local_cluster  # noqa: E402
from core.settings import PROJECT_DIR  # noqa: E402

DATABASE = "civicloop_bench_notifications"
RECIPIENTS = 200


class Sink:
    """An SMTP server that records (event id, receive time) of every message."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        with self.lock:
            self.received.append((message["X-Civicloop-Event-Id"], time.time()))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def event_ids(self) -> list[str]:
        with self.lock:
            return [event for event, _ in self.received]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Bench:
    def __init__(self) -> None:
        self.cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
        self.url = self.cluster.url(DATABASE)
        self.conninfo = self.cluster.conninfo(DATABASE)
        self.sink = Sink(free_port())
        self.worker: subprocess.Popen[bytes] | None = None
        self.vapid = PROJECT_DIR / ".civicloop" / "bench" / "vapid_private.pem"

    def setup(self) -> None:
        drop_database(self.cluster, DATABASE)
        create_database(self.cluster, DATABASE)
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["url"] = self.url
        command.upgrade(config, "heads")
        with psycopg.connect(self.conninfo) as connection:
            jurisdiction = connection.execute(
                "INSERT INTO jurisdictions (slug, name, timezone, holiday_country, default_locale)"
                " VALUES ('bench', 'Bench', 'Europe/Amsterdam', 'NL', 'nl') RETURNING id"
            ).fetchone()[0]
            self.jurisdiction = jurisdiction
            self.accounts = [
                row[0]
                for row in connection.execute(
                    "INSERT INTO accounts (jurisdiction_id, email, is_anonymous, locale)"
                    " SELECT %s, 'voter' || g || '@bench.test', false, 'nl' FROM generate_series(1, %s) g"
                    " RETURNING id",
                    (jurisdiction, RECIPIENTS),
                ).fetchall()
            ]
        self.sink.start()

    def teardown(self) -> None:
        self.stop_worker(signal.SIGKILL)
        self.sink.stop()
        drop_database(self.cluster, DATABASE)

    def reset(self) -> None:
        with psycopg.connect(self.conninfo) as connection:
            connection.execute("TRUNCATE inbox_messages, notification_deliveries, outbox_events CASCADE")
        with self.sink.lock:
            self.sink.received.clear()

    def start_worker(self, **settings: Any) -> None:
        env = {
            **os.environ,
            "CIVICLOOP_SMTP_HOST": "127.0.0.1",
            "CIVICLOOP_SMTP_PORT": str(self.sink.port),
            "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(self.vapid),
            "CIVICLOOP_WORKER_POLL_SECONDS": "0.5",
            "CIVICLOOP_WORKER_SCHEDULE_SECONDS": "60",
            **{f"CIVICLOOP_{k.upper()}": str(v) for k, v in settings.items()},
        }
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli_notifications", "worker", "run", "--database-url", self.url],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop_worker(self, signum: int = signal.SIGTERM) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signum)
            self.worker.wait(timeout=30)
        self.worker = None

    def insert_events(self, count: int, *, topic: str = "ballot.received", poison: bool = False) -> list[str]:
        with psycopg.connect(self.conninfo) as connection:
            rows = connection.execute(
                "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
                " SELECT %s, %s, 'round', 1,"
                " CASE WHEN %s THEN jsonb_build_object('report_id', 'poison')"
                " ELSE jsonb_build_object('title', 'Bench round',"
                " 'account_id', (%s::bigint[])[1 + g %% %s]) END"
                " FROM generate_series(0, %s - 1) g RETURNING event_id",
                (
                    self.jurisdiction,
                    "report.status_changed" if poison else topic,
                    poison,
                    self.accounts,
                    len(self.accounts),
                    count,
                ),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def deliveries(self) -> dict[str, int]:
        with psycopg.connect(self.conninfo) as connection:
            return dict(
                connection.execute(
                    "SELECT channel || ':' || status, count(*) FROM notification_deliveries GROUP BY 1"
                ).fetchall()
            )

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False


def drill_kill(bench: Bench) -> dict[str, Any]:
    """SIGKILL the worker mid-batch, restart it: nothing lost, duplicates only from the in-flight batch."""
    bench.reset()
    count, batch = 3000, 200
    events = set(bench.insert_events(count))
    bench.start_worker(worker_batch_size=batch, delivery_lease_seconds=2)
    assert bench.wait_for(lambda: len(bench.sink.event_ids()) >= 700, 60), "worker made no progress"
    bench.stop_worker(signal.SIGKILL)
    at_kill = len(bench.sink.event_ids())
    bench.start_worker(worker_batch_size=batch, delivery_lease_seconds=2)
    ok = bench.wait_for(lambda: bench.deliveries().get("email:delivered", 0) == count, 120)
    bench.stop_worker()
    received = Counter(bench.sink.event_ids())
    duplicates = sum(n - 1 for n in received.values())
    with psycopg.connect(bench.conninfo) as connection:
        inbox = connection.execute("SELECT count(*) FROM inbox_messages").fetchone()[0]
    result = {
        "drill": "kill -9 mid-batch",
        "events": count,
        "mails_at_kill": at_kill,
        "lost": len(events - set(received)),
        "duplicates": duplicates,
        "batch_size": batch,
        "unique_after_dropping_by_event_id": len(received),
        "inbox_rows": inbox,
        "passed": ok and not (events - set(received)) and duplicates <= batch and inbox == count,
    }
    return result


def drill_smtp_down(bench: Bench) -> dict[str, Any]:
    bench.reset()
    bench.sink.stop()
    events = set(bench.insert_events(200))
    bench.start_worker(retry_base_seconds=0.5, retry_max_seconds=2)
    bench.wait_for(lambda: bench.deliveries().get("email:pending", 0) == 200, 30)
    time.sleep(3)
    pending_while_down = bench.deliveries().get("email:pending", 0) + bench.deliveries().get(
        "email:sending", 0
    )
    bench.sink.start()
    returned_at = time.monotonic()
    ok = bench.wait_for(lambda: bench.deliveries().get("email:delivered", 0) == 200, 60)
    recovered = time.monotonic() - returned_at
    bench.stop_worker()
    lost = events - set(bench.sink.event_ids())
    return {
        "drill": "SMTP server down ~3 s after the first attempts",
        "events": 200,
        "pending_while_down": pending_while_down,
        "seconds_to_deliver_after_return": round(recovered, 2),
        "lost": len(lost),
        "dead": bench.deliveries().get("email:dead", 0),
        "passed": ok and not lost and pending_while_down > 0,
    }


def drill_poison(bench: Bench) -> dict[str, Any]:
    bench.reset()
    bench.insert_events(1, poison=True)
    good = set(bench.insert_events(300))
    bench.insert_events(1, poison=True)
    bench.start_worker()
    ok = bench.wait_for(lambda: bench.deliveries().get("email:delivered", 0) == 300, 60)
    bench.stop_worker()
    counts = bench.deliveries()
    return {
        "drill": "poison events among 300 good ones",
        "good_delivered": counts.get("email:delivered", 0),
        "fanout_dead_letters": counts.get("fanout:dead", 0),
        "lost": len(good - set(bench.sink.event_ids())),
        "passed": ok and counts.get("fanout:dead", 0) == 2,
    }


def _throughput(bench: Bench, *, events: int, recipients_per_event: int) -> dict[str, Any]:
    bench.reset()
    if recipients_per_event == 1:
        bench.insert_events(events)
    else:
        with psycopg.connect(bench.conninfo) as connection:
            connection.execute(
                "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
                " SELECT %s, 'project.progress', 'project', g, jsonb_build_object('title', 'Speeltuin',"
                " 'status', 'delivered',"
                " 'account_ids', to_jsonb((%s::bigint[])[1 + (g * %s) %% %s : %s + (g * %s) %% %s]))"
                " FROM generate_series(0, %s - 1) g",
                (
                    bench.jurisdiction,
                    bench.accounts,
                    recipients_per_event,
                    len(bench.accounts) - recipients_per_event,
                    recipients_per_event,
                    recipients_per_event,
                    len(bench.accounts) - recipients_per_event,
                    events,
                ),
            )
    emails = events * recipients_per_event
    bench.start_worker(worker_batch_size=500)
    assert bench.wait_for(lambda: len(bench.sink.event_ids()) >= 1, 30), "worker did not start"
    started = time.monotonic()  # from the first mail: process start-up is not throughput
    ok = bench.wait_for(lambda: len(bench.sink.event_ids()) >= emails, 600)
    elapsed = time.monotonic() - started
    bench.stop_worker()
    return {
        "measure": f"throughput, one worker process, {recipients_per_event} recipient(s) per event",
        "events": events,
        "emails": emails,
        "inbox_messages": emails,
        "seconds": round(elapsed, 2),
        "email_deliveries_per_second": round(emails / elapsed, 1),
        "all_deliveries_per_second": round(2 * emails / elapsed, 1),
        "passed": ok,
    }


def measure_throughput(bench: Bench) -> dict[str, Any]:
    result = _throughput(bench, events=3000, recipients_per_event=1)
    result["passed"] = result["passed"] and result["email_deliveries_per_second"] >= 200
    return result


def measure_throughput_followers(bench: Bench) -> dict[str, Any]:
    result = _throughput(bench, events=500, recipients_per_event=10)
    result["passed"] = result["passed"] and result["email_deliveries_per_second"] >= 200
    return result


def measure_latency(bench: Bench) -> dict[str, Any]:
    bench.reset()
    bench.start_worker()
    time.sleep(2)  # idle
    latencies = []
    for _ in range(100):
        with psycopg.connect(bench.conninfo) as connection:
            [event_id] = [
                str(r[0])
                for r in connection.execute(
                    "INSERT INTO outbox_events"
                    " (jurisdiction_id, topic, aggregate_type, aggregate_id, payload) VALUES"
                    " (%s, 'ballot.received', 'round', 1, jsonb_build_object('title', 'x', 'account_id', %s))"
                    " RETURNING event_id",
                    (bench.jurisdiction, bench.accounts[0]),
                ).fetchall()
            ]
        committed = time.time()
        assert bench.wait_for(lambda e=event_id: e in bench.sink.event_ids(), 10)
        with bench.sink.lock:
            received = next(t for e, t in bench.sink.received if e == event_id)
        latencies.append(received - committed)
        time.sleep(0.2)
    bench.stop_worker()
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    return {
        "measure": "event commit -> mail received, idle worker (LISTEN/NOTIFY)",
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "passed": p95 < 1.0,
    }


DRILLS = {
    "kill": drill_kill,
    "smtp-down": drill_smtp_down,
    "poison": drill_poison,
    "throughput": measure_throughput,
    "throughput-followers": measure_throughput_followers,
    "latency": measure_latency,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("drills", nargs="*", help=f"any of {', '.join(DRILLS)}; default all")
    args = parser.parse_args()
    bench = Bench()
    bench.setup()
    failed = False
    try:
        for name in args.drills or list(DRILLS):
            result = DRILLS[name](bench)
            failed |= not result["passed"]
            print(json.dumps(result), flush=True)
    finally:
        bench.teardown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
