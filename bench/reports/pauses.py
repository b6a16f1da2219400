"""Garbage-collector pauses of a bench server, for the p99 question ("is it the GC?").

Imported by ``ours_app.py`` and ``baseline_app.py``; with ``BENCH_PAUSES=<file>`` in the environment it
times every collection (``gc.callbacks``) and, when the server exits, writes per generation the number
of collections, their total and longest pause and how many took over 5 ms to that file as JSON, when
the app's lifespan ends (uvicorn ends on SIGTERM by re-raising the signal, which skips ``atexit``; a
write during the run would itself add to the tail it measures). ``wrap`` is the app both sides serve.
``run.py`` sets it for both sides and prints the figures after the table.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def wrap(app: ASGIApp) -> ASGIApp:
    """``app``, timing its collections and writing the figures at shutdown (or ``app`` itself when
    ``BENCH_PAUSES`` is not set)."""
    target = os.environ.get("BENCH_PAUSES")
    if not target:
        return app
    frozen = [0]
    write = _install(Path(target), frozen)

    async def with_report(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                # Once: it walks the whole frozen list (in a collection callback it cost ms each time).
                frozen[0] = gc.get_freeze_count()
            elif message["type"] == "lifespan.shutdown.complete":
                write()
            await send(message)

        await app(scope, receive, sending)

    return with_report


def _install(target: Path, frozen: list[int]) -> Callable[[], None]:
    started: list[float] = [0.0]
    figures: dict[int, dict[str, float]] = {
        generation: {"collections": 0, "total_ms": 0.0, "max_ms": 0.0, "over_5ms": 0}
        for generation in range(3)
    }

    def timed(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        pause = 1000 * (time.perf_counter() - started[0])
        entry = figures[info["generation"]]
        entry["collections"] += 1
        entry["total_ms"] += pause
        entry["max_ms"] = max(entry["max_ms"], pause)
        entry["over_5ms"] += pause > 5

    def write() -> None:
        target.write_text(json.dumps({"frozen_objects": frozen[0], "generations": figures}, indent=2))

    gc.callbacks.append(timed)
    return write
