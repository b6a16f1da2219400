"""Each remaining type-checker ignore names its error code and says why (issue 13, item 8).

mypy itself refuses an ignore without a code (``ignore-without-code``) and one that no longer silences
anything (``warn_unused_ignores``); the reason is for the reader, so it is checked here: a comment after
the ignore on the same line, or a comment line just above it.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = (
    "core",
    "geo",
    "participation",
    "notifications",
    "api",
    "mobile_client",
    "bench",
    "migrations",
    "tests",
)
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\])?(?P<rest>.*)$")


def unexplained(source: str) -> list[int]:
    lines = source.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        reason_here = match["rest"].strip().lstrip("#").strip()
        reason_above = number > 1 and lines[number - 2].strip().startswith("#")
        if match["code"] is None or not (reason_here or reason_above):
            found.append(number)
    return found


def test_the_check_catches_a_bare_ignore_and_one_without_a_reason() -> None:
    marker = "# type" + ": ignore"
    assert unexplained(f"x = f()  {marker}\n") == [1]
    assert unexplained(f"x = f()  {marker}[arg-type]\n") == [1]
    assert unexplained(f"x = f()  {marker}[arg-type]  # the stub is too narrow\n") == []
    assert unexplained(f"# the stub is too narrow\nx = f()  {marker}[arg-type]\n") == []


def test_each_type_ignore_names_its_code_and_its_reason() -> None:
    missing = [
        f"{path.relative_to(ROOT)}:{number}"
        for top in CHECKED
        for path in sorted((ROOT / top).rglob("*.py"))
        for number in unexplained(path.read_text())
    ]
    assert not missing, missing
