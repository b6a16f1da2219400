"""Every route declares exactly one policy, the one the role matrix expects, and has a matrix row.

The matrix is the union of the tables of ``test_role_matrix*.py`` (reports; Open311; map; participation;
notifications; the app's field staff and council routes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from api.app import create_app
from api.auth import ADMIN, COUNCIL, ELECTION_OFFICER, ELECTION_OVERSIGHT, PUBLIC, RESIDENT, STAFF, Policy
from core.settings import Settings
from tests.api import (
    test_role_matrix,
    test_role_matrix_map,
    test_role_matrix_notifications,
    test_role_matrix_open311,
    test_role_matrix_participation,
    test_role_matrix_taking_part,
    test_role_matrix_work,
)
from tests.api.role_matrix import Case

TABLES = {
    "tests/api/test_role_matrix.py": test_role_matrix.MATRIX,
    "tests/api/test_role_matrix_open311.py": test_role_matrix_open311.MATRIX,
    "tests/api/test_role_matrix_map.py": test_role_matrix_map.MATRIX,
    "tests/api/test_role_matrix_participation.py": test_role_matrix_participation.MATRIX,
    "tests/api/test_role_matrix_notifications.py": test_role_matrix_notifications.MATRIX,
    "tests/api/test_role_matrix_work.py": test_role_matrix_work.MATRIX,
    "tests/api/test_role_matrix_taking_part.py": test_role_matrix_taking_part.MATRIX,
}
ROWS: dict[str, Case] = {
    f"{file}: {name}": case for file, table in TABLES.items() for name, case in table.items()
}

EXEMPT = {"/healthz", "/readyz"}  # liveness and readiness probes: counts only, no identity
POLICY_NAMES = {
    PUBLIC: "PUBLIC",
    RESIDENT: "RESIDENT",
    STAFF: "STAFF",
    COUNCIL: "COUNCIL",
    ADMIN: "ADMIN",
    ELECTION_OFFICER: "ELECTION_OFFICER",
    ELECTION_OVERSIGHT: "ELECTION_OVERSIGHT",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    media: Path = tmp_path_factory.mktemp("media")
    return create_app(Settings(environment="test", database_url="postgresql://unused/db", media_dir=media))


def test_the_app_is_the_one_with_every_router_mounted(app: FastAPI) -> None:
    """Open311, the map, participation and notifications are part of the app the matrix checks."""
    paths = {path for _, path in api_routes(app)}
    assert {"/open311/v2/requests.{fmt}", "/tiles/reports/{z}/{x}/{y}.mvt"} <= paths
    assert "/api/v1/jurisdictions/{jurisdiction}/budget-rounds" in paths
    assert "/api/v1/jurisdictions/{jurisdiction}/motions" in paths
    assert "/api/v1/jurisdictions/{jurisdiction}/me/inbox" in paths
    assert "/api/v1/notifications/unsubscribe/{token}" in paths


def policies(dependant: Dependant) -> Iterator[Policy]:
    """Every Policy among a dependant's dependencies, however deeply nested."""
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Policy):
            yield dependency.call
        yield from policies(dependency)


def flattened(app: FastAPI) -> list[BaseRoute]:
    """The app's routes with included routers expanded (FastAPI ≥ 0.160 includes them lazily)."""
    try:
        from fastapi.routing import _iter_included_route_candidates
    except ImportError:  # older FastAPI copies included routes into app.routes
        return list(app.routes)
    return list(_iter_included_route_candidates(app.routes))


def api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    routes = {}
    for route in flattened(app):
        if not isinstance(route, APIRoute) or route.path in EXEMPT:
            continue
        for method in route.methods:
            routes[(method, route.path)] = route
    return routes


def test_the_app_has_routes_to_check(app: FastAPI) -> None:
    assert len(api_routes(app)) >= 25


def test_every_route_declares_exactly_one_policy(app: FastAPI) -> None:
    offenders = {}
    for (method, path), route in api_routes(app).items():
        found = list(policies(route.dependant))
        if len(found) != 1:
            offenders[f"{method} {path}"] = [POLICY_NAMES.get(p, repr(p)) for p in found]
    assert not offenders, f"routes without exactly one Policy: {offenders}"


def test_every_policy_is_one_of_the_five(app: FastAPI) -> None:
    for key, route in api_routes(app).items():
        for policy in policies(route.dependant):
            assert policy in POLICY_NAMES, (key, policy)


def test_the_role_matrix_covers_exactly_the_app_routes(app: FastAPI) -> None:
    declared = set(api_routes(app))
    covered = {(case.method, case.route) for case in ROWS.values()}
    assert declared - covered == set(), "routes without a row in tests/api/test_role_matrix*.py"
    assert covered - declared == set(), "matrix rows for routes the app does not have"


def test_each_route_declares_the_policy_its_matrix_rows_assume(app: FastAPI) -> None:
    routes = api_routes(app)
    for name, case in ROWS.items():
        [policy] = policies(routes[(case.method, case.route)].dependant)
        assert policy == case.policy, f"{name}: declares {POLICY_NAMES[policy]}"


def test_the_walk_sees_nested_and_missing_policies() -> None:
    """Guard the guard: a policy hidden inside another dependency counts, a route without one shows."""
    from fastapi import Depends

    probe = FastAPI()

    async def wrapper(identity: object = Depends(STAFF)) -> object:
        return identity

    @probe.get("/nested")
    async def nested(_: object = Depends(wrapper)) -> None: ...

    @probe.get("/bare")
    async def bare() -> None: ...

    found = {path: list(policies(route.dependant)) for (_, path), route in api_routes(probe).items()}
    assert found == {"/nested": [STAFF], "/bare": []}
