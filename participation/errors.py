"""Expected failures of participation, each with a stable code clients may switch on."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, ConstraintRule, Forbidden, InvalidInput, NotFound


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


class VotingClosed(WrongPhase):
    code = "voting-closed"


class MalformedPabulib(InvalidInput):
    code = "malformed-pabulib"


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


class ProposalExists(Conflict):
    code = "proposal-exists"


# The constraints of participation's tables a request can reach, by name (see core.errors.ConstraintRule).
CONSTRAINTS: dict[str, ConstraintRule] = {
    "uq_budget_proposals_round_id_external_id": ConstraintRule(
        ProposalExists, "a proposal with this external id exists in the round"
    ),
    "uq_consultation_responses_round_id_account_id": ConstraintRule(
        AlreadyVoted, "this account has answered the consultation already"
    ),
    "ck_budget_proposals_estimated_cost_positive": ConstraintRule(InvalidInput, "the cost must be positive"),
    "ck_budget_proposals_final_cost_positive": ConstraintRule(
        InvalidInput, "the final cost must be positive"
    ),
    "ck_budget_proposals_progress": ConstraintRule(InvalidInput, "progress lies between 0 and 100 percent"),
    "ck_budget_implementation_updates_progress": ConstraintRule(
        InvalidInput, "progress lies between 0 and 100 percent"
    ),
    "ck_budget_proposals_infeasible_reason": ConstraintRule(
        InvalidInput, "an infeasible proposal needs a reason"
    ),
    "ck_budget_rounds_budget_positive": ConstraintRule(InvalidInput, "the budget must be positive"),
    "ck_budget_rounds_min_age": ConstraintRule(InvalidInput, "the minimum age lies between 0 and 120"),
    "ck_council_motions_quorum": ConstraintRule(InvalidInput, "the quorum lies above 0 and at most 1"),
}
