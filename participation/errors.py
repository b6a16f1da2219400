"""Expected failures of participation, each with a stable code clients may switch on."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, Forbidden, InvalidInput, NotFound


class RoundNotFound(NotFound):
    code = "round-not-found"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"


class MotionNotFound(NotFound):
    code = "motion-not-found"


class ConsultationNotFound(NotFound):
    code = "consultation-not-found"


class AreaNotFound(NotFound):
    code = "area-not-found"


class AccountNotFound(NotFound):
    code = "account-not-found"


class WrongPhase(Conflict):
    """The action belongs to another phase of the round (a vote before voting opens or after it closed)."""

    code = "wrong-phase"


class IllegalPhaseChange(Conflict):
    code = "illegal-phase-change"


class BallotRulesLocked(Conflict):
    code = "ballot-rules-locked"


class AlreadyVoted(Conflict):
    code = "already-voted"


class NotEligible(Forbidden):
    code = "not-eligible"


class InvalidCode(Forbidden):
    code = "invalid-code"


class BallotRuleViolation(InvalidInput):
    """A ballot that breaks the round's rules; ``violations`` lists every broken rule with its own code."""

    code = "ballot-rule-violation"

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        summary = "; ".join(v["detail"] for v in violations)
        super().__init__(f"the ballot breaks the round's rules: {summary}", violations=violations)


class AnswerViolation(InvalidInput):
    code = "invalid-answers"

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        summary = "; ".join(v["detail"] for v in violations)
        super().__init__(f"the response is not valid: {summary}", violations=violations)
