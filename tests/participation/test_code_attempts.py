"""Guessing a letter's voting code is throttled per client address (``api.code_attempts``): unknown,
revoked or misdirected codes, through the lookup or a cast, count; past the limit every code attempt from
that address is refused with 429, a right code included; other addresses and right codes are not held up."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from core.db import make_sessionmaker
from core.settings import Settings
from tests.conftest import World
from tests.participation.support_rounds import BASE, codes_for, new_resident, round_with_projects, verify
from tests.response_schemas import response_hooks

LOOKUP = "/api/v1/voting-codes/lookup"
Client = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_at(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> Client:
    """A client calling from ``address``, with the voting-code limit on and set to 3 failures."""
    config = settings.model_copy(update={"rate_limits": True, "voting_code_failures_per_address": 3})

    @asynccontextmanager
    async def at(address: str) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(config, sessionmaker=sessionmaker)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
        ) as client:
            yield client

    return at


def refused(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


async def test_guessing_codes_is_refused_after_the_limit_even_with_a_right_code(
    client_at: Client, world: World
) -> None:
    async with client_at("198.51.100.20") as desk:
        round_id, ids = await round_with_projects(desk, world, credentials="codes")
        right, other = await codes_for(desk, world, round_id, 2)
    async with client_at("203.0.113.9") as guesser:
        for guess in ("AAAA-BBBB-CCCC-DDDD", "AAAA-BBBB-CCCC-DDDE"):
            assert refused(await guesser.post(LOOKUP, json={"code": guess})) == (403, "unknown-code")
        # A cast with a made-up code counts as well.
        cast = await guesser.post(
            f"{BASE}/budget-rounds/{round_id}/ballots",
            json={"projects": ids[:1], "code": "AAAA-BBBB-CCCC-DDDF"},
        )
        assert refused(cast) == (403, "unknown-code")
        # The window is full: the right code gets no answer either (else the limit would still tell).
        blocked = await guesser.post(LOOKUP, json={"code": right})
        assert refused(blocked) == (429, "too-many-code-attempts")
        assert blocked.headers["content-type"] == "application/problem+json"
        assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
        cast = await guesser.post(
            f"{BASE}/budget-rounds/{round_id}/ballots", json={"projects": ids[:1], "code": right}
        )
        assert refused(cast) == (429, "too-many-code-attempts")
    async with client_at("192.0.2.44") as household:
        # Another address is not held up, and right codes never count: look up, cast, look up again.
        for _ in range(4):
            assert (await household.post(LOOKUP, json={"code": other})).status_code == 200
        cast = await household.post(
            f"{BASE}/budget-rounds/{round_id}/ballots", json={"projects": ids[:1], "code": right}
        )
        assert cast.status_code == 201, cast.text
        assert (await household.post(LOOKUP, json={"code": right})).json()["voted"] is True


async def test_without_rate_limits_guesses_are_answered(pclient: httpx.AsyncClient, world: World) -> None:
    """The suite's other tests run with the limits off: there a guess is only ever 403."""
    answers = [refused(await pclient.post(LOOKUP, json={"code": f"ZZZZ-ZZZZ-ZZZZ-ZZZ{n}"})) for n in range(5)]
    assert answers == [(403, "unknown-code")] * 5


async def test_on_the_production_path_a_failed_cast_counts_and_a_right_one_takes_no_session(
    engine: AsyncEngine, settings: Settings, world: World
) -> None:
    """With the casts' own pool (as in production) the check runs on the cast's connection and the
    failure is committed on the request's session; a cast with a right code still opens no session."""
    config = settings.model_copy(update={"rate_limits": True, "voting_code_failures_per_address": 2})
    app = create_app(config, sessionmaker=make_sessionmaker(engine))
    address = f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"  # committed counters
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
        ) as client:
            author_id, author_token = await new_resident(make_sessionmaker(engine), world)
            await verify(client, world, author_id)
            round_id, ids = await round_with_projects(client, world, author_token=author_token)
            right, spare = await codes_for(client, world, round_id, 2)
            ballots = f"{BASE}/budget-rounds/{round_id}/ballots"
            pool = app.state.participation.cast_pool
            before = pool.get_stats().get("requests_num", 0)
            checkouts: list[object] = []

            def checked_out(*_: object) -> None:
                checkouts.append(_)

            event.listen(engine.sync_engine, "checkout", checked_out)
            try:
                cast = await client.post(ballots, json={"projects": ids[:1], "code": right})
            finally:
                event.remove(engine.sync_engine, "checkout", checked_out)
            assert cast.status_code == 201, cast.text
            # Checked on the casts' pool connection: no ORM connection taken for a right code.
            assert pool.get_stats().get("requests_num", 0) == before + 1
            assert checkouts == []
            for guess in ("AAAA-BBBB-CCCC-DDDD", "AAAA-BBBB-CCCC-DDDE"):
                made_up = await client.post(ballots, json={"projects": ids[:1], "code": guess})
                assert refused(made_up) == (403, "unknown-code")
            blocked = await client.post(ballots, json={"projects": ids[:1], "code": spare})
            assert refused(blocked) == (429, "too-many-code-attempts")
    async with engine.connect() as connection:
        hits = await connection.scalar(
            text("SELECT sum(hits) FROM rate_limit_counters WHERE key = :k"),
            {"k": f"voting-code-failures:{address}"},
        )
        await connection.execute(
            text("DELETE FROM rate_limit_counters WHERE key = :k"), {"k": f"voting-code-failures:{address}"}
        )
        await connection.commit()
    assert hits == 2
