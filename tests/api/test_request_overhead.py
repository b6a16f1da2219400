"""What every request pays before its route runs: kept small, and guarded here.

- Every dependency of every route runs on the event loop, none in the thread pool. FastAPI runs a
  plain ``def`` dependency through ``run_in_threadpool``: a hand-off to a worker thread and back for
  each one, on each request. For the five small parsers of ``api.parameters`` that cost the report
  list ~15 % more CPU per request and, through the threads' contention for the GIL, part of its p99
  (docs/benchmarks.md, "issue 13"). Dependencies here do no blocking I/O, so they are ``async``.
- The residents' report routes are matched first: FastAPI tries the routes in order, a few µs each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant, _is_async_gen_callable, _is_coroutine_callable

from api.app import create_app
from core.settings import Settings


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    media: Path = tmp_path_factory.mktemp("media")
    return create_app(Settings(environment="test", database_url="postgresql://unused/db", media_dir=media))


def _threaded(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        call = dependency.call
        if call is not None and not (_is_coroutine_callable(call) or _is_async_gen_callable(call)):
            yield f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', repr(call))}"
        yield from _threaded(dependency)


def test_no_route_dependency_runs_in_the_thread_pool(app: FastAPI) -> None:
    routes = 0
    threaded: set[str] = set()
    for context in routing.iter_route_contexts(app.routes):
        dependant = getattr(getattr(context, "route", context), "dependant", None)
        if dependant is not None:
            routes += 1
            threaded.update(_threaded(dependant))
    assert routes > 100  # the whole app was walked
    assert not threaded, f"sync dependencies (each a thread hop per request): {sorted(threaded)}"


def test_the_report_routes_are_matched_first(app: FastAPI) -> None:
    paths = []
    for context in routing.iter_route_contexts(app.routes):
        route = getattr(context, "original_route", None) or getattr(context, "route", context)
        paths.append(getattr(route, "path_format", getattr(route, "path", "")))
    assert paths.index("/api/v1/jurisdictions/{jurisdiction}/reports") < 4
    assert paths.index("/api/v1/jurisdictions/{jurisdiction}/reports/duplicates") < 6
