"""Life-cycles as data: budget-round phases, motion and consultation-round statuses.

Data and the checks of one move only, no service and no database: the services import this module, never
the other way round. A round moves forward one phase at a time, by the clock
(:func:`participation.clock.tick`, run by ``civicloop serve`` or ``civicloop pb advance``) or by an
administrator. The only step back is review → proposals (reopen the call for ideas); once voting has opened
there is no way back, because the ballot rules are locked and ballots exist.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from participation.errors import IllegalPhaseChange, UnknownPhase, UnknownWorkflowStatus


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
        raise UnknownPhase(f"unknown phase {target!r}") from None
    if goal not in PHASE_TRANSITIONS[source]:
        raise IllegalPhaseChange(f"a round cannot move from {source.value} to {goal.value}")
    return goal


S = TypeVar("S", bound=StrEnum)


class MotionStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


MOTION_TRANSITIONS: dict[MotionStatus, frozenset[MotionStatus]] = {
    MotionStatus.DRAFT: frozenset({MotionStatus.OPEN}),
    MotionStatus.OPEN: frozenset({MotionStatus.CLOSED}),
    MotionStatus.CLOSED: frozenset(),
}


class ConsultationStatus(StrEnum):
    """A consultation round's life-cycle: the same three words as a motion's, but its own table, so that
    either can change without the other."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


CONSULTATION_TRANSITIONS: dict[ConsultationStatus, frozenset[ConsultationStatus]] = {
    ConsultationStatus.DRAFT: frozenset({ConsultationStatus.OPEN}),
    ConsultationStatus.OPEN: frozenset({ConsultationStatus.CLOSED}),
    ConsultationStatus.CLOSED: frozenset(),
}


def check_status_change(current: str, target: str, *, what: str) -> MotionStatus:
    """A motion's move from ``current`` to ``target`` (``what`` names the thing in the error)."""
    return _checked(MotionStatus, MOTION_TRANSITIONS, current, target, what=what)


def check_consultation_status_change(current: str, target: str) -> ConsultationStatus:
    return _checked(ConsultationStatus, CONSULTATION_TRANSITIONS, current, target, what="consultation round")


def _checked(
    statuses: type[S], transitions: dict[S, frozenset[S]], current: str, target: str, *, what: str
) -> S:
    try:
        source, goal = statuses(current), statuses(target)
    except ValueError:
        raise UnknownWorkflowStatus(f"unknown status {target!r}") from None
    if goal not in transitions[source]:
        raise IllegalPhaseChange(f"a {what} cannot move from {source.value} to {goal.value}")
    return goal
