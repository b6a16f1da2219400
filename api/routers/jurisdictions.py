"""Jurisdictions, their areas, departments, categories and role grants."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, PUBLIC
from api.deps import SessionDep
from api.parameters import Position
from api.path_objects import PathJurisdiction
from core.identity import Identity, RoleGrant
from geo import jurisdiction_queries, role_grants, service
from geo import queries as geo_queries
from geo.errors import AreaNotFound
from geo.models import Area, Category, Department
from geo.queries import JurisdictionRef
from geo.schemas import (
    AreaRead,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentRead,
    Input,
    JurisdictionRead,
)

router = APIRouter(prefix="/api/v1", tags=["jurisdictions"])
GEOJSON = "application/geo+json"
Public = Annotated[Identity | None, Depends(PUBLIC)]
Admin = Annotated[Identity, Depends(ADMIN)]


class JurisdictionListed(JurisdictionRead):
    bbox: list[float] | None = Field(
        description="min_lon, min_lat, max_lon, max_lat of its areas (where a map starts); null without areas"
    )


@router.get(
    "/jurisdictions",
    response_model=list[JurisdictionListed],
    summary="Jurisdictions; with longitude and latitude, those containing that point, most local first",
)
async def list_jurisdictions(
    position: Position,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> list[dict[str, Any]]:
    at = (position.longitude, position.latitude) if position is not None else None
    return await geo_queries.jurisdictions(session, at=at)


@router.get("/jurisdictions/{jurisdiction}", response_model=JurisdictionRead)
async def read_jurisdiction(_: Public, found: PathJurisdiction) -> JurisdictionRef:
    return found


@router.get("/jurisdictions/{jurisdiction}/areas", response_model=list[AreaRead])
async def list_areas(
    _: Public,
    found: PathJurisdiction,
    level: Literal["municipality", "district", "neighbourhood"] | None = None,
    session: AsyncSession = SessionDep,
) -> list[Area]:
    return await jurisdiction_queries.areas(session, jurisdiction_id=found.id, level=level)


@router.get("/jurisdictions/{jurisdiction}/areas/{area_id}", responses={200: {"content": {GEOJSON: {}}}})
async def read_area(
    _: Public,
    found: PathJurisdiction,
    area_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = SessionDep,
) -> Response:
    """One area as a GeoJSON Feature (RFC 7946), its boundary built by PostGIS (one query: the look-up and
    the feature at once, so not ``PathAreaId``)."""
    feature = await jurisdiction_queries.area_feature_json(session, jurisdiction_id=found.id, area_id=area_id)
    if feature is None:
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    return Response(feature, media_type=GEOJSON)


def _category_read(category: Category, codes: dict[int, str]) -> CategoryRead:
    return CategoryRead(
        id=category.id,
        code=category.code,
        parent=codes.get(category.parent_id) if category.parent_id else None,
        name=category.name,
        description=category.description,
        department_id=category.department_id,
        handling_days=category.handling_days,
        handling_day_kind=category.handling_day_kind,
        is_public=category.is_public,
        is_active=category.is_active,
        keywords=category.keywords,
        extra_fields=category.extra_fields,
    )


@router.get("/jurisdictions/{jurisdiction}/categories", response_model=list[CategoryRead])
async def list_categories(
    _: Public, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> list[CategoryRead]:
    categories = await jurisdiction_queries.active_categories(session, jurisdiction_id=found.id)
    codes = {c.id: c.code for c in categories}
    return [_category_read(c, codes) for c in categories]


@router.post("/jurisdictions/{jurisdiction}/categories", status_code=201, response_model=CategoryRead)
async def create_category(
    _: Admin, found: PathJurisdiction, body: CategoryCreate, session: AsyncSession = SessionDep
) -> CategoryRead:
    category = await service.create_category(session, jurisdiction_id=found.id, data=body)
    return _category_read(category, {} if body.parent is None else {category.parent_id or 0: body.parent})


@router.patch("/jurisdictions/{jurisdiction}/categories/{code}", response_model=CategoryRead)
async def update_category(
    _: Admin, found: PathJurisdiction, code: str, body: CategoryUpdate, session: AsyncSession = SessionDep
) -> CategoryRead:
    category = await service.update_category(session, jurisdiction_id=found.id, code=code, data=body)
    parent = await jurisdiction_queries.parent_code(session, category)
    return _category_read(category, {category.parent_id: parent} if category.parent_id and parent else {})


@router.get("/jurisdictions/{jurisdiction}/departments", response_model=list[DepartmentRead])
async def list_departments(
    _: Admin, found: PathJurisdiction, session: AsyncSession = SessionDep
) -> list[Department]:
    return await jurisdiction_queries.departments(session, jurisdiction_id=found.id)


@router.post("/jurisdictions/{jurisdiction}/departments", status_code=201, response_model=DepartmentRead)
async def create_department(
    _: Admin, found: PathJurisdiction, body: DepartmentCreate, session: AsyncSession = SessionDep
) -> Department:
    return await service.create_department(session, jurisdiction_id=found.id, name=body.name)


class RoleGrantCreate(Input):
    account_id: int = Field(ge=1, le=2**63 - 1)
    role: role_grants.GrantedRole
    area_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    department_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class RoleGrantRead(BaseModel):
    id: int
    account_id: int
    role: str
    area_id: int | None
    department_id: int | None


@router.post("/jurisdictions/{jurisdiction}/role-grants", status_code=201, response_model=RoleGrantRead)
async def grant_role(
    _: Admin, found: PathJurisdiction, body: RoleGrantCreate, session: AsyncSession = SessionDep
) -> RoleGrant:
    return await role_grants.grant_role(
        session,
        jurisdiction_id=found.id,
        account_id=body.account_id,
        role=body.role,
        area_id=body.area_id,
        department_id=body.department_id,
    )


@router.delete("/jurisdictions/{jurisdiction}/role-grants/{grant_id}", status_code=204)
async def revoke_role(
    _: Admin,
    found: PathJurisdiction,
    grant_id: int = Path(ge=1, le=2**63 - 1),
    session: AsyncSession = SessionDep,
) -> Response:
    await role_grants.revoke_role(session, jurisdiction_id=found.id, grant_id=grant_id)
    return Response(status_code=204)
