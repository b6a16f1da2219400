"""The tally's front door: choose a rule, run it, explain every project.

:func:`tally` works on in-memory objects so the database layer can call it with ballots loaded from
PostgreSQL; :func:`tally_file` is the same on a pabulib file and returns plain JSON-able data for the command
line (``civicloop pb tally``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from participation.tally.completion import (
    ADD1_STOPS,
    COMPARISONS,
    COMPLETIONS,
    ComparisonOutcome,
    add1,
    compare_with_greedy,
    greedy_fill,
)
from participation.tally.equal_shares import MesRun, run_mes
from participation.tally.explanation import PaymentSummary, ProjectExplanation, json_number, money
from participation.tally.greedy import GreedyOutcome, greedy
from participation.tally.model import Ballot, Instance, Number
from participation.tally.pabulib import parse_pabulib
from participation.tally.profile import IntArray, Profile, build_profile
from participation.tally.tie_breaking import DEFAULT_TIE_BREAK, tie_break_rank

RULES = ("greedy", "greedy-threshold", "greedy-no-skip", "mes")
RULE_ALIASES = {"equalshares": "mes", "equal-shares": "mes", "method-of-equal-shares": "mes"}


class TallyConfigurationError(ValueError):
    """A rule, completion or option that does not exist or does not make sense together."""


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """A fully spelled-out rule, as :func:`rule_from_meta` derives it from a file's ``META rule``."""

    rule: str
    completion: str = "none"
    add1_stop: str = "exhaustive"
    comparison: str | None = None
    min_score: float | None = None


def rule_from_meta(instance: Instance) -> RuleOptions:
    """Translate pabulib's ``META rule`` into our options, so an official outcome can be recomputed.

    The ``equalshares/add1*`` rules use the ``infeasible`` add1 stop, as the equalshares.net tool that the
    cities used does: it reproduces all three official MES outcomes we hold (Assen 2024 and Świecie 2023
    come out the same with either stop, Wieliczka 2023 only with this one). ``equalshares/add1-comparison``
    is MES + add1 followed by the comparison with greedy. The default of :func:`tally` stays ``exhaustive``,
    pabutools' add1.
    """
    declared = (instance.rule or "").strip().lower()
    if declared == "greedy":
        return RuleOptions(rule="greedy")
    if declared == "greedy-no-skip":
        return RuleOptions(rule="greedy-no-skip")
    if declared == "greedy-threshold":
        return RuleOptions(rule="greedy-threshold", min_score=instance.min_project_score_threshold)
    if declared == "equalshares":
        return RuleOptions(rule="mes")
    if declared == "equalshares-comparison":
        return RuleOptions(rule="mes", comparison="greedy")
    if declared == "equalshares/add1":
        return RuleOptions(rule="mes", completion="add1", add1_stop="infeasible")
    if declared == "equalshares/add1-comparison":
        return RuleOptions(rule="mes", completion="add1", add1_stop="infeasible", comparison="greedy")
    raise TallyConfigurationError(
        f"META rule {instance.rule!r} has no equivalent here; name the rule explicitly"
    )


@dataclass(slots=True)
class TallyResult:
    """The outcome, with an explanation per project and per-voter MES payments on request.

    The explanations are written on first use of :attr:`explanations`: computing the outcome and explaining
    it are separate costs (the benchmark reports both), and a recount that only compares winners skips the
    second.
    """

    rule: str
    completion: str
    add1_stop: str | None
    comparison: str | None
    tie_break: str
    budget: Number
    spent: Number
    selected: list[str]
    """Funded project ids in the order they were chosen."""
    details: dict[str, Any] = field(default_factory=dict)
    _explain: Callable[[], dict[str, ProjectExplanation]] | None = field(default=None, repr=False)
    _explanations: dict[str, ProjectExplanation] | None = field(default=None, repr=False)
    _profile: Profile | None = field(default=None, repr=False)
    _run: MesRun | None = field(default=None, repr=False)

    @property
    def explanations(self) -> dict[str, ProjectExplanation]:
        """Why each project was or was not funded, keyed by project id in the instance's order."""
        if self._explanations is None:
            self._explanations = self._explain() if self._explain is not None else {}
            self._explain = None
        return self._explanations

    def payments(self, project_id: str) -> dict[str, float]:
        """What each supporter paid for a project bought by MES (empty for any other project)."""
        if self._run is None or self._profile is None:
            return {}
        index = self._profile.index_of(project_id)
        purchase = self._run.purchases.get(index)
        if purchase is None:
            return {}
        groups = self._profile.supporters[index]
        paid_by_group = np.zeros(self._profile.num_groups)
        paid_by_group[groups] = purchase.payments
        supports = np.zeros(self._profile.num_groups, dtype=bool)
        supports[groups] = True
        voters = np.flatnonzero(supports[self._profile.voter_group])
        amounts = paid_by_group[self._profile.voter_group[voters]]
        voter_ids = self._profile.voter_ids
        return {
            voter_ids[voter]: amount for voter, amount in zip(voters.tolist(), amounts.tolist(), strict=True)
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "completion": self.completion,
            "add1_stop": self.add1_stop,
            "comparison": self.comparison,
            "tie_break": self.tie_break,
            "budget": json_number(self.budget),
            "spent": json_number(self.spent),
            "selected": list(self.selected),
            "details": self.details,
            "explanations": {key: value.to_dict() for key, value in self.explanations.items()},
        }


def tally(
    instance: Instance,
    ballots: Sequence[Ballot],
    *,
    rule: str,
    completion: str = "none",
    add1_stop: str = "exhaustive",
    comparison: str | None = None,
    tie_break: str = DEFAULT_TIE_BREAK,
    min_score: float | None = None,
    profile: Profile | None = None,
) -> TallyResult:
    """Compute an outcome.

    ``rule``: ``greedy``, ``greedy-threshold`` (``min_score`` or the instance's
    ``min_project_score_threshold``), ``greedy-no-skip`` or ``mes``. ``completion``, ``add1_stop`` and
    ``comparison`` apply to ``mes`` only (see :mod:`participation.tally.completion`). ``tie_break`` is one of
    :data:`~participation.tally.tie_breaking.TIE_BREAKS`; the default equals pabutools' default.
    ``profile`` is the ballots' numeric form when the caller already has it (:func:`parse_pabulib` builds
    it while reading a file, as pabutools builds its profile objects while parsing).
    """
    rule = RULE_ALIASES.get(rule, rule)
    if rule not in RULES:
        raise TallyConfigurationError(f"unknown rule {rule!r}; choose one of {list(RULES)}")
    if completion not in COMPLETIONS:
        raise TallyConfigurationError(f"unknown completion {completion!r}; choose one of {list(COMPLETIONS)}")
    if add1_stop not in ADD1_STOPS:
        raise TallyConfigurationError(f"unknown add1 stop {add1_stop!r}; choose one of {list(ADD1_STOPS)}")
    if comparison is not None and comparison not in COMPARISONS:
        raise TallyConfigurationError(f"unknown comparison {comparison!r}; choose one of {list(COMPARISONS)}")
    if rule != "mes" and (completion != "none" or comparison is not None):
        raise TallyConfigurationError("completion and comparison only apply to the rule 'mes'")
    if profile is None:
        # Greedy only needs vote counts; MES (and the comparison step) needs to know who supports what.
        profile = build_profile(instance, ballots, with_supporters=rule == "mes")
    elif rule == "mes" and profile.num_voters and not profile.num_groups:
        raise TallyConfigurationError("this profile was built without supporters, which MES needs")
    try:
        rank = tie_break_rank(profile, tie_break)
    except ValueError as error:
        raise TallyConfigurationError(str(error)) from None
    if rule == "mes":
        return _tally_mes(profile, rank, completion, add1_stop, comparison, tie_break)
    if rule == "greedy-threshold":
        min_score = instance.min_project_score_threshold if min_score is None else min_score
        if min_score is None:
            raise TallyConfigurationError(
                "greedy-threshold needs min_score or META min_project_score_threshold"
            )
    outcome = greedy(profile, rank=rank, min_score=min_score, skip=rule != "greedy-no-skip")
    details: dict[str, Any] = {"num_voters": profile.num_voters}
    if min_score is not None:
        details["min_score"] = min_score
    return TallyResult(
        rule=rule,
        completion="none",
        add1_stop=None,
        comparison=None,
        tie_break=tie_break,
        budget=profile.budget,
        spent=outcome.spent,
        selected=[profile.project_ids[j] for j in outcome.selected],
        details=details,
        _explain=lambda: _by_project_id(profile, outcome.explanations),
        _profile=profile,
    )


def _tally_mes(
    profile: Profile,
    rank: IntArray,
    completion: str,
    add1_stop: str,
    comparison: str | None,
    tie_break: str,
) -> TallyResult:
    details: dict[str, Any] = {"num_voters": profile.num_voters}
    if completion == "none":
        share = profile.budget / profile.num_voters if profile.num_voters else 0.0
        run = run_mes(profile, share, rank=rank, record=True)
        details["mes_runs"] = 1
    else:
        outcome = add1(profile, rank=rank, stop=add1_stop)
        run = outcome.run
        details["add1_increments"] = outcome.increments
        details["mes_runs"] = outcome.runs
    details["budget_per_voter"] = run.budget_per_voter
    selected = list(run.selected)
    fill: GreedyOutcome | None = None
    if completion == "add1-greedy":
        fill = greedy_fill(profile, selected, rank=rank)
        selected.extend(fill.selected)
    compared: ComparisonOutcome | None = None
    if comparison == "greedy":
        compared = compare_with_greedy(profile, selected, rank=rank)
        details["comparison"] = compared.to_dict()
        if compared.switched:
            selected = list(compared.greedy.selected)

    def explain() -> dict[str, ProjectExplanation]:
        if compared is not None and compared.switched:
            return _switched(profile, compared)
        explanations = _explain_mes(profile, run)
        return explanations if fill is None else _merge_completion(profile, explanations, fill)

    return TallyResult(
        rule="mes",
        completion=completion,
        add1_stop=add1_stop if completion != "none" else None,
        comparison=comparison,
        tie_break=tie_break,
        budget=profile.budget,
        spent=profile.total_cost(selected),
        selected=[profile.project_ids[j] for j in selected],
        details=details,
        _explain=explain,
        _profile=profile,
        _run=None if compared is not None and compared.switched else run,
    )


def _base(profile: Profile, j: int) -> dict[str, Any]:
    return {
        "project_id": profile.project_ids[j],
        "cost": profile.costs[j],
        "votes": int(profile.votes[j]),
        "score": float(profile.scores[j]),
    }


def _explain_mes(profile: Profile, run: MesRun) -> dict[str, ProjectExplanation]:
    per_point = profile.utilities is not None
    explanations: dict[str, ProjectExplanation] = {}
    purchases, drops, free = run.purchases, run.drops, set(run.free)
    for j in range(profile.num_projects):
        base = _base(profile, j)
        purchase = purchases.get(j)
        drop = drops.get(j)
        if purchase is not None:
            payments = purchase.payments
            weights = profile.weights[j]
            full = purchase.full_share
            partial = int(round(float(weights[payments < full * (1 - 1e-9)].sum())))
            supporters = int(profile.votes[j])
            summary = PaymentSummary(
                supporters=supporters,
                full_share_payers=supporters - partial,
                partial_payers=partial,
                max_payment=float(payments.max()),
                min_payment=float(payments.min()),
                total=float(np.dot(payments, weights)),
            )
            price = f"{money(purchase.rho)} per point" if per_point else f"up to {money(full)} per supporter"
            partial_note = f"; {partial} of them paid less, all they had left" if partial else ""
            reason = (
                f"bought in round {purchase.round}: {summary.supporters} supporters paid {price} "
                f"(total {money(summary.total)}){partial_note}"
            )
            explanations[base["project_id"]] = ProjectExplanation(
                **base,
                selected=True,
                stage="mes",
                reason=reason,
                round=purchase.round,
                price_per_utility=purchase.rho,
                payments=summary,
            )
        elif j in free:
            explanations[base["project_id"]] = ProjectExplanation(
                **base,
                selected=True,
                stage="mes",
                reason="costs nothing and has support: funded before round 1",
            )
        elif drop is not None:
            reason = (
                f"not bought: in round {drop.round} its {base['votes']} supporters had "
                f"{money(drop.available)} "
                f"left in total, less than its cost {money(profile.costs[j])}"
            )
            explanations[base["project_id"]] = ProjectExplanation(
                **base,
                selected=False,
                stage="mes",
                reason=reason,
                supporters_budget=drop.available,
                dropped_in_round=drop.round,
            )
        else:
            explanations[base["project_id"]] = ProjectExplanation(
                **base,
                selected=False,
                stage="no-support",
                reason="nobody supported it, so no share could pay",
            )
    return explanations


def _merge_completion(
    profile: Profile, explanations: dict[str, ProjectExplanation], fill: GreedyOutcome
) -> dict[str, ProjectExplanation]:
    merged = dict(explanations)
    for j, explanation in fill.explanations.items():
        previous = explanations[profile.project_ids[j]]
        merged[profile.project_ids[j]] = ProjectExplanation(
            project_id=explanation.project_id,
            cost=explanation.cost,
            votes=explanation.votes,
            score=explanation.score,
            selected=explanation.selected,
            stage="completion",
            reason=f"{previous.reason}; greedy completion: {explanation.reason}",
            rank=explanation.rank,
            remaining_before=explanation.remaining_before,
            supporters_budget=previous.supporters_budget,
            dropped_in_round=previous.dropped_in_round,
        )
    return merged


def _switched(profile: Profile, compared: ComparisonOutcome) -> dict[str, ProjectExplanation]:
    prefix = (
        f"comparison step: {compared.prefer_greedy} voters preferred the greedy outcome and "
        f"{compared.prefer_mes} the equal-shares one, so the greedy outcome is used"
    )
    result = {}
    for key, explanation in _by_project_id(profile, compared.greedy.explanations).items():
        result[key] = ProjectExplanation(
            project_id=explanation.project_id,
            cost=explanation.cost,
            votes=explanation.votes,
            score=explanation.score,
            selected=explanation.selected,
            stage="comparison",
            reason=f"{prefix}; {explanation.reason}",
            rank=explanation.rank,
            remaining_before=explanation.remaining_before,
        )
    return result


def _by_project_id(
    profile: Profile, explanations: dict[int, ProjectExplanation]
) -> dict[str, ProjectExplanation]:
    """Key by project id, in the instance's order (the order a city lists its projects in)."""
    return {profile.project_ids[j]: explanations[j] for j in range(profile.num_projects) if j in explanations}


def tally_file(
    path: str | Path,
    *,
    rule: str,
    completion: str = "none",
    add1_stop: str = "exhaustive",
    comparison: str | None = None,
    tie_break: str = DEFAULT_TIE_BREAK,
    min_score: float | None = None,
) -> dict[str, Any]:
    """Tally a pabulib file; ``rule="meta"`` uses the rule the file itself declares (:func:`rule_from_meta`).

    The result also carries ``official_selected`` (the file's ``selected`` column, or ``None``) and
    ``matches_official`` so a recount can be checked against what the city announced.
    """
    election = parse_pabulib(path)
    instance = election.instance
    if rule == "meta":
        options = rule_from_meta(instance)
        rule, completion, comparison = options.rule, options.completion, options.comparison
        add1_stop = options.add1_stop
        min_score = options.min_score if min_score is None else min_score
    result = tally(
        instance,
        election.ballots,
        rule=rule,
        completion=completion,
        add1_stop=add1_stop,
        comparison=comparison,
        tie_break=tie_break,
        min_score=min_score,
        profile=election.profile,
    ).to_dict()
    flags = [project.officially_selected for project in instance.projects.values()]
    official = None
    if any(flag is not None for flag in flags):
        official = [
            project.project_id for project in instance.projects.values() if project.officially_selected
        ]
    result["official_selected"] = official
    result["matches_official"] = None if official is None else sorted(official) == sorted(result["selected"])
    result["file"] = str(path)
    result["declared_rule"] = instance.rule
    return result
