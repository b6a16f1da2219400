"""Argon2 sign-ins and photo re-encoding run beside the event loop, not in it: other requests go on.

While a burst of sign-ins (or uploads of a large photo) runs through the app, a task that only sleeps
1 ms measures how long the event loop was kept from it, and ``/healthz`` is asked every few ms. Done in
the loop, one hash or one re-encode is one callback, so the loop stalls at least as long as that work
takes alone; done in the bounded pools, it stalls only for the requests' own handling.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.blocking import image_processing, password_hashing
from geo.photos import process_photo
from tests.conftest import World, bearer

SIGN_IN = {"jurisdiction": "amsterdam", "email": "resident@example.org", "password": "correct horse battery"}


async def loop_stalls_while(work: Callable[[], Awaitable[None]], client: httpx.AsyncClient) -> list[float]:
    """The gaps (s) between the turns of a task that sleeps 1 ms, while ``work()`` runs."""
    assert (await client.get("/healthz")).status_code == 200  # its first call builds the route: not ours
    gaps: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    async def probe() -> None:
        while not done.is_set():
            assert (await client.get("/healthz")).status_code == 200
            await asyncio.sleep(0.005)

    watchers = [asyncio.create_task(tick()), asyncio.create_task(probe())]
    try:
        await work()
    finally:
        done.set()
        await asyncio.gather(*watchers)
    return gaps


def assert_barely_noticed(gaps: list[float], heavy: float) -> None:
    """Work on the loop would stall it once per request (four or more here), each time for ``heavy``;
    one long gap alone is the OS giving the CPU to another process on a busy two-core runner."""
    assert len(gaps) >= 20, gaps
    stalls = [gap for gap in gaps if gap >= heavy / 2]
    assert len(stalls) <= 1, (sorted(gaps)[-5:], heavy)


async def arriving(request: Callable[[], Coroutine[Any, Any, None]], count: int) -> None:
    """``count`` requests arriving 10 ms apart (as from many phones), all in flight together."""
    running: list[asyncio.Task[None]] = []
    for _ in range(count):
        running.append(asyncio.create_task(request()))
        await asyncio.sleep(0.01)
    await asyncio.gather(*running)


async def seconds_in_a_thread(work: Callable[[], object]) -> float:
    def run() -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    return await asyncio.to_thread(run)


async def test_sign_ins_do_not_hold_up_other_requests(
    committed_client: httpx.AsyncClient, world: World, session: AsyncSession
) -> None:
    async def sign_in() -> None:
        response = await committed_client.post("/api/v1/auth/tokens", json=SIGN_IN)
        assert response.status_code == 201, response.text

    async def sign_ins() -> None:
        await arriving(sign_in, 4 * password_hashing.max_workers)

    await sign_ins()  # warm up: the connection pool and the threads
    stored = await session.scalar(
        text("SELECT password_hash FROM accounts WHERE id = :id"), {"id": world.accounts["resident"]}
    )
    heavy = await seconds_in_a_thread(lambda: PasswordHasher().verify(stored, SIGN_IN["password"]))
    assert_barely_noticed(await loop_stalls_while(sign_ins, committed_client), heavy)


def large_png() -> bytes:
    """24 megapixels that compress well: the cost of decoding and resampling is in the pixels."""
    gradient = Image.linear_gradient("L").resize((6000, 4000))
    image = Image.merge("RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def test_photo_uploads_do_not_hold_up_other_requests(
    committed_client: httpx.AsyncClient, world: World
) -> None:
    photo = await asyncio.to_thread(large_png)

    async def upload() -> None:
        response = await committed_client.post(
            "/api/v1/jurisdictions/amsterdam/photos",
            files={"file": ("groot.png", photo, "image/png")},
            headers=bearer(world.tokens["resident"]),
        )
        assert response.status_code == 201, response.text

    async def uploads() -> None:
        await arriving(upload, 2 * image_processing.max_workers)

    await upload()
    heavy = await seconds_in_a_thread(lambda: process_photo(photo, declared_content_type="image/png"))
    assert_barely_noticed(await loop_stalls_while(uploads, committed_client), heavy)
