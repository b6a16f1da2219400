"""Cells for files that people open in a spreadsheet (CSV exports, ``.pb`` files).

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, or their full-width
forms) is taken as a formula by Excel, LibreOffice and Google Sheets: ``=HYPERLINK(…)`` phishes,
``+cmd|' /C calc'!A0`` runs commands through DDE. Text written by residents is therefore prefixed with an
apostrophe, which the spreadsheet hides (OWASP, "CSV Injection"); plain numbers, negative ones included,
are left as they are. Line-based formats also get their line breaks and other control characters folded
into spaces.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)([eE][+-]?\d+)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet shows it as text; non-strings (numbers) pass unchanged."""
    if isinstance(value, str) and value and value[0] in _FORMULA_START and not _NUMBER.match(value):
        return "'" + value
    return value


def single_line(value: Any) -> Any:
    """Line breaks, tabs and other control characters folded into one space (for line-based formats)."""
    return _CONTROL.sub(" ", value) if isinstance(value, str) else value


class SafeWriter:
    """``csv.writer`` whose every text cell is :func:`neutralise`-d (and, with ``one_line``, folded)."""

    def __init__(self, stream: Any, *, one_line: bool = False, **options: Any) -> None:
        self._writer = csv.writer(stream, **options)
        self._one_line = one_line

    def writerow(self, row: Iterable[Any]) -> None:
        cells = [single_line(c) for c in row] if self._one_line else list(row)
        self._writer.writerow([neutralise(c) for c in cells])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
