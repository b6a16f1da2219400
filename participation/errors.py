"""Expected failures of participation, each with a stable code clients may switch on."""

from __future__ import annotations

from typing import Any

from core.errors import Conflict, ConstraintRule, Forbidden, InvalidInput, NotFound


class RoundNotFound(NotFound):
    code = "round-not-found"
    title = "Round not found"


class ProposalNotFound(NotFound):
    code = "proposal-not-found"
    title = "Proposal not found"


class MotionNotFound(NotFound):
    code = "motion-not-found"
    title = "Motion not found"


class ConsultationNotFound(NotFound):
    code = "consultation-not-found"
    title = "Consultation not found"


class WrongPhase(Conflict):
    """The action belongs to another phase of the round (a vote before voting opens or after it closed)."""

    code = "wrong-phase"
    title = "Wrong phase"


class VotingClosed(WrongPhase):
    code = "voting-closed"
    title = "Voting closed"


class MalformedPabulib(InvalidInput):
    code = "malformed-pabulib"
    title = "Malformed Pabulib file"


class IllegalPhaseChange(Conflict):
    code = "illegal-phase-change"
    title = "Illegal phase change"


class BallotRulesLocked(Conflict):
    code = "ballot-rules-locked"
    title = "Ballot rules locked"


class AlreadyVoted(Conflict):
    code = "already-voted"
    title = "Already voted"


class NotEligible(Forbidden):
    code = "not-eligible"
    title = "Not eligible"


class InvalidCode(Forbidden):
    code = "invalid-code"
    title = "Invalid code"


class BallotRuleViolation(InvalidInput):
    """A ballot that breaks the round's rules; ``violations`` lists every broken rule with its own code."""

    code = "ballot-rule-violation"
    title = "Ballot rule violation"

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        summary = "; ".join(v["detail"] for v in violations)
        super().__init__(f"the ballot breaks the round's rules: {summary}", violations=violations)


class AnswerViolation(InvalidInput):
    code = "invalid-answers"
    title = "Invalid answers"

    def __init__(self, violations: list[dict[str, Any]]) -> None:
        summary = "; ".join(v["detail"] for v in violations)
        super().__init__(f"the response is not valid: {summary}", violations=violations)


class ProposalExists(Conflict):
    code = "proposal-exists"
    title = "Proposal exists"


# One class per code raised at a single place, beside its family.


class CodeAlreadyUsed(AlreadyVoted):
    """A voting code whose ballot was recorded already (and the round allows no change, or it was paper)."""

    code = "code-already-used"
    title = "Voting code already used"


class UnknownCode(InvalidCode):
    code = "unknown-code"
    title = "Unknown voting code"


class CodeRevoked(InvalidCode):
    code = "code-revoked"
    title = "Voting code revoked"


class CodeForAnotherRound(InvalidCode):
    code = "code-for-another-round"
    title = "Voting code of another round"


class MalformedCode(InvalidCode):
    code = "malformed-code"
    title = "Malformed voting code"


class CodesNotAccepted(NotEligible):
    """The round is voted with verified accounts, not with codes."""

    code = "codes-not-accepted"
    title = "Codes not accepted"


class AccountsNotAccepted(NotEligible):
    """The round is voted with the code from the voter's letter."""

    code = "accounts-not-accepted"
    title = "Accounts not accepted"


class AddressNotVerified(NotEligible):
    code = "address-not-verified"
    title = "Address not verified"


class AddressOutsideJurisdiction(NotEligible):
    code = "address-outside-jurisdiction"
    title = "Address outside the jurisdiction"


class AgeNotVerified(NotEligible):
    code = "age-not-verified"
    title = "Age not verified"


class AnonymousAccount(NotEligible):
    """A device without an account cannot be verified."""

    code = "anonymous-account"
    title = "Anonymous account"


class AreaOutsideRound(NotEligible):
    """Codes are made for the round's area or an area inside it."""

    code = "area-outside-round"
    title = "Area outside the round"


class InvalidBirthDate(NotEligible):
    code = "invalid-birth-date"
    title = "Invalid date of birth"


class NotOnRegister(NotEligible):
    """A reference that is not on the round's register of voters."""

    code = "not-on-register"
    title = "Not on the register"


class OutsideArea(NotEligible):
    """The voter's verified address lies outside the round's area."""

    code = "outside-area"
    title = "Outside the round's area"


class TooYoung(NotEligible):
    """The voter is younger than the round's minimum age."""

    code = "too-young"
    title = "Too young"


class RegistrationRequired(NotEligible):
    code = "registration-required"
    title = "Registration required"


class VotingNotOpen(WrongPhase):
    code = "voting-not-open"
    title = "Voting not open"


class BallotsNotSealed(WrongPhase):
    """Ballots are exported once voting has closed and they are sealed."""

    code = "ballots-not-sealed"
    title = "Ballots not sealed"


class ConsultationNotClosed(WrongPhase):
    code = "consultation-not-closed"
    title = "Consultation not closed"


class ConsultationNotOpen(WrongPhase):
    code = "consultation-not-open"
    title = "Consultation not open"


class ImplementationFinished(WrongPhase):
    code = "implementation-finished"
    title = "Implementation finished"


class MotionVotingClosed(WrongPhase):
    code = "motion-closed"
    title = "Motion closed"


class MotionNotOpen(WrongPhase):
    code = "motion-not-open"
    title = "Motion not open"


class NoCouncilMembers(WrongPhase):
    code = "no-council-members"
    title = "No council members"


class NoFeasibleProjects(WrongPhase):
    code = "no-feasible-projects"
    title = "No feasible projects"


class NotImplementing(WrongPhase):
    """Projects are implemented after the results."""

    code = "not-implementing"
    title = "Not implementing"


class ProjectNotFunded(WrongPhase):
    """Only funded projects have implementation updates."""

    code = "project-not-funded"
    title = "Project not funded"


class ProposalWithdrawn(WrongPhase):
    code = "proposal-withdrawn"
    title = "Proposal withdrawn"


class ProposalsClosed(WrongPhase):
    """The call for proposals is closed."""

    code = "proposals-closed"
    title = "Proposals closed"


class ResultsNotPublished(WrongPhase):
    code = "results-not-published"
    title = "Results not published"


class ReviewClosed(WrongPhase):
    """Proposals can no longer be reviewed once voting has opened."""

    code = "review-closed"
    title = "Review closed"


class UnreviewedProposals(WrongPhase):
    """Voting cannot open while proposals still await review."""

    code = "unreviewed-proposals"
    title = "Unreviewed proposals"


class BallotInProgress(Conflict):
    """Another ballot of the voter is being recorded, or the round changed meanwhile; try again."""

    code = "ballot-in-progress"
    title = "Ballot in progress"


class BallotNotStored(Conflict):
    """The batch that held the ballot could not be stored; try again."""

    code = "ballot-not-stored"
    title = "Ballot not stored"


class TallyConfiguration(Conflict):
    """The round's rule cannot be applied to its data."""

    code = "tally-configuration"
    title = "Tally configuration"


class NotACouncilMember(Forbidden):
    """Only the members of the area's council when the motion opened vote on it."""

    code = "not-a-member"
    title = "Not a council member"


class CompletedNotFull(InvalidInput):
    """A completed project is at 100 %."""

    code = "completed-not-100"
    title = "Completed below 100 %"


class CostExceedsBudget(InvalidInput):
    code = "cost-exceeds-budget"
    title = "Cost exceeds the budget"


class DuplicatePhoto(InvalidInput):
    code = "duplicate-photo"
    title = "Duplicate photo"


class InvalidBallotRules(InvalidInput):
    code = "invalid-ballot-rules"
    title = "Invalid ballot rules"


class InvalidRuleOptions(InvalidInput):
    """Completion and comparison only apply to the rule ``mes``."""

    code = "invalid-rule-options"
    title = "Invalid rule options"


class InvalidSchedule(InvalidInput):
    """The phase dates must be in order."""

    code = "invalid-schedule"
    title = "Invalid schedule"


class LocationOutsideArea(InvalidInput):
    """The project's location lies outside the round's area."""

    code = "location-outside-area"
    title = "Location outside the area"


class PhotoAlreadyUsed(InvalidInput):
    code = "photo-already-used"
    title = "Photo already used"


class PhotoNotUsable(InvalidInput):
    """Photos that are not the caller's to attach."""

    code = "photo-not-usable"
    title = "Photo not usable"


class PlaceOutsideArea(InvalidInput):
    code = "place-outside-area"
    title = "Place outside the area"


class ProgressBackwards(InvalidInput):
    code = "progress-backwards"
    title = "Progress backwards"


class UnknownTieBreak(InvalidInput):
    code = "unknown-tie-break"
    title = "Unknown tie-break"


class UnsupportedVoteType(InvalidInput):
    """A Pabulib vote type that cannot be imported."""

    code = "unsupported-vote-type"
    title = "Unsupported vote type"


class UnknownPhase(IllegalPhaseChange):
    code = "unknown-phase"
    title = "Unknown phase"


class UnknownWorkflowStatus(IllegalPhaseChange):
    """A status change to a status the workflow (a motion's, a consultation round's) does not have.

    409, as every refused status change (like ``unknown-phase``); the report filter's ``unknown-status``
    is a 422 of the query string (``api.errors.UnknownStatus``).
    """

    code = "unknown-workflow-status"
    title = "Unknown status"


class ConsultationRoundNotFound(ConsultationNotFound):
    code = "consultation-round-not-found"
    title = "Consultation round not found"


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
