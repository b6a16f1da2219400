"""The Method of Equal Shares as compiled loops (numba): what a recount of a real election runs on.

Why compiled: MES is a loop over rounds, and within a round over a few candidate projects and their
supporters. Written with numpy (one vectorised call per step) it was fast on Łódź's 23 571 voter groups but
spent nearly all of its time in call overhead on a neighbourhood's 84 ballots, and the add1 completion runs
it hundreds of times (Assen 2024: 846 shares). Compiled, one MES on Assen takes microseconds. numba compiles
the loops on first use and caches the machine code on disk (``__pycache__`` beside this file, or
``NUMBA_CACHE_DIR``), so only the first tally on a machine pays the few seconds of compilation.

The rule itself, its tolerances and the validity interval are documented in
:mod:`participation.tally.equal_shares` and :mod:`participation.tally.parametric`, whose functions call
:func:`mes`. Arrays are the profile's flat form (CSR): the supporters of project ``j`` are entries
``indptr[j]:indptr[j + 1]`` of ``entry_group`` (voter group), ``entry_weight`` (voters in that group) and
``entry_utility`` (points; unused for cost utilities).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from numba import njit

from participation.tally.tolerance import TOLERANCE


@njit(cache=True)
def _rho_cost(
    budgets: np.ndarray,
    indptr_start: int,
    indptr_end: int,
    entry_group: np.ndarray,
    entry_weight: np.ndarray,
    supporters: float,
    cost: float,
) -> float:
    """The price per unit of utility of one project under cost utilities (``rho * cost`` per supporter).

    The poor/rich fixed point of :mod:`participation.tally.equal_shares`: price as if all supporters paid
    equally, mark those who cannot as paying all they have, recompute, until nobody new is marked.
    """
    paid_by_poor = 0.0
    poor_weight = 0.0
    poor = 0
    share = cost / supporters
    count = indptr_end - indptr_start
    while True:
        now_poor = 0
        paid = 0.0
        weight = 0.0
        for k in range(indptr_start, indptr_end):
            held = budgets[entry_group[k]]
            if held < share:
                now_poor += 1
                paid += held * entry_weight[k]
                weight += entry_weight[k]
        if now_poor == poor:
            break
        if now_poor == count:
            most = 0.0
            for k in range(indptr_start, indptr_end):
                most = max(most, budgets[entry_group[k]])
            return most / cost
        poor = now_poor
        paid_by_poor = paid
        poor_weight = weight
        share = (cost - paid_by_poor) / (supporters - poor_weight)
    return (cost - paid_by_poor) / (cost * (supporters - poor_weight))


@njit(cache=True)
def _rho_points(
    budgets: np.ndarray,
    indptr_start: int,
    indptr_end: int,
    entry_group: np.ndarray,
    entry_weight: np.ndarray,
    entry_utility: np.ndarray,
    cost: float,
) -> float:
    """The price per point of one project under cumulative ballots, by the same fixed point as
    :func:`_rho_cost` with each supporter's points as their utility."""
    total = 0.0
    for k in range(indptr_start, indptr_end):
        total += entry_utility[k] * entry_weight[k]
    rho = cost / total
    poor = 0
    count = indptr_end - indptr_start
    while True:
        now_poor = 0
        paid = 0.0
        rich_utility = 0.0
        for k in range(indptr_start, indptr_end):
            held = budgets[entry_group[k]]
            if held < rho * entry_utility[k]:
                now_poor += 1
                paid += held * entry_weight[k]
            else:
                rich_utility += entry_utility[k] * entry_weight[k]
        if now_poor == poor:
            return rho
        if now_poor == count:
            most = 0.0
            for k in range(indptr_start, indptr_end):
                most = max(most, budgets[entry_group[k]] / entry_utility[k])
            return most
        poor = now_poor
        rho = (cost - paid) / rich_utility


@njit(cache=True)
def _keep_sign(end: float, start: float, value: float, slope: float, band: float, scale: float) -> float:
    """The new end of the validity interval once ``value + slope * (t - start)`` must keep its sign.

    See :mod:`participation.tally.parametric`: the value must stay on its side of ``[-band, band]``; a value
    already inside the band that moves at all ends the interval at ``start``.
    """
    if value > band:
        if slope < 0:
            return min(end, start + (value - band) / -slope)
    elif value < -band:
        if slope > 0:
            return min(end, start + (-value - band) / slope)
    elif abs(slope) > TOLERANCE * scale:
        return start
    return end


@njit(cache=True)
def mes(
    indptr: np.ndarray,
    entry_group: np.ndarray,
    entry_weight: np.ndarray,
    entry_utility: np.ndarray,
    use_points: bool,
    costs: np.ndarray,
    votes: np.ndarray,
    eligible: np.ndarray,
    rank: np.ndarray,
    num_groups: int,
    budget_per_voter: float,
    record: bool,
    validity: bool,
) -> tuple[np.ndarray, np.ndarray, int, float]:
    """One MES run; see :mod:`participation.tally.equal_shares` for the rule and its tolerances.

    ``eligible[j]`` says whether project ``j`` takes part (supported, positive score, not preselected).
    Returns ``(numbers, amounts, count, valid_until)``. ``numbers`` (m = number of projects) holds the
    funded projects in order in its first ``count`` entries (free ones first), then per project the round it
    was bought in (0 if not), then the round it was dropped in (0 if not). ``amounts`` holds per project its
    price and the most a supporter paid, then what its supporters held when it was dropped, then (with
    ``record``) what each entry paid, then what each group has left. ``valid_until`` is, with ``validity``,
    the share up to which the outcome provably stays the same (:mod:`participation.tally.parametric`), else
    ``budget_per_voter``. :class:`participation.tally.equal_shares.Record` names the parts.
    """
    num_projects = costs.shape[0]
    share = budget_per_voter
    # Two result arrays rather than nine: returning an array to Python costs more than a small MES run.
    recorded = entry_group.shape[0] if record else 0
    numbers = np.zeros(3 * num_projects, dtype=np.int64)
    selected = numbers[:num_projects]
    purchase_round = numbers[num_projects : 2 * num_projects]
    drop_round = numbers[2 * num_projects :]
    amounts = np.zeros(3 * num_projects + recorded + num_groups)
    price = amounts[:num_projects]
    full_share = amounts[num_projects : 2 * num_projects]
    available_at_drop = amounts[2 * num_projects : 3 * num_projects]
    paid = amounts[3 * num_projects : 3 * num_projects + recorded]
    budgets = amounts[3 * num_projects + recorded :]
    budgets[:] = share
    # d(budget)/d(share) per group, and the same for the stale prices waiting in the heap (validity only).
    slope = np.ones(num_groups if validity else 0)
    waiting = np.zeros(num_projects if validity else 0, dtype=np.bool_)
    bound_value = np.zeros(num_projects if validity else 0)
    bound_slope = np.zeros(num_projects if validity else 0)
    end = math.inf
    money_band = TOLERANCE * max(share, 1.0)

    count = 0

    heap = [(0.0, np.int64(0), np.int64(0))]
    heap.pop()
    for j in range(num_projects):
        if not eligible[j]:
            continue
        if costs[j] == 0:
            selected[count] = j
            count += 1
            continue
        if use_points:
            total_utility = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                total_utility += entry_utility[k] * entry_weight[k]
        else:
            total_utility = costs[j] * votes[j]
        heap.append((costs[j] / total_utility, rank[j], np.int64(j)))
        if validity:
            waiting[j] = True
            bound_value[j] = costs[j] / total_utility
    heapq.heapify(heap)

    evaluated = [(0.0, np.int64(0), np.int64(0), 0.0)]
    round_number = 0
    while len(heap) > 0:
        round_number += 1
        best = math.inf
        evaluated.clear()
        # Lazy re-evaluation: a stale price is a lower bound, so stop once it cannot beat the best so far.
        while len(heap) > 0 and heap[0][0] <= best * (1 + TOLERANCE):
            entry = heapq.heappop(heap)
            j = int(entry[2])
            cost = costs[j]
            start = indptr[j]
            stop = indptr[j + 1]
            available = 0.0
            for k in range(start, stop):
                available += budgets[entry_group[k]] * entry_weight[k]
            if validity:
                waiting[j] = False
            if available < cost * (1 - TOLERANCE):
                drop_round[j] = round_number
                available_at_drop[j] = available
                if validity:
                    # A dropped project stays dropped within a run; across shares its money must stay short.
                    money_slope = 0.0
                    money_scale = 0.0
                    for k in range(start, stop):
                        money_slope += slope[entry_group[k]] * entry_weight[k]
                        money_scale += abs(slope[entry_group[k]]) * entry_weight[k]
                    shortfall = available - cost * (1 - TOLERANCE)
                    end = _keep_sign(end, share, shortfall, money_slope, TOLERANCE * cost, money_scale)
                continue
            if use_points:
                rho = _rho_points(budgets, start, stop, entry_group, entry_weight, entry_utility, cost)
            else:
                rho = _rho_cost(budgets, start, stop, entry_group, entry_weight, float(votes[j]), cost)
            rho_slope = 0.0
            if validity:
                rich_utility = 0.0
                poor_slope = 0.0
                for k in range(start, stop):
                    group = entry_group[k]
                    utility = entry_utility[k] if use_points else cost
                    if budgets[group] < rho * utility:
                        poor_slope += slope[group] * entry_weight[k]
                    else:
                        rich_utility += utility * entry_weight[k]
                if rich_utility <= 0:  # everyone pays all they have: a knife edge, promise nothing
                    end = share
                else:
                    rho_slope = -poor_slope / rich_utility
            evaluated.append((rho, entry[1], entry[2], rho_slope))
            if rho < best:
                best = rho
        if len(evaluated) == 0:
            break
        winner = np.int64(-1)
        winner_rank = np.int64(0)
        winner_rho = 0.0
        winner_slope = 0.0
        for candidate in evaluated:
            if candidate[0] <= best * (1 + TOLERANCE) and (winner < 0 or candidate[1] < winner_rank):
                winner = candidate[2]
                winner_rank = candidate[1]
                winner_rho = candidate[0]
                winner_slope = candidate[3]
        if validity:
            # The winner must keep beating every evaluated project and every stale bound still waiting.
            band = 2 * TOLERANCE * winner_rho
            for candidate in evaluated:
                if candidate[2] != winner:
                    end = _keep_sign(
                        end,
                        share,
                        candidate[0] - winner_rho,
                        candidate[3] - winner_slope,
                        band,
                        abs(candidate[3]) + abs(winner_slope),
                    )
            for j in range(num_projects):
                if waiting[j]:
                    end = _keep_sign(
                        end,
                        share,
                        bound_value[j] - winner_rho,
                        bound_slope[j] - winner_slope,
                        band,
                        abs(bound_slope[j]) + abs(winner_slope),
                    )
        for candidate in evaluated:
            if candidate[2] != winner:
                heapq.heappush(heap, (candidate[0], candidate[1], candidate[2]))
                if validity:
                    waiting[candidate[2]] = True
                    bound_value[candidate[2]] = candidate[0]
                    bound_slope[candidate[2]] = candidate[3]
        cost = costs[winner]
        most = 0.0
        for k in range(indptr[winner], indptr[winner + 1]):
            group = entry_group[k]
            held = budgets[group]
            utility = entry_utility[k] if use_points else cost
            due = winner_rho * utility
            most = max(most, due)
            left = held - min(held, due)
            left_slope = 0.0
            if validity:
                # Each supporter must stay poor (paying all) or rich (paying the price) as the share grows.
                due_slope = winner_slope * utility
                end = _keep_sign(
                    end,
                    share,
                    held - due,
                    slope[group] - due_slope,
                    money_band,
                    abs(slope[group]) + abs(due_slope),
                )
                if held >= due:
                    left_slope = slope[group] - due_slope
            # A voter who paid (up to rounding) all has nothing left; float dust must not fund a project.
            if left <= TOLERANCE * share:
                left = 0.0
                left_slope = 0.0
            budgets[group] = left
            if validity:
                slope[group] = left_slope
            if record:
                paid[k] = held - left
        selected[count] = winner
        count += 1
        purchase_round[winner] = round_number
        price[winner] = winner_rho
        full_share[winner] = most
    valid_until = end if validity else share
    return numbers, amounts, count, valid_until
