"""The ``civicloop`` console entry point.

``civicloop pb tally FILE`` is pure computation on a file, and a recount is often run in a loop over many
files: it goes straight to :mod:`api.cli_tally` instead of building the whole command line, whose commands
import the web app, the database layer and alembic (about a second of start-up before any work). Every
other command goes through :func:`api.cli.main`, which mounts the same ``pb tally``.
"""

from __future__ import annotations

import sys


def main() -> None:
    arguments = sys.argv[1:]
    if arguments[:2] == ["pb", "tally"]:
        from api.cli_tally import run

        run(arguments[2:])
        return
    from api.cli import main as full_command_line

    full_command_line()
