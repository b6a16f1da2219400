"""``civicloop pb tally``: a pabulib file in, the outcome out; no database, no web app.

Kept apart from the rest of the command line so that :mod:`api.cli_entry` can run it without importing
what the other commands need (the web app, SQLAlchemy, alembic: about a second), and so that importing it
costs no more than the tally does: numba loads only when a rule that runs compiled code is used.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import typer

from participation.tally import TIE_BREAKS, PabulibFormatError, TallyConfigurationError, tally_file


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def pb_tally(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    rule: str = typer.Option(..., help="greedy, mes (or meta: the rule the file declares)"),
    completion: str = typer.Option("none", help="none, add1, add1-greedy"),
    add1_stop: str = typer.Option("exhaustive", "--add1-stop", help="exhaustive or infeasible"),
    comparison: str | None = typer.Option(None, help="greedy"),
    tie_break: str = typer.Option("id", "--tie-break", help=f"one of {sorted(TIE_BREAKS)}"),
    as_json: bool = typer.Option(False, "--json", help="print the whole result as JSON"),
) -> None:
    """Tally a .pb file; the JSON's ``selected`` lists the winning project ids."""
    try:
        result = tally_file(
            file,
            rule=rule,
            completion=completion,
            add1_stop=add1_stop,
            comparison=comparison,
            tie_break=tie_break,
        )
    except PabulibFormatError as error:
        _fail(f"{file}: {error}")
    except TallyConfigurationError as error:
        _fail(str(error))
    if as_json:
        json.dump(result, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        typer.echo(f"selected ({len(result['selected'])}): {' '.join(result['selected'])}")
        typer.echo(f"spent {result['spent']} of {result['budget']}")


def run(arguments: list[str]) -> None:
    """``civicloop pb tally ARGUMENTS`` as a program of its own (the same command the full app mounts)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command("tally")(pb_tally)
    # A process that reads one file, computes and exits leaves no cyclic garbage worth collecting, while
    # each pass of the collector walks the whole heap (90 000 ballots, numba's and numpy's modules): paused,
    # and everything frozen before the exit's own pass, which saves about 0.3 s of a 1 s tally.
    gc.disable()
    try:
        app(args=arguments, prog_name="civicloop pb tally", standalone_mode=True)
    finally:
        gc.freeze()
