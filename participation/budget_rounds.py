"""Budget rounds: creation, settings (locked once voting opens), phase changes, the close and the tally."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from core.outbox import record_event
from participation.ballot_cipher import BallotCipher
from participation.ballot_store import load_ballots, seal_ballots
from participation.electorate import area_in_jurisdiction, eligible_account_ids
from participation.errors import (
    BallotRulesLocked,
    InvalidBallotRules,
    InvalidRuleOptions,
    InvalidSchedule,
    NoFeasibleProjects,
    ResultsNotPublished,
    RoundNotFound,
    TallyConfiguration,
    UnknownTieBreak,
    UnreviewedProposals,
    WrongPhase,
)
from participation.events import FundedProject, RoundPhaseChanged, RoundResultsPublished, RoundVotingOpened
from participation.models import (
    BudgetRound,
    ProjectFollower,
    Proposal,
    RoundPhaseChange,
    VoterParticipation,
)
from participation.schemas import BallotRules, RoundCreate, RoundUpdate
from participation.tally import TIE_BREAKS, Ballot, Instance, Project, VoteType, tally
from participation.tally.engine import TallyConfigurationError
from participation.workflow import PHASE_DEADLINES, RULES_LOCKED_PHASES, Phase, check_phase_change

VOTE_TYPES = {
    "approval": VoteType.APPROVAL,
    "knapsack": VoteType.KNAPSACK,
    "cumulative": VoteType.CUMULATIVE,
    "ranked": VoteType.ORDINAL,
}
BALLOT_FIELDS = {
    "ballot_type",
    "ballot_rules",
    "credentials",
    "min_age",
    "allow_ballot_changes",
    "rule",
    "completion",
    "add1_stop",
    "comparison",
    "tie_break",
    "budget",
}


async def create_round(
    session: AsyncSession, *, jurisdiction_id: int, data: RoundCreate, actor: Identity | None = None
) -> BudgetRound:
    await area_in_jurisdiction(session, jurisdiction_id=jurisdiction_id, area_id=data.area_id)
    _check_tie_break(data.tie_break)
    values = data.model_dump(exclude={"ballot_rules"})
    budget_round = BudgetRound(
        jurisdiction_id=jurisdiction_id,
        ballot_rules=data.ballot_rules.model_dump(exclude_none=True),
        phase=Phase.PROPOSALS.value,
        **values,
    )
    session.add(budget_round)
    await session.flush()
    return budget_round


def _check_tie_break(tie_break: str | None) -> None:
    if tie_break is not None and tie_break not in TIE_BREAKS:
        raise UnknownTieBreak(f"unknown tie-break {tie_break!r}; choose one of {sorted(TIE_BREAKS)}")


async def get_round(
    session: AsyncSession, *, jurisdiction_id: int, round_id: int, for_update: bool = False
) -> BudgetRound:
    statement = select(BudgetRound).where(
        BudgetRound.id == round_id, BudgetRound.jurisdiction_id == jurisdiction_id
    )
    if for_update:
        # NO KEY UPDATE, not UPDATE: casts in flight take KEY SHARE on the round (their foreign keys) while
        # a close waits for them (seal_ballots); FOR UPDATE would make the two wait on each other.
        statement = statement.with_for_update(key_share=True)
    found = await session.scalar(statement)
    if found is None:
        raise RoundNotFound(f"no budget round {round_id} in this jurisdiction")
    return found


async def list_rounds(
    session: AsyncSession, *, jurisdiction_id: int, area_id: int | None
) -> list[BudgetRound]:
    statement = select(BudgetRound).where(BudgetRound.jurisdiction_id == jurisdiction_id)
    if area_id is not None:
        statement = statement.where(BudgetRound.area_id == area_id)
    return list(await session.scalars(statement.order_by(BudgetRound.id.desc())))


async def update_round(session: AsyncSession, budget_round: BudgetRound, *, data: RoundUpdate) -> BudgetRound:
    """``budget_round`` read with ``for_update=True``: the phase checked here cannot move meanwhile."""
    changes = data.model_dump(exclude_unset=True)
    if Phase(budget_round.phase) in RULES_LOCKED_PHASES and (
        locked := sorted(BALLOT_FIELDS & changes.keys())
    ):
        raise BallotRulesLocked(f"voting has opened: {locked} can no longer change")
    schedule = changes.pop("schedule", None)
    if "ballot_rules" in changes and data.ballot_rules is not None:
        changes["ballot_rules"] = data.ballot_rules.model_dump(exclude_none=True)
    merged_type = changes.get("ballot_type", budget_round.ballot_type)
    merged_rules = BallotRules.model_validate(changes.get("ballot_rules", budget_round.ballot_rules))
    try:
        merged_rules.check_for(merged_type)
    except ValueError as error:
        raise InvalidBallotRules(str(error)) from None
    _check_tie_break(changes.get("tie_break"))
    rule = changes.get("rule", budget_round.rule)
    if rule == "greedy" and (
        changes.get("completion", budget_round.completion) != "none"
        or changes.get("comparison", budget_round.comparison)
    ):
        if "completion" not in changes:
            changes["completion"] = "none"
        if "comparison" not in changes:
            changes["comparison"] = None
        if changes["completion"] != "none" or changes["comparison"]:
            raise InvalidRuleOptions("completion and comparison only apply to the rule 'mes'")
    if schedule is not None:
        for key, value in schedule.items():
            # schedule is data.schedule dumped, so data.schedule is set here; mypy cannot follow that
            if value is not None or key in data.schedule.model_fields_set:  # type: ignore[union-attr]
                changes[key] = value
        times = [
            changes.get(k, getattr(budget_round, k))
            for k in ("review_starts_at", "voting_opens_at", "voting_closes_at", "implementation_starts_at")
        ]
        present = [t for t in times if t is not None]
        if present != sorted(present):
            raise InvalidSchedule("the phase dates must be in order")
    for key, value in changes.items():
        setattr(budget_round, key, value)
    budget_round.version += 1
    await session.flush()
    return budget_round


async def _recipients_of_round(session: AsyncSession, round_id: int) -> list[int]:
    """Proposal authors, project followers and account voters: everyone who took part, never by ballot."""
    rows = await session.scalars(
        text(
            "SELECT author_account_id FROM budget_proposals"
            " WHERE round_id = :r AND author_account_id IS NOT NULL"
            " UNION SELECT f.account_id FROM budget_project_followers f JOIN budget_proposals p"
            "   ON p.id = f.proposal_id WHERE p.round_id = :r"
            " UNION SELECT account_id FROM voter_participations"
            " WHERE round_id = :r AND account_id IS NOT NULL"
            " ORDER BY 1"
        ),
        {"r": round_id},
    )
    return list(rows)


async def change_phase(
    session: AsyncSession,
    budget_round: BudgetRound,
    *,
    to: str,
    actor: Identity | None,
    cipher: BallotCipher | None,
    now: datetime | None = None,
) -> BudgetRound:
    """Move a round one phase on (or review back to proposals), with the checks and events each step needs."""
    source = budget_round.phase
    goal = check_phase_change(source, to)
    if goal is Phase.VOTING:
        await _check_ready_for_voting(session, budget_round)
    if goal is Phase.RESULTS:
        await close_voting(session, budget_round, cipher=cipher)
    budget_round.phase = goal.value
    budget_round.version += 1
    session.add(
        RoundPhaseChange(
            round_id=budget_round.id,
            from_phase=source,
            to_phase=goal.value,
            actor_account_id=actor.account_id if actor else None,
        )
    )
    await session.flush()
    authors = list(
        await session.scalars(
            select(Proposal.author_account_id)
            .where(Proposal.round_id == budget_round.id, Proposal.author_account_id.is_not(None))
            .distinct()
        )
    )
    await record_event(
        session,
        jurisdiction_id=budget_round.jurisdiction_id,
        event=RoundPhaseChanged.model_validate(
            {
                "round_id": budget_round.id,
                "title": budget_round.title,
                "from": source,
                "to": goal.value,
                "by": "administrator" if actor else "schedule",
                "account_ids": sorted(set(authors)),
            }
        ),
    )
    if goal is Phase.VOTING:
        await record_event(
            session,
            jurisdiction_id=budget_round.jurisdiction_id,
            event=RoundVotingOpened(
                round_id=budget_round.id,
                title=budget_round.title,
                area_id=budget_round.area_id,
                voting_closes_at=budget_round.voting_closes_at.isoformat()
                if budget_round.voting_closes_at
                else None,
                account_ids=await eligible_account_ids(
                    session, jurisdiction_id=budget_round.jurisdiction_id, area_id=budget_round.area_id
                ),
            ),
        )
    if goal is Phase.RESULTS:
        funded = list(
            await session.scalars(
                select(Proposal)
                .where(Proposal.round_id == budget_round.id, Proposal.selected.is_(True))
                .order_by(Proposal.id)
            )
        )
        await record_event(
            session,
            jurisdiction_id=budget_round.jurisdiction_id,
            event=RoundResultsPublished(
                round_id=budget_round.id,
                title=budget_round.title,
                funded_projects=[
                    FundedProject(id=p.id, title=p.title, cost=str(p.final_cost or p.estimated_cost))
                    for p in funded
                ],
                account_ids=await _recipients_of_round(session, budget_round.id),
            ),
        )
    return budget_round


async def _check_ready_for_voting(session: AsyncSession, budget_round: BudgetRound) -> None:
    counts = dict(
        (
            await session.execute(
                select(Proposal.status, text("count(*)"))
                .where(Proposal.round_id == budget_round.id)
                .group_by(Proposal.status)
            )
        ).all()
    )
    if counts.get("submitted"):
        raise UnreviewedProposals(f"{counts['submitted']} proposals still await review")
    if not counts.get("feasible"):
        raise NoFeasibleProjects("no feasible project to vote on")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


async def close_voting(
    session: AsyncSession, budget_round: BudgetRound, *, cipher: BallotCipher | None
) -> dict[str, Any]:
    """Seal the ballots (decrypted with ``cipher``), tally them with the round's rule and store the
    explained result."""
    await seal_ballots(session, budget_round.id, cipher=cipher)
    budget_round.ballots_sealed = True
    projects = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.round_id == budget_round.id, Proposal.status == "feasible")
            .order_by(Proposal.id)
        )
    )
    stored = await load_ballots(session, budget_round.id)
    result = compute_result(budget_round, projects, stored)
    chosen = {int(p) for p in result["selected"]}
    for project in projects:
        project.selected = project.id in chosen
        project.implementation_status = "planned" if project.id in chosen else None
        project.progress_percent = 0 if project.id in chosen else None
    by_channel = dict(
        (
            await session.execute(
                select(VoterParticipation.channel, text("count(*)"))
                .where(VoterParticipation.round_id == budget_round.id)
                .group_by(VoterParticipation.channel)
            )
        ).all()
    )
    result["num_participations"] = sum(by_channel.values())
    # How many voted on paper (entered by election officers, see participation.paper): in public view.
    result["num_paper_ballots"] = int(by_channel.get("paper", 0))
    result["participations_by_channel"] = {channel: int(n) for channel, n in sorted(by_channel.items())}
    budget_round.result = result
    await session.flush()
    return result


def compute_result(
    budget_round: BudgetRound, projects: list[Proposal], stored: list[tuple[list[int], list[int] | None]]
) -> dict[str, Any]:
    instance = Instance(
        budget=_number(budget_round.budget),
        projects={
            str(p.id): Project(
                project_id=str(p.id), cost=_number(p.final_cost or p.estimated_cost), name=p.title
            )
            for p in projects
        },
        vote_type=VOTE_TYPES[budget_round.ballot_type],
    )
    ballots = [
        Ballot(
            voter_id=str(i),
            projects=tuple(str(p) for p in chosen),
            points=tuple(points) if points is not None else None,
        )
        for i, (chosen, points) in enumerate(stored, start=1)
    ]
    options: dict[str, Any] = {"rule": budget_round.rule}
    if budget_round.rule == "mes":
        options.update(
            completion=budget_round.completion,
            add1_stop=budget_round.add1_stop,
            comparison=budget_round.comparison,
        )
    if budget_round.tie_break:
        options["tie_break"] = budget_round.tie_break
    if not ballots:
        return {
            "rule": budget_round.rule,
            "selected": [],
            "spent": 0,
            "budget": instance.budget,
            "num_ballots": 0,
            "explanations": {
                pid: {"project_id": pid, "selected": False, "reason": "no ballots were cast"}
                for pid in instance.projects
            },
        }
    try:
        outcome = tally(instance, ballots, **options)
    except TallyConfigurationError as error:
        raise TallyConfiguration(f"the round's rule cannot be applied: {error}") from None
    data = outcome.to_dict()
    data["num_ballots"] = len(ballots)
    return data


async def results_of(session: AsyncSession, budget_round: BudgetRound) -> dict[str, Any]:
    if budget_round.phase not in ("results", "implementation") or budget_round.result is None:
        raise ResultsNotPublished("the results are published when voting closes")
    projects = {
        p.id: p for p in await session.scalars(select(Proposal).where(Proposal.round_id == budget_round.id))
    }
    result = dict(budget_round.result)
    result["projects"] = [
        {
            "id": pid,
            "title": projects[pid].title,
            "cost": str(projects[pid].final_cost or projects[pid].estimated_cost),
            "selected": bool(projects[pid].selected),
            "explanation": result.get("explanations", {}).get(str(pid)),
        }
        for pid in sorted(projects)
        if projects[pid].status == "feasible"
    ]
    result["selected"] = [int(p) for p in result.get("selected", [])]
    return result


async def advance_due_rounds(
    session: AsyncSession, now: datetime, *, cipher: BallotCipher
) -> list[tuple[int, str, str]]:
    """Move every round whose next phase date has passed (possibly several steps). Returns the moves."""
    moved: list[tuple[int, str, str]] = []
    rounds = list(
        await session.scalars(
            select(BudgetRound)
            .where(BudgetRound.phase != Phase.IMPLEMENTATION.value)
            .order_by(BudgetRound.id)
            .with_for_update(skip_locked=True, key_share=True)  # NO KEY UPDATE: see get_round
        )
    )
    for budget_round in rounds:
        while (deadline := PHASE_DEADLINES.get(Phase(budget_round.phase))) is not None:
            column, goal = deadline
            due = getattr(budget_round, column)
            if due is None or due > now:
                break
            source = budget_round.phase
            try:
                async with session.begin_nested():
                    await change_phase(
                        session, budget_round, to=goal.value, actor=None, cipher=cipher, now=now
                    )
            except WrongPhase:
                # e.g. proposals still unreviewed when voting should open: stays put, staff are told by the
                # round's status page; the next run tries again.
                await session.refresh(budget_round)
                break
            moved.append((budget_round.id, source, goal.value))
    return moved


async def touch_followers(session: AsyncSession, proposal_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(ProjectFollower.account_id).where(ProjectFollower.proposal_id == proposal_id)
        )
    )


async def mark_unselected(session: AsyncSession, round_id: int) -> None:
    await session.execute(update(Proposal).where(Proposal.round_id == round_id).values(selected=None))
