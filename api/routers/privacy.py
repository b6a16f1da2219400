"""Privacy over HTTP: a resident's data download and account deletion, a jurisdiction's retention."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from pydantic import Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from api import privacy
from api.auth import ADMIN, RESIDENT
from api.deps import SessionDep, get_settings
from api.path_objects import PathJurisdiction
from core import accounts
from core.identity import Identity
from core.settings import Settings
from geo import retention
from geo.models import Jurisdiction
from geo.schemas import Input

router = APIRouter(prefix="/api/v1", tags=["privacy"])


class AccountDeletion(Input):
    password: Annotated[str, StringConstraints(max_length=200)] | None = None
    """Required for a registered account (not for an anonymous device)."""


class Retention(Input):
    contact_retention_days: int | None = Field(default=None, ge=0, le=36500)
    """Days after a report closed that the reporter's contact data and device links are kept; ``null``:
    the server's default."""
    photo_retention_months: int | None = Field(default=None, ge=0, le=1200)
    """Months after a report closed that its photos are kept; ``null``: the server's default."""


class RetentionRead(Retention):
    default_contact_retention_days: int
    default_photo_retention_months: int


@router.get("/me/data", summary="Everything kept about my account, as JSON (download)")
async def my_data(session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)) -> JSONResponse:
    data = await privacy.export(session, account_id=identity.account_id)
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="civicloop-account-{identity.account_id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


@router.delete("/me", status_code=204, summary="Delete my account (my reports stay, anonymised)")
async def delete_me(
    body: AccountDeletion | None = None,
    session: AsyncSession = SessionDep,
    identity: Identity = Depends(RESIDENT),
) -> Response:
    await privacy.delete_account(
        session,
        identity=identity,
        verify_password=accounts.verify_password,
        password=body.password if body is not None else None,
    )
    return Response(status_code=204)


def _retention(jurisdiction: Jurisdiction, settings: Settings) -> RetentionRead:
    return RetentionRead(
        contact_retention_days=jurisdiction.contact_retention_days,
        photo_retention_months=jurisdiction.photo_retention_months,
        default_contact_retention_days=settings.contact_retention_days,
        default_photo_retention_months=settings.photo_retention_months,
    )


@router.get("/jurisdictions/{jurisdiction}/retention", response_model=RetentionRead, summary="Retention")
async def read_retention(
    _: Annotated[Identity, Depends(ADMIN)],
    found: PathJurisdiction,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
) -> RetentionRead:
    return _retention(await retention.jurisdiction_retention(session, jurisdiction_id=found.id), settings)


@router.put("/jurisdictions/{jurisdiction}/retention", response_model=RetentionRead, summary="Set retention")
async def set_retention(
    _: Annotated[Identity, Depends(ADMIN)],
    found: PathJurisdiction,
    body: Retention,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
) -> RetentionRead:
    changed = await retention.set_retention(
        session,
        jurisdiction_id=found.id,
        contact_retention_days=body.contact_retention_days,
        photo_retention_months=body.photo_retention_months,
    )
    return _retention(changed, settings)
