"""The numeric form of an election that the rules run on.

Rules never touch :class:`~participation.tally.model.Ballot` objects. Voters who cast identical ballots are
indistinguishable to every rule here (under MES they always hold the same money), so they are merged into one
*voter group* with a weight: Łódź 2022 has 90 494 ballots but 23 571 distinct ones, Wrocław 2015 (choose-1)
131 778 ballots but 197 distinct ones. Per project the rules get the numpy arrays of its supporting groups,
their weights and (for MES on points) their utilities. Built once per tally, this is what makes a
90 000-ballot Method of Equal Shares run in milliseconds instead of the minutes an object-per-voter
implementation needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TypedDict, cast

import numpy as np
import numpy.typing as npt

from participation.tally.model import Ballot, Instance, Number, VoteType

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BallotKey = tuple[tuple[str, ...], tuple[Number, ...] | None]
"""What makes two ballots the same to every rule: the projects named, in order, and their points."""


class _InstanceFields(TypedDict):
    """The fields of a ``Profile`` that come from the instance alone, whatever the ballots."""

    project_ids: tuple[str, ...]
    costs: tuple[Number, ...]
    cost_array: FloatArray
    budget: Number
    voter_ids: tuple[str, ...]
    vote_type: VoteType


@dataclass(frozen=True, slots=True)
class Profile:
    """Projects as array positions ``0..m-1`` (in the instance's order), voter groups as ``0..g-1``."""

    project_ids: tuple[str, ...]
    costs: tuple[Number, ...]
    """Exact costs, for budget arithmetic that must not round."""
    cost_array: FloatArray
    budget: Number
    voter_ids: tuple[str, ...]
    voter_group: IntArray
    """For each voter (in ballot order), the index of its group."""
    group_weight: FloatArray
    """How many voters each group stands for."""
    supporters: tuple[IntArray, ...]
    """Per project, the groups that gave it a positive score, ascending."""
    weights: tuple[FloatArray, ...]
    """Per project, the weights of those groups (parallel to ``supporters``)."""
    utilities: tuple[FloatArray, ...] | None
    """Per project, the supporting groups' utilities (points); ``None`` means cost utilities."""
    votes: IntArray
    """Number of voters supporting each project."""
    scores: FloatArray
    """What greedy ranks by: the number of votes, or the total points for cumulative/scoring ballots."""
    vote_type: VoteType
    indptr: IntArray
    """The same supporters in flat (CSR) form for the compiled MES: project ``j``'s entries are
    ``indptr[j]:indptr[j + 1]`` of ``entry_group``, ``entry_weight`` and ``entry_utility``."""
    entry_group: IntArray
    entry_weight: FloatArray
    entry_utility: FloatArray
    """Points per entry; empty for cost utilities."""
    eligible: npt.NDArray[np.bool_]
    """Projects MES may consider: supported and with a positive score."""
    vote_floats: FloatArray
    score_list: list[float]
    """``scores`` as Python floats, for the rules' per-project Python loops (numpy scalars are slow there)."""
    id_rank: IntArray
    """Each project's position among the project ids sorted as text: the default tie-breaking order, kept
    with the index because it depends on nothing but the ids."""
    paid_or_unsupported: list[bool]
    """Per project: not a free project with support (which greedy, as pabutools, takes before all others)."""

    @property
    def num_voters(self) -> int:
        return len(self.voter_ids)

    @property
    def num_groups(self) -> int:
        return int(self.group_weight.shape[0])

    @property
    def num_projects(self) -> int:
        return len(self.project_ids)

    def index_of(self, project_id: str) -> int:
        return self.project_ids.index(project_id)

    def total_cost(self, selection: Sequence[int]) -> Number:
        return sum(map(self.costs.__getitem__, selection), 0)


def common_fields(instance: Instance, voter_ids: tuple[str, ...]) -> _InstanceFields:
    """The profile's fields that do not depend on who supports what."""
    project_ids = tuple(instance.projects)
    costs = tuple(instance.projects[project_id].cost for project_id in project_ids)
    return {
        "project_ids": project_ids,
        "costs": costs,
        "cost_array": np.asarray(costs, dtype=np.float64),
        "budget": instance.budget,
        "voter_ids": voter_ids,
        "vote_type": instance.vote_type,
    }


def build_profile(instance: Instance, ballots: Sequence[Ballot], *, with_supporters: bool = True) -> Profile:
    """Index the ballots by project.

    Approval, choose-1, knapsack and ordinal ballots count as approval of every project named (ordinal
    ballots keep their order in the model, but the rules offered here, like pabutools' defaults, only use
    who supports what). Cumulative and scoring ballots use their points, and a project given 0 points is not
    supported. ``with_supporters=False`` only counts votes and points, which is all greedy needs.
    """
    project_ids = tuple(instance.projects)
    uses_points = instance.vote_type.uses_points
    costs = tuple(instance.projects[project_id].cost for project_id in project_ids)
    empty_int = np.zeros(0, dtype=np.int64)
    empty_float = np.zeros(0, dtype=np.float64)
    common = common_fields(instance, tuple(ballot.voter_id for ballot in ballots))
    if not with_supporters:
        votes, scores = _count(project_ids, ballots, uses_points)
        return Profile(
            **common,
            voter_group=empty_int,
            group_weight=np.zeros(0),
            supporters=(),
            weights=(),
            utilities=None,
            votes=votes,
            scores=scores,
            indptr=np.zeros(len(project_ids) + 1, dtype=np.int64),
            entry_group=empty_int,
            entry_weight=empty_float,
            entry_utility=empty_float,
            eligible=(votes > 0) & (scores > 0),
            vote_floats=votes.astype(np.float64),
            score_list=scores.tolist(),
            id_rank=_id_rank(project_ids),
            paid_or_unsupported=_paid_or_unsupported(costs, scores),
        )

    # Ballots are grouped by their literal content: cheap to hash (C-level, no per-ballot Python work beyond
    # one dict lookup), and the same set written in another order merely makes a second group with the same
    # budget, which changes no outcome.
    group_of: dict[BallotKey, int] = {}
    new_group = group_of.setdefault
    keys = [(ballot.projects, ballot.points if uses_points else None) for ballot in ballots]
    voter_group = np.fromiter(
        (new_group(key, len(group_of)) for key in keys),
        dtype=np.int64,
        count=len(keys),
    )
    return profile_from_groups(instance, common, voter_group, list(group_of))


def profile_from_groups(
    instance: Instance, common: _InstanceFields, voter_group: IntArray, distinct: list[BallotKey]
) -> Profile:
    """The profile of voters already merged into groups: ``voter_group[v]`` indexes ``distinct``, the
    groups' (projects, points) in order of first appearance. The pabulib reader groups while it reads."""
    project_ids: tuple[str, ...] = common["project_ids"]
    costs: tuple[Number, ...] = common["costs"]
    position = {project_id: index for index, project_id in enumerate(project_ids)}
    uses_points = instance.vote_type.uses_points
    empty_float = np.zeros(0, dtype=np.float64)
    group_weight = np.bincount(voter_group, minlength=len(distinct)).astype(np.float64)
    if uses_points:
        group_list: list[int] = []
        project_list: list[int] = []
        point_list: list[float] = []
        for group, (chosen, points) in enumerate(distinct):
            for project_id, value in zip(chosen, points or (), strict=True):
                if value > 0:
                    group_list.append(group)
                    project_list.append(position[project_id])
                    point_list.append(float(value))
        groups = np.asarray(group_list, dtype=np.int64)
        projects = np.asarray(project_list, dtype=np.int64)
        point_column = np.asarray(point_list, dtype=np.float64)
    else:
        chosen_sets = [chosen for chosen, _ in distinct]
        lengths = np.fromiter(map(len, chosen_sets), dtype=np.int64, count=len(chosen_sets))
        total = int(lengths.sum())
        projects = np.fromiter(
            map(position.__getitem__, chain.from_iterable(chosen_sets)), dtype=np.int64, count=total
        )
        groups = np.repeat(np.arange(len(chosen_sets), dtype=np.int64), lengths)
        point_column = np.ones(total, dtype=np.float64)
    # Groups were appended in ascending order, so a stable sort by project keeps them ascending within it.
    order = np.argsort(projects, kind="stable")
    groups, projects, point_column = groups[order], projects[order], point_column[order]
    bounds = np.searchsorted(projects, np.arange(len(project_ids) + 1)).astype(np.int64)
    entry_weight = group_weight[groups]
    supporters = tuple(groups[bounds[j] : bounds[j + 1]] for j in range(len(project_ids)))
    weights = tuple(entry_weight[bounds[j] : bounds[j + 1]] for j in range(len(project_ids)))
    votes = np.rint(np.bincount(projects, weights=entry_weight, minlength=len(project_ids))).astype(np.int64)
    utilities: tuple[FloatArray, ...] | None = None
    if uses_points:
        utilities = tuple(point_column[bounds[j] : bounds[j + 1]] for j in range(len(project_ids)))
        # numpy's stub types bincount as intp whatever the weights; with float weights it counts in float64.
        scores = cast(
            FloatArray, np.bincount(projects, weights=point_column * entry_weight, minlength=len(project_ids))
        )
    else:
        scores = votes.astype(np.float64)
    return Profile(
        **common,
        voter_group=voter_group,
        group_weight=group_weight,
        supporters=supporters,
        weights=weights,
        utilities=utilities,
        votes=votes,
        scores=scores,
        indptr=bounds,
        entry_group=groups,
        entry_weight=entry_weight,
        entry_utility=point_column if uses_points else empty_float,
        eligible=(votes > 0) & (scores > 0),
        vote_floats=votes.astype(np.float64),
        score_list=scores.tolist(),
        id_rank=_id_rank(project_ids),
        paid_or_unsupported=_paid_or_unsupported(costs, scores),
    )


def _id_rank(project_ids: tuple[str, ...]) -> IntArray:
    rank = np.empty(len(project_ids), dtype=np.int64)
    rank[sorted(range(len(project_ids)), key=project_ids.__getitem__)] = np.arange(len(project_ids))
    return rank


def _paid_or_unsupported(costs: Sequence[Number], scores: FloatArray) -> list[bool]:
    return [not (cost == 0 and score > 0) for cost, score in zip(costs, scores.tolist(), strict=True)]


def _count(
    project_ids: tuple[str, ...], ballots: Sequence[Ballot], uses_points: bool
) -> tuple[IntArray, FloatArray]:
    """Votes and points per project without indexing supporters."""
    if not uses_points:
        counted = Counter(chain.from_iterable(ballot.projects for ballot in ballots))
        votes = np.asarray([counted.get(project_id, 0) for project_id in project_ids], dtype=np.int64)
        return votes, votes.astype(np.float64)
    vote_count: Counter[str] = Counter()
    points_sum: dict[str, float] = dict.fromkeys(project_ids, 0.0)
    for ballot in ballots:
        for project_id, value in zip(ballot.projects, ballot.points or (), strict=True):
            if value > 0:
                vote_count[project_id] += 1
                points_sum[project_id] += float(value)
    votes = np.asarray([vote_count.get(project_id, 0) for project_id in project_ids], dtype=np.int64)
    return votes, np.asarray([points_sum[project_id] for project_id in project_ids], dtype=np.float64)
