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


# --------------------------------------------------------------------------------- no cycles inside a package

# Imports inside a function, made late on purpose so that a command starts without what it does not use.
# They are left out of the graph below (each with its reason); every other import counts, at module level,
# under ``if TYPE_CHECKING`` or inside a function alike: an import moved into a function to dodge a cycle is
# still a cycle.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("participation.tally.equal_shares", "participation.tally.kernels"): (
        "numba loads in a quarter of a second; a greedy tally and every command that never runs MES skip it"
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path) -> set[str]:
    """The project modules a file imports anywhere in it: ``from a.b import c`` is ``a.b.c`` when ``c`` is a
    module and ``a.b`` otherwise. Leaves out the imports listed in :data:`LAZY_IMPORTS`."""
    importer = module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base)
    project = {name for name in found if name.split(".")[0] in PACKAGES and is_module(name)}
    return {name for name in project - {importer} if (importer, name) not in LAZY_IMPORTS}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycles_inside_a_package(package: str) -> None:
    graph = {
        module_name(path): {name for name in imported_modules(path) if name.split(".")[0] == package}
        for path in (ROOT / package).rglob("*.py")
    }
    assert import_cycles(graph) == []


def test_every_listed_lazy_import_is_still_made() -> None:
    """A lazy import that is gone from the code leaves the list too, so the list stays the truth."""
    for importer, imported in LAZY_IMPORTS:
        path = ROOT.joinpath(*importer.split(".")).with_suffix(".py")
        source = path.read_text()
        assert f"from {imported} import" in source or f"import {imported}" in source, (importer, imported)


def test_the_checker_sees_cycles_and_imports_inside_functions() -> None:
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}
    assert import_cycles(graph) == [["p.a", "p.b", "p.c"]]
    assert import_cycles({"p.a": {"p.b"}, "p.b": set()}) == []
    # ``pb advance`` imports the clock inside its function; ``from participation import budget_rounds`` names
    # a module; the listed lazy import of numba's kernels is left out.
    cli = imported_modules(ROOT / "api" / "cli_participation.py")
    assert {"participation.clock", "participation.budget_rounds"} <= cli
    assert "participation.tally.kernels" not in imported_modules(ROOT / "participation/tally/equal_shares.py")
    assert "participation.tally.profile" in imported_modules(ROOT / "participation/tally/equal_shares.py")


# ------------------------------------------------------------------------------- routers only translate HTTP

# Modules that speak HTTP: they parse, authorise and call a package's service or query module; the SQL lives
# in the package that owns the tables (``geo/*queries.py``, ``api/open311/queries.py``, …).
HTTP_MODULES = sorted([*(ROOT / "api" / "routers").glob("*.py"), ROOT / "api" / "open311" / "router.py"])
SESSION_QUERIES = {"execute", "scalar", "scalars", "get", "get_one", "stream", "stream_scalars"}
# Allowed with a reason; the test below fails once an entry is no longer needed.
SQL_IN_ROUTERS: dict[str, str] = {
    "api/routers/reports.py": (
        "the photo look-up of the photo routes; this router is reworked with the shared query parameters "
        "(issue 13, item 1), which moves it"
    ),
}


def sql_in_module(path: Path) -> list[str]:
    """What in a module is SQL: a ``sqlalchemy`` import other than the session's types (``select``,
    ``text``, ``delete``, …), or a query run on a ``session`` directly."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            if node.module != "sqlalchemy.ext.asyncio":
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("sqlalchemy")
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_QUERIES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
        ):
            found.append(f"line {node.lineno}: session.{node.func.attr}(...)")
    return found


def test_routers_hold_no_sql() -> None:
    offenders = {
        relative: found
        for path in HTTP_MODULES
        if (found := sql_in_module(path))
        and (relative := path.relative_to(ROOT).as_posix()) not in SQL_IN_ROUTERS
    }
    assert offenders == {}


def test_every_router_allowed_sql_still_has_some() -> None:
    """An allowance that is no longer used leaves the list, so the list stays the truth."""
    for relative in SQL_IN_ROUTERS:
        assert sql_in_module(ROOT / relative), relative


def test_the_checker_sees_sql(tmp_path: Path) -> None:
    module = tmp_path / "router.py"
    module.write_text(
        "from sqlalchemy import select, text\n"
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "import sqlalchemy.orm\n"
        "async def route(session: AsyncSession) -> None:\n"
        "    await session.execute(text('SELECT 1'))\n"
        "    await session.get(object, 1)\n"
        "    params.get('x')\n"
    )
    assert sql_in_module(module) == [
        "line 1: from sqlalchemy import ...",
        "line 3: import sqlalchemy.orm",
        "line 5: session.execute(...)",
        "line 6: session.get(...)",
    ]
