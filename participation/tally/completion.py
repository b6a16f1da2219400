"""Completing the Method of Equal Shares, whose plain outcome usually leaves money unspent.

* ``add1``: raise every voter's share by one unit of money (``B/n``, ``B/n + 1``, ...) and rerun MES while its
  outcome still fits in the real budget. Two stopping rules are in use and give different outcomes:
  ``exhaustive`` stops at the first outcome to which no further project could be added (pabutools'
  ``voter_budget_increment=1``); ``infeasible`` ignores exhaustiveness and keeps the last outcome that fits
  before one that does not (the equalshares.net tool's plain ``add1``).
* ``add1-greedy``: ``add1`` and then greedy by votes over what is left (pabutools' completion by rule
  combination with ``greedy_utilitarian_welfare``).
* comparison with greedy (pabulib's ``equalshares/add1-comparison``, as equalshares.net computes it): every
  voter compares how many projects they supported are funded under each outcome; if more voters prefer the
  greedy outcome than the MES one, the greedy outcome is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from participation.tally.equal_shares import MesRun, run_mes
from participation.tally.greedy import GreedyOutcome, greedy
from participation.tally.model import Number
from participation.tally.parametric import mes_with_validity
from participation.tally.profile import IntArray, Profile

COMPLETIONS = ("none", "add1", "add1-greedy")
ADD1_STOPS = ("exhaustive", "infeasible")
COMPARISONS = ("greedy",)


@dataclass(slots=True)
class Add1Outcome:
    run: MesRun
    increments: int
    """How many units were added to the equal share of the run that was kept."""
    runs: int
    """How many MES runs it took (for the record and the benchmark)."""


def is_exhaustive(profile: Profile, selection: list[int], candidates: list[int]) -> bool:
    """Whether no project among ``candidates`` could still be added without exceeding the budget."""
    spent = profile.total_cost(selection)
    chosen = set(selection)
    return all(j in chosen or spent + profile.costs[j] > profile.budget for j in candidates)


def add1(profile: Profile, *, rank: IntArray, stop: str, accelerate: bool = True) -> Add1Outcome:
    """Run MES with growing equal shares; see the module docstring for the two stopping rules.

    With ``accelerate`` the shares at which the outcome provably cannot change are skipped
    (:mod:`participation.tally.parametric`); the result is the one the unit-step loop gives, including the
    increment that is kept (the last one before the outcome changes, for the ``infeasible`` stop).
    """
    if stop not in ADD1_STOPS:
        raise ValueError(f"unknown add1 stop {stop!r}; choose one of {list(ADD1_STOPS)}")
    voters = profile.num_voters
    if voters == 0:
        return Add1Outcome(run=run_mes(profile, 0.0, rank=rank, record=True), increments=0, runs=1)
    share = profile.budget / voters
    # As pabutools: exhaustiveness is judged against the projects MES could buy (supported, not free).
    candidates = [j for j in range(profile.num_projects) if profile.votes[j] > 0 and profile.costs[j] > 0]
    supported = {j for j in range(profile.num_projects) if profile.votes[j] > 0 and profile.scores[j] > 0}
    kept = 0
    increment = 0
    runs = 0
    # A skipping run costs two to three plain ones and pays off only when it skips further: on big elections
    # the outcome's interval is usually shorter than one unit. So it is used while it has advanced at least
    # three increments per run on average, and otherwise only re-tried every 16th run.
    skipping_runs = 0
    skipped_increments = 0
    while True:
        runs += 1
        worthwhile = skipping_runs == 0 or skipped_increments >= 3 * skipping_runs or runs % 16 == 0
        if accelerate and worthwhile:
            selected, valid_until = mes_with_validity(profile, share + increment, rank=rank)
            skipping_runs += 1
            skipped_increments += max(1, math.ceil(min(64.0, valid_until - share - increment)))
        else:
            selected, valid_until = run_mes(profile, share + increment, rank=rank).selected, share + increment
        if profile.total_cost(selected) > profile.budget:
            break
        kept = increment
        if stop == "exhaustive" and is_exhaustive(profile, selected, candidates):
            break
        if set(selected) >= supported or valid_until == math.inf:
            break  # no larger share can change the outcome any more
        # The first whole increment that may give another outcome; the margin absorbs float rounding.
        margin = 1e-7 * (abs(valid_until) + 1.0)
        following = max(increment + 1, math.ceil(valid_until - share - margin))
        kept = following - 1  # same outcome as this run, so the last share to keep if the next one fails
        increment = following
    return Add1Outcome(
        run=run_mes(profile, share + kept, rank=rank, record=True),
        increments=kept,
        runs=runs + 1,
    )


@dataclass(slots=True)
class ComparisonOutcome:
    prefer_mes: int
    prefer_greedy: int
    indifferent: int
    switched: bool
    greedy: GreedyOutcome = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": "greedy",
            "prefer_mes": self.prefer_mes,
            "prefer_greedy": self.prefer_greedy,
            "indifferent": self.indifferent,
            "switched_to_greedy": self.switched,
        }


def satisfaction(profile: Profile, selection: list[int] | tuple[int, ...]) -> np.ndarray:
    """Per voter group: how many funded projects its voters supported (points, for cumulative ballots)."""
    result = np.zeros(profile.num_groups, dtype=np.float64)
    for j in selection:
        if profile.utilities is None:
            result[profile.supporters[j]] += 1.0
        else:
            result[profile.supporters[j]] += profile.utilities[j]
    return result


def compare_with_greedy(profile: Profile, selection: list[int], *, rank: IntArray) -> ComparisonOutcome:
    """Pairwise popularity of the MES outcome against the greedy one; ties stay with MES."""
    greedy_outcome = greedy(profile, rank=rank)
    mes_satisfaction = satisfaction(profile, selection)
    greedy_satisfaction = satisfaction(profile, greedy_outcome.selected)
    weight = profile.group_weight
    prefer_mes = int(round(float(weight[mes_satisfaction > greedy_satisfaction].sum())))
    prefer_greedy = int(round(float(weight[greedy_satisfaction > mes_satisfaction].sum())))
    return ComparisonOutcome(
        prefer_mes=prefer_mes,
        prefer_greedy=prefer_greedy,
        indifferent=profile.num_voters - prefer_mes - prefer_greedy,
        switched=prefer_greedy > prefer_mes,
        greedy=greedy_outcome,
    )


def greedy_fill(profile: Profile, selection: list[int], *, rank: IntArray) -> GreedyOutcome:
    """Spend what MES left on the most popular projects that still fit."""
    return greedy(profile, rank=rank, preselected=selection, stage="completion")


def spent(profile: Profile, selection: list[int] | tuple[int, ...]) -> Number:
    return profile.total_cost(list(selection))
