"""API shapes of participation (pydantic in/out). ORM tables live in ``models.py``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

Money = Decimal
BallotType = Literal["approval", "knapsack", "cumulative", "ranked"]


class Point(BaseModel):
    """A GeoJSON point, WGS84 longitude/latitude."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Point"]
    coordinates: tuple[float, float]

    @field_validator("coordinates")
    @classmethod
    def _in_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        longitude, latitude = value
        if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
            raise ValueError("longitude must lie in [-180, 180] and latitude in [-90, 90]")
        return value


class BallotRules(BaseModel):
    """Per ballot type, which knobs apply (others must be left out): checked in :meth:`check_for`."""

    model_config = ConfigDict(extra="forbid")

    min_projects: int | None = Field(default=None, ge=0, le=1000)
    max_projects: int | None = Field(default=None, ge=1, le=1000)
    min_share_spent: float | None = Field(default=None, ge=0, le=1)
    points: int | None = Field(default=None, ge=1, le=10_000)
    max_points_per_project: int | None = Field(default=None, ge=1, le=10_000)
    top_k: int | None = Field(default=None, ge=1, le=1000)

    def check_for(self, ballot_type: str) -> None:
        allowed = {
            "approval": {"min_projects", "max_projects"},
            "knapsack": {"min_share_spent"},
            "cumulative": {"points", "max_points_per_project"},
            "ranked": {"top_k", "min_projects"},
        }[ballot_type]
        given = {key for key, value in self.model_dump().items() if value is not None}
        if extra := given - allowed:
            raise ValueError(f"{sorted(extra)} do not apply to {ballot_type} ballots")
        if ballot_type == "cumulative" and self.points is None:
            raise ValueError("cumulative ballots need 'points'")
        if ballot_type == "ranked" and self.top_k is None:
            raise ValueError("ranked ballots need 'top_k'")
        if self.min_projects is not None and self.max_projects is not None:
            if self.min_projects > self.max_projects:
                raise ValueError("min_projects exceeds max_projects")
        if self.min_projects is not None and self.top_k is not None and self.min_projects > self.top_k:
            raise ValueError("min_projects exceeds top_k")


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_starts_at: AwareDatetime | None = None
    voting_opens_at: AwareDatetime | None = None
    voting_closes_at: AwareDatetime | None = None
    implementation_starts_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Schedule:
        times = [
            t
            for t in (
                self.review_starts_at,
                self.voting_opens_at,
                self.voting_closes_at,
                self.implementation_starts_at,
            )
            if t is not None
        ]
        if times != sorted(times):
            raise ValueError(
                "the phase dates must be in order: review, voting opens, voting closes, implementation"
            )
        return self


class RoundCreate(Schedule):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    area_id: int = Field(ge=1)
    budget: Money = Field(gt=0, le=Decimal("999999999999"), decimal_places=2)
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    ballot_type: BallotType = "approval"
    ballot_rules: BallotRules = Field(default_factory=BallotRules)
    credentials: Literal["codes", "accounts", "codes_or_accounts"] = "codes_or_accounts"
    min_age: int | None = Field(default=None, ge=0, le=120)
    allow_ballot_changes: bool = True
    rule: Literal["greedy", "mes"] = "mes"
    completion: Literal["none", "add1", "add1-greedy"] = "add1"
    add1_stop: Literal["exhaustive", "infeasible"] = "exhaustive"
    comparison: Literal["greedy"] | None = None
    tie_break: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _consistent(self) -> RoundCreate:
        self.ballot_rules.check_for(self.ballot_type)
        if self.rule == "greedy" and (self.completion != "none" or self.comparison):
            raise ValueError("completion and comparison only apply to the rule 'mes'")
        return self


class RoundUpdate(BaseModel):
    """Changes to a round; anything about ballots is refused once voting has opened."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    budget: Money | None = Field(default=None, gt=0, le=Decimal("999999999999"), decimal_places=2)
    ballot_type: BallotType | None = None
    ballot_rules: BallotRules | None = None
    credentials: Literal["codes", "accounts", "codes_or_accounts"] | None = None
    min_age: int | None = Field(default=None, ge=0, le=120)
    allow_ballot_changes: bool | None = None
    rule: Literal["greedy", "mes"] | None = None
    completion: Literal["none", "add1", "add1-greedy"] | None = None
    add1_stop: Literal["exhaustive", "infeasible"] | None = None
    comparison: Literal["greedy"] | None = None
    tie_break: str | None = Field(default=None, max_length=32)
    schedule: Schedule | None = None


class RoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    area_id: int
    title: str
    description: str
    budget: Money
    currency: str
    phase: str
    review_starts_at: datetime | None
    voting_opens_at: datetime | None
    voting_closes_at: datetime | None
    implementation_starts_at: datetime | None
    ballot_type: str
    ballot_rules: dict[str, Any]
    credentials: str
    min_age: int | None
    allow_ballot_changes: bool
    rule: str
    completion: str
    add1_stop: str
    comparison: str | None
    tie_break: str | None
    version: int


class ProjectOutcome(BaseModel):
    id: int
    title: str
    cost: str = Field(description="the final cost (else the estimate), a decimal string")
    selected: bool
    explanation: dict[str, Any] | None


class RoundResults(BaseModel):
    """The stored tally (``participation.tally``) with the feasible projects; the tally's own fields vary
    with the rule (``details``, ``explanations`` per project), so further keys may appear."""

    model_config = ConfigDict(extra="allow")

    rule: str
    budget: int | float
    spent: int | float
    selected: list[int]
    num_ballots: int
    explanations: dict[str, dict[str, Any]]
    projects: list[ProjectOutcome]
    completion: str | None = None
    add1_stop: str | None = None
    comparison: str | None = None
    tie_break: str | None = None
    details: dict[str, Any] | None = None
    num_participations: int | None = None
    num_paper_ballots: int | None = None
    participations_by_channel: dict[str, int] | None = None


class ParticipationStatus(BaseModel):
    """Whether the caller's account voted in a round (never what)."""

    round_id: int
    voted: bool
    channel: str | None
    can_change: bool


class VerificationRead(BaseModel):
    account_id: int
    verified_at: datetime
    age_verified: bool


class ParticipationPhotoUploaded(BaseModel):
    id: int
    kind: str
    width: int
    height: int


class PaperRegisterAdded(BaseModel):
    added: int = Field(description="references new to the register")
    total: int = Field(description="the register's size")


class OfficerEntries(BaseModel):
    account_id: int | None
    count: int
    first_entered_at: datetime
    last_entered_at: datetime


class PaperEntry(BaseModel):
    entered_by: int | None
    entered_at: datetime
    via: str


class PaperAudit(BaseModel):
    round_id: int
    total: int
    paper_voters: int
    register_size: int
    by_officer: list[OfficerEntries]
    entries: list[PaperEntry]


class PhaseChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["proposals", "review", "voting", "results", "implementation"]


class ProposalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    location: Point | None = None
    area_id: int | None = Field(default=None, ge=1)
    estimated_cost: Money = Field(gt=0, le=Decimal("999999999999"), decimal_places=2)
    photo_ids: list[int] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _place(self) -> ProposalCreate:
        if self.location is None and self.area_id is None:
            raise ValueError("give the project's location or the area it serves")
        return self


class ProposalReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feasible: bool
    reason: str | None = Field(default=None, max_length=5000)
    final_cost: Money | None = Field(default=None, gt=0, le=Decimal("999999999999"), decimal_places=2)

    @model_validator(mode="after")
    def _justified(self) -> ProposalReview:
        if not self.feasible and not (self.reason and self.reason.strip()):
            raise ValueError("an infeasible proposal needs a public reason")
        return self


class ProposalRead(BaseModel):
    id: int
    round_id: int
    title: str
    description: str
    location: dict[str, Any] | None
    area_id: int | None
    estimated_cost: Money
    status: str
    review_reason: str | None
    final_cost: Money | None
    selected: bool | None
    implementation_status: str | None
    progress_percent: int | None
    photo_ids: list[int]


class BallotCast(BaseModel):
    """A ballot: the chosen project ids (in order of preference for ranked ballots) and, for cumulative
    ballots, the points given to each, in the same order."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=4, max_length=64)
    projects: list[int] = Field(max_length=1000)
    points: list[int] | None = Field(default=None, max_length=1000)


class PaperBallot(BallotCast):
    voter_reference: str | None = Field(default=None, min_length=3, max_length=128)

    @model_validator(mode="after")
    def _who(self) -> PaperBallot:
        if (self.code is None) == (self.voter_reference is None):
            raise ValueError("give either the letter's code or the reference of the voter staff checked")
        return self


class BallotReceipt(BaseModel):
    round_id: int
    received: bool = True
    replaced_earlier_ballot: bool
    channel: str


class VerificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: int = Field(ge=1)
    address: Point
    birth_date: date | None = None


class CodesGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_id: int = Field(ge=1)
    count: int = Field(ge=1, le=100_000)


class ImplementationUpdateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["planned", "in_progress", "completed", "cancelled"]
    progress_percent: int = Field(ge=0, le=100)
    message: str = Field(min_length=1, max_length=10_000)
    photo_ids: list[int] = Field(default_factory=list, max_length=10)


class ImplementationUpdateRead(BaseModel):
    id: int
    proposal_id: int
    status: str
    progress_percent: int
    message: str
    created_at: datetime
    photo_ids: list[int]


# ---------------------------------------------------------------------------------------------- council


class MotionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    area_id: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    quorum: Decimal = Field(default=Decimal("0.5"), gt=0, le=1, decimal_places=3)
    majority: Literal["simple", "absolute", "two_thirds"] = "simple"
    round_id: int | None = Field(default=None, ge=1)
    closes_at: AwareDatetime | None = None


class MotionVoteCast(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: Literal["yes", "no", "abstain"]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Literal["open", "closed"]


class RollCallEntry(BaseModel):
    account_id: int
    name: str | None
    choice: Literal["yes", "no", "abstain"]
    cast_at: datetime


class MotionRead(BaseModel):
    id: int
    area_id: int
    round_id: int | None
    title: str
    description: str
    status: str
    quorum: str = Field(description='a decimal string, e.g. "0.5"')
    majority: str
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    outcome: str | None = Field(description="once closed: adopted, rejected or no_quorum")
    provisional_outcome: str | None = Field(description="while open: the outcome if it closed now")
    members: int
    quorum_needed: int
    present: int
    counts: dict[str, int]
    quorum_met: bool
    roll_call: list[RollCallEntry]


class MotionVoteRead(BaseModel):
    motion_id: int
    account_id: int
    choice: Literal["yes", "no", "abstain"]
    cast_at: datetime


class MyMotionRead(BaseModel):
    """A motion of the caller's council, with what the app needs to offer a vote."""

    id: int
    area_id: int
    area_name: str
    title: str
    description: str
    status: str
    quorum: str
    majority: str
    closes_at: datetime | None
    opened_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    members: int
    present: int
    my_choice: str | None
    may_vote: bool
    may_manage: bool


class CouncilRoundRead(BaseModel):
    id: int
    title: str
    area_id: int
    area_name: str
    phase: str
    budget: str
    currency: str
    voting_opens_at: datetime | None
    voting_closes_at: datetime | None
    proposals: int
    voters: int
    reachable: int
    """Voters with an account (a code or paper vote has none and cannot be told the outcome)."""
    told: int
    told_share: float | None


class CouncilConsultationRoundRead(BaseModel):
    id: int
    title: str
    consultation_id: int
    consultation_title: str
    area_id: int
    area_name: str
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    you_said_we_did_published: bool
    responses: int
    told: int
    told_share: float | None


class CouncilParticipationRead(BaseModel):
    budget_rounds: list[CouncilRoundRead]
    consultation_rounds: list[CouncilConsultationRoundRead]


# ---------------------------------------------------------------------------------------------- consultations

QuestionKind = Literal["single_choice", "multiple_choice", "scale", "free_text", "ranking", "map_point"]


class Place(BaseModel):
    """A named place a map question offers as its non-map alternative ("by the school", "the square")."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    point: Point


class QuestionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: QuestionKind
    prompt: str = Field(min_length=1, max_length=2000)
    required: bool = False
    options: list[str] | None = Field(default=None, min_length=2, max_length=50)
    max_choices: int | None = Field(default=None, ge=1, le=50)
    scale_min: int | None = Field(default=None, ge=-100, le=100)
    scale_max: int | None = Field(default=None, ge=-100, le=100)
    max_length: int | None = Field(default=None, ge=1, le=10_000)
    places: list[Place] | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _complete(self) -> QuestionCreate:
        needs_options = self.kind in ("single_choice", "multiple_choice", "ranking")
        if needs_options != (self.options is not None):
            raise ValueError(f"{self.kind} questions {'need' if needs_options else 'take no'} options")
        if self.options is not None:
            if len(set(self.options)) != len(self.options) or any(not o.strip() for o in self.options):
                raise ValueError("options must be distinct and non-empty")
        if self.kind == "scale":
            if self.scale_min is None or self.scale_max is None or self.scale_min >= self.scale_max:
                raise ValueError("a scale needs scale_min < scale_max")
        elif self.scale_min is not None or self.scale_max is not None:
            raise ValueError("scale_min/scale_max only apply to scale questions")
        if self.max_choices is not None and self.kind != "multiple_choice":
            raise ValueError("max_choices only applies to multiple_choice questions")
        if self.places is not None:
            if self.kind != "map_point":
                raise ValueError("places only apply to map_point questions")
            names = [place.name.strip() for place in self.places]
            if len(set(names)) != len(names) or not all(names):
                raise ValueError("the places need distinct, non-empty names")
        return self


class ConsultationRoundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    area_id: int = Field(ge=1)
    eligibility: Literal["residents", "verified"] = Field(
        default="verified",
        description="Who may respond, one response each: ``verified`` — residents whose address the"
        " municipality verified inside the round's area (and ``min_age``); ``residents`` — any registered"
        " account of the municipality (e-mail confirmed; anonymous devices may not respond).",
    )
    min_age: int | None = Field(default=None, ge=0, le=120)
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    questions: list[QuestionCreate] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _dates(self) -> ConsultationRoundCreate:
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValueError("opens_at must lie before closes_at")
        return self


class ConsultationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    rounds: list[ConsultationRoundCreate] = Field(default_factory=list, max_length=10)


class Answer(BaseModel):
    """One answer, in the field of its question's kind; a map question takes a ``point`` or, for those
    who do not use the map, a ``text`` describing the place."""

    model_config = ConfigDict(extra="forbid")

    question_id: int = Field(ge=1)
    choices: list[str] | None = Field(default=None, max_length=50)
    number: int | None = Field(default=None, ge=-100, le=100)
    text: str | None = Field(default=None, max_length=10_000)
    point: Point | None = None


class ResponseSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[Answer] = Field(max_length=100)


class YouSaidWeDid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=20_000)
    actions: list[str] = Field(default_factory=list, max_length=100)


# ---------------------------------------------------------------------------------------------- taking part

Concern = Literal["location", "address"]


class RoundSummary(BaseModel):
    """A budget round in the list of what a resident can take part in."""

    id: int
    title: str
    description: str
    area_id: int
    area_name: str
    phase: str
    budget: Money
    currency: str
    ballot_type: str
    voting_opens_at: datetime | None
    voting_closes_at: datetime | None
    concerns: list[Concern] = Field(
        description="why it concerns the caller: its area covers the point given, or their verified address"
    )
    voted: bool | None = Field(description="whether the caller's account voted (never what); null: no token")


class ConsultationRoundSummary(BaseModel):
    id: int
    consultation_id: int
    consultation_title: str
    title: str
    area_id: int
    area_name: str
    eligibility: str
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    questions: int
    you_said_we_did: bool
    concerns: list[Concern]
    responded: bool | None


class TakingPart(BaseModel):
    verified_address: bool | None = Field(description="null when the caller sent no token")
    budget_rounds: list[RoundSummary]
    consultation_rounds: list[ConsultationRoundSummary]


class VoterEligibility(BaseModel):
    """Whether the signed-in account may vote (and propose) in a round, told before the first choice;
    ``reason`` is the code a cast would be refused with."""

    round_id: int
    eligible: bool
    reason: str | None
    voted: bool
    channel: str | None
    can_change: bool


class CodeLookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=4, max_length=64)


class CodeLookup(BaseModel):
    jurisdiction: str
    round_id: int
    area_id: int
    phase: str
    voted: bool
    can_change: bool


class PlaceRead(BaseModel):
    name: str
    point: dict[str, Any]


class QuestionRead(BaseModel):
    id: int
    position: int
    kind: str
    prompt: str
    required: bool
    options: list[str] | None = None
    max_choices: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    max_length: int | None = None
    places: list[PlaceRead] | None = None


class YouSaidWeDidRead(BaseModel):
    summary: str
    actions: list[str]
    published_at: datetime


class ConsultationRoundRead(BaseModel):
    id: int
    consultation_id: int
    consultation_title: str
    consultation_description: str
    title: str
    area_id: int
    area_name: str
    area_centre: dict[str, Any] = Field(description="a point inside the area (GeoJSON), to start a map at")
    area_bbox: list[float] = Field(description="the area's bounding box: west, south, east, north")
    eligibility: str
    min_age: int | None
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    you_said_we_did: YouSaidWeDidRead | None
    questions: list[QuestionRead]


class RespondentEligibility(BaseModel):
    round_id: int
    eligible: bool
    reason: str | None
    responded: bool
    updated_at: datetime | None


class Following(BaseModel):
    proposal_id: int
    following: bool


# What the consultation routes answer. They keep only the keys a question's kind has (``exclude_unset``
# on the routes): the wire format of ``participation.consultations``' renderers, now documented.


class ConsultationQuestion(BaseModel):
    id: int
    position: int
    kind: str
    prompt: str
    required: bool
    options: list[str] | None = None
    max_choices: int | None = None
    scale_min: int | None = None
    scale_max: int | None = None
    max_length: int | None = None
    places: list[PlaceRead] | None = None


class PublishedYouSaidWeDid(BaseModel):
    summary: str
    actions: list[str]
    published_at: str = Field(json_schema_extra={"format": "date-time"}, description="ISO 8601, as stored")


class ConsultationRoundDetail(BaseModel):
    id: int
    consultation_id: int
    title: str
    area_id: int
    eligibility: str
    min_age: int | None
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    you_said_we_did: PublishedYouSaidWeDid | None
    questions: list[ConsultationQuestion]


class ConsultationRead(BaseModel):
    id: int
    title: str
    description: str
    rounds: list[ConsultationRoundDetail]


class AnswerRead(BaseModel):
    """An answer as given; only the field of its question's kind is present."""

    question_id: int
    choices: list[str] | None = None
    number: int | None = None
    text: str | None = None
    point: dict[str, Any] | None = None


class ResponseRead(BaseModel):
    round_id: int
    updated_at: datetime
    answers: list[AnswerRead]


class ResponseSaved(ResponseRead):
    replaced: bool = Field(description="true (200) when it replaced an earlier response; false (201): new")


class QuestionResults(ConsultationQuestion):
    """Per kind: ``counts`` (choices), ``mean``/``median``/``histogram`` (scale), ``borda``/
    ``first_choices``/``ranking`` (ranking), ``texts`` (free text, insiders), ``grid_metres``/
    ``described``/``descriptions``/``density`` (map points)."""

    answers: int
    counts: dict[str, int] | None = None
    mean: float | None = None
    median: float | None = None
    histogram: dict[str, int] | None = None
    borda: dict[str, int] | None = None
    first_choices: dict[str, int] | None = None
    ranking: list[str] | None = None
    texts: list[str] | None = None
    grid_metres: float | None = None
    described: int | None = None
    descriptions: list[str] | None = None
    density: dict[str, Any] | None = Field(default=None, description="a GeoJSON FeatureCollection of cells")


class ConsultationResults(BaseModel):
    round_id: int
    status: str
    area_id: int
    filtered_area_id: int | None
    respondents: int
    questions: list[QuestionResults]
