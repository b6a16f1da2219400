"""Who may vote: server-side keys, address verification by staff, voting codes, eligibility checks.

Four secrets are derived from the application's secret key (kept outside the database, in settings or a
secret file): one keys the hash of voting codes, one turns an account into a voter key, one turns a voter key
into a ballot id, one encrypts the ballots' contents while voting is open. With the database alone none of
the three mappings can be recomputed and no ballot of an open round can be read.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from geoalchemy2.shape import from_shape
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AccountNotFound, NotAuthenticated
from core.identity import Account, Identity
from geo.errors import AreaNotFound
from participation.ballot_cipher import BallotCipher
from participation.errors import (
    AccountsNotAccepted,
    AddressNotVerified,
    AddressOutsideJurisdiction,
    AgeNotVerified,
    AnonymousAccount,
    AreaOutsideRound,
    CodeForAnotherRound,
    CodeRevoked,
    CodesNotAccepted,
    InvalidBirthDate,
    MalformedCode,
    NotOnRegister,
    OutsideArea,
    TooYoung,
    UnknownCode,
)
from participation.models import BudgetRound, ResidentVerification, VoterParticipation, VotingCode
from participation.schemas import ParticipationStatus, VerificationCreate

# Crockford's base32 without I, L, O, U: nothing on a printed letter can be misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 4  # 4 × 4 characters = 80 bits
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


@dataclass(frozen=True, slots=True)
class ParticipationKeys:
    code: bytes
    voter: bytes
    ballot: bytes
    contents: bytes

    @classmethod
    def from_secret(cls, secret: str) -> ParticipationKeys:
        def derive(label: bytes) -> bytes:
            return hmac.new(secret.encode(), b"civicloop participation " + label, hashlib.sha256).digest()

        return cls(
            code=derive(b"voting-code"),
            voter=derive(b"voter-key"),
            ballot=derive(b"ballot-id"),
            contents=derive(b"ballot-contents"),
        )

    @property
    def cipher(self) -> BallotCipher:
        """Encrypts ballots while voting is open (``participation.ballot_cipher``)."""
        return _cipher(self.contents)

    def code_hash(self, code: str) -> bytes:
        return hmac.new(self.code, normalise_code(code).encode(), hashlib.sha256).digest()

    def account_voter_key(self, account_id: int) -> bytes:
        return hmac.new(self.voter, f"account:{account_id}".encode(), hashlib.sha256).digest()

    def reference_voter_key(self, jurisdiction_id: int, reference: str) -> bytes:
        normalised = " ".join(reference.upper().split())
        return hmac.new(self.voter, f"paper:{jurisdiction_id}:{normalised}".encode(), hashlib.sha256).digest()

    def ballot_id(self, round_id: int, voter_key: bytes) -> uuid.UUID:
        digest = hmac.new(self.ballot, round_id.to_bytes(8, "big") + voter_key, hashlib.sha256).digest()
        return uuid.UUID(bytes=digest[:16], version=4)


@functools.cache
def _cipher(key: bytes) -> BallotCipher:
    return BallotCipher(key)


def normalise_code(code: str) -> str:
    return code.upper().translate(_CONFUSABLE)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@dataclass(frozen=True, slots=True)
class Voter:
    """A resolved voter: the key that locks one vote, the account to notify (if any), how they voted."""

    key: bytes
    account_id: int | None
    channel: str
    via_code: bool


async def area_in_jurisdiction(session: AsyncSession, *, jurisdiction_id: int, area_id: int) -> None:
    found = await session.scalar(
        text("SELECT 1 FROM areas WHERE id = :a AND jurisdiction_id = :j"),
        {"a": area_id, "j": jurisdiction_id},
    )
    if found is None:
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")


async def verify_resident(
    session: AsyncSession, *, jurisdiction_id: int, data: VerificationCreate, staff: Identity
) -> ResidentVerification:
    """Record that staff saw proof of a resident's address (and birth date); replaces an earlier check."""
    account = await session.get(Account, data.account_id)
    if account is None or account.jurisdiction_id != jurisdiction_id:
        raise AccountNotFound(f"no account {data.account_id} in this jurisdiction")
    if account.is_anonymous:
        raise AnonymousAccount("a device without an account cannot be verified; register first")
    if data.birth_date is not None and data.birth_date > date.today():
        raise InvalidBirthDate("the date of birth lies in the future")
    inside = await session.scalar(
        text(
            "SELECT 1 FROM areas WHERE jurisdiction_id = :j AND level = 'municipality'"
            " AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) LIMIT 1"
        ),
        {"j": jurisdiction_id, "x": data.address.coordinates[0], "y": data.address.coordinates[1]},
    )
    if inside is None:
        raise AddressOutsideJurisdiction("the address lies outside this municipality")
    values = {
        "account_id": data.account_id,
        "jurisdiction_id": jurisdiction_id,
        "address": from_shape(ShapelyPoint(*data.address.coordinates), srid=4326),
        "birth_date": data.birth_date,
        "verified_by_account_id": staff.account_id,
    }
    statement = insert(ResidentVerification).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id"],
            set_={
                **{k: statement.excluded[k] for k in values if k != "account_id"},
                "verified_at": text("now()"),
            },
        )
    )
    verification = await session.get(ResidentVerification, data.account_id, populate_existing=True)
    assert verification is not None
    return verification


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


async def check_account_in_area(
    session: AsyncSession,
    *,
    account_id: int,
    jurisdiction_id: int,
    area_id: int,
    min_age: int | None,
    on: date,
) -> None:
    """A verified address inside the area (one indexed containment test) and, when asked, the minimum age."""
    row = (
        await session.execute(
            text(
                "SELECT v.birth_date, ST_Contains(a.geom, v.address) AS inside"
                " FROM resident_verifications v JOIN areas a ON a.id = :area"
                " WHERE v.account_id = :account AND v.jurisdiction_id = :j"
            ),
            {"area": area_id, "account": account_id, "j": jurisdiction_id},
        )
    ).first()
    if row is None:
        raise AddressNotVerified("your address has not been verified; ask the municipality's desk")
    if not row.inside:
        raise OutsideArea("your verified address lies outside this round's area")
    _check_age(min_age, row.birth_date, on)


@dataclass(frozen=True, slots=True)
class Credential:
    """What a caller offers to prove they may vote, before any database read.

    ``voter_key`` is known up front (it names the voter's advisory lock in the cast's one query):
    the code's keyed hash, the account's keyed id, or the keyed paper reference; ``None`` when the caller
    offered nothing (refused with 401 once the round is known).
    """

    voter_key: bytes | None
    channel: str
    code_hash: bytes | None = None
    account: Identity | None = None
    via_reference: bool = False


def online_credential(keys: ParticipationKeys, *, identity: Identity | None, code: str | None) -> Credential:
    """A code from a letter wins over the signed-in account (a household may share a device)."""
    if code is not None:
        code_hash = keys.code_hash(code)
        return Credential(voter_key=code_hash, channel="online", code_hash=code_hash)
    if identity is not None:
        return Credential(
            voter_key=keys.account_voter_key(identity.account_id), channel="online", account=identity
        )
    return Credential(voter_key=None, channel="online")


def paper_credential(
    keys: ParticipationKeys, *, jurisdiction_id: int, code: str | None, reference: str | None
) -> Credential:
    """A paper ballot, entered by staff: by the letter's code, or by the reference of the checked voter."""
    if reference is not None:
        return Credential(
            voter_key=keys.reference_voter_key(jurisdiction_id, reference),
            channel="paper",
            via_reference=True,
        )
    assert code is not None  # PaperBallot requires one of the two
    code_hash = keys.code_hash(code)
    return Credential(voter_key=code_hash, channel="paper", code_hash=code_hash)


class _Eligibility(Protocol):
    """What :func:`check_voter` reads (``participation.ballots.CastContext`` provides it)."""

    @property
    def round(self) -> Any: ...
    @property
    def code_jurisdiction_id(self) -> int | None: ...
    @property
    def code_round_id(self) -> int | None: ...
    @property
    def code_revoked(self) -> bool | None: ...
    @property
    def verified(self) -> bool: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def inside(self) -> bool | None: ...
    @property
    def registered(self) -> bool: ...


def check_voter(context: _Eligibility, credential: Credential) -> Voter:
    """Turn the caller's credential into a voter, or say precisely why they may not vote (no I/O: the
    cast's context query already read the code, or the account's verified address and birth date)."""
    budget_round = context.round
    if credential.via_reference:  # paper ballot, identity checked at the desk against the register
        assert credential.voter_key is not None
        if not context.registered:
            raise NotOnRegister("this reference is not on the round's register of voters")
        return Voter(key=credential.voter_key, account_id=None, channel=credential.channel, via_code=False)
    if credential.code_hash is not None:
        if budget_round.credentials == "accounts":
            raise CodesNotAccepted("this round accepts verified accounts, not codes")
        if context.code_jurisdiction_id != budget_round.jurisdiction_id:
            raise UnknownCode("this voting code is unknown; check the letter")
        if context.code_round_id != budget_round.id:
            raise CodeForAnotherRound("this voting code belongs to another round")
        if context.code_revoked:
            raise CodeRevoked("this voting code was revoked")
        return Voter(key=credential.code_hash, account_id=None, channel=credential.channel, via_code=True)
    identity = credential.account
    if identity is None or credential.voter_key is None:
        raise NotAuthenticated("sign in or enter the code from your letter")
    if budget_round.credentials == "codes":
        raise AccountsNotAccepted("this round is voted with the code from your letter")
    if identity.is_anonymous or not context.verified:
        raise AddressNotVerified(
            "your address has not been verified; ask the municipality's desk"
            if not identity.is_anonymous
            else "register an account and have your address verified first"
        )
    if not context.inside:
        raise OutsideArea("your verified address lies outside this round's area")
    _check_age(budget_round.min_age, context.birth_date, _closing_day(budget_round.voting_closes_at))
    return Voter(
        key=credential.voter_key, account_id=identity.account_id, channel=credential.channel, via_code=False
    )


def _closing_day(closes_at: datetime | None) -> date:
    return (closes_at or datetime.now(UTC)).date()


def _check_age(min_age: int | None, birth_date: date | None, on: date) -> None:
    if min_age is None:
        return
    if birth_date is None:
        raise AgeNotVerified(f"this round needs voters aged {min_age} or over; your age is not verified")
    if age_on(birth_date, on) < min_age:
        raise TooYoung(f"this round needs voters aged {min_age} or over")


async def generate_codes(
    session: AsyncSession, *, keys: ParticipationKeys, budget_round: BudgetRound, area_id: int, count: int
) -> list[str]:
    """Create ``count`` codes for letters in an area of the round; only their hashes are kept.

    The plain codes are returned once, to be printed; losing them means generating new ones.
    """
    await _check_code_area(session, budget_round, area_id)
    codes = [new_code() for _ in range(count)]
    await _store_code_hashes(session, budget_round, area_id, [keys.code_hash(c) for c in codes])
    return codes


async def import_codes(
    session: AsyncSession,
    *,
    keys: ParticipationKeys,
    budget_round: BudgetRound,
    area_id: int,
    codes: list[str],
) -> int:
    """Take codes the municipality generated elsewhere (its letter printer); returns how many were new."""
    await _check_code_area(session, budget_round, area_id)
    cleaned = [normalise_code(c) for c in codes if c.strip()]
    if bad := [c for c in cleaned if len(c) < 8 or any(ch not in CODE_ALPHABET for ch in c)]:
        raise MalformedCode(f"{len(bad)} codes are malformed (at least 8 characters of {CODE_ALPHABET})")
    hashes = list({keys.code_hash(c) for c in cleaned})
    return await _store_code_hashes(session, budget_round, area_id, hashes)


async def _check_code_area(session: AsyncSession, budget_round: BudgetRound, area_id: int) -> None:
    inside = await session.scalar(
        text(
            "SELECT ST_Covers(r.geom, ST_Buffer(a.geom, -1e-7)) FROM areas r, areas a"
            " WHERE r.id = :round_area AND a.id = :area AND a.jurisdiction_id = :j"
        ),
        {"round_area": budget_round.area_id, "area": area_id, "j": budget_round.jurisdiction_id},
    )
    if inside is None:
        raise AreaNotFound(f"no area {area_id} in this jurisdiction")
    if not inside:
        raise AreaOutsideRound("codes can only be made for the round's area or an area inside it")


async def _store_code_hashes(
    session: AsyncSession, budget_round: BudgetRound, area_id: int, hashes: list[bytes]
) -> int:
    inserted = 0
    for start in range(0, len(hashes), 5000):
        chunk = hashes[start : start + 5000]
        result = await session.execute(
            insert(VotingCode)
            .values(
                [
                    {
                        "code_hash": h,
                        "jurisdiction_id": budget_round.jurisdiction_id,
                        "round_id": budget_round.id,
                        "area_id": area_id,
                    }
                    for h in chunk
                ]
            )
            .on_conflict_do_nothing()
            .returning(VotingCode.code_hash)
        )
        inserted += len(result.all())
    return inserted


async def eligible_account_ids(session: AsyncSession, *, jurisdiction_id: int, area_id: int) -> list[int]:
    """Verified residents living in an area: who to tell that voting (or a consultation) opened."""
    rows = await session.scalars(
        select(ResidentVerification.account_id)
        .where(ResidentVerification.jurisdiction_id == jurisdiction_id)
        .where(text("ST_Contains((SELECT geom FROM areas WHERE id = :area), resident_verifications.address)"))
        .order_by(ResidentVerification.account_id),
        {"area": area_id},
    )
    return list(rows)


async def participation_status(
    session: AsyncSession, *, keys: ParticipationKeys, budget_round: BudgetRound, account_id: int
) -> ParticipationStatus:
    """Whether the account voted in the round, and on which channel (never what). ``can_change``: an
    online vote may still be changed (voting open, the round allows changes); a paper vote never."""
    channel = await session.scalar(
        select(VoterParticipation.channel).where(
            VoterParticipation.round_id == budget_round.id,
            VoterParticipation.voter_key == keys.account_voter_key(account_id),
        )
    )
    return ParticipationStatus(
        round_id=budget_round.id,
        voted=channel is not None,
        channel=channel,
        can_change=channel == "online"
        and budget_round.allow_ballot_changes
        and budget_round.phase == "voting",
    )
