"""The Method of Equal Shares (MES), one run at a fixed budget per voter.

Every voter gets an equal share of the budget and may only spend it on projects they support. Round after
round MES buys the project whose supporters can pay for it at the lowest price per unit of utility ``rho``:
each supporter pays ``rho * utility`` or, if that is more than they have left, everything they have left.
Utilities are the project's cost for approval-like ballots (pabutools' ``Cost_Sat``, the equalshares.net
default, so ``rho * cost`` is simply the price per supporter) and the points given for cumulative ballots.

Speed comes from three things, all standard (equalshares.net's reference implementation does the same):

* supporters are numpy index arrays, so "what do the supporters of p have left" is one gather;
* ``rho`` is found by the poor/rich fixed point (price as if all pay equally, mark those who cannot as
  paying everything, recompute, until nobody new is marked) in a few vectorised passes, no sort;
* lazy re-evaluation: budgets only shrink, so a project's last computed ``rho`` is a lower bound on its
  current one; projects are visited in that order and the round stops as soon as the next lower bound is
  worse than the best price found.

Arithmetic is in float64 where pabutools uses exact fractions. Two prices within a relative
:data:`TOLERANCE` are treated as a tie (and broken by the configured order), and a project whose supporters
hold its cost up to that tolerance counts as affordable: exact ties such as the ``1/votes`` of two projects
with equally many supporters are then decided the way pabutools decides them. Prices that differ by less
than one part in 10^9 without being equal do not occur on real data.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from participation.tally.profile import FloatArray, IntArray, Profile

TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Purchase:
    """A project bought by MES: in which round, at which price, and who paid what."""

    project: int
    round: int
    rho: float
    payments: FloatArray
    """What one member of each supporting group paid, parallel to ``profile.supporters[project]``."""
    full_share: float
    """The most any supporter paid (``rho * utility`` for the richest supporters)."""


@dataclass(frozen=True, slots=True)
class Drop:
    """A project MES gave up on because its supporters' money no longer covered its cost."""

    project: int
    round: int
    available: float


@dataclass(slots=True)
class MesRun:
    budget_per_voter: float
    selected: list[int]
    free: list[int] = field(default_factory=list)
    """Supported projects that cost nothing, taken before the first round (as pabutools does)."""
    purchases: dict[int, Purchase] = field(default_factory=dict)
    drops: dict[int, Drop] = field(default_factory=dict)
    budgets: FloatArray | None = None
    """What one member of each voter group has left at the end (only when recorded)."""


def _rho_cost(budgets: FloatArray, weights: FloatArray, supporters: float, cost: float) -> float:
    """Price per unit of cost when every supporter's utility is the cost (approval ballots).

    ``budgets`` is what one member of each supporting group holds, ``weights`` how many members it has,
    ``supporters`` their total.
    """
    paid_by_poor = 0.0
    poor_weight = 0.0
    poor = 0
    share = cost / supporters
    while True:
        is_poor = budgets < share
        now_poor = int(np.count_nonzero(is_poor))
        if now_poor == poor:
            break
        if now_poor == budgets.shape[0]:  # only reachable within the affordability tolerance: all pay all
            return float(budgets.max()) / cost
        poor = now_poor
        paid_by_poor = float(np.dot(budgets[is_poor], weights[is_poor]))
        poor_weight = float(weights[is_poor].sum())
        share = (cost - paid_by_poor) / (supporters - poor_weight)
    # The expression pabutools evaluates exactly: (cost - paid by the poor) / total utility of the rich.
    return (cost - paid_by_poor) / (cost * (supporters - poor_weight))


def _rho_points(budgets: FloatArray, weights: FloatArray, utilities: FloatArray, cost: float) -> float:
    """Price per unit of utility for arbitrary positive utilities (cumulative or scoring ballots)."""
    weighted_utilities = utilities * weights
    rho = cost / float(weighted_utilities.sum())
    poor = 0
    while True:
        is_poor = budgets < rho * utilities
        now_poor = int(np.count_nonzero(is_poor))
        if now_poor == poor:
            return rho
        if now_poor == budgets.shape[0]:
            return float(np.max(budgets / utilities))
        poor = now_poor
        paid_by_poor = float(np.dot(budgets[is_poor], weights[is_poor]))
        rho = (cost - paid_by_poor) / float(weighted_utilities[~is_poor].sum())


def run_mes(
    profile: Profile,
    budget_per_voter: float,
    *,
    rank: IntArray,
    preselected: Sequence[int] = (),
    record: bool = False,
) -> MesRun:
    """Run MES once with every voter starting at ``budget_per_voter``.

    ``record`` keeps per-voter payments and drop reasons for explanations; the add1 completion runs MES many
    times without it and records only the run it keeps.
    """
    costs = profile.cost_array
    supporters = profile.supporters
    weights = profile.weights
    votes = profile.votes
    utilities = profile.utilities
    budgets = np.full(profile.num_groups, float(budget_per_voter), dtype=np.float64)
    taken = set(preselected)
    run = MesRun(budget_per_voter=float(budget_per_voter), selected=[])
    bound: dict[int, float] = {}
    remaining: list[int] = []
    for j in range(profile.num_projects):
        if j in taken or profile.votes[j] == 0 or profile.scores[j] <= 0:
            continue
        if costs[j] == 0:
            run.free.append(j)
            continue
        total_utility = costs[j] * votes[j] if utilities is None else float(np.dot(utilities[j], weights[j]))
        bound[j] = float(costs[j]) / total_utility
        remaining.append(j)
    run.selected.extend(run.free)

    heap = [(bound[j], int(rank[j]), j) for j in remaining]
    heapq.heapify(heap)
    round_number = 0
    while heap:
        round_number += 1
        best = math.inf
        evaluated: list[tuple[float, int, int]] = []
        # Lazy re-evaluation: a stale price is a lower bound, so stop once it cannot beat the best so far.
        while heap and heap[0][0] <= best * (1 + TOLERANCE):
            _, tie_rank, j = heapq.heappop(heap)
            cost = float(costs[j])
            held = budgets[supporters[j]]
            available = float(np.dot(held, weights[j]))
            if available < cost * (1 - TOLERANCE):
                if record:
                    run.drops[j] = Drop(project=j, round=round_number, available=available)
                continue
            if utilities is None:
                rho = _rho_cost(held, weights[j], float(votes[j]), cost)
            else:
                rho = _rho_points(held, weights[j], utilities[j], cost)
            evaluated.append((rho, tie_rank, j))
            if rho < best:
                best = rho
        if not evaluated:
            break
        winner = min(
            (entry for entry in evaluated if entry[0] <= best * (1 + TOLERANCE)), key=lambda e: e[1]
        )[2]
        for entry in evaluated:
            if entry[2] != winner:
                heapq.heappush(heap, entry)
            else:
                rho = entry[0]
        index = supporters[winner]
        held = budgets[index]
        due = rho * float(costs[winner]) if utilities is None else rho * utilities[winner]
        paid = np.minimum(held, due)
        left = held - paid
        # A voter who paid (up to rounding) everything has nothing left; float dust must not fund a project.
        left[left <= TOLERANCE * budget_per_voter] = 0.0
        budgets[index] = left
        run.selected.append(winner)
        if record:
            run.purchases[winner] = Purchase(
                project=winner,
                round=round_number,
                rho=rho,
                payments=held - left,
                full_share=float(np.max(due)),
            )
    if record:
        run.budgets = budgets
    return run
