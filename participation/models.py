"""ORM tables of participation: budget rounds, ballots, codes, council motions, consultations.

Two tables are shaped by ballot secrecy (see ``docs/ballot-secrecy.md``): ``voter_participations`` says
*who* voted and holds no reference to a ballot; ``ballots`` says *what* was voted and holds nothing about
the voter — a random-looking UUID key, no timestamp, no sequence, no voter column. Every other table is
ordinary and public-by-design (proposals, roll-call votes) or personal-but-not-secret (consultation
responses, which a resident edits and which are only published in aggregate).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

PHASES = ("proposals", "review", "voting", "results", "implementation")
BALLOT_TYPES = ("approval", "knapsack", "cumulative", "ranked")
CREDENTIALS = ("codes", "accounts", "codes_or_accounts")
PROPOSAL_STATUSES = ("submitted", "feasible", "infeasible", "withdrawn")
IMPLEMENTATION_STATUSES = ("planned", "in_progress", "completed", "cancelled")
CHANNELS = ("online", "paper", "import")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ResidentVerification(Base):
    """A staff member checked a resident's address (and, where rounds need it, date of birth) in person.

    There is no link to the population register here, so this is an administrative act with an author,
    not an automatic fact. The date of birth is kept (not an "adult" flag) because rounds use different
    minimum ages (12, 16, 18) evaluated at the round's closing date; nothing else about the person is stored.
    """

    __tablename__ = "resident_verifications"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    address: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
    birth_date: Mapped[date | None] = mapped_column(Date)
    verified_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    verified_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (Index("ix_resident_verifications_address", "address", postgresql_using="gist"),)


class BudgetRound(Base):
    __tablename__ = "budget_rounds"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    budget: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    phase: Mapped[str] = mapped_column(String(16), default="proposals")
    review_starts_at: Mapped[datetime | None]
    voting_opens_at: Mapped[datetime | None]
    voting_closes_at: Mapped[datetime | None]
    implementation_starts_at: Mapped[datetime | None]
    ballot_type: Mapped[str] = mapped_column(String(16), default="approval")
    ballot_rules: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    credentials: Mapped[str] = mapped_column(String(20), default="codes_or_accounts")
    min_age: Mapped[int | None] = mapped_column(SmallInteger)
    allow_ballot_changes: Mapped[bool] = mapped_column(Boolean, default=True)
    rule: Mapped[str] = mapped_column(String(16), default="mes")
    completion: Mapped[str] = mapped_column(String(16), default="add1")
    add1_stop: Mapped[str] = mapped_column(String(16), default="exhaustive")
    comparison: Mapped[str | None] = mapped_column(String(16))
    tie_break: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ballots_sealed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(_in("phase", PHASES), name="phase"),
        CheckConstraint(_in("ballot_type", BALLOT_TYPES), name="ballot_type"),
        CheckConstraint(_in("credentials", CREDENTIALS), name="credentials"),
        CheckConstraint("rule IN ('greedy', 'mes')", name="rule"),
        CheckConstraint("budget > 0", name="budget_positive"),
        CheckConstraint("min_age IS NULL OR min_age BETWEEN 0 AND 120", name="min_age"),
    )


class RoundPhaseChange(Base):
    """Who (or which clock) moved a round from one phase to the next."""

    __tablename__ = "budget_round_phase_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), index=True)
    from_phase: Mapped[str] = mapped_column(String(16))
    to_phase: Mapped[str] = mapped_column(String(16))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=text("clock_timestamp()"))


class Proposal(Base):
    """A resident's project idea; once judged feasible it is a project on the ballot."""

    __tablename__ = "budget_proposals"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), index=True)
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    estimated_cost: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    review_reason: Mapped[str | None] = mapped_column(Text)
    final_cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    reviewed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    selected: Mapped[bool | None] = mapped_column(Boolean)
    implementation_status: Mapped[str | None] = mapped_column(String(16))
    progress_percent: Mapped[int | None] = mapped_column(SmallInteger)
    external_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),
        CheckConstraint(
            f"implementation_status IS NULL OR {_in('implementation_status', IMPLEMENTATION_STATUSES)}",
            name="implementation_status",
        ),
        CheckConstraint("estimated_cost > 0", name="estimated_cost_positive"),
        CheckConstraint("final_cost IS NULL OR final_cost > 0", name="final_cost_positive"),
        CheckConstraint("progress_percent IS NULL OR progress_percent BETWEEN 0 AND 100", name="progress"),
        CheckConstraint("status <> 'infeasible' OR review_reason IS NOT NULL", name="infeasible_reason"),
        UniqueConstraint("round_id", "external_id"),
    )


class ProposalPhoto(Base):
    __tablename__ = "budget_proposal_photos"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("budget_proposals.id", ondelete="CASCADE"), index=True
    )
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)


class ProjectFollower(Base):
    """A resident who asked to hear about a project's progress; unrelated to how anyone voted."""

    __tablename__ = "budget_project_followers"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("budget_proposals.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)

    __table_args__ = (PrimaryKeyConstraint("proposal_id", "account_id"),)


class ImplementationUpdate(Base):
    """A dated report back on a funded project."""

    __tablename__ = "budget_implementation_updates"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("budget_proposals.id", ondelete="CASCADE"), index=True
    )
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    progress_percent: Mapped[int] = mapped_column(SmallInteger)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("clock_timestamp()"))

    __table_args__ = (
        CheckConstraint(_in("status", IMPLEMENTATION_STATUSES), name="status"),
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress"),
    )


class ImplementationUpdatePhoto(Base):
    __tablename__ = "budget_implementation_update_photos"

    update_id: Mapped[int] = mapped_column(
        ForeignKey("budget_implementation_updates.id", ondelete="CASCADE"), index=True
    )
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)


class VotingCode(Base):
    """A single-use code printed on a letter. Only its keyed hash is stored: a dump cannot vote."""

    __tablename__ = "voting_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class PaperRegisterEntry(Base):
    """A voter who may hand in a paper ballot without a code: the round's register, put in by an
    administrator (from the population register, the polling station's list). Only the keyed hash of
    the reference is kept (``ParticipationKeys.reference_voter_key``), as for codes."""

    __tablename__ = "paper_register_entries"

    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"))
    voter_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    added_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (PrimaryKeyConstraint("round_id", "voter_key"),)


class PaperBallotEntry(Base):
    """The audit trail of paper ballots: who entered one, when, and against what (a code or the register).

    Never which voter or which ballot: written in the cast's transaction next to the participation, it
    tells no more than the participation row itself (the ballot is encrypted and written elsewhere)."""

    __tablename__ = "paper_ballot_entries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), index=True)
    entered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    via: Mapped[str] = mapped_column(String(8))

    __table_args__ = (CheckConstraint("via IN ('code', 'register')", name="via"),)


class VoterParticipation(Base):
    """That a voter took part in a round: the one-vote lock and the notification list. No ballot link.

    ``voter_key`` is the code's hash or a keyed hash of the account id (or, for paper ballots without a
    code, of the reference staff checked). No timestamp: the time of voting is not needed and would only
    help line participations up with anything else.
    """

    __tablename__ = "voter_participations"

    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"))
    voter_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(8))

    __table_args__ = (
        PrimaryKeyConstraint("round_id", "voter_key"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
    )


class BallotRecord(Base):
    """What was voted. The id is HMAC(ballot secret, round ‖ voter key) while voting is open, so the
    server (which holds the secret, kept outside the database) can replace a changed ballot; at the close
    every ballot is re-keyed with a fresh random UUID and rewritten in random order in one transaction."""

    __tablename__ = "ballots"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(8))
    # While voting is open only ``contents`` (ciphertext, participation.ballot_cipher); after the seal
    # only ``projects`` and ``points``, in clear.
    contents: Mapped[bytes | None] = mapped_column(LargeBinary)
    projects: Mapped[list[int] | None] = mapped_column(JSONB)
    points: Mapped[list[int] | None] = mapped_column(JSONB)

    __table_args__ = (
        Index("ix_ballots_round_id_id", "round_id", "id"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint("(contents IS NULL) <> (projects IS NULL)", name="sealed_or_clear"),
    )


class Motion(Base):
    """A question put to an area's council: yes, no or abstain, decided in public."""

    __tablename__ = "council_motions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("budget_rounds.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="draft")
    quorum: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.5"))
    majority: Mapped[str] = mapped_column(String(16), default="simple")
    member_count: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(16))
    closes_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("majority IN ('simple', 'absolute', 'two_thirds')", name="majority"),
        CheckConstraint("quorum > 0 AND quorum <= 1", name="quorum"),
        CheckConstraint("outcome IS NULL OR outcome IN ('adopted', 'rejected', 'no_quorum')", name="outcome"),
    )


class MotionMember(Base):
    """Who may vote on a motion: the area's council as it was when the motion opened. Grants made or
    revoked later change nothing for this motion (its quorum, its roll call)."""

    __tablename__ = "council_motion_members"

    motion_id: Mapped[int] = mapped_column(ForeignKey("council_motions.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))

    __table_args__ = (PrimaryKeyConstraint("motion_id", "account_id"),)


class MotionVote(Base):
    """A council member's public vote: the roll call."""

    __tablename__ = "council_motion_votes"

    motion_id: Mapped[int] = mapped_column(ForeignKey("council_motions.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(8))
    cast_at: Mapped[datetime] = mapped_column(server_default=text("clock_timestamp()"))

    __table_args__ = (
        PrimaryKeyConstraint("motion_id", "account_id"),
        CheckConstraint("choice IN ('yes', 'no', 'abstain')", name="choice"),
    )


class Consultation(Base):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class ConsultationRound(Base):
    __tablename__ = "consultation_rounds"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    eligibility: Mapped[str] = mapped_column(String(16), default="verified")
    min_age: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    you_said_we_did: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("eligibility IN ('residents', 'verified')", name="eligibility"),
    )


class ConsultationQuestion(Base):
    __tablename__ = "consultation_questions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("consultation_rounds.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (
        UniqueConstraint("round_id", "position"),
        CheckConstraint(
            "kind IN ('single_choice', 'multiple_choice', 'scale', 'free_text', 'ranking', 'map_point')",
            name="kind",
        ),
    )


class ConsultationResponse(Base):
    """One resident's answers to one round; editable until the round closes, published only in aggregate."""

    __tablename__ = "consultation_responses"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("consultation_rounds.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    respondent_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))

    __table_args__ = (UniqueConstraint("round_id", "account_id"),)


class ConsultationAnswer(Base):
    __tablename__ = "consultation_answers"

    response_id: Mapped[int] = mapped_column(ForeignKey("consultation_responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("consultation_questions.id", ondelete="CASCADE"))
    choices: Mapped[list[str] | None] = mapped_column(JSONB)
    number: Mapped[int | None] = mapped_column(Integer)
    text_value: Mapped[str | None] = mapped_column(Text)
    point: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))

    __table_args__ = (
        PrimaryKeyConstraint("response_id", "question_id"),
        Index("ix_consultation_answers_question_id", "question_id"),
    )
