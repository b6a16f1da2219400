"""Sign-in for the mobile app: anonymous devices, registered residents, tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, EmailStr, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, RESIDENT
from api.deps import SessionDep, get_settings
from api.idempotency import Redaction, idempotent
from core import accounts, throttle
from core.identity import Identity
from core.settings import Settings
from geo.schemas import Input
from geo.service import get_jurisdiction

router = APIRouter(prefix="/api/v1", tags=["auth"])
Password = Annotated[str, StringConstraints(min_length=10, max_length=200)]


class DeviceCreate(Input):
    jurisdiction: Annotated[str, StringConstraints(max_length=64)]
    locale: Literal["nl", "en"] = "nl"


class AccountCreate(DeviceCreate):
    email: EmailStr
    password: Password
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class TokenCreate(Input):
    jurisdiction: Annotated[str, StringConstraints(max_length=64)]
    email: EmailStr
    password: Annotated[str, StringConstraints(max_length=200)]


class TokenRead(BaseModel):
    token: str
    account_id: int
    token_type: str = "bearer"


async def limit_per_address(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    *,
    bucket: str,
    limit: int,
    what: str,
    window_seconds: int = 3600,
) -> None:
    if settings.rate_limits:
        address = throttle.client_key(request.client.host if request.client else None)
        await throttle.hit(
            session, key=f"{bucket}:{address}", limit=limit, window_seconds=window_seconds, what=what
        )


@router.post(
    "/auth/devices", status_code=201, response_model=TokenRead, summary="Register this device anonymously"
)
async def create_device(
    body: DeviceCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> Response:
    """With an ``Idempotency-Key`` (a random UUID: this call has no account to scope it by), a retry gets
    the same device and token back; the stored answer holds no token (it is derived from the key)."""
    jurisdiction = await get_jurisdiction(session, body.jurisdiction)
    # Anonymous devices cost nothing to make: so many per client address and hour (a retry counts too).
    await limit_per_address(
        request,
        session,
        settings,
        bucket="device-registrations",
        limit=settings.device_registrations_per_address_per_hour,
        what="new devices from this address",
    )
    secret = settings.secret_key.get_secret_value()
    key = request.headers.get("idempotency-key")

    def token_for(client_key: str) -> str:
        return accounts.device_token(secret, jurisdiction_id=jurisdiction.id, idempotency_key=client_key)

    async def produce() -> tuple[int, object, dict[str, str]]:
        account, token = await accounts.register_device(
            session,
            jurisdiction_id=jurisdiction.id,
            locale=body.locale,
            ttl_days=settings.access_token_ttl_days,
            token=token_for(key) if key is not None else None,
        )
        return 201, TokenRead(token=token, account_id=account.id), {}

    return await idempotent(
        request,
        session,
        scope=f"device-registration:{jurisdiction.id}",
        produce=produce,
        unauthenticated=True,
        redaction=Redaction(
            store=lambda answer: {k: v for k, v in answer.items() if k != "token"},
            restore=lambda stored, client_key: {**stored, "token": token_for(client_key)},
        ),
    )


@router.post(
    "/auth/accounts", status_code=201, response_model=TokenRead, summary="Register a resident account"
)
async def create_account(
    body: AccountCreate,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    identity: Identity | None = Depends(PUBLIC),
) -> TokenRead:
    """Called with an anonymous device's token, the device's account becomes this registered account
    (its reports, follows and messages stay); without a token, a new account is made."""
    jurisdiction = await get_jurisdiction(session, body.jurisdiction)
    if identity is not None and identity.is_anonymous and identity.jurisdiction_id == jurisdiction.id:
        account, token = await accounts.upgrade_device(
            session,
            account_id=identity.account_id,
            email=str(body.email),
            password=body.password,
            display_name=body.display_name,
            locale=body.locale,
            ttl_days=settings.access_token_ttl_days,
        )
        return TokenRead(token=token, account_id=account.id)
    account, token = await accounts.register_account(
        session,
        jurisdiction_id=jurisdiction.id,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        locale=body.locale,
        ttl_days=settings.access_token_ttl_days,
    )
    return TokenRead(token=token, account_id=account.id)


@router.post("/auth/tokens", status_code=201, response_model=TokenRead, summary="Sign in")
async def create_token(
    body: TokenCreate,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> TokenRead:
    jurisdiction = await get_jurisdiction(session, body.jurisdiction)
    account, token = await accounts.sign_in(
        session,
        jurisdiction_id=jurisdiction.id,
        email=str(body.email),
        password=body.password,
        ttl_days=settings.access_token_ttl_days,
    )
    return TokenRead(token=token, account_id=account.id)


class MeRead(BaseModel):
    account_id: int
    jurisdiction_id: int
    is_anonymous: bool
    locale: str
    roles: list[str]
    council_area_ids: list[int]
    department_ids: list[int]


@router.get("/me", response_model=MeRead, summary="Who am I, and what may I do")
async def me(identity: Identity = Depends(RESIDENT)) -> MeRead:
    return MeRead(
        account_id=identity.account_id,
        jurisdiction_id=identity.jurisdiction_id,
        is_anonymous=identity.is_anonymous,
        locale=identity.locale,
        roles=sorted(r.value for r in identity.roles),
        council_area_ids=sorted(identity.council_area_ids),
        department_ids=sorted(identity.department_ids),
    )
