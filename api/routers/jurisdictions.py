"""Jurisdictions, their areas, departments, categories and role grants."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, PUBLIC
from api.deps import SessionDep
from core.errors import GrantScope, InvalidInput, NotFound
from core.identity import Account, Identity, RoleGrant
from geo import queries as geo_queries
from geo import service
from geo.errors import AreaNotFound, DepartmentNotFound
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
    longitude: float | None = Query(default=None, ge=-180, le=180, allow_inf_nan=False),
    latitude: float | None = Query(default=None, ge=-90, le=90, allow_inf_nan=False),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> list[dict[str, Any]]:
    if (longitude is None) != (latitude is None):
        raise InvalidInput("give both longitude and latitude, or neither", code="invalid-point")
    at = (longitude, latitude) if longitude is not None and latitude is not None else None
    return await geo_queries.jurisdictions(session, at=at)


@router.get("/jurisdictions/{jurisdiction}", response_model=JurisdictionRead)
async def read_jurisdiction(
    jurisdiction: str, session: AsyncSession = SessionDep, _: Identity | None = Depends(PUBLIC)
) -> JurisdictionRef:
    return await service.get_jurisdiction(session, jurisdiction)


@router.get("/jurisdictions/{jurisdiction}/areas", response_model=list[AreaRead])
async def list_areas(
    jurisdiction: str,
    level: Literal["municipality", "district", "neighbourhood"] | None = None,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> list[Area]:
    found = await service.get_jurisdiction(session, jurisdiction)
    query = select(Area).where(Area.jurisdiction_id == found.id).order_by(Area.level, Area.name)
    if level is not None:
        query = query.where(Area.level == level)
    return list(await session.scalars(query))


@router.get("/jurisdictions/{jurisdiction}/areas/{area_id}", responses={200: {"content": {GEOJSON: {}}}})
async def read_area(
    jurisdiction: str,
    area_id: int = Path(ge=1, le=2**31 - 1),
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    """One area as a GeoJSON Feature (RFC 7946), its boundary built by PostGIS."""
    found = await service.get_jurisdiction(session, jurisdiction)
    row = (
        await session.execute(
            text(
                "SELECT json_build_object('type', 'Feature', 'id', id,"
                " 'geometry', ST_AsGeoJSON(geom, 6)::json, 'properties',"
                " json_build_object('name', name, 'level', level, 'code', code,"
                " 'parent_id', parent_id))::text FROM areas WHERE id = :id AND jurisdiction_id = :j"
            ),
            {"id": area_id, "j": found.id},
        )
    ).scalar_one_or_none()
    if row is None:
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    return Response(row, media_type=GEOJSON)


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
    jurisdiction: str, session: AsyncSession = SessionDep, _: Identity | None = Depends(PUBLIC)
) -> list[CategoryRead]:
    found = await service.get_jurisdiction(session, jurisdiction)
    categories = list(
        await session.scalars(
            select(Category)
            .where(Category.jurisdiction_id == found.id, Category.is_active)
            .order_by(Category.id)
        )
    )
    codes = {c.id: c.code for c in categories}
    return [_category_read(c, codes) for c in categories]


@router.post("/jurisdictions/{jurisdiction}/categories", status_code=201, response_model=CategoryRead)
async def create_category(
    jurisdiction: str,
    body: CategoryCreate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> CategoryRead:
    found = await service.get_jurisdiction(session, jurisdiction)
    category = await service.create_category(session, jurisdiction_id=found.id, data=body)
    return _category_read(category, {} if body.parent is None else {category.parent_id or 0: body.parent})


@router.patch("/jurisdictions/{jurisdiction}/categories/{code}", response_model=CategoryRead)
async def update_category(
    jurisdiction: str,
    code: str,
    body: CategoryUpdate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> CategoryRead:
    found = await service.get_jurisdiction(session, jurisdiction)
    category = await service.update_category(session, jurisdiction_id=found.id, code=code, data=body)
    parent = await session.get(Category, category.parent_id) if category.parent_id else None
    return _category_read(category, {parent.id: parent.code} if parent else {})


@router.get("/jurisdictions/{jurisdiction}/departments", response_model=list[DepartmentRead])
async def list_departments(
    jurisdiction: str, session: AsyncSession = SessionDep, _: Identity = Depends(ADMIN)
) -> list[Department]:
    found = await service.get_jurisdiction(session, jurisdiction)
    return list(await session.scalars(select(Department).where(Department.jurisdiction_id == found.id)))


@router.post("/jurisdictions/{jurisdiction}/departments", status_code=201, response_model=DepartmentRead)
async def create_department(
    jurisdiction: str,
    body: DepartmentCreate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> Department:
    found = await service.get_jurisdiction(session, jurisdiction)
    return await service.create_department(session, jurisdiction_id=found.id, name=body.name)


class RoleGrantCreate(Input):
    account_id: int = Field(ge=1, le=2**63 - 1)
    role: Literal["council_member", "field_staff", "election_officer", "admin"]
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
    jurisdiction: str, body: RoleGrantCreate, session: AsyncSession = SessionDep, _: Identity = Depends(ADMIN)
) -> RoleGrant:
    found = await service.get_jurisdiction(session, jurisdiction)
    account = await session.get(Account, body.account_id)
    if account is None or account.jurisdiction_id != found.id:
        raise NotFound(f"no account {body.account_id} in this jurisdiction", code="account-not-found")
    if account.is_anonymous:
        raise InvalidInput("roles go to registered accounts, not anonymous devices", code="account-anonymous")
    scope: dict[str, Any] = {"area_id": None, "department_id": None}
    if body.role == "council_member":
        if body.area_id is None or body.department_id is not None:
            raise GrantScope("a council member is granted for an area_id")
        area = await session.get(Area, body.area_id)
        if area is None or area.jurisdiction_id != found.id:
            raise AreaNotFound(f"no area {body.area_id} in this jurisdiction")
        scope["area_id"] = area.id
    elif body.role == "field_staff":
        if body.department_id is None or body.area_id is not None:
            raise GrantScope("field staff are granted for a department_id")
        department = await session.get(Department, body.department_id)
        if department is None or department.jurisdiction_id != found.id:
            raise DepartmentNotFound(f"no department {body.department_id} in this jurisdiction")
        scope["department_id"] = department.id
    elif body.area_id is not None or body.department_id is not None:
        raise GrantScope("an administrator's or election officer's grant covers the whole jurisdiction")
    existing = await session.scalar(
        select(RoleGrant).where(
            RoleGrant.account_id == account.id,
            RoleGrant.role == body.role,
            RoleGrant.area_id.is_not_distinct_from(scope["area_id"]),
            RoleGrant.department_id.is_not_distinct_from(scope["department_id"]),
        )
    )
    if existing is not None:
        return existing
    grant = RoleGrant(account_id=account.id, jurisdiction_id=found.id, role=body.role, **scope)
    session.add(grant)
    await session.flush()
    return grant


@router.delete("/jurisdictions/{jurisdiction}/role-grants/{grant_id}", status_code=204)
async def revoke_role(
    jurisdiction: str,
    grant_id: int = Path(ge=1, le=2**63 - 1),
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> Response:
    found = await service.get_jurisdiction(session, jurisdiction)
    result = await session.execute(
        delete(RoleGrant).where(RoleGrant.id == grant_id, RoleGrant.jurisdiction_id == found.id)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # a DELETE's CursorResult; typed as Result
        raise NotFound(f"no role grant {grant_id} in this jurisdiction", code="role-grant-not-found")
    return Response(status_code=204)
