"""Import administrative boundaries from a GeoJSON file into ``areas``: repair, report, upsert, link.

Real boundary files are messy. The CBS municipality map has 85 self-intersecting polygons and splits
82 municipalities into a land and a water feature; other files come projected (RD New) or with points
and lines mixed in. The rules here make each of those visible instead of silent:

- a file whose ``crs`` member is not WGS84, or whose coordinates fall outside longitude/latitude ranges,
  is refused as a whole (a projected file would otherwise land somewhere in the ocean);
- an invalid polygon is repaired with ``ST_MakeValid``, keeping only its polygonal parts, and every
  repair is listed with the reason PostGIS gave;
- a feature that yields no polygon at all (a point, a line, a ring that collapses) is listed as skipped,
  and the import refuses to write anything unless skips are explicitly allowed;
- features sharing a name at the same level (a municipality's land and water parts) become one area,
  the union of their polygons, because ``(jurisdiction, level, name)`` identifies an area — letting the
  last feature win would drop territory without a word;
- re-importing a file updates the areas in place (upsert), so ids referenced by reports survive.

Geometry work happens in PostGIS, on a staging table, in the caller's transaction: the service flushes,
never commits, so the CLI (one transaction) and the tests (rolled back) decide.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import shapely.geometry
from shapely.errors import ShapelyError
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from geo.models import AREA_LEVELS, Jurisdiction

UNKNOWN_VALUE = -99999999
"""What CBS (and other Dutch statistics files) write for "unknown"; never stored as a real number."""

_WGS84_CRS = re.compile(r"(CRS84|EPSG:{1,2}4326|EPSG::?4326)$", re.IGNORECASE)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_MAX_LISTED_PROPERTIES = 20


class AreaImportError(Exception):
    """A problem with the input or its target: an operator error, reported as one line (CLI exit 2)."""


class UnknownJurisdiction(AreaImportError):
    pass


class SkippedFeatures(AreaImportError):
    """Some features yield no polygon and skips were not allowed: nothing was written."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        super().__init__(
            f"{len(result.skipped)} feature(s) cannot become an area; nothing was imported"
            " (fix them, or allow skips to import the rest)"
        )


@dataclass(frozen=True, slots=True)
class AreaFeature:
    position: int  # 1-based, as a person counts features in the file
    name: str
    code: str | None
    properties: dict[str, Any]
    wkb: bytes


@dataclass(frozen=True, slots=True)
class Skip:
    position: int
    name: str | None
    reason: str

    def describe(self) -> str:
        return f"feature #{self.position} ({self.name or 'no name'}): {self.reason}"


@dataclass(frozen=True, slots=True)
class Repair:
    position: int
    name: str
    problem: str
    outcome: str

    def describe(self) -> str:
        return f"feature #{self.position} ({self.name}): {self.problem} -> {self.outcome}"


@dataclass(slots=True)
class FeatureFile:
    path: Path
    features: list[AreaFeature]
    skipped: list[Skip]
    total: int  # features in the file before filtering


@dataclass(slots=True)
class ImportResult:
    jurisdiction: str
    level: str
    features_read: int
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[Repair] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    combined: dict[str, int] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    without_parent: list[str] = field(default_factory=list)
    area_ids: dict[str, int] = field(default_factory=dict)

    def report_lines(self) -> list[str]:
        lines: list[str] = []
        if self.combined:
            listed = ", ".join(f"{name} ({count})" for name, count in sorted(self.combined.items()))
            lines.append(
                f"combined {len(self.combined)} names that span several features into one area each: {listed}"
            )
        if self.repaired:
            lines.append(f"repaired {len(self.repaired)} invalid geometries:")
            lines.extend(f"  {repair.describe()}" for repair in self.repaired)
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} features:")
            lines.extend(f"  {skip.describe()}" for skip in self.skipped)
        if self.parents or self.without_parent:
            lines.append(f"linked {len(self.parents)} areas to a parent")
            if self.without_parent:
                orphans = ", ".join(sorted(self.without_parent))
                lines.append(f"no parent found for {len(self.without_parent)}: {orphans}")
        lines.append(self.summary())
        return lines

    def summary(self) -> str:
        return (
            f"{self.level} areas of {self.jurisdiction}: {self.features_read} features read,"
            f" {len(self.inserted)} inserted, {len(self.updated)} updated,"
            f" {len(self.repaired)} repaired, {len(self.skipped)} skipped"
        )


# ----------------------------------------------------------------------------------------------------
# Reading the file


def _clean_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    def unknown(value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return value == UNKNOWN_VALUE or not math.isfinite(value)
        return isinstance(value, str) and value.strip() == str(UNKNOWN_VALUE)

    return {key: value for key, value in properties.items() if not unknown(value)}


def _check_crs(document: Mapping[str, Any], path: Path) -> None:
    crs = document.get("crs")
    if crs is None:
        return  # RFC 7946: no crs member means WGS84 longitude/latitude
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or not _WGS84_CRS.search(name.strip()):
        raise AreaImportError(
            f"{path.name}: coordinate reference system {name or crs!r} is not WGS84 longitude/latitude;"
            " reproject first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson"
        )


def _check_property(name: str, role: str, available: set[str], path: Path) -> None:
    if name not in available:
        listed = ", ".join(sorted(available)[:_MAX_LISTED_PROPERTIES])
        more = ", …" if len(available) > _MAX_LISTED_PROPERTIES else ""
        raise AreaImportError(
            f"{path.name}: no feature has the {role} property {name!r}; properties are: {listed}{more}"
        )


def parse_filters(filters: Sequence[str]) -> dict[str, str]:
    """``PROP=VALUE`` pairs, as typed on the command line."""
    parsed: dict[str, str] = {}
    for item in filters:
        prop, separator, value = item.partition("=")
        if not separator or not prop:
            raise AreaImportError(f"filter {item!r} is not of the form PROPERTY=VALUE")
        parsed[prop] = value
    return parsed


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def read_features(
    path: Path,
    *,
    name_property: str,
    code_property: str | None = None,
    filters: Mapping[str, str] | None = None,
) -> FeatureFile:
    """Parse and check the whole file before the database is touched."""
    if not path.is_file():
        raise AreaImportError(f"{path}: no such file")
    try:
        document = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AreaImportError(f"{path.name}: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise AreaImportError(f"{path.name}: not a GeoJSON FeatureCollection")
    _check_crs(document, path)
    raw_features = document.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        raise AreaImportError(f"{path.name}: the FeatureCollection holds no features")

    available: set[str] = set()
    for raw in raw_features:
        if isinstance(raw, dict) and isinstance(raw.get("properties"), dict):
            available |= raw["properties"].keys()
    _check_property(name_property, "name", available, path)
    if code_property is not None:
        _check_property(code_property, "code", available, path)
    filters = dict(filters or {})
    for prop in filters:
        _check_property(prop, "filter", available, path)

    features: list[AreaFeature] = []
    skipped: list[Skip] = []
    matched = 0
    for position, raw in enumerate(raw_features, start=1):
        properties = raw.get("properties") if isinstance(raw, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        if any(_as_text(properties.get(prop)) != value for prop, value in filters.items()):
            continue
        matched += 1
        value = properties.get(name_property)
        name = str(value).strip() if value is not None else ""
        if not name:
            skipped.append(Skip(position, None, f"no {name_property!r} value"))
            continue
        code_value = properties.get(code_property) if code_property else None
        code = str(code_value).strip() or None if code_value is not None else None
        geometry = raw.get("geometry")
        if not geometry:
            skipped.append(Skip(position, name, "no geometry"))
            continue
        try:
            shape = shapely.geometry.shape(geometry)
        except (ShapelyError, ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
            skipped.append(Skip(position, name, f"malformed {geometry.get('type')} geometry ({error})"))
            continue
        if shape.is_empty:
            skipped.append(Skip(position, name, "empty geometry"))
            continue
        minx, miny, maxx, maxy = shape.bounds
        if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or not (
            -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        ):
            raise AreaImportError(
                f"{path.name}: feature #{position} ({name}) has coordinates outside WGS84"
                f" longitude/latitude ({minx:.6g}, {miny:.6g} … {maxx:.6g}, {maxy:.6g}); is the file"
                " projected (e.g. RD New, EPSG:28992)? Reproject it:"
                " ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson"
            )
        features.append(
            AreaFeature(
                position=position,
                name=name[:200],
                code=code[:64] if code else None,
                properties=_clean_properties(properties),
                wkb=shapely.to_wkb(shape, output_dimension=2),
            )
        )
    if filters and not matched:
        shown = " and ".join(f"{prop}={value}" for prop, value in filters.items())
        raise AreaImportError(f"{path.name}: no feature matches {shown}")
    return FeatureFile(path=path, features=features, skipped=skipped, total=len(raw_features))


# ----------------------------------------------------------------------------------------------------
# Writing


async def resolve_jurisdiction(
    session: AsyncSession, slug: str, *, create_name: str | None = None
) -> Jurisdiction:
    jurisdiction = await session.scalar(select(Jurisdiction).where(Jurisdiction.slug == slug))
    if jurisdiction is not None:
        return jurisdiction
    if create_name is None:
        raise UnknownJurisdiction(f"no jurisdiction with slug {slug!r}")
    if not _SLUG.match(slug):
        raise AreaImportError(f"{slug!r} is not a valid slug (lower-case letters, digits, '-' and '_')")
    jurisdiction = Jurisdiction(slug=slug, name=create_name)
    session.add(jurisdiction)
    await session.flush()
    return jurisdiction


_STAGE_TABLE = """
CREATE TEMP TABLE area_import_features (
    position integer PRIMARY KEY,
    name text NOT NULL,
    code text,
    properties jsonb NOT NULL,
    geom geometry NOT NULL,
    kind text,
    problem text,
    fixed geometry(MultiPolygon, 4326),
    dropped text
) ON COMMIT DROP
"""

_STAGE_ROW = """
INSERT INTO area_import_features (position, name, code, properties, geom)
VALUES (:position, :name, :code, CAST(:properties AS jsonb), ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))
"""

# ST_MakeValid only for invalid input: it may reorder the rings of a valid polygon for no gain.
_ANALYSE = """
WITH checked AS (
    SELECT position, GeometryType(geom) AS kind,
           CASE WHEN ST_IsValid(geom) THEN NULL ELSE ST_IsValidReason(geom) END AS problem,
           CASE WHEN ST_IsValid(geom) THEN geom ELSE ST_MakeValid(geom) END AS made
    FROM area_import_features
)
UPDATE area_import_features f
SET kind = c.kind,
    problem = c.problem,
    fixed = CASE WHEN ST_IsEmpty(ST_CollectionExtract(c.made, 3)) THEN NULL
                 ELSE ST_Multi(ST_CollectionExtract(c.made, 3)) END,
    dropped = NULLIF(concat_ws(' and ',
        CASE WHEN NOT ST_IsEmpty(ST_CollectionExtract(c.made, 1)) THEN 'points' END,
        CASE WHEN NOT ST_IsEmpty(ST_CollectionExtract(c.made, 2)) THEN 'lines' END), '')
FROM checked c
WHERE f.position = c.position
"""

_OUTCOMES = """
SELECT position, name, kind, problem, dropped, fixed IS NULL AS unusable,
       COALESCE(ST_NumGeometries(fixed), 0) AS polygons
FROM area_import_features
WHERE problem IS NOT NULL OR dropped IS NOT NULL OR fixed IS NULL
ORDER BY position
"""

_UPSERT = """
INSERT INTO areas (jurisdiction_id, level, name, code, geom, properties)
SELECT :jurisdiction_id, :level, name,
       (array_agg(code ORDER BY ST_Area(fixed) DESC, position))[1],
       CASE WHEN count(*) = 1 THEN (array_agg(fixed))[1]
            ELSE ST_Multi(ST_CollectionExtract(ST_Union(fixed), 3)) END,
       (array_agg(properties ORDER BY ST_Area(fixed) DESC, position))[1]
FROM area_import_features
WHERE fixed IS NOT NULL
GROUP BY name
ON CONFLICT (jurisdiction_id, level, name)
DO UPDATE SET code = EXCLUDED.code, geom = EXCLUDED.geom, properties = EXCLUDED.properties
RETURNING id, name, (xmax = 0) AS inserted
"""

# The parent is the area of the parent level holding the largest part of the child; touching along a
# shared border is not containment, hence NOT ST_Touches.
_ASSIGN_PARENTS = """
WITH best AS (
    SELECT child.id AS child_id,
           (SELECT parent.id FROM areas parent
            WHERE parent.jurisdiction_id = child.jurisdiction_id
              AND parent.level = :parent_level
              AND ST_Intersects(parent.geom, child.geom)
              AND NOT ST_Touches(parent.geom, child.geom)
            ORDER BY ST_Area(ST_Intersection(parent.geom, child.geom)) DESC, parent.id
            LIMIT 1) AS parent_id
    FROM areas child
    WHERE child.id = ANY(:ids)
)
UPDATE areas SET parent_id = best.parent_id
FROM best
WHERE areas.id = best.child_id
RETURNING areas.name, (SELECT p.name FROM areas p WHERE p.id = best.parent_id) AS parent_name
"""


def _check_parent_level(level: str, parent_level: str | None) -> None:
    if level not in AREA_LEVELS:
        raise AreaImportError(f"unknown level {level!r}; one of {', '.join(AREA_LEVELS)}")
    if parent_level is None:
        return
    if parent_level not in AREA_LEVELS:
        raise AreaImportError(f"unknown parent level {parent_level!r}; one of {', '.join(AREA_LEVELS)}")
    if AREA_LEVELS.index(parent_level) >= AREA_LEVELS.index(level):
        raise AreaImportError(f"a {level} cannot have a {parent_level} as parent")


async def import_areas(
    session: AsyncSession,
    *,
    jurisdiction: Jurisdiction,
    level: str,
    source: FeatureFile,
    parent_level: str | None = None,
    allow_skips: bool = False,
) -> ImportResult:
    """Upsert the file's features as areas of ``level``; flushes, never commits."""
    _check_parent_level(level, parent_level)
    if parent_level is not None:
        parents = await session.scalar(
            text("SELECT count(*) FROM areas WHERE jurisdiction_id = :j AND level = :level"),
            {"j": jurisdiction.id, "level": parent_level},
        )
        if not parents:
            raise AreaImportError(
                f"jurisdiction {jurisdiction.slug!r} has no {parent_level} areas to use as parents;"
                " import those first"
            )
    result = ImportResult(
        jurisdiction=jurisdiction.slug,
        level=level,
        features_read=len(source.features) + len(source.skipped),
        skipped=list(source.skipped),
    )
    await session.flush()
    await session.execute(text("DROP TABLE IF EXISTS pg_temp.area_import_features"))
    await session.execute(text(_STAGE_TABLE))
    if source.features:
        await session.execute(
            text(_STAGE_ROW),
            [
                {
                    "position": feature.position,
                    "name": feature.name,
                    "code": feature.code,
                    "properties": json.dumps(feature.properties),
                    "wkb": feature.wkb,
                }
                for feature in source.features
            ],
        )
    await session.execute(text(_ANALYSE))
    for row in (await session.execute(text(_OUTCOMES))).mappings():
        if row["unusable"]:
            why = f"{row['kind'].title()} has no area" if row["problem"] is None else row["problem"]
            result.skipped.append(Skip(row["position"], row["name"], f"no polygon left ({why})"))
            continue
        problem = row["problem"] or f"{row['kind'].title()} mixing polygons with other geometry"
        outcome = f"ST_MakeValid gave {row['polygons']} polygon(s)" if row["problem"] else "kept the polygons"
        if row["dropped"]:
            outcome += f", dropped {row['dropped']}"
        result.repaired.append(Repair(row["position"], row["name"], problem, outcome))
    result.skipped.sort(key=lambda skip: skip.position)
    if result.skipped and not allow_skips:
        raise SkippedFeatures(result)

    counts = await session.execute(
        text(
            "SELECT name, count(*) FROM area_import_features WHERE fixed IS NOT NULL"
            " GROUP BY name HAVING count(*) > 1"
        )
    )
    result.combined = {name: count for name, count in counts}
    rows = await session.execute(text(_UPSERT), {"jurisdiction_id": jurisdiction.id, "level": level})
    for area_id, name, inserted in rows:
        result.area_ids[name] = area_id
        (result.inserted if inserted else result.updated).append(name)

    if parent_level is not None and result.area_ids:
        linked = await session.execute(
            text(_ASSIGN_PARENTS), {"parent_level": parent_level, "ids": list(result.area_ids.values())}
        )
        for name, parent_name in linked:
            if parent_name is None:
                result.without_parent.append(name)
            else:
                result.parents[name] = parent_name
    await session.execute(text("DROP TABLE pg_temp.area_import_features"))
    return result


async def import_file(
    session: AsyncSession,
    path: Path,
    *,
    jurisdiction: str,
    level: str,
    name_property: str,
    code_property: str | None = None,
    parent_level: str | None = None,
    filters: Mapping[str, str] | None = None,
    create_jurisdiction: str | None = None,
    allow_skips: bool = False,
) -> ImportResult:
    """Everything ``civicloop areas import`` does, minus the commit."""
    _check_parent_level(level, parent_level)
    source = read_features(path, name_property=name_property, code_property=code_property, filters=filters)
    target = await resolve_jurisdiction(session, jurisdiction, create_name=create_jurisdiction)
    return await import_areas(
        session,
        jurisdiction=target,
        level=level,
        source=source,
        parent_level=parent_level,
        allow_skips=allow_skips,
    )
