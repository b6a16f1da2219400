"""How far the add1 completion can raise the equal share before the MES outcome can change.

add1 reruns MES with the share ``t = B/n, B/n + 1, B/n + 2, ...``; on Assen 2024 that is 846 runs, and most of
them repeat the previous outcome. Along one run every quantity MES looks at is affine in ``t`` for as long as
the run makes the same decisions: a voter's remaining money is ``value + slope * (t - t0)``; a project's price
``rho`` is (cost minus what its poor supporters pay) over the utility of its rich supporters, affine while
the same supporters are poor; so is the money behind a project. The run's decisions are a finite list of
sign conditions on such affine functions (the winner of each round beats every other project, each winner's
poor supporters stay poor and its rich ones rich, each dropped project stays unaffordable), so the outcome is
the same for every share from ``t0`` up to the first point where one of them can flip.
:func:`mes_with_validity` runs MES at ``t0`` and also returns that point; add1 then jumps straight to the
first whole increment at or beyond it instead of recomputing identical outcomes.

Only the *outcome* has to stay the same, which keeps the conditions few:

* a project that is not the winner only needs a lower bound on its price to stay above the winner's, and any
  guess of who is poor gives a lower bound (``f(q) = sum(min(budget, q))`` is concave), as do the stale
  prices of the lazily skipped projects (money only shrinks during a run);
* a dropped project stays dropped: money only shrinks, so it can never be bought later in the same run.

Conditions are checked against a band around zero a little wider than MES's own tie tolerance, and anything
already inside it (a tie whose two sides move differently, a supporter paying exactly all they have) ends the
interval at ``t0`` itself, so the search falls back to the plain step of one unit. The tests compare the
outcome with the unit-step loop on random elections and on the real files.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from participation.tally.equal_shares import TOLERANCE, _rho_cost, _rho_points
from participation.tally.profile import FloatArray, IntArray, Profile


class _Validity:
    """The end of the interval of shares ``[t0, end)`` over which every noted condition keeps its sign."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.end = math.inf

    def keep_sign(self, value: float, slope: float, band: float, slope_scale: float) -> None:
        """``value + slope * (t - start)`` must stay on its side of ``[-band, band]``."""
        if value > band:
            if slope < 0:
                self.end = min(self.end, self.start + (value - band) / -slope)
        elif value < -band:
            if slope > 0:
                self.end = min(self.end, self.start + (-value - band) / slope)
        elif abs(slope) > TOLERANCE * slope_scale:
            self.end = self.start  # inside the band and moving: nothing can be promised beyond this share

    def keep_signs(
        self, values: FloatArray, slopes: FloatArray, band: float, slope_scale: FloatArray
    ) -> None:
        """The vectorised :meth:`keep_sign`, for all the supporters of a winner at once."""
        inside = np.abs(values) <= band
        if np.any(inside & (np.abs(slopes) > TOLERANCE * slope_scale)):
            self.end = self.start
            return
        falling = (values > band) & (slopes < 0)
        if np.any(falling):
            self.end = min(self.end, self.start + float(np.min((values[falling] - band) / -slopes[falling])))
        rising = (values < -band) & (slopes > 0)
        if np.any(rising):
            self.end = min(self.end, self.start + float(np.min((-values[rising] - band) / slopes[rising])))


def mes_with_validity(profile: Profile, share: float, *, rank: IntArray) -> tuple[list[int], float]:
    """Run MES with every voter starting at ``share``; return the outcome and the share where it may change.

    Makes exactly the decisions :func:`~participation.tally.equal_shares.run_mes` makes at the same share.
    """
    costs = profile.cost_array
    supporters = profile.supporters
    weights = profile.weights
    votes = profile.votes
    utilities = profile.utilities
    value = np.full(profile.num_groups, float(share), dtype=np.float64)
    slope = np.ones(profile.num_groups, dtype=np.float64)
    validity = _Validity(float(share))
    money_band = TOLERANCE * max(float(share), 1.0)
    selected: list[int] = []
    # The stale prices waiting in the heap, mirrored in arrays so each round checks them all in one go.
    waiting = np.zeros(profile.num_projects, dtype=bool)
    bound_value = np.zeros(profile.num_projects, dtype=np.float64)
    bound_slope = np.zeros(profile.num_projects, dtype=np.float64)
    heap: list[tuple[float, int, int]] = []
    for j in range(profile.num_projects):
        if profile.votes[j] == 0 or profile.scores[j] <= 0:
            continue
        if costs[j] == 0:
            selected.append(j)
            continue
        total_utility = costs[j] * votes[j] if utilities is None else float(np.dot(utilities[j], weights[j]))
        heap.append((float(costs[j]) / total_utility, int(rank[j]), j))
        bound_value[j] = heap[-1][0]
        waiting[j] = True
    heapq.heapify(heap)

    while heap:
        best = math.inf
        evaluated: list[tuple[float, int, int, float]] = []
        while heap and heap[0][0] <= best * (1 + TOLERANCE):
            _, tie_rank, j = heapq.heappop(heap)
            waiting[j] = False
            cost = float(costs[j])
            index = supporters[j]
            held = value[index]
            held_slope = slope[index]
            available = float(np.dot(held, weights[j]))
            if available < cost * (1 - TOLERANCE):
                validity.keep_sign(
                    available - cost * (1 - TOLERANCE),
                    float(np.dot(held_slope, weights[j])),
                    TOLERANCE * cost,
                    float(np.dot(np.abs(held_slope), weights[j])),
                )
                continue
            if utilities is None:
                rho = _rho_cost(held, weights[j], float(votes[j]), cost)
                poor = held < rho * cost
                rich_utility = cost * float(weights[j][~poor].sum())
            else:
                rho = _rho_points(held, weights[j], utilities[j], cost)
                poor = held < rho * utilities[j]
                rich_utility = float(np.dot(utilities[j][~poor], weights[j][~poor]))
            if rich_utility <= 0:  # everyone pays all they have: a knife edge, promise nothing
                validity.end = validity.start
                rho_slope = 0.0
            else:
                rho_slope = -float(np.dot(held_slope[poor], weights[j][poor])) / rich_utility
            evaluated.append((rho, tie_rank, j, rho_slope))
            best = min(best, rho)
        if not evaluated:
            break
        tied = [entry for entry in evaluated if entry[0] <= best * (1 + TOLERANCE)]
        winner_rho, _, winner, winner_slope = min(tied, key=lambda entry: entry[1])
        band = 2 * TOLERANCE * winner_rho
        for rho, _, j, rho_slope in evaluated:
            if j != winner:
                scale = abs(rho_slope) + abs(winner_slope)
                validity.keep_sign(rho - winner_rho, rho_slope - winner_slope, band, scale)
        if heap:
            validity.keep_signs(
                bound_value[waiting] - winner_rho,
                bound_slope[waiting] - winner_slope,
                band,
                np.abs(bound_slope[waiting]) + abs(winner_slope),
            )

        index = supporters[winner]
        held = value[index]
        held_slope = slope[index]
        if utilities is None:
            due = np.full(held.shape, winner_rho * float(costs[winner]))
            due_slope = np.full(held.shape, winner_slope * float(costs[winner]))
        else:
            due = winner_rho * utilities[winner]
            due_slope = winner_slope * utilities[winner]
        validity.keep_signs(
            held - due, held_slope - due_slope, money_band, np.abs(held_slope) + np.abs(due_slope)
        )
        poor = held < due
        left = np.where(poor, 0.0, held - due)
        left_slope = np.where(poor, 0.0, held_slope - due_slope)
        dust = left <= TOLERANCE * share
        left[dust] = 0.0
        left_slope[dust] = 0.0
        value[index] = left
        slope[index] = left_slope
        selected.append(winner)
        for rho, tie_rank, j, rho_slope in evaluated:
            if j != winner:
                heapq.heappush(heap, (rho, tie_rank, j))
                waiting[j] = True
                bound_value[j] = rho
                bound_slope[j] = rho_slope
    return selected, validity.end
