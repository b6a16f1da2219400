"""Keeping the worker's loops alive and saying how they are: heartbeats, failures, restarts.

A background loop fails in two ways. A *step* fails (the database went away, a batch could not be
written): the loop logs it, counts it, backs off and tries again — see ``Worker._loop``. Or the loop
*itself* dies (a bug outside the per-step guard): then :func:`supervise` logs the traceback, counts a
restart and starts it again after a back-off. Nothing in between dies silently, and
:class:`WorkerHealth` is what ``/readyz`` reports: per loop its last heartbeat, its failures and
restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("civicloop.notifications.supervision")


@dataclass
class LoopHealth:
    name: str
    started_at: float = field(default_factory=time.time)
    beat_at: float = field(default_factory=time.monotonic)
    """``time.monotonic()`` of the last completed iteration (work done or nothing to do)."""
    failures: int = 0
    """Steps that raised; each was retried after a back-off."""
    consecutive_failures: int = 0
    restarts: int = 0
    """Times the loop itself crashed and :func:`supervise` started it again."""
    last_failure: str | None = None
    """The exception type of the last failure (never its text: it may hold data)."""
    running: bool = False

    def beat(self) -> None:
        self.beat_at = time.monotonic()
        self.consecutive_failures = 0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        self.consecutive_failures += 1
        self.last_failure = type(error).__name__

    def age(self) -> float:
        return time.monotonic() - self.beat_at


@dataclass
class WorkerHealth:
    """The health of every loop of the worker(s) in this process."""

    stale_after_seconds: float = 60.0
    loops: dict[str, LoopHealth] = field(default_factory=dict)

    def loop(self, name: str) -> LoopHealth:
        if name not in self.loops:
            self.loops[name] = LoopHealth(name)
        return self.loops[name]

    def problems(self) -> list[str]:
        """Why this process's worker is not healthy; empty when it is."""
        found = []
        for loop in self.loops.values():
            if not loop.running:
                found.append(f"loop {loop.name} is not running")
            elif loop.age() > self.stale_after_seconds:
                found.append(f"loop {loop.name} has not completed an iteration for {loop.age():.0f} s")
        return found

    def report(self) -> dict[str, Any]:
        return {
            "healthy": not self.problems(),
            "problems": self.problems(),
            "loops": {
                loop.name: {
                    "running": loop.running,
                    "seconds_since_heartbeat": round(loop.age(), 3),
                    "failures": loop.failures,
                    "consecutive_failures": loop.consecutive_failures,
                    "restarts": loop.restarts,
                    "last_failure": loop.last_failure,
                }
                for loop in self.loops.values()
            },
            "failures": sum(loop.failures for loop in self.loops.values()),
            "restarts": sum(loop.restarts for loop in self.loops.values()),
        }


def backoff(attempt: int, *, base: float, ceiling: float) -> float:
    """``base``·2^(attempt-1), at most ``ceiling``."""
    return min(ceiling, base * 2 ** max(0, attempt - 1))


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def supervise(
    run: Callable[[], Awaitable[None]],
    *,
    health: LoopHealth,
    stop: asyncio.Event,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    healthy_after: float = 60.0,
) -> None:
    """Run ``run()`` until ``stop`` is set; restart it with back-off whenever it raises or returns early.

    The back-off starts again from ``base_delay`` once a run lasted ``healthy_after`` seconds, so a loop
    that crashes once a day restarts at once, and one that crashes at every start does not spin.
    """
    crashes = 0
    while not stop.is_set():
        started = time.monotonic()
        health.running = True
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            health.failed(error)
            reason: BaseException | str = error
        else:
            if stop.is_set():
                break
            reason = "it returned while it should run"
        finally:
            health.running = False
        crashes = 1 if time.monotonic() - started >= healthy_after else crashes + 1
        health.restarts += 1
        delay = backoff(crashes, base=base_delay, ceiling=max_delay)
        logger.error(
            "worker loop %s stopped (%s); restart %d in %.1f s",
            health.name,
            reason,
            health.restarts,
            delay,
            exc_info=reason if isinstance(reason, BaseException) else None,
        )
        await sleep_or_stop(stop, delay)
