"""The app under load in ``bench/participation/ballots.py``: ``api.app.create_app`` as ``civicloop serve``
builds it, with the ballot mixer's batching window taken from the environment (the variants compared).

Environment: ``DATABASE_URL``, ``CIVICLOOP_DB_POOL_SIZE`` (read by the settings), ``BENCH_MIXER_DELAY``
(seconds the mixer waits to fill a batch; ``0`` = write as soon as the previous batch is committed).
"""

from __future__ import annotations

import os

from api.app import create_app
from core.settings import Settings
from participation.resources import ParticipationResources

settings = Settings()
if not settings.database_url:
    raise RuntimeError("DATABASE_URL is not set")
app = create_app(settings)

# The app's own mixer (on its two autocommit connections, opened by the app's lifespan), with the window
# under test.
resources: ParticipationResources = app.state.participation
resources.mixer.max_delay = float(os.environ.get("BENCH_MIXER_DELAY", "0"))
