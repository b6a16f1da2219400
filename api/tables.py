"""Every ORM table of every package, imported once so metadata is complete (alembic, tests).

It lives in `api`, the composition root, the only package allowed to know every other one.
"""

from __future__ import annotations

import importlib

from core.db import Base

MODEL_MODULES = (
    "core.identity",
    "core.outbox",
    "core.idempotency",
    "geo.models",
    "geo.tiles",
    "participation.models",
    "notifications.models",
    "api.open311.keys",
)

for _module in MODEL_MODULES:
    importlib.import_module(_module)

metadata = Base.metadata
