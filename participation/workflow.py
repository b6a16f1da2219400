"""Life-cycles as data: budget-round phases, motion and consultation-round statuses.

A round moves forward one phase at a time, by the clock (:func:`participation.budget_rounds.advance_phases`,
run by the worker or ``civicloop``) or by an administrator. The only step back is review → proposals
(reopen the call for ideas); once voting has opened there is no way back, because the ballot rules are
locked and ballots exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.db import make_sessionmaker
from participation.errors import IllegalPhaseChange

if TYPE_CHECKING:
    from participation.ballot_cipher import BallotCipher


class Phase(StrEnum):
    PROPOSALS = "proposals"
    REVIEW = "review"
    VOTING = "voting"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"


PHASE_TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.PROPOSALS: frozenset({Phase.REVIEW}),
    Phase.REVIEW: frozenset({Phase.PROPOSALS, Phase.VOTING}),
    Phase.VOTING: frozenset({Phase.RESULTS}),
    Phase.RESULTS: frozenset({Phase.IMPLEMENTATION}),
    Phase.IMPLEMENTATION: frozenset(),
}

# Which schedule column moves a round out of a phase when its time has come.
PHASE_DEADLINES: dict[Phase, tuple[str, Phase]] = {
    Phase.PROPOSALS: ("review_starts_at", Phase.REVIEW),
    Phase.REVIEW: ("voting_opens_at", Phase.VOTING),
    Phase.VOTING: ("voting_closes_at", Phase.RESULTS),
    Phase.RESULTS: ("implementation_starts_at", Phase.IMPLEMENTATION),
}

RULES_LOCKED_PHASES = frozenset({Phase.VOTING, Phase.RESULTS, Phase.IMPLEMENTATION})


def check_phase_change(current: str, target: str) -> Phase:
    try:
        source, goal = Phase(current), Phase(target)
    except ValueError:
        raise IllegalPhaseChange(f"unknown phase {target!r}", code="unknown-phase") from None
    if goal not in PHASE_TRANSITIONS[source]:
        raise IllegalPhaseChange(f"a round cannot move from {source.value} to {goal.value}")
    return goal


class MotionStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


MOTION_TRANSITIONS: dict[MotionStatus, frozenset[MotionStatus]] = {
    MotionStatus.DRAFT: frozenset({MotionStatus.OPEN}),
    MotionStatus.OPEN: frozenset({MotionStatus.CLOSED}),
    MotionStatus.CLOSED: frozenset(),
}

# Consultation rounds share the same three states and the same forward-only moves.
CONSULTATION_TRANSITIONS = MOTION_TRANSITIONS


def check_status_change(current: str, target: str, *, what: str) -> MotionStatus:
    try:
        source, goal = MotionStatus(current), MotionStatus(target)
    except ValueError:
        raise IllegalPhaseChange(f"unknown status {target!r}", code="unknown-status") from None
    if goal not in MOTION_TRANSITIONS[source]:
        raise IllegalPhaseChange(f"a {what} cannot move from {source.value} to {goal.value}")
    return goal


async def advance_phases(
    session: AsyncSession, now: datetime, *, cipher: BallotCipher
) -> dict[str, list[Any]]:
    """Everything the clock moves: budget-round phases, consultation rounds, motions with a closing time.

    Run by the worker (or ``civicloop``) every minute; rows are taken with ``SKIP LOCKED`` so two runners
    never move the same thing twice. The caller commits.
    """
    # Imported here: the services import this module's tables, so a top-level import would be circular.
    from participation.budget_rounds import advance_due_rounds
    from participation.consultations import advance_due_consultations
    from participation.council_votes import close_due_motions

    return {
        "rounds": await advance_due_rounds(session, now, cipher=cipher),
        "consultation_rounds": await advance_due_consultations(session, now),
        "motions": await close_due_motions(session, now),
    }


async def tick(engine: AsyncEngine, now: datetime | None = None, *, cipher: BallotCipher) -> dict[str, Any]:
    """One run of the clock as a unit of work of its own, for the notifications worker's loop (wired by
    the composition root) and ``civicloop pb advance``: move everything that is due and commit; then, if a
    budget round closed, vacuum the ballots, which must happen after the commit and outside any
    transaction (:func:`participation.ballot_store.vacuum_ballots`).
    """
    from participation.ballot_store import vacuum_ballots

    async with make_sessionmaker(engine)() as session:
        moved: dict[str, Any] = await advance_phases(session, now or datetime.now(UTC), cipher=cipher)
        await session.commit()
    if any(goal == Phase.RESULTS for _, _, goal in moved["rounds"]):
        moved["vacuum"] = await vacuum_ballots(engine)
    return moved
