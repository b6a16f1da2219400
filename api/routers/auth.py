"""Sign-in for the mobile app: anonymous devices, registered residents (confirmed by e-mail), tokens that
end (sign-out, password change and reset), and limits on guessing (see ``core.account_links``)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, EmailStr, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import PUBLIC, RESIDENT, bearer_token
from api.deps import SessionDep, client_key, get_settings
from api.errors import TooManySignInAttempts
from api.idempotency import Redaction, idempotent
from core import account_links, accounts, throttle
from core.errors import NotAuthenticated
from core.identity import Identity
from core.settings import Settings
from geo import jurisdiction_queries
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
) -> None:
    await throttle.hit_per_hour(
        session, settings, key=f"{bucket}:{client_key(request)}", limit=limit, what=what
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


class Accepted(BaseModel):
    status: Literal["check-your-email"] = "check-your-email"
    detail: str


class LinkUse(Input):
    token: Annotated[str, StringConstraints(min_length=3, max_length=200)]


class PasswordResetRequest(Input):
    jurisdiction: Annotated[str, StringConstraints(max_length=64)]
    email: EmailStr


class PasswordReset(LinkUse):
    password: Password


class PasswordChange(Input):
    current_password: Annotated[str, StringConstraints(max_length=200)]
    new_password: Password


def _email_key(jurisdiction_id: int, email: str) -> str:
    # Counters are keyed by a hash: they hold no address.
    return f"{jurisdiction_id}:{hashlib.sha256(email.strip().lower().encode()).hexdigest()}"


async def _limit_account_mails(
    request: Request, session: AsyncSession, settings: Settings, jurisdiction_id: int, email: str
) -> None:
    await limit_per_address(
        request,
        session,
        settings,
        bucket="account-mails",
        limit=settings.account_mails_per_address_per_hour,
        what="e-mails asked for from this address",
    )
    await throttle.hit_per_hour(
        session,
        settings,
        key=f"account-mails-to:{_email_key(jurisdiction_id, email)}",
        limit=settings.account_mails_per_email_per_hour,
        what="e-mails to this address",
    )


@router.post(
    "/auth/accounts",
    status_code=202,
    response_model=Accepted,
    summary="Register a resident account: a confirmation link is mailed (same answer for every address)",
)
async def create_account(
    body: AccountCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    identity: Identity | None = Depends(PUBLIC),
) -> Accepted:
    """The answer never says whether the address has an account: a new address gets a link to confirm
    (called with an anonymous device's token, the device becomes the account on confirming, keeping its
    reports, follows and messages); the owner of a known address gets a note instead."""
    jurisdiction = await get_jurisdiction(session, body.jurisdiction)
    await _limit_account_mails(request, session, settings, jurisdiction.id, str(body.email))
    device = (
        identity.account_id
        if identity is not None and identity.is_anonymous and identity.jurisdiction_id == jurisdiction.id
        else None
    )
    await account_links.request_sign_up(
        session,
        jurisdiction_id=jurisdiction.id,
        email=str(body.email),
        password=body.password,
        display_name=body.display_name,
        locale=body.locale,
        device_account_id=device,
    )
    return Accepted(detail="we sent a message to this address; follow the link in it to finish")


@router.post(
    "/auth/accounts/confirmations",
    status_code=201,
    response_model=TokenRead,
    summary="Confirm a sign-up with the link's token (signs in)",
)
async def confirm_account(
    body: LinkUse,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> TokenRead:
    account, token = await account_links.confirm_sign_up(
        session,
        secret=settings.secret_key.get_secret_value(),
        token=body.token,
        ttl_days=settings.session_token_ttl_days,
    )
    return TokenRead(token=token, account_id=account.id)


@router.post("/auth/tokens", status_code=201, response_model=TokenRead, summary="Sign in")
async def create_token(
    body: TokenCreate,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> TokenRead:
    """Failed sign-ins are counted per e-mail address (known or not) and per client address; past the
    limit every attempt gets 429 until the window ends, the right password included."""
    jurisdiction = await get_jurisdiction(session, body.jurisdiction)
    account_key = f"sign-in:{_email_key(jurisdiction.id, str(body.email))}"
    limits = [
        (account_key, settings.sign_in_failures_per_account),
        (f"sign-in-from:{client_key(request)}", settings.sign_in_failures_per_address),
    ]
    async with throttle.counting_failures(
        session,
        limits=limits if settings.rate_limits else [],
        window_seconds=settings.sign_in_window_minutes * 60,
        what="failed sign-ins",
        failures=(NotAuthenticated,),
        error=TooManySignInAttempts,
    ):
        account, token = await accounts.sign_in(
            session,
            jurisdiction_id=jurisdiction.id,
            email=str(body.email),
            password=body.password,
            ttl_days=settings.session_token_ttl_days,
        )
    if settings.rate_limits:
        await throttle.forget(session, key=account_key)
    return TokenRead(token=token, account_id=account.id)


@router.delete("/auth/tokens/current", status_code=204, summary="Sign out: end this token")
async def revoke_current_token(
    request: Request, session: AsyncSession = SessionDep, _: Identity = Depends(RESIDENT)
) -> Response:
    token = bearer_token(request)
    assert token is not None  # RESIDENT resolved it
    await account_links.revoke(session, token=token)
    return Response(status_code=204)


@router.delete("/auth/tokens", status_code=204, summary="Sign out everywhere: end every token of the account")
async def revoke_all_tokens(
    session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)
) -> Response:
    await account_links.revoke_all(session, account_id=identity.account_id)
    return Response(status_code=204)


@router.put(
    "/auth/password", response_model=TokenRead, summary="Change the password (ends every other session)"
)
async def change_password(
    body: PasswordChange,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    identity: Identity = Depends(RESIDENT),
) -> TokenRead:
    token = await account_links.change_password(
        session,
        account_id=identity.account_id,
        current=body.current_password,
        new=body.new_password,
        ttl_days=settings.session_token_ttl_days,
    )
    return TokenRead(token=token, account_id=identity.account_id)


@router.post(
    "/auth/password-resets",
    status_code=202,
    response_model=Accepted,
    summary="Mail a link to set a new password (same answer for every address)",
)
async def request_password_reset(
    body: PasswordResetRequest,
    request: Request,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> Accepted:
    jurisdiction = await get_jurisdiction(session, body.jurisdiction)
    await _limit_account_mails(request, session, settings, jurisdiction.id, str(body.email))
    await account_links.request_password_reset(
        session, jurisdiction_id=jurisdiction.id, email=str(body.email)
    )
    return Accepted(detail="if this address has an account, we sent it a link to set a new password")


@router.post(
    "/auth/password-resets/confirmations",
    status_code=201,
    response_model=TokenRead,
    summary="Set a new password with the mailed link's token (ends every session, signs in)",
)
async def reset_password(
    body: PasswordReset,
    session: AsyncSession = SessionDep,
    settings: Settings = Depends(get_settings),
    _: Identity | None = Depends(PUBLIC),
) -> TokenRead:
    account, token = await account_links.reset_password(
        session,
        secret=settings.secret_key.get_secret_value(),
        token=body.token,
        password=body.password,
        ttl_days=settings.session_token_ttl_days,
    )
    return TokenRead(token=token, account_id=account.id)


class MeRead(BaseModel):
    account_id: int
    jurisdiction_id: int
    jurisdiction: str
    """The jurisdiction's slug (an app opened from a mailed link learns where it is)."""
    email: str | None
    is_anonymous: bool
    locale: str
    roles: list[str]
    council_area_ids: list[int]
    department_ids: list[int]


@router.get("/me", response_model=MeRead, summary="Who am I, and what may I do")
async def me(session: AsyncSession = SessionDep, identity: Identity = Depends(RESIDENT)) -> MeRead:
    slug, email = await jurisdiction_queries.account_home(session, account_id=identity.account_id)
    return MeRead(
        account_id=identity.account_id,
        jurisdiction_id=identity.jurisdiction_id,
        jurisdiction=slug,
        email=email,
        is_anonymous=identity.is_anonymous,
        locale=identity.locale,
        roles=sorted(r.value for r in identity.roles),
        council_area_ids=sorted(identity.council_area_ids),
        department_ids=sorted(identity.department_ids),
    )
