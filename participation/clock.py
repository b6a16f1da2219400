"""The clock of participation: what moves on by itself once its time has come.

Budget rounds whose phase dates have passed, consultation rounds that open or close, motions with a
closing time. It sits above the services it drives (:mod:`participation.budget_rounds`,
:mod:`participation.consultations`, :mod:`participation.council_votes`), which in turn read their
life-cycles from :mod:`participation.workflow`; kept there, it made workflow and services import each other.
Run every minute by ``civicloop serve`` (``api/clock.py``) and by ``civicloop pb advance``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.db import make_sessionmaker
from participation.ballot_cipher import BallotCipher
from participation.ballot_store import vacuum_ballots
from participation.budget_rounds import advance_due_rounds
from participation.consultations import advance_due_consultations
from participation.council_votes import close_due_motions
from participation.workflow import Phase


async def advance_phases(
    session: AsyncSession, now: datetime, *, cipher: BallotCipher
) -> dict[str, list[Any]]:
    """Everything the clock moves: budget-round phases, consultation rounds, motions with a closing time.

    Rows are taken with ``SKIP LOCKED`` so two runners never move the same thing twice. The caller commits.
    """
    return {
        "rounds": await advance_due_rounds(session, now, cipher=cipher),
        "consultation_rounds": await advance_due_consultations(session, now),
        "motions": await close_due_motions(session, now),
    }


async def tick(engine: AsyncEngine, now: datetime | None = None, *, cipher: BallotCipher) -> dict[str, Any]:
    """One run of the clock as a unit of work of its own: move everything that is due and commit; then, if
    a budget round closed, vacuum the ballots, which must happen after the commit and outside any
    transaction (:func:`participation.ballot_store.vacuum_ballots`).
    """
    async with make_sessionmaker(engine)() as session:
        moved: dict[str, Any] = await advance_phases(session, now or datetime.now(UTC), cipher=cipher)
        await session.commit()
    if any(goal == Phase.RESULTS for _, _, goal in moved["rounds"]):
        moved["vacuum"] = await vacuum_ballots(engine)
    return moved
