"""Fault drills with whole processes: a database restart under write load, a worker killed among several,
a poison push subscription and a poison subject — against the project's local cluster and real processes.

Run from the repository root, with nothing else using the local cluster (the restart drill restarts it):

    .venv/bin/python bench/notifications/outage_drills.py                 # every drill
    .venv/bin/python bench/notifications/outage_drills.py db-restart      # or kill-one-of-two, poison

What runs: ``civicloop serve`` processes (``python -m api.cli serve``, each with its notifications worker)
and ``civicloop worker run`` processes on one scratch database (``civicloop_bench_outage``, created with the
demo data and dropped at the end), an aiosmtpd server in this process as the residents' mailbox, and
client threads that submit reports over HTTP with an ``Idempotency-Key`` each, retrying after 503 (as the
mobile app's outbox does) with the same key. One JSON line per drill; exit code 1 when a drill fails.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from core.local_postgres import (  # noqa: E402
    create_database,
    drop_database,
    ensure_local_cluster,
    restart_cluster,
)
from core.settings import PROJECT_DIR  # noqa: E402

DATABASE = "civicloop_bench_outage"
DAM_SQUARE = [4.8927, 52.3731]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """The SMTP server: every message's event id, subject and arrival time."""

    port: int = field(default_factory=free_port)
    received: list[tuple[str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.received.append((str(message["X-Civicloop-Event-Id"]), str(message["Subject"]), time.time()))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def events(self) -> Counter[str]:
        with self.lock:
            return Counter(event for event, _, _ in self.received)


class Site:
    """The scratch database with the demo, and the processes that serve and work on it."""

    def __init__(self) -> None:
        self.cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
        self.url = self.cluster.url(DATABASE)
        self.conninfo = self.cluster.conninfo(DATABASE)
        self.mailbox = Mailbox()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.scratch = PROJECT_DIR / ".civicloop" / "bench-outage"
        self.scratch.mkdir(parents=True, exist_ok=True)

    def setup(self) -> None:
        drop_database(self.cluster, DATABASE)
        create_database(self.cluster, DATABASE)
        for command in (["migrate"], ["demo", "load"]):
            done = subprocess.run(
                [sys.executable, "-m", "api.cli", *command],
                cwd=ROOT,
                env=self.environment(),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(done.stdout + done.stderr)
        self.mailbox.start()

    def teardown(self) -> None:
        for name in list(self.processes):
            self.stop(name, signal.SIGKILL)
        self.mailbox.stop()
        drop_database(self.cluster, DATABASE)

    def environment(self, **settings: Any) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("CIVICLOOP_") and k != "DATABASE_URL"}
        return {
            **base,
            "DATABASE_URL": self.url,
            "CIVICLOOP_SMTP_HOST": "127.0.0.1",
            "CIVICLOOP_SMTP_PORT": str(self.mailbox.port),
            "CIVICLOOP_VAPID_PRIVATE_KEY_FILE": str(self.scratch / "vapid.pem"),
            "CIVICLOOP_MEDIA_DIR": str(self.scratch / "media"),
            "CIVICLOOP_WORKER_POLL_SECONDS": "1",
            "CIVICLOOP_RATE_LIMITS": "false",
            **{f"CIVICLOOP_{key.upper()}": str(value) for key, value in settings.items()},
        }

    def serve(self, name: str, **settings: Any) -> str:
        port = free_port()
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=self.environment(**settings),
            stdout=open(self.scratch / f"{name}.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited; see {self.scratch / f'{name}.log'}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not come up")

    def work(self, name: str, **settings: Any) -> None:
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "run", "--database-url", self.url],
            cwd=ROOT,
            env=self.environment(**settings),
            stdout=open(self.scratch / f"{name}.log", "wb"),
            stderr=subprocess.STDOUT,
        )

    def stop(self, name: str, signum: int = signal.SIGTERM) -> int | None:
        process = self.processes.pop(name)
        if process.poll() is None:
            process.send_signal(signum)
            process.wait(timeout=30)
        return process.returncode

    def alive(self) -> dict[str, bool]:
        return {name: process.poll() is None for name, process in self.processes.items()}

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo) as connection:
            cursor = connection.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def quiet(self) -> None:
        """Settle everything before a drill: no pending deliveries or events from earlier ones."""
        self.query(
            "UPDATE outbox_events SET processed_at = now() WHERE processed_at IS NULL;"
            " UPDATE notification_deliveries SET status = 'dead' WHERE status IN ('pending', 'sending')"
        )
        with self.mailbox.lock:
            self.mailbox.received.clear()

    def wait_for(self, predicate: Any, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return False


# ------------------------------------------------------------------------------------------------------
# Database restart under write load


@dataclass
class Client:
    """A resident's phone: submits reports one after another, each with its own Idempotency-Key, and
    retries a report after 503 or a dropped connection with the same key until it is acknowledged."""

    base: str
    number: int
    run: str
    stop: threading.Event
    statuses: Counter[int] = field(default_factory=Counter)
    missing_retry_after: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)
    connection_errors: int = 0
    server_errors: list[str] = field(default_factory=list)

    def __call__(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            # A device per client (a sign-up is confirmed by mail since issue 12, item 9); the drill's
            # servers run without rate limits, so each device may submit as fast as it can.
            account = http.post(
                "/api/v1/auth/devices",
                json={"jurisdiction": "amsterdam", "locale": "nl"},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            account.raise_for_status()
            headers = {"Authorization": f"Bearer {account.json()['token']}"}
            while not self.stop.is_set():
                self.submit(http, headers, str(uuid.uuid4()))

    def submit(self, http: httpx.Client, headers: dict[str, str], key: str) -> None:
        body = {
            "category": "pothole",
            "location": {"type": "Point", "coordinates": DAM_SQUARE},
            "description": f"drill {self.run} {key}",
            # The reporter hears back by mail at this address (the device itself has none).
            "contact": {"email": f"drill-{self.run}-{self.number}@example.org"},
        }
        while True:
            try:
                response = http.post(
                    "/api/v1/jurisdictions/amsterdam/reports",
                    json=body,
                    headers={**headers, "Idempotency-Key": key},
                )
            except httpx.HTTPError:
                self.connection_errors += 1
                time.sleep(0.5)
                continue
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                self.acknowledged[key] = response.json()["id"]
                return
            if response.status_code == 503:
                retry_after = response.headers.get("retry-after")
                if retry_after is None:
                    self.missing_retry_after += 1
                time.sleep(min(float(retry_after or 1), 5))
                continue
            if response.status_code >= 500:
                self.server_errors.append(response.text[:300])
            return


def drill_db_restart(
    site: Site, *, clients: int = 16, before: float = 6.0, after: float = 12.0
) -> dict[str, Any]:
    site.quiet()
    bases = [site.serve("api-1"), site.serve("api-2")]
    pids = {name: process.pid for name, process in site.processes.items()}
    run = uuid.uuid4().hex[:8]
    stop = threading.Event()
    phones = [Client(bases[number % 2], number, run, stop) for number in range(clients)]
    threads = [threading.Thread(target=phone) for phone in phones]
    for thread in threads:
        thread.start()
    time.sleep(before)
    restart_started = time.time()
    restart_cluster(PROJECT_DIR / ".civicloop")
    back_at = time.time()
    time.sleep(after)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)

    acknowledged = {key: report for phone in phones for key, report in phone.acknowledged.items()}
    rows = site.query(
        "SELECT split_part(description, ' ', 3) AS key, count(*), min(id) FROM reports"
        " WHERE description LIKE %s GROUP BY 1",
        (f"drill {run} %",),
    )
    stored = {key: (count, report) for key, count, report in rows}
    lost = [key for key in acknowledged if key not in stored]
    duplicated = sum(count - 1 for count, _ in stored.values())
    events = dict(
        site.query(
            "SELECT aggregate_id, event_id::text FROM outbox_events"
            " WHERE topic = 'report.submitted' AND aggregate_id = ANY(%s)",
            ([report for _, report in stored.values()],),
        )
    )
    expected = {events[report] for _, report in stored.values() if report in events}
    delivered = site.wait_for(lambda: expected <= set(site.mailbox.events()), 60)
    mails = site.mailbox.events()
    created = dict(
        site.query(
            "SELECT event_id::text, extract(epoch FROM created_at) FROM outbox_events"
            " WHERE event_id::text = ANY(%s)",
            (list(expected),),
        )
    )
    with site.mailbox.lock:
        after_restart = [at for event, _, at in site.mailbox.received if created.get(event, 0) > back_at]
    recovery = round(min(after_restart) - back_at, 2) if after_restart else None
    readiness = [httpx.get(f"{base}/readyz", timeout=10).json() for base in bases]
    statuses: Counter[int] = Counter()
    for phone in phones:
        statuses.update(phone.statuses)
    same_processes = all(site.processes[name].pid == pid for name, pid in pids.items()) and all(
        site.alive().values()
    )
    site.stop("api-1")
    site.stop("api-2")
    result = {
        "drill": f"pg_ctl restart -m fast under {clients} clients submitting reports to 2 serve processes",
        "restart_seconds": round(back_at - restart_started, 2),
        "responses": dict(sorted(statuses.items())),
        "responses_500": sum(count for status, count in statuses.items() if status >= 500 and status != 503),
        "responses_503_without_retry_after": sum(phone.missing_retry_after for phone in phones),
        "connection_errors_retried": sum(phone.connection_errors for phone in phones),
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "lost": len(lost),
        "duplicated": duplicated,
        "mails_expected": len(expected),
        "mails_unique": len(set(mails) & expected),
        "mails_duplicate": sum(mails[event] - 1 for event in expected if mails[event] > 1),
        "worker_first_delivery_after_db_back_s": recovery,
        "worker_failures_counted": [r.get("worker", {}).get("failures") for r in readiness],
        "worker_restarts": [r.get("worker", {}).get("restarts") for r in readiness],
        "processes_restarted": 0 if same_processes else 1,
    }
    result["passed"] = (
        delivered
        and not lost
        and duplicated == 0
        and result["responses_500"] == 0
        and result["responses_503_without_retry_after"] == 0
        and recovery is not None
        and recovery <= 10
        and same_processes
        and result["worker_restarts"] == [0, 0]
    )
    return result


# ------------------------------------------------------------------------------------------------------
# A worker killed among several


def insert_events(site: Site, count: int, *, accounts: list[int], payload: dict[str, Any] | None = None,
                  topic: str = "ballot.received") -> list[str]:  # fmt: skip
    rows = site.query(
        "INSERT INTO outbox_events (jurisdiction_id, topic, aggregate_type, aggregate_id, payload)"
        " SELECT (SELECT id FROM jurisdictions WHERE slug = 'amsterdam'), %s, 'round', 1,"
        " jsonb_build_object('title', 'Buurtbudget (drill)', 'account_id', (%s::bigint[])[1 + g %% %s],"
        " 'account_ids', jsonb_build_array((%s::bigint[])[1 + g %% %s])) || %s::jsonb"
        " FROM generate_series(0, %s - 1) g RETURNING event_id::text",
        (topic, accounts, len(accounts), accounts, len(accounts), json.dumps(payload or {}), count),
    )
    return [row[0] for row in rows]


def drill_accounts(site: Site, count: int) -> list[int]:
    run = uuid.uuid4().hex[:8]
    return [
        row[0]
        for row in site.query(
            "INSERT INTO accounts (jurisdiction_id, email, is_anonymous, locale)"
            " SELECT (SELECT id FROM jurisdictions WHERE slug = 'amsterdam'), 'mailbox-' || %s || '-' || g"
            " || '@example.org', false, 'nl' FROM generate_series(1, %s) g RETURNING id",
            (run, count),
        )
    ]


def drill_kill_one_of_two(site: Site, *, count: int = 3000) -> dict[str, Any]:
    """Two ``civicloop worker run`` (and two API processes whose workers run too) share the queue; one
    worker process is killed with SIGKILL mid-batch. The others go on; what the killed one had claimed
    is claimed again when its lease (5 s here) runs out."""
    site.quiet()
    accounts = drill_accounts(site, 200)
    settings = {"delivery_lease_seconds": 5, "worker_batch_size": 200}
    site.serve("api-1", **settings)
    site.serve("api-2", **settings)
    site.work("worker-1", **settings)
    site.work("worker-2", **settings)
    time.sleep(2)
    events = set(insert_events(site, count, accounts=accounts))
    started = site.wait_for(lambda: len(site.mailbox.received) >= count // 4, 60)
    at_kill = len(site.mailbox.received)
    site.stop("worker-1", signal.SIGKILL)
    done = site.wait_for(lambda: events <= set(site.mailbox.events()), 120)
    time.sleep(2)  # a late second copy, if any
    mails = site.mailbox.events()
    inbox = site.query(
        "SELECT count(*), count(DISTINCT (event_id, account_id)) FROM inbox_messages"
        " WHERE event_id::text = ANY(%s)",
        (list(events),),
    )[0]
    states = dict(
        site.query(
            "SELECT channel || ':' || status, count(*) FROM notification_deliveries"
            " WHERE event_id::text = ANY(%s) GROUP BY 1",
            (list(events),),
        )
    )
    for name in ("api-1", "api-2", "worker-2"):
        site.stop(name)
    duplicates = sum(n - 1 for event, n in mails.items() if event in events)
    result = {
        "drill": "kill -9 of one of two `civicloop worker run` (2 serve processes working too), mid-batch",
        "events": count,
        "mails_at_kill": at_kill,
        "lost": len(events - set(mails)),
        "delivered_once_after_dropping_by_event_id": len(events & set(mails)),
        "duplicate_mails": duplicates,
        "inbox_rows": inbox[0],
        "inbox_distinct": inbox[1],
        "deliveries": states,
    }
    result["passed"] = (
        started
        and done
        and not (events - set(mails))
        and inbox[0] == inbox[1] == count
        and duplicates <= 4 * 25
    )
    return result


# ------------------------------------------------------------------------------------------------------
# Poison push subscription, poison subject


def drill_poison(site: Site, *, count: int = 300) -> dict[str, Any]:
    """A stored push subscription whose key is not on the curve, and titles with CR/LF, among good
    events: the worker process stays up, the poison push is dead with its reason, every mail goes out
    with a one-line subject."""
    site.quiet()
    accounts = drill_accounts(site, 50)
    point = b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big")
    site.query(
        "INSERT INTO push_subscriptions (account_id, endpoint, p256dh, auth) VALUES (%s, %s, %s, %s)",
        (
            accounts[0],
            f"http://127.0.0.1:9/push/{uuid.uuid4().hex}",
            base64.urlsafe_b64encode(point).rstrip(b"=").decode(),
            base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
        ),
    )
    site.work("worker-1", network_allowlist='["127.0.0.1/32"]')
    good = set(insert_events(site, count, accounts=accounts))
    poison_title = "Speel\rtuin\r\nBcc: iedereen@example.org"
    subjects = set(
        insert_events(
            site,
            20,
            accounts=accounts,
            topic="project.progress",
            payload={"title": poison_title, "status": "in_progress", "round_id": 1, "project_id": 1},
        )
    )
    done = site.wait_for(lambda: good | subjects <= set(site.mailbox.events()), 60)
    time.sleep(1)
    alive = site.alive().get("worker-1", False)
    with site.mailbox.lock:
        poison_subjects = [subject for event, subject, _ in site.mailbox.received if event in subjects]
    push = site.query(
        "SELECT status, left(last_error, 60) FROM notification_deliveries WHERE channel = 'push'"
        " AND event_id::text = ANY(%s)",
        (list(good | subjects),),
    )
    states = dict(
        site.query(
            "SELECT channel || ':' || status, count(*) FROM notification_deliveries"
            " WHERE event_id::text = ANY(%s) GROUP BY 1",
            (list(good | subjects),),
        )
    )
    site.stop("worker-1")
    one_line = all("\r" not in s and "\n" not in s and "Speel tuin Bcc:" in s for s in poison_subjects)
    result = {
        "drill": "poison push subscription (key off the curve) and CR/LF in titles, among good events",
        "good_events": count,
        "poison_title_events": len(subjects),
        "worker_alive": alive,
        "push_deliveries": Counter(status for status, _ in push),
        "push_error": push[0][1] if push else None,
        "mails_with_poison_titles": len(poison_subjects),
        "subjects_one_line": one_line,
        "deliveries": states,
        "lost": len((good | subjects) - set(site.mailbox.events())),
    }
    result["passed"] = (
        done
        and alive
        and one_line
        and push
        and all(status == "dead" for status, _ in push)
        and not result["lost"]
    )
    return result


DRILLS: dict[str, Callable[[Site], dict[str, Any]]] = {
    "db-restart": drill_db_restart,
    "kill-one-of-two": drill_kill_one_of_two,
    "poison": drill_poison,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("drills", nargs="*", help=f"any of {', '.join(DRILLS)}; default all")
    args = parser.parse_args()
    site = Site()
    site.setup()
    failed = False
    try:
        for name in args.drills or list(DRILLS):
            result = DRILLS[name](site)
            failed |= not result["passed"]
            print(json.dumps(result, default=str), flush=True)
    finally:
        site.teardown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
