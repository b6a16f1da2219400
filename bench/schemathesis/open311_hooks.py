"""Schemathesis hooks for the ``open311`` caller of ``run.py``: past the api_key check, into the create.

Without a key every generated service request ends at GeoReport's 403 ("api_key is required"), so the
create itself (the category's attributes, the position, the contact data, the media URL, the device) is
never fuzzed. With ``CIVICLOOP_FUZZ_API_KEY`` set, a generated body carries the key; with
``CIVICLOOP_FUZZ_SERVICE_CODES`` (the demo's codes) it often names a real category and a point inside the
municipality, so the generated rest reaches the rules behind them. The generated values stay in the
draw too (an unknown code, a point anywhere), and the anonymous caller still covers a missing key.
Loaded through ``SCHEMATHESIS_HOOKS=open311_hooks`` with this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

# Inside the demo municipality (Amsterdam), well away from its edges.
LONGITUDE = (4.84, 4.95)
LATITUDE = (52.34, 52.40)


def _is_create(ctx: schemathesis.HookContext) -> bool:
    operation = ctx.operation
    return (
        operation is not None
        and operation.method.upper() == "POST"
        and operation.path.endswith("/requests.{fmt}")
    )


@schemathesis.hook
def flatmap_path_parameters(ctx: schemathesis.HookContext, parameters: Any) -> Any:
    """The format is mostly one the server speaks, so the request gets past the path."""
    if not isinstance(parameters, dict) or "fmt" not in parameters:
        return st.just(parameters)
    return st.sampled_from(["json", "xml", parameters["fmt"]]).map(lambda fmt: {**parameters, "fmt": fmt})


@schemathesis.hook
def flatmap_body(ctx: schemathesis.HookContext, body: Any) -> Any:
    key = os.environ.get("CIVICLOOP_FUZZ_API_KEY")
    if not key or not _is_create(ctx) or not isinstance(body, dict):
        return st.just(body)
    codes = [code for code in os.environ.get("CIVICLOOP_FUZZ_SERVICE_CODES", "").split(",") if code]
    place = st.one_of(
        st.just(None),
        st.tuples(st.floats(*LONGITUDE), st.floats(*LATITUDE)),
    )
    return st.tuples(
        st.sampled_from([*codes, body.get("service_code")]),
        place,
        st.sampled_from(["amsterdam", body.get("jurisdiction_id")]),
    ).map(lambda drawn: _with(body, key, *drawn))


def _with(
    body: dict[str, Any], key: str, code: Any, place: tuple[float, float] | None, jurisdiction: Any
) -> dict[str, Any]:
    changed = {**body, "api_key": key}
    for name, value in (("service_code", code), ("jurisdiction_id", jurisdiction)):
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    if place is not None:
        changed["long"], changed["lat"] = place
    return changed
