"""Boundary imports against real files: repairs and skips reported, parents linked, re-imports update.

Everything runs in the rolled-back ``session``; each test imports into a throw-away jurisdiction of its own
(the committed reference ``world`` already holds Amsterdam).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo import MUNICIPALITY_FILE
from geo.area_import import (
    AreaImportError,
    SkippedFeatures,
    UnknownJurisdiction,
    import_file,
    read_features,
    resolve_jurisdiction,
)
from tests.conftest import DISTRICTS_FILE, MUNICIPALITIES_FILE, VONDELPARK

SQUARE = [[[4.90, 52.30], [4.91, 52.30], [4.91, 52.31], [4.90, 52.31], [4.90, 52.30]]]
# Two triangles meeting in one point: the classic self-intersecting ring.
BOW_TIE = [[[4.92, 52.30], [4.93, 52.31], [4.93, 52.30], [4.92, 52.31], [4.92, 52.30]]]


def _collection(*features: tuple[str, dict[str, Any] | None], **extra: Any) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        **extra,
        "features": [
            {
                "type": "Feature",
                "properties": {"naam": name, "score": -99999999, "kind": "test"},
                "geometry": g,
            }
            for name, g in features
        ],
    }


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(document))
    return path


async def _areas(session: AsyncSession, slug: str, level: str) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT a.name, a.id, a.parent_id, a.code, a.properties, ST_IsValid(a.geom) AS valid,"
            " GeometryType(a.geom) AS kind, ST_NumGeometries(a.geom) AS parts"
            " FROM areas a JOIN jurisdictions j ON j.id = a.jurisdiction_id"
            " WHERE j.slug = :slug AND a.level = :level"
        ),
        {"slug": slug, "level": level},
    )
    return {row["name"]: dict(row) for row in rows.mappings()}


async def test_districts_link_to_the_municipality_holding_most_of_them(session: AsyncSession) -> None:
    municipality = await import_file(
        session,
        MUNICIPALITY_FILE,
        jurisdiction="ams-import",
        level="municipality",
        name_property="gemeentenaam",
        code_property="gemeentecode",
        create_jurisdiction="Amsterdam (import test)",
    )
    # The CBS map splits Amsterdam into a land and a water feature, both self-intersecting.
    assert municipality.combined == {"Amsterdam": 2}
    assert [r.name for r in municipality.repaired] == ["Amsterdam", "Amsterdam"]
    assert all("Self-intersection" in r.problem for r in municipality.repaired)
    assert municipality.inserted == ["Amsterdam"]

    districts = await import_file(
        session,
        DISTRICTS_FILE,
        jurisdiction="ams-import",
        level="district",
        name_property="Stadsdeel",
        code_property="Stadsdeelcode",
        parent_level="municipality",
    )
    assert sorted(districts.inserted) == sorted(
        ["Centrum", "Oost", "Westpoort", "Nieuw-West", "Zuidoost", "Noord", "West", "Weesp", "Zuid"]
    )
    assert districts.repaired == [] and districts.skipped == [] and districts.without_parent == []

    stored = await _areas(session, "ams-import", "district")
    amsterdam = (await _areas(session, "ams-import", "municipality"))["Amsterdam"]
    assert len(stored) == 9
    assert {area["parent_id"] for area in stored.values()} == {amsterdam["id"]}
    assert stored["Centrum"]["code"] == "A"
    assert stored["Centrum"]["properties"] == {
        "Stadsdeel": "Centrum",
        "Stadsdeelcode": "A",
        "Oppervlakte_m2": 8012895,
    }
    assert all(area["valid"] and area["kind"] == "MULTIPOLYGON" for area in stored.values())
    zuid = await session.scalar(
        text(
            "SELECT name FROM areas WHERE level = 'district' AND jurisdiction_id = :j"
            " AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
        ),
        {"j": (await resolve_jurisdiction(session, "ams-import")).id, "x": VONDELPARK[0], "y": VONDELPARK[1]},
    )
    assert zuid == "Zuid"


async def test_all_dutch_municipalities_import_with_repairs_reported(session: AsyncSession) -> None:
    result = await import_file(
        session,
        MUNICIPALITIES_FILE,
        jurisdiction="nl-import",
        level="municipality",
        name_property="gemeentenaam",
        code_property="gemeentecode",
        create_jurisdiction="Nederland",
    )
    # 428 features: 345 municipalities' land parts, 82 separate water parts, and "Buitenland".
    assert result.features_read == 428
    assert len(result.combined) == 82 and set(result.combined.values()) == {2}
    assert len(result.inserted) == 346
    assert len(result.repaired) == 85
    assert result.skipped == []
    stored = await _areas(session, "nl-import", "municipality")
    assert len(stored) == 346
    assert all(area["valid"] for area in stored.values())
    assert stored["Utrecht"]["code"] == "GM0344"
    unknowns = [name for name, area in stored.items() if -99999999 in area["properties"].values()]
    assert unknowns == []
    # The land part (the largest) gives a combined municipality its properties.
    assert stored["Amsterdam"]["properties"]["water"] == "NEE"
    assert stored["Amsterdam"]["properties"]["aantalInwoners"] == 882633

    land_only = await import_file(
        session,
        MUNICIPALITIES_FILE,
        jurisdiction="nl-import",
        level="municipality",
        name_property="gemeentenaam",
        filters={"water": "NEE"},
    )
    assert land_only.features_read == 345
    assert land_only.inserted == [] and len(land_only.updated) == 345
    assert len(await _areas(session, "nl-import", "municipality")) == 346


async def test_reimport_updates_in_place(session: AsyncSession) -> None:
    arguments: dict[str, Any] = {
        "jurisdiction": "reimport",
        "level": "district",
        "name_property": "Stadsdeel",
        "create_jurisdiction": "Re-import",
    }
    first = await import_file(session, DISTRICTS_FILE, **arguments)
    before = await _areas(session, "reimport", "district")
    second = await import_file(session, DISTRICTS_FILE, **arguments)
    after = await _areas(session, "reimport", "district")
    assert (len(first.inserted), len(first.updated)) == (9, 0)
    assert (len(second.inserted), len(second.updated)) == (0, 9)
    assert {name: area["id"] for name, area in after.items()} == {
        name: area["id"] for name, area in before.items()
    }


async def test_bow_tie_is_repaired_and_reported(session: AsyncSession, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _collection(
            ("Vierkant", {"type": "Polygon", "coordinates": SQUARE}),
            ("Strik", {"type": "Polygon", "coordinates": BOW_TIE}),
        ),
    )
    result = await import_file(
        session,
        path,
        jurisdiction="bowtie",
        level="neighbourhood",
        name_property="naam",
        create_jurisdiction="B",
    )
    assert [(r.position, r.name) for r in result.repaired] == [(2, "Strik")]
    assert "Self-intersection" in result.repaired[0].problem
    assert "2 polygon(s)" in result.repaired[0].outcome
    assert any("repaired 1 invalid geometries" in line for line in result.report_lines())
    stored = await _areas(session, "bowtie", "neighbourhood")
    assert stored["Strik"]["valid"] and stored["Strik"]["parts"] == 2
    assert stored["Vierkant"]["properties"] == {"naam": "Vierkant", "kind": "test"}


async def test_a_feature_without_area_is_skipped_and_blocks_unless_allowed(
    session: AsyncSession, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        _collection(
            ("Vierkant", {"type": "Polygon", "coordinates": SQUARE}),
            ("Paal", {"type": "Point", "coordinates": [4.9, 52.3]}),
            ("Lijn", {"type": "LineString", "coordinates": [[4.9, 52.3], [4.91, 52.31]]}),
            ("Niets", None),
        ),
    )
    arguments: dict[str, Any] = {
        "jurisdiction": "skips",
        "level": "neighbourhood",
        "name_property": "naam",
        "create_jurisdiction": "Skips",
    }
    with pytest.raises(SkippedFeatures) as refused:
        await import_file(session, path, **arguments)
    assert [(s.position, s.name) for s in refused.value.result.skipped] == [
        (2, "Paal"),
        (3, "Lijn"),
        (4, "Niets"),
    ]
    assert "Point has no area" in refused.value.result.skipped[0].reason
    assert await _areas(session, "skips", "neighbourhood") == {}

    result = await import_file(session, path, allow_skips=True, **arguments)
    assert result.inserted == ["Vierkant"]
    assert len(result.skipped) == 3
    assert any(line.startswith("skipped 3 features") for line in result.report_lines())


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            _collection(
                ("RD", {"type": "Polygon", "coordinates": SQUARE}),
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
            ),
            "not WGS84",
        ),
        (
            _collection(
                (
                    "RD",
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[121000, 487000], [122000, 487000], [122000, 488000], [121000, 487000]]
                        ],
                    },
                )
            ),
            "outside WGS84",
        ),
        ({"type": "Feature", "geometry": None, "properties": {}}, "not a GeoJSON FeatureCollection"),
    ],
)
def test_projected_or_malformed_files_are_refused(
    tmp_path: Path, document: dict[str, Any], message: str
) -> None:
    with pytest.raises(AreaImportError, match=message):
        read_features(_write(tmp_path, document), name_property="naam")


def test_an_explicit_wgs84_crs_is_accepted(tmp_path: Path) -> None:
    document = _collection(
        ("Vierkant", {"type": "Polygon", "coordinates": SQUARE}),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    )
    assert len(read_features(_write(tmp_path, document), name_property="naam").features) == 1


def test_unknown_properties_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AreaImportError, match="no such file"):
        read_features(tmp_path / "missing.geojson", name_property="naam")
    with pytest.raises(AreaImportError, match="no feature has the name property 'name'.*Stadsdeel"):
        read_features(DISTRICTS_FILE, name_property="name")
    with pytest.raises(AreaImportError, match="filter property 'water'"):
        read_features(DISTRICTS_FILE, name_property="Stadsdeel", filters={"water": "NEE"})
    with pytest.raises(AreaImportError, match="no feature matches Stadsdeel=Atlantis"):
        read_features(DISTRICTS_FILE, name_property="Stadsdeel", filters={"Stadsdeel": "Atlantis"})


async def test_unknown_jurisdiction_and_upside_down_levels_are_refused(session: AsyncSession) -> None:
    with pytest.raises(UnknownJurisdiction):
        await import_file(
            session, DISTRICTS_FILE, jurisdiction="atlantis", level="district", name_property="Stadsdeel"
        )
    with pytest.raises(AreaImportError, match="cannot have a district as parent"):
        await import_file(
            session,
            DISTRICTS_FILE,
            jurisdiction="amsterdam",
            level="municipality",
            name_property="Stadsdeel",
            parent_level="district",
        )
    with pytest.raises(AreaImportError, match="no district areas"):
        await import_file(
            session,
            DISTRICTS_FILE,
            jurisdiction="utrecht",
            level="neighbourhood",
            name_property="Stadsdeel",
            parent_level="district",
        )
