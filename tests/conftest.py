"""Test harness: a real PostGIS, migrated once by alembic, each test inside a rolled-back transaction.

The database is ``CIVICLOOP_TEST_DATABASE_URL``'s server when given, else the project's own local
cluster (the same one ``civicloop serve`` provisions). A fresh database is created per test session
and dropped at the end. Reference data (jurisdictions, areas, departments, categories, people with
their roles) is committed once; every test runs in a transaction that the app's session joins
through savepoints, and that is rolled back afterwards.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from core import accounts
from core.db import make_engine, make_sessionmaker, sync_url
from core.identity import RoleGrant
from core.local_postgres import ensure_local_cluster, ensure_postgis_installed
from core.settings import PROJECT_DIR, Settings
from geo.models import Department, Jurisdiction
from geo.schemas import CategoryCreate
from geo.service import create_category
from tests.response_schemas import response_hooks

SHARED = PROJECT_DIR.parent / "shared" / "data"
DISTRICTS_FILE = SHARED / "geo" / "amsterdam_stadsdelen.geojson"
MUNICIPALITIES_FILE = SHARED / "geo" / "nl_gemeenten_2022.geojson"

# A hand-drawn block around Dam square, inside the district Centrum: the neighbourhood of our tests.
DAM_NEIGHBOURHOOD = {
    "type": "Polygon",
    "coordinates": [
        [[4.8880, 52.3715], [4.8960, 52.3715], [4.8960, 52.3755], [4.8880, 52.3755], [4.8880, 52.3715]]
    ],
}
DAM_SQUARE = (4.8927, 52.3731)  # inside the Dam neighbourhood
VONDELPARK = (4.8680, 52.3580)  # district Zuid, outside the Dam neighbourhood
NORTH_SEA = (4.40, 52.60)  # outside every area of Amsterdam
UTRECHT_DOM = (5.1214, 52.0907)  # inside Utrecht, outside Amsterdam
# Tests whose requests really commit (races) use this place and category, so the rolled-back tests,
# which list by place and category, never see their rows.
RACE_TRACK = (4.9300, 52.4000)  # Amsterdam-Noord
RACE_CATEGORY = "street-light"
RACE_EXTRA = {"pole_number": "RACE-1"}


def _server_url() -> tuple[str, str]:
    """(admin URL, URL template with {db}) for the server the tests use."""
    given = os.environ.get("CIVICLOOP_TEST_DATABASE_URL")
    if given:
        base, _, _ = given.rpartition("/")
        return f"{base}/postgres", base + "/{db}"
    ensure_postgis_installed()
    cluster = ensure_local_cluster(PROJECT_DIR / ".civicloop")
    return cluster.url("postgres"), cluster.url("{db}")


def _psycopg(url: str) -> str:
    return sync_url(url)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin_url, template = _server_url()
    name = f"civicloop_test_{os.getpid()}"
    with psycopg.connect(_psycopg(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    url = template.replace("{db}", name)
    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "heads")
    yield url
    with psycopg.connect(_psycopg(admin_url), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=20)
    yield engine
    await engine.dispose()


@dataclass
class World:
    """The committed reference data every test may read."""

    amsterdam: int
    utrecht: int
    areas: dict[str, int]
    departments: dict[str, int]
    tokens: dict[str, str]
    accounts: dict[str, int]


def _feature_geometries(path: Path, name_property: str) -> dict[str, dict[str, Any]]:
    data = json.loads(path.read_text())
    return {f["properties"][name_property]: f["geometry"] for f in data["features"]}


async def _insert_area(
    session: AsyncSession,
    jurisdiction_id: int,
    level: str,
    name: str,
    geometry: dict[str, Any],
    parent_id: int | None = None,
) -> int:
    return (
        await session.execute(
            text(
                "INSERT INTO areas (jurisdiction_id, parent_id, level, name, geom, properties)"
                " VALUES (:j, :p, :level, :name,"
                " ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)), 3)),"
                " '{}') RETURNING id"
            ),
            {"j": jurisdiction_id, "p": parent_id, "level": level, "name": name, "g": json.dumps(geometry)},
        )
    ).scalar_one()


STREET_LIGHT_FIELDS = [
    {
        "code": "pole_number",
        "label": {"nl": "Mastnummer", "en": "Pole number"},
        "type": "string",
        "required": True,
        "order": 1,
    },
    {
        "code": "kind",
        "label": {"nl": "Soort storing", "en": "Kind of fault"},
        "type": "singlevaluelist",
        "required": False,
        "order": 2,
        "options": [
            {"key": "off", "label": {"nl": "Brandt niet"}},
            {"key": "flicker", "label": {"nl": "Knippert"}},
        ],
    },
]


@pytest.fixture(scope="session")
async def world(engine: AsyncEngine) -> World:
    return await build_world(engine)


async def build_world(engine: AsyncEngine) -> World:
    """Commit the reference data into the database of ``engine`` (the browser tests' own one too)."""
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory() as session:
        amsterdam = Jurisdiction(
            slug="amsterdam",
            name="Amsterdam",
            timezone="Europe/Amsterdam",
            holiday_country="NL",
            default_locale="nl",
        )
        utrecht = Jurisdiction(
            slug="utrecht",
            name="Utrecht",
            timezone="Europe/Amsterdam",
            holiday_country="NL",
            default_locale="nl",
        )
        session.add_all([amsterdam, utrecht])
        await session.flush()
        areas: dict[str, int] = {}
        municipalities = _feature_geometries(MUNICIPALITIES_FILE, "gemeentenaam")
        areas["Amsterdam"] = await _insert_area(
            session, amsterdam.id, "municipality", "Amsterdam", municipalities["Amsterdam"]
        )
        for name, geometry in _feature_geometries(DISTRICTS_FILE, "Stadsdeel").items():
            areas[name] = await _insert_area(
                session, amsterdam.id, "district", name, geometry, areas["Amsterdam"]
            )
        areas["Dam"] = await _insert_area(
            session, amsterdam.id, "neighbourhood", "Dam", DAM_NEIGHBOURHOOD, areas["Centrum"]
        )
        areas["Utrecht"] = await _insert_area(
            session, utrecht.id, "municipality", "Utrecht", municipalities["Utrecht"]
        )
        departments = {}
        for jurisdiction, name in (
            (amsterdam, "Wegen"),
            (amsterdam, "Afval"),
            (amsterdam, "Verlichting"),
            (utrecht, "Wegen"),
        ):
            department = Department(jurisdiction_id=jurisdiction.id, name=name)
            session.add(department)
            await session.flush()
            departments[f"{jurisdiction.slug}:{name}"] = department.id
        ams = amsterdam.id
        for data in [
            CategoryCreate.model_validate({"code": "street", "name": {"nl": "Straat", "en": "Street"}}),
            CategoryCreate.model_validate(
                {
                    "code": "pothole",
                    "parent": "street",
                    "name": {"nl": "Gat in de weg"},
                    "department_id": departments["amsterdam:Wegen"],
                    "handling_days": 5,
                }
            ),
            CategoryCreate.model_validate(
                {
                    "code": "street-light",
                    "parent": "street",
                    "name": {"nl": "Straatverlichting", "en": "Street light"},
                    "department_id": departments["amsterdam:Verlichting"],
                    "extra_fields": STREET_LIGHT_FIELDS,
                }
            ),
            CategoryCreate.model_validate({"code": "waste", "name": {"nl": "Afval", "en": "Waste"}}),
            CategoryCreate.model_validate(
                {
                    "code": "dumped-waste",
                    "parent": "waste",
                    "name": {"nl": "Gedumpt afval"},
                    "handling_day_kind": "calendar",
                    "handling_days": 2,
                    "department_id": departments["amsterdam:Afval"],
                }
            ),
            CategoryCreate.model_validate(
                {
                    "code": "nuisance-neighbours",
                    "parent": "waste",
                    "name": {"nl": "Overlast door buren"},
                    "is_public": False,
                    "department_id": departments["amsterdam:Afval"],
                }
            ),
        ]:
            await create_category(session, jurisdiction_id=ams, data=data)
        await create_category(
            session,
            jurisdiction_id=utrecht.id,
            data=CategoryCreate.model_validate(
                {
                    "code": "pothole",
                    "name": {"nl": "Gat in de weg"},
                    "department_id": departments["utrecht:Wegen"],
                }
            ),
        )

        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        people = {
            "resident": (ams, None),
            "other_resident": (ams, None),
            "council": (ams, ("council_member", "area_id", areas["Centrum"])),
            "roads_staff": (ams, ("field_staff", "department_id", departments["amsterdam:Wegen"])),
            "waste_staff": (ams, ("field_staff", "department_id", departments["amsterdam:Afval"])),
            "admin": (ams, ("admin", None, None)),
            "officer": (ams, ("election_officer", None, None)),
            "utrecht_resident": (utrecht.id, None),
            "utrecht_admin": (utrecht.id, ("admin", None, None)),
            "utrecht_staff": (utrecht.id, ("field_staff", "department_id", departments["utrecht:Wegen"])),
        }
        for name, (jurisdiction_id, grant) in people.items():
            account, token = await accounts.register_account(
                session,
                jurisdiction_id=jurisdiction_id,
                email=f"{name}@example.org",
                password="correct horse battery",
                display_name=name,
                locale="nl",
                ttl_days=1,
            )
            tokens[name], ids[name] = token, account.id
            if grant:
                role, scope_field, scope_id = grant
                scope = {scope_field: scope_id} if scope_field else {}
                session.add(
                    RoleGrant(account_id=account.id, jurisdiction_id=jurisdiction_id, role=role, **scope)
                )
        device, tokens["device"] = await accounts.register_device(
            session, jurisdiction_id=ams, locale="en", ttl_days=1
        )
        ids["device"] = device.id
        await session.commit()
    return World(
        amsterdam=amsterdam.id,
        utrecht=utrecht.id,
        areas=areas,
        departments=departments,
        tokens=tokens,
        accounts=ids,
    )


@pytest.fixture
async def connection(engine: AsyncEngine, world: World) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Rate limits off: the suite makes many devices from one address; tests that check them turn them on.
    return Settings(
        environment="test", database_url=database_url, media_dir=tmp_path / "media", rate_limits=False
    )


@pytest.fixture
async def client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://civicloop.test", event_hooks=response_hooks(app)
    ) as client:
        yield client


@pytest.fixture
async def committed_client(
    engine: AsyncEngine, settings: Settings, world: World
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests really commit: for races that need two live transactions."""
    app = create_app(settings, sessionmaker=make_sessionmaker(engine))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://civicloop.test",
        event_hooks=response_hooks(app),
    ) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def report_body(
    category: str = "pothole", point: tuple[float, float] = DAM_SQUARE, **extra: Any
) -> dict[str, Any]:
    return {
        "category": category,
        "location": {"type": "Point", "coordinates": list(point)},
        "description": "Diep gat in het fietspad",
        **extra,
    }
