"""civicloop's own app, built the way ``civicloop serve`` builds it, for ``run.py`` to start under uvicorn.

The database comes from ``BENCH_DATABASE_URL`` (written by ``load.py``); the pool size from
``BENCH_POOL_SIZE`` (default 10, the ``Settings.db_pool_size`` default), so both sides of the benchmark
get the same pool.

The notifications worker and the round clock, which ``civicloop serve`` runs in the API process, are off
unless ``BENCH_RUN_WORKER=1``: the baseline delivers no notifications, and with the worker on, the e-mails
for the reports the ``create`` scenario made are sent on the same event loop during the *next* scenarios,
so their CPU per request and their p99 measure the worker, not the route (docs/benchmarks.md, "p99 tail").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from bench.reports.pauses import wrap as with_pause_report  # noqa: E402
from core.settings import Settings  # noqa: E402

app = create_app(
    Settings(
        environment="development",
        database_url=os.environ["BENCH_DATABASE_URL"],
        db_pool_size=int(os.environ.get("BENCH_POOL_SIZE", "10")),
        run_worker=os.environ.get("BENCH_RUN_WORKER", "0") == "1",
        media_dir=ROOT / ".civicloop" / "bench" / "media",
    )
)

served = with_pause_report(app)  # what run.py serves: the app, its GC pauses timed (pauses.py)
