"""Imports only go downward: api → participation, notifications → geo → core (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "geo", "participation", "notifications", "api", "mobile_client")
ALLOWED = {
    "core": set(),
    "geo": {"core"},
    "participation": {"geo", "core"},
    "notifications": {"geo", "core"},
    "mobile_client": set(),
    "api": {"participation", "notifications", "geo", "core", "mobile_client"},
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found |= {name.split(".")[0] for name in names if name.split(".")[0] in PACKAGES}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_only_go_downward(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported - ALLOWED[package] - {package})
        for path in (ROOT / package).rglob("*.py")
        if (imported := imported_packages(path)) - ALLOWED[package] - {package}
    }
    assert offenders == {}


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "upward.py"
    module.write_text("from api.app import create_app\nimport geo.models\n")
    assert imported_packages(module) == {"api", "geo"}
