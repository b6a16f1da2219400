"""Consultations over HTTP: rounds and questions (administrators), one editable response per resident,
aggregated results, CSV/GeoJSON exports for the council, "you said, we did"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT
from api.deps import SessionDep
from core.errors import Forbidden, NotFound, NotYourArea
from core.identity import Identity
from geo import queries as geo_queries
from geo import service as geo_service
from participation import consultations
from participation.schemas import (
    ConsultationCreate,
    ConsultationRoundCreate,
    ResponseSubmit,
    StatusChange,
    YouSaidWeDid,
)

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["consultations"])
Id = Annotated[int, Path(ge=1, le=2**62)]


async def _jurisdiction_id(session: AsyncSession, slug: str) -> int:
    return (await geo_service.get_jurisdiction(session, slug)).id


async def _is_insider(
    session: AsyncSession, identity: Identity | None, jurisdiction_id: int, area_id: int
) -> bool:
    """Who reads a round's results (free texts included) before it closes: the jurisdiction's staff and
    administrators, and the council members of the round's area or of an area around it."""
    if identity is None or identity.jurisdiction_id != jurisdiction_id:
        return False
    if identity.admin or identity.department_ids:
        return True
    return await geo_queries.area_within(session, area_id=area_id, ancestors=identity.council_area_ids)


async def _check_council_area(
    session: AsyncSession, identity: Identity, jurisdiction_id: int, area_id: int
) -> None:
    """Exports hold every response: an administrator's, or the council's of the round's area."""
    if not identity.is_admin_of(jurisdiction_id) and not await geo_queries.area_within(
        session, area_id=area_id, ancestors=identity.council_area_ids
    ):
        raise NotYourArea("council members export the rounds of their own area")


@router.post("/consultations", status_code=201, summary="Create a consultation with its rounds and questions")
async def create_consultation(
    jurisdiction: str,
    body: ConsultationCreate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    created = await consultations.create_consultation(session, jurisdiction_id=jurisdiction_id, data=body)
    return await consultations.render_consultation(session, created)


@router.get("/consultations/{consultation_id}", summary="A consultation, its rounds and questions")
async def get_consultation(
    jurisdiction: str,
    consultation_id: Id,
    session: AsyncSession = SessionDep,
    _: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_consultation(
        session, jurisdiction_id=jurisdiction_id, consultation_id=consultation_id
    )
    return await consultations.render_consultation(session, found)


@router.post(
    "/consultations/{consultation_id}/rounds",
    status_code=201,
    summary="Add a round (e.g. choices after ideas)",
)
async def add_round(
    jurisdiction: str,
    consultation_id: Id,
    body: ConsultationRoundCreate,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_consultation(
        session, jurisdiction_id=jurisdiction_id, consultation_id=consultation_id
    )
    created = await consultations.add_round(session, consultation=found, data=body)
    return await consultations.render_round(session, created)


@router.post("/consultation-rounds/{round_id}/status", summary="Open or close a consultation round")
async def change_status(
    jurisdiction: str,
    round_id: Id,
    body: StatusChange,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(
        session, jurisdiction_id=jurisdiction_id, round_id=round_id, lock=True
    )
    await consultations.change_round_status(
        session, consultation_round=found, to=body.to, jurisdiction_id=jurisdiction_id
    )
    return await consultations.render_round(session, found)


@router.put("/consultation-rounds/{round_id}/response", summary="Give or change your response")
async def respond(
    jurisdiction: str,
    round_id: Id,
    body: ResponseSubmit,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> JSONResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    _, replaced = await consultations.submit_response(
        session, consultation_round=found, jurisdiction_id=jurisdiction_id, respondent=identity, data=body
    )
    mine = await consultations.my_response(session, round_id=found.id, account_id=identity.account_id)
    return JSONResponse(
        jsonable_encoder({"replaced": replaced, **(mine or {})}), status_code=200 if replaced else 201
    )


@router.get("/consultation-rounds/{round_id}/response", summary="Your response")
async def my_response(
    jurisdiction: str,
    round_id: Id,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    mine = await consultations.my_response(session, round_id=found.id, account_id=identity.account_id)
    if mine is None:
        raise NotFound("you have not responded to this round", code="no-response")
    return mine


@router.get(
    "/consultation-rounds/{round_id}/results",
    summary="Aggregated results (public once closed; staff and council any time)",
)
async def results(
    jurisdiction: str,
    round_id: Id,
    area_id: int | None = Query(default=None, ge=1),
    grid_metres: float = Query(default=100, ge=10, le=5000),
    session: AsyncSession = SessionDep,
    identity: Identity | None = Depends(PUBLIC),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    insider = await _is_insider(session, identity, jurisdiction_id, found.area_id)
    if found.status != "closed" and not insider:
        raise Forbidden("results are public once the round has closed", code="results-not-public")
    return await consultations.results(
        session, consultation_round=found, area_id=area_id, include_texts=insider, grid_metres=grid_metres
    )


@router.get(
    "/consultation-rounds/{round_id}/export.csv",
    response_class=PlainTextResponse,
    summary="All responses as CSV, without names (staff, council)",
)
async def export_csv(
    jurisdiction: str,
    round_id: Id,
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> PlainTextResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    await _check_council_area(session, identity, jurisdiction_id, found.area_id)
    return PlainTextResponse(
        await consultations.export_csv(session, consultation_round=found, area_id=area_id),
        media_type="text/csv; charset=utf-8",
    )


@router.get(
    "/consultation-rounds/{round_id}/export.geojson", summary="Map answers as GeoJSON (staff, council)"
)
async def export_geojson(
    jurisdiction: str,
    round_id: Id,
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(COUNCIL),
) -> JSONResponse:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(session, jurisdiction_id=jurisdiction_id, round_id=round_id)
    await _check_council_area(session, identity, jurisdiction_id, found.area_id)
    data = await consultations.export_geojson(session, consultation_round=found, area_id=area_id)
    return JSONResponse(data, media_type="application/geo+json")


@router.post(
    "/consultation-rounds/{round_id}/you-said-we-did", summary="Publish what the municipality will do"
)
async def you_said_we_did(
    jurisdiction: str,
    round_id: Id,
    body: YouSaidWeDid,
    session: AsyncSession = SessionDep,
    _: Identity = Depends(ADMIN),
) -> dict[str, Any]:
    jurisdiction_id = await _jurisdiction_id(session, jurisdiction)
    found = await consultations.get_round(
        session, jurisdiction_id=jurisdiction_id, round_id=round_id, lock=True
    )
    await consultations.publish_you_said_we_did(
        session, consultation_round=found, jurisdiction_id=jurisdiction_id, data=body
    )
    return await consultations.render_round(session, found)
