"""The query parameters several routes share, parsed in one place (as tipg's ``dependencies.py`` does).

Each is an ``Annotated`` FastAPI dependency: a route declares ``bbox: BBox`` and gets a checked value or
``None``; the parameter, its limits and its description appear once in the OpenAPI of every route that
takes it. The two hottest public reads (the report list and the duplicate check) declare the same
``Annotated`` query parameters (``BboxQuery``, ``NearQuery``, ``LongitudeQuery`` …) and call the same
parsers through :func:`report_list_query` and :func:`position_and_radius` instead: each dependency
costs FastAPI a solving pass per request (docs/benchmarks.md, "issue 13: the last 10%").

A mistake is refused by raising a ``DomainError`` with one code, the same on every route: the API's
handler renders it as problem+json (422), Open311's route class as the specification's error list (400).
The codes:

- ``invalid-bbox``: not four finite numbers, a longitude outside [-180, 180] or a latitude outside
  [-90, 90], or a minimum not below its maximum (an empty box is a mistake, not an empty answer).
- ``invalid-near``: ``near`` is not two finite numbers lon,lat in range.
- ``invalid-position``: ``longitude``/``latitude`` out of range, or only one of them given.
- ``invalid-radius``: a radius that is not a finite number in (0, the route's maximum].
- ``unknown-status``: a status that is neither a workflow status nor one of the groups ``open`` (every
  status still awaiting work) and ``closed`` (``resolved`` and ``closed``: the report is done with). The
  groups are GeoReport v2's two statuses, so a status list means the same in the API, the map and Open311;
  the workflow status ``closed`` alone is not selectable apart from ``resolved``.
- ``invalid-time-range``: the start does not lie before the end. A time range is half-open,
  ``start <= created_at < end``: the end bound is exclusive everywhere (``geo.queries`` and Open311), so
  consecutive ranges (a day, the next day) never count a report twice.
- ``invalid-input``: a malformed scalar (``limit`` out of range, a date-time without an offset), from
  FastAPI's own validation of the declared type.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from fastapi import Depends, Query
from pydantic import AwareDatetime

from api.errors import (
    InvalidBbox,
    InvalidNear,
    InvalidPosition,
    InvalidRadius,
    InvalidTimeRange,
    UnknownStatus,
)
from geo.workflow import FINAL_STATUSES, OPEN_STATUSES, Status

MAX_NEAR_RADIUS_M = 50_000
DEFAULT_NEAR_RADIUS_M = 500.0

_STATUS_VALUES = frozenset(s.value for s in Status)
_STATUS_GROUPS: dict[str, frozenset[str]] = {
    "open": frozenset(s.value for s in OPEN_STATUSES),
    "closed": frozenset(s.value for s in FINAL_STATUSES),
}
STATUS_DESCRIPTION = (
    "comma-separated: `open`, `closed` (resolved or closed) or workflow statuses "
    f"({', '.join(sorted(_STATUS_VALUES))})"
)


class BoundingBox(NamedTuple):
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


class Point(NamedTuple):
    longitude: float
    latitude: float


@dataclass(frozen=True, slots=True)
class Near:
    point: Point
    radius_m: float


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``start <= t < end``; either bound may be open (``None``)."""

    start: datetime | None = None
    end: datetime | None = None


def _in_range(longitude: float, latitude: float) -> bool:
    return -180 <= longitude <= 180 and -90 <= latitude <= 90


def _numbers(raw: str, count: int) -> list[float] | None:
    parts = raw.split(",")
    if len(parts) != count:
        return None
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return None
    return values if all(math.isfinite(v) for v in values) else None


def parse_bbox(raw: str) -> BoundingBox:
    values = _numbers(raw, 4)
    if values is None:
        raise InvalidBbox("bbox must be min_lon,min_lat,max_lon,max_lat (four numbers)")
    box = BoundingBox(*values)
    if not (_in_range(box.min_lon, box.min_lat) and _in_range(box.max_lon, box.max_lat)):
        raise InvalidBbox("bbox: longitudes lie in [-180, 180], latitudes in [-90, 90]")
    if box.min_lon >= box.max_lon or box.min_lat >= box.max_lat:
        raise InvalidBbox("bbox: the minimum must be below the maximum on both axes")
    return box


def parse_point(raw: str, name: str = "near") -> Point:
    values = _numbers(raw, 2)
    if values is None or not _in_range(*values):
        raise InvalidNear(f"{name} must be lon,lat with longitude in [-180, 180] and latitude in [-90, 90]")
    return Point(*values)


def check_radius(radius: float, maximum: float) -> float:
    if not (math.isfinite(radius) and 0 < radius <= maximum):
        raise InvalidRadius(f"radius must be a number of metres above 0 and at most {maximum:g}")
    return radius


def parse_statuses(raw: str | None) -> tuple[str, ...] | None:
    """The statuses a comma-separated list stands for, sorted; ``None`` (no filter) when empty."""
    if not raw:
        return None
    chosen: set[str] = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if part in _STATUS_GROUPS:
            chosen |= _STATUS_GROUPS[part]
        elif part in _STATUS_VALUES:
            chosen.add(part)
        else:
            raise UnknownStatus(
                f"unknown status {part[:50]!r}; use open, closed or one of {sorted(_STATUS_VALUES)}"
            )
    return tuple(sorted(chosen)) if chosen else None


def check_time_range(start: datetime | None, end: datetime | None, *, names: tuple[str, str]) -> TimeRange:
    if start is not None and end is not None and start >= end:
        raise InvalidTimeRange(f"{names[0]} must lie before {names[1]}")
    return TimeRange(start, end)


# --- the dependencies ---------------------------------------------------------------------------------


_BBOX_QUERY = Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat (WGS84)")
BboxQuery = Annotated[str | None, _BBOX_QUERY]
NearQuery = Annotated[
    str | None, Query(max_length=100, description="lon,lat: only reports within `radius`, nearest first")
]
NearRadiusQuery = Annotated[
    float, Query(description=f"metres around `near`, above 0 and at most {MAX_NEAR_RADIUS_M}")
]
StatusQuery = Annotated[str | None, Query(max_length=500, description=STATUS_DESCRIPTION)]
CreatedAfterQuery = Annotated[AwareDatetime | None, Query(description="from this moment (inclusive)")]
CreatedBeforeQuery = Annotated[AwareDatetime | None, Query(description="up to this moment (exclusive)")]
CursorQuery = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the previous page")]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="items per page, 1 to 500")]


async def _optional_bbox(bbox: BboxQuery = None) -> BoundingBox | None:
    return parse_bbox(bbox) if bbox is not None else None


async def _required_bbox(bbox: Annotated[str, _BBOX_QUERY]) -> BoundingBox:
    return parse_bbox(bbox)


LongitudeQuery = Annotated[float | None, Query(description="WGS84 longitude, with latitude")]
LatitudeQuery = Annotated[float | None, Query(description="WGS84 latitude, with longitude")]


def _checked_point(longitude: float, latitude: float) -> Point:
    if not (math.isfinite(longitude) and math.isfinite(latitude) and _in_range(longitude, latitude)):
        raise InvalidPosition("longitude must lie in [-180, 180] and latitude in [-90, 90]")
    return Point(longitude, latitude)


def checked_position(longitude: float | None, latitude: float | None) -> Point | None:
    """Both coordinates or neither, each finite and in range (``invalid-position``)."""
    if longitude is None and latitude is None:
        return None
    if longitude is None or latitude is None:
        raise InvalidPosition("give both longitude and latitude, or neither")
    return _checked_point(longitude, latitude)


async def _position(longitude: LongitudeQuery = None, latitude: LatitudeQuery = None) -> Point | None:
    return checked_position(longitude, latitude)


async def _statuses(status: StatusQuery = None) -> tuple[str, ...] | None:
    return parse_statuses(status)


BBox = Annotated[BoundingBox | None, Depends(_optional_bbox)]
RequiredBBox = Annotated[BoundingBox, Depends(_required_bbox)]
Position = Annotated[Point | None, Depends(_position)]
Statuses = Annotated[tuple[str, ...] | None, Depends(_statuses)]


@dataclass(frozen=True, slots=True)
class PositionRadius:
    """A required position and a route's own radius around it (``None``: the route's default)."""

    point: Point
    radius_m: float | None


def radius_query(*, maximum: float, description: str) -> Any:
    """``radius`` for a route with its own maximum (the duplicate check), checked by
    :func:`position_and_radius`. ``Any``, as FastAPI's ``Query`` is typed: the marker stands as the
    default of a parameter of another type."""
    return Query(default=None, description=f"{description}; above 0, at most {maximum:g}")


def position_and_radius(
    longitude: float | None, latitude: float | None, radius: float | None, *, maximum: float
) -> PositionRadius:
    """``longitude`` and ``latitude`` (both required) and an optional ``radius``, with the same parsers
    and codes as ``Position`` (``invalid-position``) and the list's ``near`` (``invalid-radius``).

    Called by the route on its own query parameters (``LongitudeQuery``, ``LatitudeQuery``,
    :func:`radius_query`) instead of being a dependency: on the duplicate check, which the app asks on
    every draft, a dependency of its own cost 6% of the request's instructions in FastAPI's solver
    (docs/benchmarks.md, "issue 13: the last 10%")."""
    if longitude is None or latitude is None:
        raise InvalidPosition("longitude and latitude are both required")
    point = _checked_point(longitude, latitude)
    return PositionRadius(point, None if radius is None else check_radius(radius, maximum))


def limit_parameter(*, default: int, maximum: int) -> Any:
    """``limit``: how many items a page holds; one declaration so every list states its bounds alike."""
    return Query(default=default, ge=1, le=maximum, description=f"items per page, 1 to {maximum}")


@dataclass(frozen=True, slots=True)
class CursorPage:
    cursor: str | None
    limit: int


@dataclass(frozen=True, slots=True)
class ReportListQuery:
    """The public report list's filters (see :func:`report_list_query`)."""

    bbox: BoundingBox | None
    near: Near | None
    statuses: tuple[str, ...] | None
    created: TimeRange
    page: CursorPage


def report_list_query(
    *,
    bbox: str | None,
    near: str | None,
    radius: float,
    status: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    cursor: str | None,
    limit: int,
) -> ReportListQuery:
    """The list's filters from its own query parameters (declared with ``BboxQuery``, ``NearQuery``,
    ``NearRadiusQuery``, ``StatusQuery``, ``CreatedAfterQuery``, ``CreatedBeforeQuery``, ``CursorQuery``
    and ``LimitQuery``), parsed by the same functions as the dependencies above, so a mistake is refused
    with the same code as on every other route.

    Called by the route instead of being a dependency: the list is the busiest read, and FastAPI (0.165)
    solves each dependency separately (its own parameter pass, cache key and call), at about 100k
    instructions each, 4% of the list's (docs/benchmarks.md, "issue 13: the last 10%").
    """
    check_radius(radius, MAX_NEAR_RADIUS_M)
    return ReportListQuery(
        bbox=None if bbox is None else parse_bbox(bbox),
        near=None if near is None else Near(parse_point(near), radius),
        statuses=parse_statuses(status),
        created=check_time_range(created_after, created_before, names=("created_after", "created_before")),
        page=CursorPage(cursor, limit),
    )
