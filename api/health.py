"""``/readyz``: can this process do its work — the database, its notifications worker, the queues.

``/healthz`` (in ``api.app``) stays what a liveness probe needs: the process answers, no database
asked. ``/readyz`` is for a load balancer's readiness check and for monitoring; it answers 200 with a
report when everything holds and 503 problem+json with the same report (and ``Retry-After``) when:

- the database does not answer ``SELECT`` within a few seconds;
- the notifications worker of this process (``civicloop serve`` runs one unless
  ``CIVICLOOP_RUN_WORKER=false``) has a loop that is not running or has not completed an iteration
  for longer than a poll and a batch take;
- the oldest unprocessed outbox event, or the oldest delivery that is due, waited longer than
  ``CIVICLOOP_READY_MAX_LAG_SECONDS``: no worker anywhere (in any process) is keeping up.

The counts are capped (``LAG_COUNT_CAP``) so the check stays cheap even with a large backlog. The
report holds numbers and exception type names only, never error texts, addresses or payloads: it is
public, like ``/healthz``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.problems import DATABASE_RETRY_AFTER_SECONDS, problem
from core.settings import Settings
from notifications.supervision import WorkerHealth

router = APIRouter(include_in_schema=False)

DATABASE_TIMEOUT_SECONDS = 3.0
LAG_COUNT_CAP = 100_000

QUEUES_SQL = text("""
SELECT
  (SELECT count(*) FROM (SELECT 1 FROM outbox_events WHERE processed_at IS NULL LIMIT :cap) e)
    AS outbox_unprocessed,
  extract(epoch FROM clock_timestamp() - (SELECT created_at FROM outbox_events WHERE processed_at IS NULL
                                          ORDER BY id LIMIT 1)) AS outbox_oldest_age,
  (SELECT count(*) FROM (SELECT 1 FROM notification_deliveries
                         WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()
                         LIMIT :cap) d) AS deliveries_due,
  extract(epoch FROM clock_timestamp() - (SELECT min(next_attempt_at) FROM notification_deliveries
                                          WHERE status = 'pending')) AS deliveries_oldest_due_age
""")


def _age(value: Any) -> float:
    return max(0.0, round(float(value), 3)) if value is not None else 0.0


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    problems: list[str] = []
    report: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), request.app.state.sessionmaker() as session:
            queues = (await session.execute(QUEUES_SQL, {"cap": LAG_COUNT_CAP})).one()
            await session.rollback()
        latency_ms = round(1000 * (time.perf_counter() - started), 1)
        report["database"] = {"reachable": True, "latency_ms": latency_ms}
        outbox_age = _age(queues.outbox_oldest_age)
        due_age = _age(queues.deliveries_oldest_due_age) if queues.deliveries_due else 0.0
        report["outbox"] = {
            "unprocessed": queues.outbox_unprocessed,
            "oldest_unprocessed_age_seconds": outbox_age,
        }
        report["deliveries"] = {"due": queues.deliveries_due, "oldest_due_age_seconds": due_age}
        limit = settings.notifications.ready_max_lag_seconds
        if outbox_age > limit:
            problems.append(
                f"the oldest unprocessed outbox event waits {outbox_age:.0f} s (limit {limit:.0f})"
            )
        if due_age > limit:
            problems.append(f"the oldest due delivery waits {due_age:.0f} s (limit {limit:.0f} s)")
    except Exception as error:  # whatever it is, the database is not usable from here
        report["database"] = {"reachable": False, "error": type(error).__name__}
        problems.append("the database cannot be reached")
    health: WorkerHealth | None = getattr(request.app.state, "worker_health", None)
    if health is None:
        report["worker"] = {"in_this_process": False}
    else:
        report["worker"] = {"in_this_process": True, **health.report()}
        problems += health.problems()
    if not problems:
        return JSONResponse({"status": "ready", **report})
    response = problem(503, "not-ready", "Not ready", "; ".join(problems), problems=problems, **report)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
