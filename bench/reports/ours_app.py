"""civicloop's own app, built the way ``civicloop serve`` builds it, for ``run.py`` to start under uvicorn.

The database comes from ``BENCH_DATABASE_URL`` (written by ``load.py``); the pool size from
``BENCH_POOL_SIZE`` (default 10, the ``Settings.db_pool_size`` default), so both sides of the benchmark
get the same pool.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from core.settings import Settings  # noqa: E402

app = create_app(
    Settings(
        environment="development",
        database_url=os.environ["BENCH_DATABASE_URL"],
        db_pool_size=int(os.environ.get("BENCH_POOL_SIZE", "10")),
        media_dir=ROOT / ".civicloop" / "bench" / "media",
    )
)
