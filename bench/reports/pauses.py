"""Garbage-collector pauses of a bench server, for the p99 question ("is it the GC?").

Imported by ``ours_app.py`` and ``baseline_app.py``; with ``BENCH_PAUSES=<file>`` in the environment it
times every collection (``gc.callbacks``) and, when the server exits, writes per generation the number
of collections, their total and longest pause and how many took over 5 ms to that file as JSON (at
most once a second while collections happen, and at exit: uvicorn ends on SIGTERM by re-raising the
signal, which skips ``atexit``).
``run.py`` sets it for both sides and prints the figures after the table.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import time
from pathlib import Path
from typing import Any


def install() -> None:
    target = os.environ.get("BENCH_PAUSES")
    if not target:
        return
    started: list[float] = [0.0, 0.0]  # this collection's start, the last write
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
        if started[0] - started[1] > 1.0:
            started[1] = started[0]
            write()

    def write() -> None:
        Path(target).write_text(
            json.dumps({"frozen_objects": gc.get_freeze_count(), "generations": figures}, indent=2)
        )

    gc.callbacks.append(timed)
    atexit.register(write)
