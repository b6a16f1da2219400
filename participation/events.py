"""The payloads of the events ``participation`` writes to the outbox (see ``core.events``).

Every event that tells people something names them in ``account_ids``: participation knows who took part,
and only it knows the whole list (voters, proposal authors, project followers, respondents); an event
without ids tells nobody (``notifications`` never asks participation's tables). :meth:`notice` says what
the people are told and which page of the app it links to. ``ballot.received`` and ``response.received``
never carry the ballot or the response itself: the message says only that it was received.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from core.events import AppPage, EventPayload, Link, Notice, Text


class _Told(EventPayload):
    account_ids: list[int] = []


class _BudgetRoundEvent(_Told):
    aggregate_type: ClassVar[str] = "budget_round"
    round_id: int
    title: Text = ""

    @property
    def aggregate_id(self) -> int:
        return self.round_id


class RoundPhaseChanged(_BudgetRoundEvent):
    """Every phase change (for webhooks and the audit trail; tells nobody by itself)."""

    topic: ClassVar[str] = "round.phase_changed"
    from_phase: str = Field(alias="from")
    to_phase: str = Field(alias="to")
    by: Literal["administrator", "schedule"]


class RoundVotingOpened(_BudgetRoundEvent):
    """Tells the eligible accounts and the subscribers of the round's area (and of areas containing it)."""

    topic: ClassVar[str] = "round.voting_opened"
    area_id: int | None = None
    voting_closes_at: str | None = None
    url: str | None = None

    def notice(self) -> Notice:
        return Notice(
            self.account_ids,
            self.title,
            area_id=self.area_id,
            link=Link(AppPage.ROUND_VOTE, {"round_id": self.round_id}),
            url=self.url,
            data={"round_id": self.round_id},
        )


class BallotReceived(_BudgetRoundEvent):
    """Written by the cast's statement (``participation.ballots``), in the participation's transaction."""

    topic: ClassVar[str] = "ballot.received"
    replaced_earlier_ballot: bool = False
    channel: str | None = None

    def notice(self) -> Notice:
        return Notice(self.account_ids, self.title, data={"round_id": self.round_id})


class FundedProject(BaseModel):
    id: int
    title: Text
    cost: str | None = None


class RoundResultsPublished(_BudgetRoundEvent):
    """Tells every account that voted, the proposal authors and the project followers."""

    topic: ClassVar[str] = "round.results_published"
    funded_projects: list[FundedProject] = []
    message: Text | None = None
    url: str | None = None

    def notice(self) -> Notice:
        return Notice(
            self.account_ids,
            self.title,
            message=self.message,
            link=Link(AppPage.ROUND_RESULTS, {"round_id": self.round_id}),
            url=self.url,
            items=[
                (p.title, Link(AppPage.PROJECT, {"round_id": self.round_id, "project_id": p.id}))
                for p in self.funded_projects
            ],
            data={"round_id": self.round_id},
        )


class _ProposalEvent(_Told):
    aggregate_type: ClassVar[str] = "budget_proposal"
    round_id: int


class ProposalReviewed(_ProposalEvent):
    topic: ClassVar[str] = "proposal.reviewed"
    proposal_id: int
    status: str
    reason: str | None = None

    @property
    def aggregate_id(self) -> int:
        return self.proposal_id


ProgressStatus = Literal["planned", "in_progress", "completed", "cancelled"]
OlderProgressStatus = Literal["funded", "under_construction", "delivered"]
"""Names of events written before the statuses were renamed; they still render (their own labels)."""


class ProjectProgress(_ProposalEvent):
    """Tells the project's followers and its author — not "its supporters": the secret ballot makes them
    unknowable (``docs/ballot-secrecy.md``)."""

    topic: ClassVar[str] = "project.progress"
    round_id: int | None = None  # type: ignore[assignment]  # absent only from rows of older versions
    project_id: int
    title: Text = ""
    status: ProgressStatus | OlderProgressStatus
    progress_percent: int | None = None
    update_id: int | None = None
    message: Text | None = None
    photo_ids: list[int] = []
    url: str | None = None

    @property
    def aggregate_id(self) -> int:
        return self.project_id

    def notice(self) -> Notice:
        return Notice(
            self.account_ids,
            self.title,
            message=self.message,
            status=self.status,
            link=None
            if self.round_id is None
            else Link(AppPage.PROJECT, {"round_id": self.round_id, "project_id": self.project_id}),
            url=self.url,
            data={"project_id": self.project_id}
            if self.round_id is None
            else {"round_id": self.round_id, "project_id": self.project_id},
        )


class _ConsultationRoundEvent(_Told):
    aggregate_type: ClassVar[str] = "consultation_round"
    round_id: int
    consultation_id: int | None = None
    title: Text = ""

    @property
    def aggregate_id(self) -> int:
        return self.round_id

    def _data(self) -> dict[str, int]:
        data = {"round_id": self.round_id}
        if self.consultation_id is not None:
            data["consultation_id"] = self.consultation_id
        return data


class ConsultationOpened(_ConsultationRoundEvent):
    """Tells the eligible accounts (a round for verified residents) and the area's subscribers."""

    topic: ClassVar[str] = "consultation.opened"
    area_id: int | None = None
    url: str | None = None

    def notice(self) -> Notice:
        return Notice(
            self.account_ids,
            self.title,
            area_id=self.area_id,
            link=Link(AppPage.CONSULTATION_ROUND, {"round_id": self.round_id}),
            url=self.url,
            data=self._data(),
        )


class ConsultationClosed(_ConsultationRoundEvent):
    topic: ClassVar[str] = "consultation.closed"


class ResponseReceived(_ConsultationRoundEvent):
    topic: ClassVar[str] = "response.received"
    edited: bool = False

    def notice(self) -> Notice:
        return Notice(self.account_ids, self.title, data=self._data())


class YouSaidWeDidPublished(_ConsultationRoundEvent):
    """Tells every respondent what the municipality did with the answers."""

    topic: ClassVar[str] = "consultation.you_said_we_did"
    summary: Text | None = None
    actions: list[Text] = []
    url: str | None = None

    def notice(self) -> Notice:
        return Notice(
            self.account_ids,
            self.title,
            message=self.summary,
            link=Link(AppPage.CONSULTATION_RESULTS, {"round_id": self.round_id}),
            url=self.url,
            actions=list(self.actions),
            data=self._data(),
        )


class _MotionEvent(_Told):
    aggregate_type: ClassVar[str] = "council_motion"
    motion_id: int
    title: Text = ""
    area_id: int
    outcome: str | None = None

    @property
    def aggregate_id(self) -> int:
        return self.motion_id


class MotionOpened(_MotionEvent):
    topic: ClassVar[str] = "motion.opened"


class MotionClosed(_MotionEvent):
    topic: ClassVar[str] = "motion.closed"
