"""CPU-heavy work off the event loop, in small thread pools of bounded size.

An Argon2 hash takes ~0.1-0.3 s of CPU and 64 MiB; re-encoding a large phone photo up to seconds and
hundreds of MiB. Run in an ``async def`` they stop every other request of the process for that long
(32 parallel sign-ins made ``/healthz`` take 2 s). Both libraries release the GIL while they work
(argon2-cffi through cffi, Pillow in its codecs and resampling), so threads are enough: the event loop
keeps serving while they run, and the pool size bounds both the CPU and the memory they may take at
once. Work beyond the bound waits its turn in the pool's queue, not in the event loop.

A pool per kind of work, so a burst of uploads cannot make sign-ins wait, nor the other way round.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BoundedPool:
    def __init__(self, name: str, *, max_workers: int) -> None:
        self.max_workers = max_workers
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))


_CORES = os.cpu_count() or 2

# Argon2 (4 lanes, 64 MiB each hash): one hash per core is as fast as it gets; more only adds memory.
password_hashing = BoundedPool("civicloop-argon2", max_workers=max(2, _CORES))
# Photo decoding and re-encoding: a 40-megapixel image takes ~160 MiB while it is worked on.
image_processing = BoundedPool("civicloop-images", max_workers=max(2, _CORES // 2))
