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


@dataclass(frozen=True, slots=True)
class GreedyOutcome:
    selected: tuple[int, ...]
    """Newly funded projects, in the order greedy took them (the preselected ones are not repeated)."""
    spent: Number
    explanations: dict[int, ProjectExplanation]


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
    taken = set(preselected)
    remaining: Number = limit - profile.total_cost(list(preselected))
    unit = _unit(profile)
    explanations: dict[int, ProjectExplanation] = {}
    candidates: list[int] = []
    for j in range(profile.num_projects):
        if j in taken:
            continue
        score = float(profile.scores[j])
        if min_score is not None and score < min_score:
            explanations[j] = _explain(
                profile,
                j,
                selected=False,
                stage="threshold",
                reason=f"{money(score)} {unit}, below the threshold of {money(min_score)} {unit}",
            )
            continue
        candidates.append(j)

    def order_key(j: int) -> tuple[int, float, int]:
        # pabutools gives a free project with support an infinite score per cost: it goes first.
        free_first = 0 if profile.costs[j] == 0 and profile.scores[j] > 0 else 1
        return (free_first, -float(profile.scores[j]), int(rank[j]))

    candidates.sort(key=order_key)
    selected: list[int] = []
    stopped_at: int | None = None
    for position, j in enumerate(candidates, start=1):
        cost = profile.costs[j]
        score = float(profile.scores[j])
        described = f"rank {position} ({money(score)} {unit})"
        if stopped_at is not None:
            explanations[j] = _explain(
                profile,
                j,
                selected=False,
                stage=stage,
                rank=position,
                remaining_before=remaining,
                reason=f"{described}: not considered, greedy-no-skip stopped at rank {stopped_at}",
            )
            continue
        if cost <= remaining:
            selected.append(j)
            note = " with no votes, because it still fitted" if score == 0 else ""
            explanations[j] = _explain(
                profile,
                j,
                selected=True,
                stage=stage,
                rank=position,
                remaining_before=remaining,
                reason=(
                    f"{described}: funded{note}, cost {money(cost)} fitted in the remaining "
                    f"{money(remaining)}"
                ),
            )
            remaining -= cost
        else:
            explanations[j] = _explain(
                profile,
                j,
                selected=False,
                stage=stage,
                rank=position,
                remaining_before=remaining,
                reason=f"{described}: cost {money(cost)} exceeded the remaining {money(remaining)}",
            )
            if not skip:
                stopped_at = position
    return GreedyOutcome(
        selected=tuple(selected),
        spent=limit - remaining,
        explanations=explanations,
    )


def _explain(
    profile: Profile,
    j: int,
    *,
    selected: bool,
    stage: str,
    reason: str,
    rank: int | None = None,
    remaining_before: Number | None = None,
) -> ProjectExplanation:
    return ProjectExplanation(
        project_id=profile.project_ids[j],
        cost=profile.costs[j],
        votes=int(profile.votes[j]),
        score=float(profile.scores[j]),
        selected=selected,
        stage=stage,
        reason=reason,
        rank=rank,
        remaining_before=None if remaining_before is None else float(remaining_before),
    )
