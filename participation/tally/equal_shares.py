"""The Method of Equal Shares (MES), one run at a fixed budget per voter.

Every voter gets an equal share of the budget and may only spend it on projects they support. Round after
round MES buys the project whose supporters can pay for it at the lowest price per unit of utility ``rho``:
each supporter pays ``rho * utility`` or, if that is more than they have left, everything they have left.
Utilities are the project's cost for approval-like ballots (pabutools' ``Cost_Sat``, the equalshares.net
default, so ``rho * cost`` is simply the price per supporter) and the points given for cumulative ballots.

Speed comes from three things (equalshares.net's reference implementation does the last two as well):

* the rounds run as compiled loops (:mod:`participation.tally.kernels`) over flat arrays of each project's
  supporting voter groups, so one MES costs microseconds on a neighbourhood and milliseconds on Łódź;
* ``rho`` is found by the poor/rich fixed point (price as if all pay equally, mark those who cannot as
  paying everything, recompute, until nobody new is marked) in a few passes, no sort;
* lazy re-evaluation: budgets only shrink, so a project's last computed ``rho`` is a lower bound on its
  current one; projects are visited in that order and the round stops as soon as the next lower bound is
  worse than the best price found.

Arithmetic is in float64 where pabutools uses exact fractions. Two prices within a relative
:data:`~participation.tally.tolerance.TOLERANCE` are treated as a tie (and broken by the configured
order), and a project whose supporters hold its cost up to that tolerance counts as affordable: exact ties
such as the ``1/votes`` of two projects with equally many supporters are then decided the way pabutools
decides them. Prices that differ by less than one part in 10^9 without being equal do not occur on real
data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from participation.tally.profile import FloatArray, IntArray, Profile


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


@dataclass(frozen=True, slots=True)
class Record:
    """The compiled run's per-project record, decoded into :class:`Purchase` and :class:`Drop` on demand.

    ``numbers`` and ``amounts`` are the two arrays :func:`participation.tally.kernels.mes` returns.
    """

    indptr: IntArray
    numbers: IntArray
    amounts: FloatArray

    def _part(self, array: np.ndarray, index: int) -> np.ndarray:
        m = self.indptr.shape[0] - 1
        return array[index * m : (index + 1) * m]

    @property
    def bought_in(self) -> IntArray:
        return self._part(self.numbers, 1)

    @property
    def dropped_in(self) -> IntArray:
        return self._part(self.numbers, 2)

    @property
    def rho(self) -> FloatArray:
        return self._part(self.amounts, 0)

    @property
    def full_share(self) -> FloatArray:
        return self._part(self.amounts, 1)

    @property
    def available(self) -> FloatArray:
        return self._part(self.amounts, 2)

    @property
    def paid(self) -> FloatArray:
        m = self.indptr.shape[0] - 1
        return self.amounts[3 * m : 3 * m + int(self.indptr[-1])]

    @property
    def budgets(self) -> FloatArray:
        m = self.indptr.shape[0] - 1
        return self.amounts[3 * m + int(self.indptr[-1]) :]


class MesRun:
    """The outcome of one MES run; with a record, who paid what and why the others were not bought.

    The purchases and drops are decoded from the compiled run's arrays only when asked for: a recount that
    only needs the funded projects does not pay for them.
    """

    __slots__ = ("_drops", "_purchases", "_record", "budget_per_voter", "selected")

    def __init__(self, budget_per_voter: float, selected: list[int], record: Record | None = None) -> None:
        self.budget_per_voter = budget_per_voter
        self.selected = selected
        self._record = record
        self._purchases: dict[int, Purchase] | None = None
        self._drops: dict[int, Drop] | None = None

    def _recorded(self) -> Record:
        if self._record is None:
            raise ValueError("this MES run was not recorded")
        return self._record

    @property
    def free(self) -> list[int]:
        """Supported projects that cost nothing, taken before the first round (as pabutools does)."""
        bought_in = self._recorded().bought_in
        return [j for j in self.selected if bought_in[j] == 0]

    @property
    def purchases(self) -> dict[int, Purchase]:
        if self._purchases is None:
            record = self._recorded()
            indptr, bought_in, rho, paid, full_share = (
                record.indptr,
                record.bought_in,
                record.rho,
                record.paid,
                record.full_share,
            )
            self._purchases = {
                j: Purchase(
                    project=j,
                    round=int(bought_in[j]),
                    rho=float(rho[j]),
                    payments=paid[indptr[j] : indptr[j + 1]],
                    full_share=float(full_share[j]),
                )
                for j in self.selected
                if bought_in[j] != 0
            }
        return self._purchases

    @property
    def drops(self) -> dict[int, Drop]:
        if self._drops is None:
            record = self._recorded()
            dropped_in, available = record.dropped_in, record.available
            self._drops = {
                j: Drop(project=j, round=int(dropped_in[j]), available=float(available[j]))
                for j in np.flatnonzero(dropped_in).tolist()
            }
        return self._drops

    @property
    def budgets(self) -> FloatArray:
        """What one member of each voter group has left at the end."""
        return self._recorded().budgets


def compiled_mes(
    profile: Profile,
    budget_per_voter: float,
    *,
    rank: IntArray,
    eligible: npt.NDArray[np.bool_] | None = None,
    record: bool = False,
    validity: bool = False,
) -> tuple[IntArray, FloatArray, int, float]:
    """Call :func:`participation.tally.kernels.mes` on a profile.

    Imported here, on first use, on purpose: loading numba takes a quarter of a second, which a greedy tally
    (and every command or test that never runs MES) need not pay (``tests/test_architecture.py`` lists it).
    """
    from participation.tally.kernels import mes

    return mes(
        profile.indptr,
        profile.entry_group,
        profile.entry_weight,
        profile.entry_utility,
        profile.utilities is not None,
        profile.cost_array,
        profile.vote_floats,
        profile.eligible if eligible is None else eligible,
        rank,
        profile.group_weight.shape[0],
        float(budget_per_voter),
        record,
        validity,
    )


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
    times without it and records only the run it keeps. The loops are compiled
    (:mod:`participation.tally.kernels`).
    """
    eligible = None
    if preselected:
        eligible = profile.eligible.copy()
        eligible[list(preselected)] = False
    numbers, amounts, count, _ = compiled_mes(
        profile, budget_per_voter, rank=rank, eligible=eligible, record=record
    )
    selected = numbers[:count].tolist()
    if not record:
        return MesRun(float(budget_per_voter), selected)
    return MesRun(float(budget_per_voter), selected, Record(profile.indptr, numbers, amounts))
