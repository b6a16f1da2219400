"""Our outcomes equal pabutools' (the academic reference) on approval ballots.

Random small elections with round costs make exact ties common (equal vote counts, equal prices per
supporter), so these also check the tie-breaking and the float tolerance of the Method of Equal Shares
against pabutools' exact fractions. The six real files are compared too; on the two big ones pabutools needs
minutes for MES with add1, so those cases are marked slow.
"""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from pabutools.election import Additive_Cardinal_Sat, Cost_Sat
from pabutools.election import parse_pabulib as pabutools_parse
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import (
    completion_by_rule_combination,
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from participation.tally import Election, parse_pabulib, parse_pabulib_text, tally

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pabulib"
# pabutools needs more than a minute of CPU for these (bench/tally/RESULTS.md: Łódź MES + add1 142 s,
# Wrocław MES + add1 150 s); Łódź and Wrocław greedy and MES take 33-51 s each and run by default.
SLOW = {
    ("Poland_Lodz_2022", "add1"),
    ("Poland_Wroclaw_2015_150_-_500", "add1"),
}


def random_election(seed: int) -> str:
    generator = random.Random(seed)
    projects = generator.randint(2, 12)
    voters = generator.randint(1, 25)
    costs = [generator.choice([5, 10, 10, 20, 20, 30, 40, 50, 60, 90]) for _ in range(projects)]
    budget = generator.randint(max(costs) // 2, sum(costs))
    lines = ["META", "key;value", f"budget;{budget}", "vote_type;approval", "PROJECTS", "project_id;cost"]
    lines += [f"p{index + 1};{cost}" for index, cost in enumerate(costs)]
    lines += ["VOTES", "voter_id;vote"]
    popular = generator.sample(range(projects), k=min(projects, 3))
    for voter in range(voters):
        pool = popular if generator.random() < 0.5 else range(projects)
        chosen = sorted({generator.choice(list(pool)) for _ in range(generator.randint(0, 4))})
        lines.append(f"v{voter};{','.join(f'p{index + 1}' for index in chosen)}")
    return "\n".join(lines) + "\n"


def pabutools_outcome(instance: Any, profile: Any, case: str) -> list[str]:
    if case == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    elif case == "mes":
        outcome = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    elif case == "add1":
        outcome = method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)
    elif case == "add1-infeasible":
        outcome = exhaustion_by_budget_increase(
            instance,
            profile,
            method_of_equal_shares,
            {"sat_class": Cost_Sat},
            exhaustive_stop=False,
            budget_step=profile.num_ballots(),
        )
    else:  # add1-greedy
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}],
        )
    return sorted(project.name for project in outcome)


OPTIONS: dict[str, dict[str, Any]] = {
    "greedy": {"rule": "greedy"},
    "mes": {"rule": "mes"},
    "add1": {"rule": "mes", "completion": "add1", "add1_stop": "exhaustive"},
    "add1-infeasible": {"rule": "mes", "completion": "add1", "add1_stop": "infeasible"},
    "add1-greedy": {"rule": "mes", "completion": "add1-greedy", "add1_stop": "exhaustive"},
}


@pytest.mark.parametrize("case", list(OPTIONS))
def test_random_elections_match_pabutools(case: str) -> None:
    mismatches = []
    for seed in range(250):
        text = random_election(seed)
        election = parse_pabulib_text(text)
        if not election.ballots:
            continue
        instance, profile = parse_pabulib_from_string(text)
        ours = sorted(tally(election.instance, election.ballots, **OPTIONS[case]).selected)
        theirs = pabutools_outcome(instance, profile, case)
        if ours != theirs:
            mismatches.append((seed, ours, theirs))
    assert mismatches == []


@lru_cache(maxsize=1)  # pabutools holds Wrocław in 6 GB: keep one file at a time (cases are file-major)
def real(stem: str) -> tuple[Election, Any, Any]:
    instance, profile = pabutools_parse(str(DATA / f"{stem}.pb"))
    return parse_pabulib(DATA / f"{stem}.pb"), instance, profile


def real_cases() -> list[Any]:
    cases = []
    for path in sorted(DATA.glob("*.pb")):
        for case in ("greedy", "mes", "add1"):
            marks = [pytest.mark.slow] if (path.stem, case) in SLOW else []
            cases.append(pytest.param(path.stem, case, marks=marks, id=f"{path.stem}-{case}"))
    return cases


@pytest.mark.parametrize(("stem", "case"), real_cases())
def test_real_files_match_pabutools(stem: str, case: str) -> None:
    election, instance, profile = real(stem)
    ours = tally(election.instance, election.ballots, **OPTIONS[case])
    assert sorted(ours.selected) == pabutools_outcome(instance, profile, case)


def random_cumulative_election(seed: int) -> str:
    generator = random.Random(seed)
    projects = generator.randint(2, 8)
    costs = [generator.choice([10, 20, 30, 50, 80]) for _ in range(projects)]
    lines = [
        "META",
        "key;value",
        f"budget;{generator.randint(max(costs), sum(costs))}",
        "vote_type;cumulative",
    ]
    lines += ["PROJECTS", "project_id;cost"] + [f"p{index + 1};{cost}" for index, cost in enumerate(costs)]
    lines += ["VOTES", "voter_id;vote;points"]

    def ballot() -> str:
        chosen = generator.sample(range(projects), k=generator.randint(1, min(3, projects)))
        points = [generator.choice([1, 1, 2, 3, 5]) for _ in chosen]
        return f"{','.join(f'p{index + 1}' for index in chosen)};{','.join(map(str, points))}"

    # Repeated ballots become weighted voter groups on our side: make sure there are some.
    common = [ballot() for _ in range(3)]
    for voter in range(generator.randint(1, 20)):
        lines.append(f"v{voter};{generator.choice(common) if generator.random() < 0.6 else ballot()}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("completion", ["none", "add1"])
def test_cumulative_mes_matches_pabutools_with_points_as_utilities(completion: str) -> None:
    mismatches = []
    for seed in range(150):
        text = random_cumulative_election(seed)
        election = parse_pabulib_text(text)
        instance, profile = parse_pabulib_from_string(text)
        increment = 1 if completion == "add1" else None
        theirs = method_of_equal_shares(
            instance, profile, sat_class=Additive_Cardinal_Sat, voter_budget_increment=increment
        )
        ours = tally(election.instance, election.ballots, rule="mes", completion=completion)
        if sorted(ours.selected) != sorted(project.name for project in theirs):
            mismatches.append(seed)
    assert mismatches == []
