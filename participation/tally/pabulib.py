"""Reading and writing the pabulib ``.pb`` format (https://pabulib.org/format).

A ``.pb`` file is three ``;``-separated CSV sections (META, PROJECTS, VOTES), each opened by its name on
a line of its own followed by a header row. Files come from many cities and are edited by hand, so every
problem is reported as a :class:`PabulibFormatError` that names the line and what is wrong with it: an
organiser fixing a file needs "line 812: vote refers to unknown project 'L999'", not a ``KeyError`` from
deep inside a rule.
"""

from __future__ import annotations

import csv
import gc
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, overload

import numpy as np

from core.spreadsheet import SafeWriter
from participation.tally.model import (
    VOTE_TYPE_ALIASES,
    Ballot,
    Instance,
    Number,
    Project,
    VoteType,
)
from participation.tally.profile import (
    BallotKey,
    Profile,
    build_profile,
    common_fields,
    profile_from_groups,
)

if TYPE_CHECKING:
    from _csv import Reader

SECTIONS = ("meta", "projects", "votes")


@dataclass(frozen=True, slots=True)
class Election:
    """An instance together with its ballots, as read from (or written to) a pabulib file."""

    instance: Instance
    ballots: Sequence[Ballot]
    """A tuple, or the reader's :class:`~participation.tally.pabulib.ParsedBallots` (made on first use)."""
    project_columns: tuple[str, ...] = ("project_id", "cost", "name")
    voter_columns: tuple[str, ...] = ("voter_id", "vote")
    profile: Profile | None = field(default=None, compare=False, repr=False)
    """The ballots' numeric form (:mod:`participation.tally.profile`), built by the parser."""


class PabulibFormatError(ValueError):
    """A ``.pb`` file that cannot be read; ``line`` is 1-based (``None`` when the problem is file-wide)."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(problem if line is None else f"line {line}: {problem}")


def parse_number(raw: str, *, what: str, line: int | None) -> Number:
    """Parse money or points, accepting the decimal comma some Polish files use.

    Integral values stay ``int`` so that "does it still fit in the budget" is decided exactly.
    """
    text = raw.strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise PabulibFormatError(f"{what} {raw!r} is not a number", line) from None
    if not math.isfinite(value):
        raise PabulibFormatError(f"{what} {raw!r} is not a finite number", line)
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _reader(text: str) -> Reader:
    return csv.reader(io.StringIO(text, newline=""), delimiter=";")


def _rows(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number where the row starts, fields) for every non-blank row."""
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise PabulibFormatError(f"unreadable CSV: {error}", start) from None
        if not row or all(not cell.strip() for cell in row):
            continue
        yield start, row


def parse_pabulib_text(text: str, *, fast: bool = True) -> Election:
    """Parse the content of a ``.pb`` file into an election with its numeric profile.

    The VOTES section (all but a few hundred rows of a real file) is read by :func:`_read_votes_fast`
    unless ``fast`` is false; whenever that reader meets anything irregular, the file is read again row by
    row, so that every error names its line exactly as before.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    meta: dict[str, str] = {}
    projects: dict[str, Project] = {}
    ballots: list[Ballot] = []
    voter_ids: set[str] = set()
    section: str | None = None
    header: list[str] = []
    seen_sections: list[str] = []
    project_header: list[str] = []
    vote_type = VoteType.APPROVAL
    reader = _reader(text)
    rows = _rows(reader)
    for line, row in rows:
        first = row[0].strip().lower()
        if first in SECTIONS and all(not cell.strip() for cell in row[1:]):
            if first in seen_sections:
                raise PabulibFormatError(f"section {first.upper()} appears twice", line)
            expected = SECTIONS[len(seen_sections)]
            if first != expected:
                raise PabulibFormatError(f"expected section {expected.upper()}, found {first.upper()}", line)
            seen_sections.append(first)
            section = first
            header_line_row = next(rows, None)
            if header_line_row is None:
                raise PabulibFormatError(f"section {first.upper()} has no header row", line)
            header = [cell.strip() for cell in header_line_row[1]]
            _check_header(section, header, header_line_row[0])
            if section == "projects":
                vote_type = _meta_checked(meta, line)
                project_header = header
            if section == "votes" and fast:
                instance = _instance(meta, projects, vote_type)
                election = _read_votes_fast(reader, instance, project_header, header)
                if election is not None:
                    return election
                return parse_pabulib_text(text, fast=False)  # something is off: the careful reader says what
            continue
        if section is None:
            raise PabulibFormatError("the file must start with a META section", line)
        if section == "meta":
            if len(row) < 2:
                raise PabulibFormatError("META row needs a key and a value separated by ';'", line)
            key = row[0].strip()
            if key in meta:
                raise PabulibFormatError(f"META key {key!r} appears twice", line)
            meta[key] = ";".join(row[1:]).strip() if len(row) > 2 else row[1].strip()
        elif section == "projects":
            project = _parse_project(row, header, line)
            if project.project_id in projects:
                raise PabulibFormatError(f"project id {project.project_id!r} appears twice", line)
            projects[project.project_id] = project
        else:
            ballot = _parse_ballot(row, header, line, projects, vote_type)
            if ballot.voter_id in voter_ids:
                raise PabulibFormatError(f"voter id {ballot.voter_id!r} appears twice", line)
            voter_ids.add(ballot.voter_id)
            ballots.append(ballot)
    for name in SECTIONS:
        if name not in seen_sections:
            raise PabulibFormatError(f"the file has no {name.upper()} section")
    instance = _instance(meta, projects, vote_type)
    project_header = _header_of(text, "projects")
    voter_header = _header_of(text, "votes")
    frozen_ballots = tuple(ballots)
    return Election(
        instance=instance,
        ballots=frozen_ballots,
        project_columns=tuple(project_header),
        voter_columns=tuple(voter_header),
        # Indexed while reading, as pabutools builds its profile objects while parsing: every rule runs on it.
        profile=build_profile(instance, frozen_ballots),
    )


def _instance(meta: dict[str, str], projects: dict[str, Project], vote_type: VoteType) -> Instance:
    budget = parse_number(meta["budget"], what="META budget", line=None)
    return Instance(budget=budget, projects=projects, vote_type=vote_type, meta=meta)


class _Irregular(Exception):
    """The fast reader met something the careful one must look at (and name the line of)."""


def _read_votes_fast(
    reader: Reader, instance: Instance, project_header: list[str], header: list[str]
) -> Election | None:
    """Read the VOTES rows that follow ``header`` in bulk; ``None`` if any row needs the careful reader.

    The careful reader spends ~7 µs per ballot on building its fields, a :class:`Ballot` and a dict of
    its other columns, and checking every project it names. Here a row costs a few list and dict operations
    done in C (one ``csv`` pass, then its id and raw ``vote`` and ``points`` text): ballots repeat
    (Łódź 2022: 90 494 ballots, 23 571 distinct), so each distinct text is checked and split once, exactly
    as :func:`_parse_ballot` would, and the voters come out already grouped for the profile.
    :class:`Ballot` objects are made only if someone asks for ``election.ballots`` (the command line's
    tally never does).
    """
    # Nothing read here can form a reference cycle, so the cyclic collector, which would otherwise walk the
    # growing heap of row lists again and again (a third of the reading time), pauses meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _votes_in_bulk(reader, instance, project_header, header)
    finally:
        if collecting:
            gc.enable()


def _votes_in_bulk(
    reader: Reader, instance: Instance, project_header: list[str], header: list[str]
) -> Election | None:
    # The careful reader takes the headers from the first row named like the section (_header_of): the
    # same rows as here unless a META key or a project id is itself a section's name.
    if any(key.strip().lower() in SECTIONS for key in (*instance.meta, *instance.projects)):
        return None
    try:
        width = len(header)
        voter_column, vote_column = header.index("voter_id"), header.index("vote")
        points_column = header.index("points") if "points" in header else None
        try:
            rows = list(reader)
        except csv.Error:
            raise _Irregular from None
        if any(len(row) != width for row in rows):
            if any(len(row) != width and any(cell.strip() for cell in row) for row in rows):
                raise _Irregular
            rows = [row for row in rows if len(row) == width]  # without the blank lines
        voter_ids = tuple(map(str.strip, [row[voter_column] for row in rows]))
        if len(set(voter_ids)) != len(voter_ids) or "" in voter_ids:
            raise _Irregular
        raw_votes: list[tuple[str, str | None]] = (
            [(row[vote_column], None) for row in rows]
            if points_column is None
            else [(row[vote_column], row[points_column]) for row in rows]
        )
        distinct_raw = list(dict.fromkeys(raw_votes))
        position = {raw: index for index, raw in enumerate(distinct_raw)}
        raw_index = list(map(position.__getitem__, raw_votes))
        groups = _groups_of(distinct_raw, instance)
    except _Irregular:
        return None
    group_of_raw, distinct = groups
    voter_group = np.asarray(group_of_raw, dtype=np.int64)[np.asarray(raw_index, dtype=np.int64)]
    ballots = ParsedBallots(voter_ids, voter_group, distinct, rows, header)
    profile = profile_from_groups(instance, common_fields(instance, voter_ids), voter_group, distinct)
    return Election(
        instance=instance,
        ballots=ballots,
        project_columns=tuple(project_header),
        voter_columns=tuple(header),
        profile=profile,
    )


def _groups_of(
    raw_votes: list[tuple[str, str | None]], instance: Instance
) -> tuple[list[int], list[BallotKey]]:
    """Per distinct raw (vote, points): its group, the groups being the distinct ballots as
    :func:`~participation.tally.profile.build_profile` forms them (in order of first appearance)."""
    known, vote_type = set(instance.projects), instance.vote_type
    uses_points = vote_type.uses_points
    group_of: dict[BallotKey, int] = {}
    new_group = group_of.setdefault
    group_of_raw: list[int] = []
    for raw_vote, raw_points in raw_votes:
        chosen = tuple(map(str.strip, raw_vote.split(",")))
        if "" in chosen:
            chosen = tuple(item for item in chosen if item)
        named = set(chosen)
        if not chosen or len(named) != len(chosen) or not named <= known:
            raise _Irregular  # an empty vote may be a misplaced section name: the careful reader decides
        if vote_type is VoteType.CHOOSE_ONE and len(chosen) > 1:
            raise _Irregular
        points: tuple[Number, ...] | None = None
        if uses_points:
            if raw_points is None:
                raise _Irregular
            items = [item for item in raw_points.split(",") if item.strip()]
            if len(items) != len(chosen):
                raise _Irregular
            try:
                points = tuple(parse_number(item, what="points", line=None) for item in items)
            except PabulibFormatError:
                raise _Irregular from None
            if any(value < 0 for value in points):
                raise _Irregular
        group_of_raw.append(new_group((chosen, points), len(group_of)))
    return group_of_raw, list(group_of)


class ParsedBallots(Sequence[Ballot]):
    """The ballots of a parsed file, made into :class:`Ballot` objects on first use (see
    :func:`_read_votes_fast`); compares equal to the tuple of the same ballots."""

    __slots__ = ("_ballots", "_distinct", "_header", "_rows", "_voter_group", "_voter_ids")

    def __init__(
        self,
        voter_ids: tuple[str, ...],
        voter_group: np.ndarray,
        distinct: list[BallotKey],
        rows: list[list[str]],
        header: list[str],
    ) -> None:
        self._voter_ids, self._voter_group, self._distinct = voter_ids, voter_group, distinct
        self._rows, self._header = rows, header
        self._ballots: tuple[Ballot, ...] | None = None

    def _all(self) -> tuple[Ballot, ...]:
        if self._ballots is None:
            others = [
                (index, column)
                for index, column in enumerate(self._header)
                if column not in ("voter_id", "vote", "points")
            ]
            distinct = self._distinct
            self._ballots = tuple(
                Ballot(
                    voter_id=voter_id,
                    projects=distinct[group][0],
                    points=distinct[group][1],
                    fields={column: row[index].strip() for index, column in others},
                )
                for voter_id, group, row in zip(
                    self._voter_ids, self._voter_group.tolist(), self._rows, strict=True
                )
            )
        return self._ballots

    def __len__(self) -> int:
        return len(self._voter_ids)

    @overload
    def __getitem__(self, index: int) -> Ballot: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Ballot, ...]: ...
    def __getitem__(self, index: int | slice) -> Ballot | tuple[Ballot, ...]:
        return self._all()[index]

    def __iter__(self) -> Iterator[Ballot]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ParsedBallots | tuple | list):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return f"ParsedBallots({len(self)} ballots)"


def _header_of(text: str, section: str) -> list[str]:
    """Re-read a section's header (cheap: stops right after it) so the writer can keep column order."""
    found = False
    for _, row in _rows(_reader(text)):
        if found:
            return [cell.strip() for cell in row]
        if row[0].strip().lower() == section:
            found = True
    return []


def _check_header(section: str, header: list[str], line: int) -> None:
    required = {"meta": ("key", "value"), "projects": ("project_id", "cost"), "votes": ("voter_id", "vote")}
    if section == "meta":
        return  # key;value by convention, but the column names carry no information
    if header[0] != required[section][0]:
        raise PabulibFormatError(
            f"the first column of {section.upper()} must be {required[section][0]!r}, found {header[0]!r}",
            line,
        )
    for column in required[section]:
        if column not in header:
            raise PabulibFormatError(f"{section.upper()} header lacks the column {column!r}", line)
    duplicates = {column for column in header if header.count(column) > 1}
    if duplicates:
        raise PabulibFormatError(f"{section.upper()} header repeats {sorted(duplicates)}", line)


def _meta_checked(meta: dict[str, str], line: int) -> VoteType:
    """Validate META once it is complete (when PROJECTS starts) and return the ballot format."""
    if "budget" not in meta:
        raise PabulibFormatError("META lacks the required key 'budget'", line)
    budget = parse_number(meta["budget"], what="META budget", line=line)
    if budget < 0:
        raise PabulibFormatError(f"META budget {meta['budget']!r} is negative", line)
    raw_type = meta.get("vote_type", "").strip().lower()
    if raw_type == "":
        raise PabulibFormatError("META lacks the required key 'vote_type'", line)
    if raw_type not in VOTE_TYPE_ALIASES:
        raise PabulibFormatError(
            f"META vote_type {raw_type!r} is not one of {sorted(VOTE_TYPE_ALIASES)}",
            line,
        )
    return VOTE_TYPE_ALIASES[raw_type]


def _fields(row: list[str], header: list[str], line: int, section: str) -> dict[str, str]:
    if len(row) != len(header):
        hint = " (a quote opened here is never closed)" if any("\n" in cell for cell in row) else ""
        raise PabulibFormatError(
            f"{section} row has {len(row)} fields but the header has {len(header)}{hint}",
            line,
        )
    return {column: cell.strip() for column, cell in zip(header, row, strict=True)}


def _parse_project(row: list[str], header: list[str], line: int) -> Project:
    values = _fields(row, header, line, "PROJECTS")
    project_id = values.pop("project_id")
    if project_id == "":
        raise PabulibFormatError("project id is empty", line)
    if "," in project_id:
        raise PabulibFormatError(f"project id {project_id!r} contains ',' (the vote separator)", line)
    cost = parse_number(values.pop("cost"), what=f"cost of project {project_id!r}", line=line)
    if cost < 0:
        raise PabulibFormatError(f"cost of project {project_id!r} is negative", line)
    name = values.pop("name", "")
    return Project(project_id=project_id, cost=cost, name=name, fields=values)


def _parse_ballot(
    row: list[str],
    header: list[str],
    line: int,
    projects: dict[str, Project],
    vote_type: VoteType,
) -> Ballot:
    values = _fields(row, header, line, "VOTES")
    voter_id = values.pop("voter_id")
    if voter_id == "":
        raise PabulibFormatError("voter id is empty", line)
    chosen = tuple(item.strip() for item in values.pop("vote").split(",") if item.strip())
    for project_id in chosen:
        if project_id not in projects:
            raise PabulibFormatError(
                f"vote of voter {voter_id!r} refers to unknown project {project_id!r}", line
            )
    if len(set(chosen)) != len(chosen):
        raise PabulibFormatError(f"vote of voter {voter_id!r} names a project twice", line)
    if vote_type is VoteType.CHOOSE_ONE and len(chosen) > 1:
        raise PabulibFormatError(f"choose-1 vote of voter {voter_id!r} names {len(chosen)} projects", line)
    raw_points = values.pop("points", None)
    points: tuple[Number, ...] | None = None
    if vote_type.uses_points:
        if raw_points is None:
            raise PabulibFormatError(f"{vote_type.value} ballots need a 'points' column", line)
        items = [item for item in raw_points.split(",") if item.strip()]
        if len(items) != len(chosen):
            raise PabulibFormatError(
                f"voter {voter_id!r} lists {len(chosen)} projects but {len(items)} points",
                line,
            )
        points = tuple(parse_number(item, what="points", line=line) for item in items)
        if any(value < 0 for value in points):
            raise PabulibFormatError(f"voter {voter_id!r} gives negative points", line)
    return Ballot(voter_id=voter_id, projects=chosen, points=points, fields=values)


def parse_pabulib(path: str | Path) -> Election:
    """Read a ``.pb`` file from disk."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise PabulibFormatError(f"not valid UTF-8 ({error.reason})", line) from None
    return parse_pabulib_text(text)


def _format_number(value: Number) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def dumps_pabulib(
    election: Election,
    *,
    anonymise: bool = True,
    voter_fields: Sequence[str] = (),
) -> str:
    """Render an election as ``.pb`` text.

    With ``anonymise`` (the default) voter ids become ``1..n`` and ballots are written sorted by their
    content, not in submission order: renumbering alone would still let the row order be joined back to
    the order in which people voted. Only the VOTES columns named in ``voter_fields`` (e.g. ``("age",)``)
    are kept, so demographics leave only on purpose.
    """
    buffer = io.StringIO()
    # One record per line, whatever a title holds; no cell a spreadsheet would run as a formula.
    writer = SafeWriter(buffer, one_line=True, delimiter=";", lineterminator="\n")
    instance = election.instance
    meta = dict(instance.meta)
    meta["num_projects"] = str(len(instance.projects))
    meta["num_votes"] = str(len(election.ballots))
    meta.setdefault("budget", _format_number(instance.budget))
    meta.setdefault("vote_type", instance.vote_type.value)
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([key, value])

    project_columns = list(election.project_columns)
    extra = sorted(
        {key for project in instance.projects.values() for key in project.fields} - set(project_columns)
    )
    project_columns += extra
    writer.writerow(["PROJECTS"])
    writer.writerow(project_columns)
    for project in instance.projects.values():
        known = {"project_id": project.project_id, "cost": _format_number(project.cost), "name": project.name}
        writer.writerow([known.get(column, project.fields.get(column, "")) for column in project_columns])

    uses_points = instance.vote_type.uses_points
    if anonymise:
        kept = [column for column in voter_fields if column not in ("voter_id", "vote", "points")]
    else:
        kept = [column for column in election.voter_columns if column not in ("voter_id", "vote", "points")]
        kept += sorted({key for ballot in election.ballots for key in ballot.fields} - set(kept))
    voter_columns = ["voter_id", "vote"] + (["points"] if uses_points else []) + kept
    rows = []
    for ballot in election.ballots:
        vote = ",".join(ballot.projects)
        points = ",".join(_format_number(value) for value in ballot.points or ())
        rows.append((ballot, vote, points))
    if anonymise:
        rows.sort(key=lambda item: (item[1], item[2], [item[0].fields.get(column, "") for column in kept]))
    writer.writerow(["VOTES"])
    writer.writerow(voter_columns)
    for index, (ballot, vote, points) in enumerate(rows, start=1):
        voter_id = str(index) if anonymise else ballot.voter_id
        cells = [voter_id, vote] + ([points] if uses_points else [])
        cells += [ballot.fields.get(column, "") for column in kept]
        writer.writerow(cells)
    return buffer.getvalue()


def write_pabulib(
    election: Election,
    target: str | Path | TextIO,
    *,
    anonymise: bool = True,
    voter_fields: Sequence[str] = (),
) -> None:
    """Write an election as a ``.pb`` file (see :func:`dumps_pabulib` for what anonymising does)."""
    text = dumps_pabulib(election, anonymise=anonymise, voter_fields=voter_fields)
    if isinstance(target, str | Path):
        Path(target).write_text(text, encoding="utf-8")
    else:
        target.write(text)
