"""The pabulib reader and writer: real files parse, broken files name their line, export anonymises."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from participation.tally import (
    Ballot,
    PabulibFormatError,
    VoteType,
    dumps_pabulib,
    parse_pabulib,
    parse_pabulib_text,
    write_pabulib,
)
from participation.tally.pabulib import ParsedBallots
from participation.tally.profile import Profile

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pabulib"
REAL_FILES = sorted(DATA.glob("*.pb"))

GOOD = """META
key;value
description;"Test; with a quoted separator"
budget;100
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;votes;name;selected
1;60;3;"Park; north";1
2;50;2;Library;0
3;40;1;Bench;1
VOTES
voter_id;vote;age
a;1,2;30
b;1,3;41
c;2,1;52
"""


def test_the_shared_data_set_is_present() -> None:
    assert len(REAL_FILES) == 6, f"expected the six pabulib files in {DATA}"


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda path: path.stem)
def test_real_files_parse_to_their_declared_size(path: Path) -> None:
    election = parse_pabulib(path)
    meta = election.instance.meta
    assert len(election.instance.projects) == int(meta["num_projects"])
    assert len(election.ballots) == int(meta["num_votes"])
    # The PROJECTS 'votes' column is the city's count: ours must agree with it.
    counted = Counter(project_id for ballot in election.ballots for project_id in ballot.projects)
    for project in election.instance.projects.values():
        if "votes" in project.fields:
            assert counted[project.project_id] == int(project.fields["votes"]), project.project_id


def test_quoted_fields_and_columns_are_kept() -> None:
    election = parse_pabulib_text(GOOD)
    assert election.instance.meta["description"] == "Test; with a quoted separator"
    assert election.instance.projects["1"].name == "Park; north"
    assert election.instance.projects["1"].officially_selected is True
    assert election.instance.projects["2"].officially_selected is False
    assert election.ballots[2] == Ballot(voter_id="c", projects=("2", "1"), fields={"age": "52"})
    assert election.instance.budget == 100 and isinstance(election.instance.budget, int)


def test_cumulative_and_ordinal_ballots() -> None:
    cumulative = GOOD.replace("vote_type;approval", "vote_type;cumulative").replace(
        "voter_id;vote;age\na;1,2;30\nb;1,3;41\nc;2,1;52",
        "voter_id;vote;points\na;1,2;3,2\nb;1,3;5,0\nc;2;1.5",
    )
    election = parse_pabulib_text(cumulative)
    assert election.instance.vote_type is VoteType.CUMULATIVE
    assert election.ballots[0].points == (3, 2)
    assert election.ballots[2].points == (1.5,)
    ordinal = GOOD.replace("vote_type;approval", "vote_type;ordinal")
    assert parse_pabulib_text(ordinal).ballots[2].projects == ("2", "1")


MALFORMED = [
    ("PROJECTS\nproject_id;cost\n", 1, "expected section META"),
    (GOOD.replace("budget;100\n", ""), 6, "lacks the required key 'budget'"),
    (GOOD.replace("budget;100", "budget;lots"), 7, "budget 'lots' is not a number"),
    (GOOD.replace("vote_type;approval", "vote_type;telepathy"), 7, "vote_type 'telepathy'"),
    (
        GOOD.replace("2;50;2;Library;0", "2;fifty;2;Library;0"),
        10,
        "cost of project '2' 'fifty' is not a number",
    ),
    (GOOD.replace("2;50;2;Library;0", "2;-50;2;Library;0"), 10, "negative"),
    (GOOD.replace("2;50;2;Library;0", "2;50;2;Library"), 10, "4 fields but the header has 5"),
    (GOOD.replace("2;50;2;Library;0", "1;50;2;Library;0"), 10, "project id '1' appears twice"),
    (GOOD.replace("b;1,3;41", "b;1,9;41"), 15, "unknown project '9'"),
    (GOOD.replace("b;1,3;41", "b;1,1;41"), 15, "names a project twice"),
    (GOOD.replace("c;2,1;52", "a;2,1;52"), 16, "voter id 'a' appears twice"),
    (GOOD.replace("voter_id;vote;age", "voter_id;ballot;age"), 13, "lacks the column 'vote'"),
    (
        GOOD.replace("project_id;cost;votes", "id;cost;votes"),
        8,
        "first column of PROJECTS must be 'project_id'",
    ),
    (GOOD.split("VOTES")[0], None, "the file has no VOTES section"),
    (GOOD + "PROJECTS\nproject_id;cost\n", 17, "section PROJECTS appears twice"),
    (GOOD.replace("b;1,3;41", 'b;"1,3;41'), 15, "a quote opened here is never closed"),
]


@pytest.mark.parametrize(("text", "line", "message"), MALFORMED)
def test_malformed_files_name_the_line_and_the_problem(text: str, line: int | None, message: str) -> None:
    with pytest.raises(PabulibFormatError) as caught:
        parse_pabulib_text(text)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_points_must_match_the_vote() -> None:
    cumulative = GOOD.replace("vote_type;approval", "vote_type;cumulative").replace(
        "voter_id;vote;age\na;1,2;30", "voter_id;vote;points\na;1,2;3"
    )
    with pytest.raises(PabulibFormatError, match=r"line 14: voter 'a' lists 2 projects but 1 points"):
        parse_pabulib_text(cumulative.split("b;1,3;41")[0])


def test_invalid_utf8_reports_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.pb"
    path.write_bytes(GOOD.encode().replace(b"Library", b"Libr\xffary"))
    with pytest.raises(PabulibFormatError, match=r"line 10: not valid UTF-8"):
        parse_pabulib(path)


def test_export_anonymises_and_round_trips(tmp_path: Path) -> None:
    election = parse_pabulib_text(GOOD)
    path = tmp_path / "out.pb"
    write_pabulib(election, path)
    again = parse_pabulib(path)
    assert again.instance.projects == election.instance.projects
    assert again.instance.budget == election.instance.budget
    assert sorted(ballot.voter_id for ballot in again.ballots) == ["1", "2", "3"]
    assert Counter(ballot.projects for ballot in again.ballots) == Counter(
        ballot.projects for ballot in election.ballots
    )
    # Demographics leave only when asked for, and ballots are no longer in submission order.
    assert all(ballot.fields == {} for ballot in again.ballots)
    assert [ballot.projects for ballot in again.ballots] == sorted(
        ballot.projects for ballot in again.ballots
    )
    assert "a;" not in path.read_text()
    kept = parse_pabulib_text(dumps_pabulib(election, voter_fields=("age",)))
    assert sorted(ballot.fields["age"] for ballot in kept.ballots) == ["30", "41", "52"]
    verbatim = parse_pabulib_text(dumps_pabulib(election, anonymise=False))
    assert verbatim.ballots == election.ballots


def test_real_file_round_trips_through_export() -> None:
    election = parse_pabulib(DATA / "Poland_Wieliczka_2023_Green_Budget.pb")
    again = parse_pabulib_text(dumps_pabulib(election))
    assert again.instance.projects == election.instance.projects
    assert Counter(ballot.projects for ballot in again.ballots) == Counter(
        ballot.projects for ballot in election.ballots
    )


def _same_profile(fast: Profile, careful: Profile) -> None:
    for name in Profile.__dataclass_fields__:
        ours, theirs = getattr(fast, name), getattr(careful, name)
        if isinstance(ours, np.ndarray):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), name
        elif isinstance(ours, tuple) and ours and isinstance(ours[0], np.ndarray):
            assert len(ours) == len(theirs), name
            assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
        else:
            assert ours == theirs, name


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda path: path.stem)
def test_the_bulk_reader_gives_what_the_careful_reader_gives(path: Path) -> None:
    """The VOTES section read in bulk: the same instance, headers, ballots and profile, array for array."""
    text = path.read_text(encoding="utf-8-sig")
    fast, careful = parse_pabulib_text(text), parse_pabulib_text(text, fast=False)
    assert isinstance(fast.ballots, ParsedBallots) and isinstance(careful.ballots, tuple)
    assert fast.instance == careful.instance
    assert (fast.project_columns, fast.voter_columns) == (careful.project_columns, careful.voter_columns)
    assert fast.profile is not None and careful.profile is not None
    _same_profile(fast.profile, careful.profile)
    assert fast.ballots == careful.ballots and len(fast.ballots) == len(careful.ballots)


@pytest.mark.parametrize(
    "votes",
    [
        "voter_id;vote;age\na;1,2;30\nb;1, 3 ;41\n\nc;2,1;52\n",  # spaces, a blank line: still in bulk
        'voter_id;vote;age\na;"1,2";30\nb;1,3;41\n',  # a quoted field
    ],
)
def test_irregular_but_valid_votes_read_alike(votes: str) -> None:
    text = GOOD[: GOOD.index("VOTES")] + "VOTES\n" + votes
    fast, careful = parse_pabulib_text(text), parse_pabulib_text(text, fast=False)
    assert fast.ballots == careful.ballots
    assert fast.profile is not None and careful.profile is not None
    _same_profile(fast.profile, careful.profile)
