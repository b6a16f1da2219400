"""Consultations over HTTP: rounds and questions (administrators), one editable response per resident,
aggregated results, CSV/GeoJSON exports for the council, "you said, we did"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN, COUNCIL, PUBLIC, RESIDENT
from api.deps import SessionDep
from api.errors import NoResponse, ResultsNotPublic
from api.path_objects import (
    PathConsultation,
    PathConsultationRound,
    PathConsultationRoundForUpdate,
    PathJurisdiction,
)
from core.identity import Identity
from participation import consultations
from participation.permissions import check_may_export_consultation, is_consultation_insider
from participation.schemas import (
    ConsultationCreate,
    ConsultationRead,
    ConsultationResults,
    ConsultationRoundCreate,
    ConsultationRoundDetail,
    ResponseRead,
    ResponseSaved,
    ResponseSubmit,
    StatusChange,
    YouSaidWeDid,
)

router = APIRouter(prefix="/api/v1/jurisdictions/{jurisdiction}", tags=["consultations"])
# The renderers keep only the keys a question's kind has: ``exclude_unset`` keeps that wire format.
SHAPE: dict[str, Any] = {"response_model_exclude_unset": True}


@router.post(
    "/consultations",
    status_code=201,
    response_model=ConsultationRead,
    **SHAPE,
    summary="Create a consultation with its rounds and questions",
)
async def create_consultation(
    _: Annotated[Identity, Depends(ADMIN)],
    body: ConsultationCreate,
    found: PathJurisdiction,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    created = await consultations.create_consultation(session, jurisdiction_id=found.id, data=body)
    return await consultations.render_consultation(session, created)


@router.get(
    "/consultations/{consultation_id}",
    response_model=ConsultationRead,
    **SHAPE,
    summary="A consultation, its rounds and questions",
)
async def get_consultation(
    identity: Annotated[Identity | None, Depends(PUBLIC)],
    consultation: PathConsultation,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    administrator = identity is not None and identity.is_admin_of(consultation.jurisdiction_id)
    return await consultations.render_consultation(session, consultation, include_drafts=administrator)


@router.post(
    "/consultations/{consultation_id}/rounds",
    status_code=201,
    response_model=ConsultationRoundDetail,
    **SHAPE,
    summary="Add a round (e.g. choices after ideas)",
)
async def add_round(
    _: Annotated[Identity, Depends(ADMIN)],
    body: ConsultationRoundCreate,
    consultation: PathConsultation,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    created = await consultations.add_round(session, consultation=consultation, data=body)
    return await consultations.render_round(session, created)


@router.post(
    "/consultation-rounds/{round_id}/status",
    response_model=ConsultationRoundDetail,
    **SHAPE,
    summary="Open or close a consultation round",
)
async def change_status(
    _: Annotated[Identity, Depends(ADMIN)],
    body: StatusChange,
    found: PathJurisdiction,
    consultation_round: PathConsultationRoundForUpdate,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    await consultations.change_round_status(
        session, consultation_round=consultation_round, to=body.to, jurisdiction_id=found.id
    )
    return await consultations.render_round(session, consultation_round)


@router.put(
    "/consultation-rounds/{round_id}/response",
    response_model=ResponseSaved,
    responses={201: {"model": ResponseSaved, "description": "The first response to this round"}},
    summary="Give or change your response (200: changed, 201: first)",
)
async def respond(
    identity: Annotated[Identity, Depends(RESIDENT)],
    body: ResponseSubmit,
    found: PathJurisdiction,
    consultation_round: PathConsultationRound,
    session: AsyncSession = SessionDep,
) -> JSONResponse:
    _, replaced = await consultations.submit_response(
        session,
        consultation_round=consultation_round,
        jurisdiction_id=found.id,
        respondent=identity,
        data=body,
    )
    mine = await consultations.my_response(
        session, round_id=consultation_round.id, account_id=identity.account_id
    )
    # Rendered here (200 or 201): the tests check it against ``ResponseSaved``.
    return JSONResponse(
        jsonable_encoder({"replaced": replaced, **(mine or {})}), status_code=200 if replaced else 201
    )


@router.get(
    "/consultation-rounds/{round_id}/response",
    response_model=ResponseRead,
    **SHAPE,
    summary="Your response",
)
async def my_response(
    identity: Annotated[Identity, Depends(RESIDENT)],
    consultation_round: PathConsultationRound,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    mine = await consultations.my_response(
        session, round_id=consultation_round.id, account_id=identity.account_id
    )
    if mine is None:
        raise NoResponse("you have not responded to this round")
    return mine


@router.get(
    "/consultation-rounds/{round_id}/results",
    response_model=ConsultationResults,
    **SHAPE,
    summary="Aggregated results (public once closed; staff and council any time)",
)
async def results(
    identity: Annotated[Identity | None, Depends(PUBLIC)],
    found: PathJurisdiction,
    consultation_round: PathConsultationRound,
    area_id: int | None = Query(default=None, ge=1),
    grid_metres: float = Query(default=100, ge=10, le=5000),
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    insider = await is_consultation_insider(
        session, identity, jurisdiction_id=found.id, area_id=consultation_round.area_id
    )
    if consultation_round.status != "closed" and not insider:
        raise ResultsNotPublic("results are public once the round has closed")
    return await consultations.results(
        session,
        consultation_round=consultation_round,
        area_id=area_id,
        include_texts=insider,
        grid_metres=grid_metres,
    )


@router.get(
    "/consultation-rounds/{round_id}/export.csv",
    response_class=PlainTextResponse,
    summary="All responses as CSV, without names (staff, council)",
)
async def export_csv(
    identity: Annotated[Identity, Depends(COUNCIL)],
    found: PathJurisdiction,
    consultation_round: PathConsultationRound,
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
) -> PlainTextResponse:
    await check_may_export_consultation(
        session, identity, jurisdiction_id=found.id, area_id=consultation_round.area_id
    )
    return PlainTextResponse(
        await consultations.export_csv(session, consultation_round=consultation_round, area_id=area_id),
        media_type="text/csv; charset=utf-8",
    )


@router.get(
    "/consultation-rounds/{round_id}/export.geojson",
    response_class=JSONResponse,
    responses={200: {"content": {"application/geo+json": {}}}},
    summary="Map answers as GeoJSON (staff, council)",
)
async def export_geojson(
    identity: Annotated[Identity, Depends(COUNCIL)],
    found: PathJurisdiction,
    consultation_round: PathConsultationRound,
    area_id: int | None = Query(default=None, ge=1),
    session: AsyncSession = SessionDep,
) -> JSONResponse:
    await check_may_export_consultation(
        session, identity, jurisdiction_id=found.id, area_id=consultation_round.area_id
    )
    data = await consultations.export_geojson(session, consultation_round=consultation_round, area_id=area_id)
    return JSONResponse(data, media_type="application/geo+json")


@router.post(
    "/consultation-rounds/{round_id}/you-said-we-did",
    response_model=ConsultationRoundDetail,
    **SHAPE,
    summary="Publish what the municipality will do",
)
async def you_said_we_did(
    _: Annotated[Identity, Depends(ADMIN)],
    body: YouSaidWeDid,
    found: PathJurisdiction,
    consultation_round: PathConsultationRoundForUpdate,
    session: AsyncSession = SessionDep,
) -> dict[str, Any]:
    await consultations.publish_you_said_we_did(
        session, consultation_round=consultation_round, jurisdiction_id=found.id, data=body
    )
    return await consultations.render_round(session, consultation_round)
