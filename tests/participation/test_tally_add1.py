"""add1 skips shares whose outcome cannot change; it must keep exactly what the unit-step loop keeps."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from participation.tally import Ballot, Instance, Project, VoteType, parse_pabulib
from participation.tally.completion import add1
from participation.tally.profile import build_profile
from participation.tally.tie_breaking import tie_break_rank

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pabulib"


def random_election(seed: int, *, cumulative: bool) -> tuple[Instance, list[Ballot]]:
    generator = random.Random(seed)
    count = generator.randint(2, 10)
    costs = {f"p{index}": generator.choice([10, 20, 25, 40, 60, 100, 150]) for index in range(count)}
    budget = generator.randint(max(costs.values()), sum(costs.values()))
    ballots = []
    for voter in range(generator.randint(1, 40)):
        chosen = tuple(sorted(generator.sample(sorted(costs), k=generator.randint(0, min(4, count)))))
        points = tuple(generator.randint(1, 5) for _ in chosen) if cumulative else None
        ballots.append(Ballot(voter_id=f"v{voter}", projects=chosen, points=points))
    instance = Instance(
        budget=budget,
        projects={key: Project(project_id=key, cost=cost) for key, cost in costs.items()},
        vote_type=VoteType.CUMULATIVE if cumulative else VoteType.APPROVAL,
    )
    return instance, ballots


@pytest.mark.parametrize("stop", ["exhaustive", "infeasible"])
@pytest.mark.parametrize("cumulative", [False, True], ids=["approval", "cumulative"])
def test_skipping_keeps_the_unit_step_outcome_on_random_elections(stop: str, cumulative: bool) -> None:
    skipped_somewhere = False
    for seed in range(100):
        instance, ballots = random_election(seed, cumulative=cumulative)
        profile = build_profile(instance, ballots)
        rank = tie_break_rank(profile, "id")
        fast = add1(profile, rank=rank, stop=stop)
        slow = add1(profile, rank=rank, stop=stop, accelerate=False)
        assert (fast.run.selected, fast.increments) == (slow.run.selected, slow.increments), seed
        skipped_somewhere |= fast.runs < slow.runs
    assert skipped_somewhere, "the acceleration never skipped anything: the test would prove nothing"


@pytest.mark.parametrize(
    "stem",
    ["Netherlands_Assen_2024", "Poland_Swiecie_2023", "Poland_Wieliczka_2023_Green_Budget"],
)
@pytest.mark.parametrize("stop", ["exhaustive", "infeasible"])
def test_skipping_keeps_the_unit_step_outcome_on_real_files(stem: str, stop: str) -> None:
    election = parse_pabulib(DATA / f"{stem}.pb")
    profile = build_profile(election.instance, election.ballots)
    rank = tie_break_rank(profile, "id")
    fast = add1(profile, rank=rank, stop=stop)
    slow = add1(profile, rank=rank, stop=stop, accelerate=False)
    assert fast.run.selected == slow.run.selected
    assert fast.increments == slow.increments
    assert fast.runs <= slow.runs
