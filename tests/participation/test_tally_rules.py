"""The rules on hand-computed elections: outcomes, explanations, tie-breaking and option errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from participation.tally import (
    Ballot,
    Instance,
    Project,
    TallyConfigurationError,
    VoteType,
    parse_pabulib_text,
    tally,
    tally_file,
)


def election(
    budget: int,
    costs: dict[str, int],
    votes: dict[str, tuple[str, ...]],
    *,
    points: dict[str, tuple[int, ...]] | None = None,
) -> tuple[Instance, list[Ballot]]:
    vote_type = VoteType.CUMULATIVE if points else VoteType.APPROVAL
    instance = Instance(
        budget=budget,
        projects={key: Project(project_id=key, cost=cost) for key, cost in costs.items()},
        vote_type=vote_type,
    )
    ballots = [
        Ballot(voter_id=voter, projects=chosen, points=None if points is None else points[voter])
        for voter, chosen in votes.items()
    ]
    return instance, ballots


# Budget 120 for 4 voters: 30 each. a (60) is supported by v1, v2; b (40) by v2, v3, v4; c (45) by v4 alone.
SMALL = election(
    120,
    {"a": 60, "b": 40, "c": 45},
    {"v1": ("a",), "v2": ("a", "b"), "v3": ("b",), "v4": ("b", "c")},
)


def test_greedy_skips_what_no_longer_fits_and_says_so() -> None:
    instance, ballots = election(
        100, {"a": 60, "b": 50, "c": 40}, {"x": ("a", "b"), "y": ("a", "c"), "z": ("a", "b")}
    )
    result = tally(instance, ballots, rule="greedy")
    assert result.selected == ["a", "c"]
    assert result.spent == 100
    assert result.explanations["b"].reason == "rank 2 (2 votes): cost 50 exceeded the remaining 40"
    assert result.explanations["c"].rank == 3 and result.explanations["c"].selected
    assert tally(instance, ballots, rule="greedy-no-skip").selected == ["a"]
    threshold = tally(instance, ballots, rule="greedy-threshold", min_score=2)
    assert threshold.selected == ["a"]
    assert threshold.explanations["c"].stage == "threshold"


def test_mes_buys_the_cheapest_per_supporter_and_explains_the_rest() -> None:
    instance, ballots = SMALL
    result = tally(instance, ballots, rule="mes")
    assert result.selected == ["b"]
    bought = result.explanations["b"]
    assert bought.round == 1 and bought.payments is not None
    assert bought.payments.supporters == 3 and bought.payments.partial_payers == 0
    assert bought.payments.max_payment == pytest.approx(40 / 3)
    assert sum(result.payments("b").values()) == pytest.approx(40)
    assert set(result.payments("b")) == {"v2", "v3", "v4"}
    # Both are looked at again only in round 2 (their first prices could not beat b's): by then v4 holds
    # 16.67 < 45 for c, and v1 and v2 hold 30 + 16.67 < 60 for a.
    assert result.explanations["c"].dropped_in_round == 2
    assert result.explanations["c"].supporters_budget == pytest.approx(30 - 40 / 3)
    assert result.explanations["a"].dropped_in_round == 2
    assert result.explanations["a"].supporters_budget == pytest.approx(30 + 30 - 40 / 3)
    assert "less than its cost 60" in result.explanations["a"].reason


def test_add1_raises_the_share_until_the_outcome_is_exhaustive() -> None:
    instance, ballots = SMALL
    result = tally(instance, ballots, rule="mes", completion="add1")
    # a becomes affordable once 2t - 40/3 >= 60, i.e. t = 37 = 30 + 7.
    assert sorted(result.selected) == ["a", "b"]
    assert result.details["add1_increments"] == 7
    assert result.payments("a") == pytest.approx({"v1": 60 - (37 - 40 / 3), "v2": 37 - 40 / 3})
    assert result.explanations["a"].payments is not None
    assert result.explanations["a"].payments.partial_payers == 1


def test_exact_affordability_counts_as_affordable() -> None:
    # 2 voters with 25 each and a project of exactly 50: pabutools buys it, so must we.
    instance, ballots = election(50, {"p": 50}, {"v1": ("p",), "v2": ("p",)})
    assert tally(instance, ballots, rule="mes").selected == ["p"]


def test_comparison_switches_to_greedy_when_more_voters_prefer_it() -> None:
    instance, ballots = SMALL
    result = tally(instance, ballots, rule="mes", comparison="greedy")
    # MES alone funds {b}; greedy funds {a, b}: v1 and v2 prefer greedy, v3 and v4 are indifferent.
    assert sorted(result.selected) == ["a", "b"]
    assert result.details["comparison"] == {
        "against": "greedy",
        "prefer_mes": 0,
        "prefer_greedy": 2,
        "indifferent": 2,
        "switched_to_greedy": True,
    }
    assert all(explanation.stage == "comparison" for explanation in result.explanations.values())
    assert result.payments("b") == {}


def test_add1_greedy_fills_what_equal_shares_left() -> None:
    instance, ballots = election(
        100,
        {"a": 50, "b": 50, "c": 30},
        {"v1": ("a", "c"), "v2": ("a",), "v3": ("b",), "v4": ("c",)},
    )
    plain = tally(instance, ballots, rule="mes", completion="add1")
    filled = tally(instance, ballots, rule="mes", completion="add1-greedy")
    assert set(plain.selected) <= set(filled.selected)
    for project_id in set(filled.selected) - set(plain.selected):
        assert filled.explanations[project_id].stage == "completion"
    assert filled.spent <= 100


def test_cumulative_ballots_use_points_as_utilities() -> None:
    instance, ballots = election(
        100,
        {"x": 40, "y": 60},
        {"v1": ("x", "y"), "v2": ("y",)},
        points={"v1": (3, 1), "v2": (2,)},
    )
    result = tally(instance, ballots, rule="mes")
    assert result.selected == ["x", "y"]
    assert result.explanations["x"].price_per_utility == pytest.approx(40 / 3)
    # In round 2 v1 has 10 left (< 20 due), pays it all; v2 pays the other 50, exactly what it has.
    assert result.payments("y") == pytest.approx({"v1": 10, "v2": 50})
    assert tally(instance, ballots, rule="greedy").explanations["x"].score == 3


TIE = election(50, {"p10": 50, "p9": 30}, {"v1": ("p10", "p9"), "v2": ("p9", "p10")})


@pytest.mark.parametrize(
    ("tie_break", "expected"),
    [("id", ["p10"]), ("cost", ["p9"]), ("votes", ["p10"])],
)
def test_tie_breaking_is_explicit(tie_break: str, expected: list[str]) -> None:
    instance, ballots = TIE
    assert tally(instance, ballots, rule="greedy", tie_break=tie_break).selected == expected


def test_mes_tie_breaking_is_explicit() -> None:
    # Both cost 30 with 1 supporter each holding 30: equal prices, so the order decides which goes first.
    instance, ballots = election(60, {"p10": 30, "p9": 30}, {"v1": ("p10",), "v2": ("p9",)})
    by_id = tally(instance, ballots, rule="mes")
    assert by_id.selected == ["p10", "p9"]
    assert by_id.explanations["p9"].round == 2


@pytest.mark.parametrize(
    "options",
    [
        {"rule": "borda"},
        {"rule": "greedy", "completion": "add1"},
        {"rule": "mes", "completion": "add2"},
        {"rule": "mes", "add1_stop": "never"},
        {"rule": "mes", "comparison": "phragmen"},
        {"rule": "mes", "tie_break": "random"},
        {"rule": "greedy-threshold"},
    ],
)
def test_options_that_do_not_exist_are_refused(options: dict[str, Any]) -> None:
    instance, ballots = SMALL
    with pytest.raises(TallyConfigurationError):
        tally(instance, ballots, **options)


def test_tally_file_returns_json_ready_data(tmp_path: Path) -> None:
    text = """META
key;value
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;selected
007;60;1
2;50;0
3;40;1
VOTES
voter_id;vote
a;007,2
b;007,3
c;2,007
"""
    path = tmp_path / "tiny.pb"
    path.write_text(text)
    result = tally_file(path, rule="meta")
    assert json.loads(json.dumps(result)) == result
    assert result["selected"] == ["007", "3"]
    assert result["budget"] == 100 and result["spent"] == 100
    assert result["official_selected"] == ["007", "3"] and result["matches_official"] is True
    assert set(result["explanations"]) == {"007", "2", "3"}
    assert result["explanations"]["2"]["reason"] == "rank 2 (2 votes): cost 50 exceeded the remaining 40"
    mes = tally_file(path, rule="mes", completion="add1-greedy", comparison="greedy")
    assert json.loads(json.dumps(mes)) == mes
    assert {"rule", "completion", "budget", "spent", "selected", "explanations"} <= set(mes)


def test_empty_election_funds_nothing_but_free_projects() -> None:
    election_text = (
        "META\nkey;value\nbudget;10\nvote_type;approval\n"
        "PROJECTS\nproject_id;cost\na;5\nVOTES\nvoter_id;vote\n"
    )
    parsed = parse_pabulib_text(election_text)
    assert tally(parsed.instance, parsed.ballots, rule="mes", completion="add1").selected == []


@pytest.mark.parametrize("vote_type", ["knapsack", "ordinal", "choose-1"])
def test_other_approval_like_ballots_count_as_approval(vote_type: str) -> None:
    text = """META
key;value
budget;100
vote_type;{vote_type}
PROJECTS
project_id;cost
a;60
b;50
c;40
VOTES
voter_id;vote
x;a
y;b
z;a
w;c
"""
    approval = parse_pabulib_text(text.format(vote_type="approval"))
    other = parse_pabulib_text(text.format(vote_type=vote_type))
    for rule in ("greedy", "mes"):
        expected = tally(approval.instance, approval.ballots, rule=rule)
        result = tally(other.instance, other.ballots, rule=rule)
        assert result.selected == expected.selected
    assert tally(other.instance, other.ballots, rule="greedy").selected == ["a", "c"]
