"""A round to and from pabulib ``.pb`` (https://pabulib.org/format), through the tally package's
parser and writer.

Export writes anonymised ballots only (ids 1..n, in content order: see
:func:`participation.tally.dumps_pabulib`), after the round is sealed. Import creates a round with its
projects and ballots as they were in the file, already closed (phase ``results``), tallied with the rule
the file declares unless another is given.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from participation.ballot_store import load_ballots
from participation.budget_rounds import VOTE_TYPES, _number, close_voting
from participation.electorate import area_in_jurisdiction
from participation.errors import BallotsNotSealed, MalformedPabulib, UnsupportedVoteType
from participation.models import BallotRecord, BudgetRound, Proposal
from participation.tally import (
    Ballot,
    Election,
    Instance,
    PabulibFormatError,
    Project,
    TallyConfigurationError,
    dumps_pabulib,
    parse_pabulib_text,
    rule_from_meta,
)

_TYPES_BACK = {value: key for key, value in VOTE_TYPES.items()}


async def export_round(session: AsyncSession, budget_round: BudgetRound) -> str:
    if not budget_round.ballots_sealed:
        raise BallotsNotSealed("ballots are exported once voting has closed and they are sealed")
    projects = list(
        await session.scalars(
            select(Proposal)
            .where(Proposal.round_id == budget_round.id, Proposal.status == "feasible")
            .order_by(Proposal.id)
        )
    )
    meta = {
        "description": budget_round.title,
        "country": "",
        "unit": budget_round.title,
        "instance": str(budget_round.id),
        "budget": str(_number(budget_round.budget)),
        "currency": budget_round.currency,
        "vote_type": VOTE_TYPES[budget_round.ballot_type].value,
        "rule": "equalshares/add1"
        if budget_round.rule == "mes" and budget_round.completion == "add1"
        else ("equalshares" if budget_round.rule == "mes" else "greedy"),
    }
    rules = budget_round.ballot_rules or {}
    for ours, theirs in (
        ("min_projects", "min_length"),
        ("max_projects", "max_length"),
        ("points", "max_sum_points"),
        ("max_points_per_project", "max_points"),
        ("top_k", "max_length"),
    ):
        if rules.get(ours) is not None:
            meta[theirs] = str(rules[ours])
    instance = Instance(
        budget=_number(budget_round.budget),
        projects={
            str(p.id): Project(
                project_id=str(p.id),
                cost=_number(p.final_cost or p.estimated_cost),
                name=p.title,
                fields={"selected": "1" if p.selected else "0"} if p.selected is not None else {},
            )
            for p in projects
        },
        vote_type=VOTE_TYPES[budget_round.ballot_type],
        meta=meta,
    )
    ballots = tuple(
        Ballot(
            voter_id=str(i),
            projects=tuple(str(p) for p in chosen),
            points=tuple(points) if points is not None else None,
        )
        for i, (chosen, points) in enumerate(await load_ballots(session, budget_round.id), start=1)
    )
    return dumps_pabulib(Election(instance=instance, ballots=ballots), anonymise=True)


async def import_round(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    area_id: int,
    text_content: str,
    rule: str | None = None,
) -> BudgetRound:
    """Create a closed round from a ``.pb`` file and tally it; a malformed file stores nothing."""
    try:
        election = parse_pabulib_text(text_content)
    except PabulibFormatError as error:
        raise MalformedPabulib(f"malformed .pb file: {error}", line=error.line) from None
    await area_in_jurisdiction(session, jurisdiction_id=jurisdiction_id, area_id=area_id)
    instance = election.instance
    ballot_type = _TYPES_BACK.get(instance.vote_type)
    if ballot_type is None:
        raise UnsupportedVoteType(f"vote type {instance.vote_type.value} cannot be imported")
    if rule is None:
        try:
            options = rule_from_meta(instance)
        except TallyConfigurationError:
            options = None
        chosen = {"rule": "mes", "completion": "add1", "add1_stop": "infeasible", "comparison": None}
        if options is not None and options.rule in ("greedy", "mes"):
            chosen = {
                "rule": options.rule,
                "completion": options.completion,
                "add1_stop": options.add1_stop,
                "comparison": options.comparison,
            }
    else:
        chosen = {"rule": rule, "completion": "none", "add1_stop": "exhaustive", "comparison": None}
    rules: dict[str, int] = {}
    if ballot_type == "cumulative":
        total = instance.meta.get("max_sum_points")
        rules["points"] = (
            int(float(total))
            if total
            else max((int(sum(b.points or ())) for b in election.ballots), default=1) or 1
        )
    if ballot_type == "ranked":
        rules["top_k"] = max((len(b.projects) for b in election.ballots), default=1) or 1
    budget_round = BudgetRound(
        jurisdiction_id=jurisdiction_id,
        area_id=area_id,
        title=(instance.meta.get("description") or instance.meta.get("unit") or "Imported round")[:200],
        budget=Decimal(str(instance.budget)),
        currency=(instance.meta.get("currency") or "EUR")[:3].upper(),
        phase="voting",
        ballot_type=ballot_type,
        ballot_rules=rules,
        **chosen,
    )
    session.add(budget_round)
    await session.flush()
    ids: dict[str, int] = {}
    for project in instance.projects.values():
        proposal = Proposal(
            round_id=budget_round.id,
            title=(project.name or project.project_id)[:200],
            description=project.fields.get("description", ""),
            estimated_cost=Decimal(str(project.cost)),
            status="feasible",
            external_id=project.project_id[:64],
        )
        session.add(proposal)
        await session.flush()
        ids[project.project_id] = proposal.id
    if instance.budget <= 0 or any(p.cost <= 0 for p in instance.projects.values()):
        raise MalformedPabulib("budget and costs must be positive")
    import uuid

    rows = [
        {
            "id": uuid.uuid4(),
            "round_id": budget_round.id,
            "channel": "import",
            "projects": [ids[p] for p in ballot.projects],
            "points": [int(x) for x in ballot.points] if ballot.points is not None else None,
        }
        for ballot in election.ballots
    ]
    for start in range(0, len(rows), 5000):
        await session.execute(insert(BallotRecord), rows[start : start + 5000])
    await close_voting(session, budget_round, cipher=None)  # imported ballots are in clear
    budget_round.phase = "results"
    await session.flush()
    return budget_round


def read_pb_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise MalformedPabulib(f"malformed .pb file: not UTF-8 ({error.reason})") from None


async def load_projects(session: AsyncSession, round_id: int) -> list[Proposal]:
    return list(
        await session.scalars(select(Proposal).where(Proposal.round_id == round_id).order_by(Proposal.id))
    )
