"""Guessing a letter's voting code is throttled per client address.

A voting code is the only credential of a code round: whoever holds one casts that household's vote.
Codes are long and random (``participation.electorate.new_code``), but imported ones may be as short as
eight characters and the lookup and the cast both say whether a code exists. So failures (an unknown,
revoked or misdirected code) are counted per client address, as failed sign-ins are; past the limit every
code attempt from that address gets 429 ``too-many-code-attempts`` until the window ends, a right code
included (otherwise the limit would still answer the question). The check runs in the request's own
transaction (on a cast, the cast's connection: one primary-key read more on the hot path, no session).
A failure is recorded on the request's session and committed, as a failed sign-in is, so it counts
although the request fails (every refusal counted here is raised before the cast writes anything).
Success forgets nothing: one right code does not license more guesses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import client_key
from api.errors import TooManyCodeAttempts
from core import throttle
from core.db import Reader
from core.settings import Settings
from participation.errors import CodeForAnotherRound, CodeRevoked, UnknownCode

# The refusals that tell a guesser something about a code.
GUESS_REFUSALS = (UnknownCode, CodeRevoked, CodeForAnotherRound)


@asynccontextmanager
async def counting_code_failures(
    session: AsyncSession,
    request: Request,
    settings: Settings,
    *,
    code: str | None,
    checked_on: Reader | None = None,
) -> AsyncIterator[None]:
    """Around a use of ``code``: refuse when the address's window is full (read on ``checked_on``, the
    request's session by default), count a guess refusal (on ``session``, committed)."""
    limits: list[tuple[str, int]] = []
    if code is not None and settings.rate_limits:
        limits = [(f"voting-code-failures:{client_key(request)}", settings.voting_code_failures_per_address)]
    async with throttle.counting_failures(
        session,
        limits=limits,
        window_seconds=settings.voting_code_window_minutes * 60,
        what="voting-code attempts",
        failures=GUESS_REFUSALS,
        error=TooManyCodeAttempts,
        checked_on=checked_on,
    ):
        yield
