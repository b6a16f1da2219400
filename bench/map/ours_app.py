"""civicloop's app with the map router mounted (as ``api/app.py`` will mount it), for ``run.py``."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.routers.map import router  # noqa: E402
from core.settings import Settings  # noqa: E402

app = create_app(
    Settings(
        environment="development",
        database_url=os.environ["BENCH_DATABASE_URL"],
        db_pool_size=int(os.environ.get("BENCH_POOL_SIZE", "10")),
        media_dir=ROOT / ".civicloop" / "bench" / "media",
    )
)
app.include_router(router)
app.state.map_refresh_checked_at = math.inf  # run.py refreshes the cells itself, before measuring
