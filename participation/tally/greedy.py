"""The greedy (utilitarian) rule most cities use: fund the most popular projects while money lasts.

Projects are taken by score (votes for approval-like ballots, total points for cumulative ones), ties broken
by the configured order, and a project that no longer fits is skipped so the next one may still be funded
(pabulib ``greedy``; ``greedy-no-skip`` stops at the first project that does not fit instead). With a
threshold (``greedy-threshold``) projects scoring below it are not eligible at all.

For approval ballots this is exactly pabutools' ``greedy_utilitarian_welfare`` with ``Cost_Sat``: its
satisfaction per unit of cost is the number of votes. Like pabutools, a project with no votes that still fits
is funded; the explanation says so, and a city that does not want that sets a threshold of 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from participation.tally.explanation import ProjectExplanation, money
from participation.tally.model import Number
from participation.tally.profile import IntArray, Profile


@dataclass(slots=True)
class GreedyOutcome:
    selected: tuple[int, ...]
    """Newly funded projects, in the order greedy took them (the preselected ones are not repeated)."""
    spent: Number
    order: list[int]
    """The projects greedy considered, in its order (rank 1 first)."""
    available: Number
    """The budget greedy started from."""
    below_threshold: list[int]
    stopped_at: int | None
    """The rank at which greedy-no-skip stopped; the projects after it were not considered."""
    profile: Profile
    stage: str
    min_score: float | None
    _explanations: dict[int, ProjectExplanation] | None = None

    @property
    def explanations(self) -> dict[int, ProjectExplanation]:
        """One explanation per project greedy looked at, written on first use (a recount needs none)."""
        if self._explanations is None:
            self._explanations = self._explain()
        return self._explanations

    def _explain(self) -> dict[int, ProjectExplanation]:
        profile = self.profile
        unit = _unit(profile)
        funded = set(self.selected)
        explanations: dict[int, ProjectExplanation] = {}
        for j in self.below_threshold:
            score = profile.score_list[j]
            assert self.min_score is not None
            reason = f"{money(score)} {unit}, below the threshold of {money(self.min_score)} {unit}"
            explanations[j] = self._explanation(j, "threshold", reason, None, None)
        for position, (j, remaining) in enumerate(self._turns(), start=1):
            score = profile.score_list[j]
            cost = profile.costs[j]
            described = f"rank {position} ({money(score)} {unit})"
            if self.stopped_at is not None and position > self.stopped_at:
                reason = f"{described}: not considered, greedy-no-skip stopped at rank {self.stopped_at}"
            elif j in funded:
                note = " with no votes, because it still fitted" if score == 0 else ""
                fitted = f"cost {money(cost)} fitted in the remaining {money(remaining)}"
                reason = f"{described}: funded{note}, {fitted}"
            else:
                reason = f"{described}: cost {money(cost)} exceeded the remaining {money(remaining)}"
            explanations[j] = self._explanation(j, self.stage, reason, position, remaining)
        return explanations

    def _turns(self) -> list[tuple[int, Number]]:
        """Each considered project with the budget left when its turn came (replayed, not stored)."""
        funded = set(self.selected)
        remaining = self.available
        turns = []
        for j in self.order:
            turns.append((j, remaining))
            if j in funded:
                remaining -= self.profile.costs[j]
        return turns

    def _explanation(
        self, j: int, stage: str, reason: str, rank: int | None, remaining: Number | None
    ) -> ProjectExplanation:
        profile = self.profile
        return ProjectExplanation(
            project_id=profile.project_ids[j],
            cost=profile.costs[j],
            votes=int(profile.votes[j]),
            score=profile.score_list[j],
            selected=j in self.selected,
            stage=stage,
            reason=reason,
            rank=rank,
            remaining_before=None if remaining is None else float(remaining),
        )


def _unit(profile: Profile) -> str:
    return "points" if profile.vote_type.uses_points else "votes"


def greedy(
    profile: Profile,
    *,
    rank: IntArray,
    budget: Number | None = None,
    preselected: Sequence[int] = (),
    min_score: float | None = None,
    skip: bool = True,
    stage: str = "greedy",
) -> GreedyOutcome:
    """Run greedy over the projects not in ``preselected`` with what ``preselected`` left of the budget.

    ``rank`` is the tie-breaking order (see :mod:`participation.tally.tie_breaking`); ``stage`` labels the
    explanations (``completion`` when this fills what the Method of Equal Shares left).
    """
    limit = profile.budget if budget is None else budget
    remaining: Number = limit - profile.total_cost(preselected) if preselected else limit
    scores = profile.score_list
    costs = profile.costs
    below: list[int] = []
    candidates: range | list[int] = range(profile.num_projects)
    if preselected or min_score is not None:
        taken = set(preselected)
        candidates = [j for j in candidates if j not in taken]
        if min_score is not None:
            below = [j for j in candidates if scores[j] < min_score]
            candidates = [j for j in candidates if scores[j] >= min_score]
    # Highest score first, ties by the configured order; pabutools gives a free project with support an
    # infinite score per cost, so such projects go first of all.
    key = list(zip(profile.paid_or_unsupported, [-score for score in scores], rank.tolist(), strict=True))
    order = sorted(candidates, key=key.__getitem__)
    available = remaining
    selected: list[int] = []
    stopped_at: int | None = None
    for position, j in enumerate(order, start=1):
        cost = costs[j]
        if cost <= remaining:
            selected.append(j)
            remaining -= cost
        elif not skip:
            stopped_at = position
            break
    return GreedyOutcome(
        selected=tuple(selected),
        spent=limit - remaining,
        order=order,
        available=available,
        below_threshold=below,
        stopped_at=stopped_at,
        profile=profile,
        stage=stage,
        min_score=min_score,
    )
