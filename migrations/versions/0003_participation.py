"""participation: budget rounds, secret ballots, voting codes, council motions, consultations

Hand-reviewed: ``ballots`` has no timestamp, sequence or voter column by design (docs/ballot-secrecy.md);
``voter_participations`` holds no ballot reference.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-24 08:18:45.835654
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consultations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_consultations_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultations")),
    )
    op.create_table(
        "budget_rounds",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("budget", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("review_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("implementation_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ballot_type", sa.String(length=16), nullable=False),
        sa.Column("ballot_rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("credentials", sa.String(length=20), nullable=False),
        sa.Column("min_age", sa.SmallInteger(), nullable=True),
        sa.Column("allow_ballot_changes", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("completion", sa.String(length=16), nullable=False),
        sa.Column("add1_stop", sa.String(length=16), nullable=False),
        sa.Column("comparison", sa.String(length=16), nullable=True),
        sa.Column("tie_break", sa.String(length=32), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ballots_sealed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "ballot_type IN ('approval', 'knapsack', 'cumulative', 'ranked')",
            name=op.f("ck_budget_rounds_ballot_type"),
        ),
        sa.CheckConstraint(
            "credentials IN ('codes', 'accounts', 'codes_or_accounts')",
            name=op.f("ck_budget_rounds_credentials"),
        ),
        sa.CheckConstraint(
            "phase IN ('proposals', 'review', 'voting', 'results', 'implementation')",
            name=op.f("ck_budget_rounds_phase"),
        ),
        sa.CheckConstraint("rule IN ('greedy', 'mes')", name=op.f("ck_budget_rounds_rule")),
        sa.CheckConstraint("budget > 0", name=op.f("ck_budget_rounds_budget_positive")),
        sa.CheckConstraint(
            "min_age IS NULL OR min_age BETWEEN 0 AND 120", name=op.f("ck_budget_rounds_min_age")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_budget_rounds_area_id_areas"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_budget_rounds_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_rounds")),
    )
    op.create_index(op.f("ix_budget_rounds_area_id"), "budget_rounds", ["area_id"], unique=False)
    op.create_table(
        "consultation_rounds",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("consultation_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("eligibility", sa.String(length=16), nullable=False),
        sa.Column("min_age", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("you_said_we_did", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "eligibility IN ('residents', 'verified')", name=op.f("ck_consultation_rounds_eligibility")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'closed')", name=op.f("ck_consultation_rounds_status")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_consultation_rounds_area_id_areas"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_rounds_consultation_id_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_rounds")),
    )
    op.create_index(
        op.f("ix_consultation_rounds_consultation_id"),
        "consultation_rounds",
        ["consultation_id"],
        unique=False,
    )
    op.create_geospatial_table(
        "resident_verifications",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column(
            "address",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("verified_by_account_id", sa.BigInteger(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_resident_verifications_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_resident_verifications_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_resident_verifications_verified_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_resident_verifications")),
    )
    op.create_geospatial_index(
        "ix_resident_verifications_address",
        "resident_verifications",
        ["address"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "ballots",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("projects", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("points", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("channel IN ('online', 'paper', 'import')", name=op.f("ck_ballots_channel")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_ballots_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
    )
    op.create_index("ix_ballots_round_id_id", "ballots", ["round_id", "id"], unique=False)
    op.create_geospatial_table(
        "budget_proposals",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("author_account_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("estimated_cost", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("final_cost", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("reviewed_by_account_id", sa.BigInteger(), nullable=True),
        sa.Column("selected", sa.Boolean(), nullable=True),
        sa.Column("implementation_status", sa.String(length=16), nullable=True),
        sa.Column("progress_percent", sa.SmallInteger(), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "implementation_status IS NULL OR implementation_status IN ('planned', 'in_progress', 'completed', 'cancelled')",
            name=op.f("ck_budget_proposals_implementation_status"),
        ),
        sa.CheckConstraint(
            "status <> 'infeasible' OR review_reason IS NOT NULL",
            name=op.f("ck_budget_proposals_infeasible_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'feasible', 'infeasible', 'withdrawn')",
            name=op.f("ck_budget_proposals_status"),
        ),
        sa.CheckConstraint("estimated_cost > 0", name=op.f("ck_budget_proposals_estimated_cost_positive")),
        sa.CheckConstraint(
            "final_cost IS NULL OR final_cost > 0", name=op.f("ck_budget_proposals_final_cost_positive")
        ),
        sa.CheckConstraint(
            "progress_percent IS NULL OR progress_percent BETWEEN 0 AND 100",
            name=op.f("ck_budget_proposals_progress"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_budget_proposals_area_id_areas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["author_account_id"],
            ["accounts.id"],
            name=op.f("fk_budget_proposals_author_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_budget_proposals_reviewed_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_budget_proposals_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_proposals")),
        sa.UniqueConstraint("round_id", "external_id", name=op.f("uq_budget_proposals_round_id_external_id")),
    )
    op.create_index(op.f("ix_budget_proposals_round_id"), "budget_proposals", ["round_id"], unique=False)
    op.create_table(
        "budget_round_phase_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("from_phase", sa.String(length=16), nullable=False),
        sa.Column("to_phase", sa.String(length=16), nullable=False),
        sa.Column("actor_account_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_account_id"],
            ["accounts.id"],
            name=op.f("fk_budget_round_phase_changes_actor_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_budget_round_phase_changes_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_round_phase_changes")),
    )
    op.create_index(
        op.f("ix_budget_round_phase_changes_round_id"),
        "budget_round_phase_changes",
        ["round_id"],
        unique=False,
    )
    op.create_table(
        "consultation_questions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(
            "kind IN ('single_choice', 'multiple_choice', 'scale', 'free_text', 'ranking', 'map_point')",
            name=op.f("ck_consultation_questions_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["consultation_rounds.id"],
            name=op.f("fk_consultation_questions_round_id_consultation_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_questions")),
        sa.UniqueConstraint("round_id", "position", name=op.f("uq_consultation_questions_round_id_position")),
    )
    op.create_index(
        op.f("ix_consultation_questions_round_id"), "consultation_questions", ["round_id"], unique=False
    )
    op.create_table(
        "consultation_responses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("respondent_area_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_consultation_responses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["respondent_area_id"],
            ["areas.id"],
            name=op.f("fk_consultation_responses_respondent_area_id_areas"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["consultation_rounds.id"],
            name=op.f("fk_consultation_responses_round_id_consultation_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_responses")),
        sa.UniqueConstraint(
            "round_id", "account_id", name=op.f("uq_consultation_responses_round_id_account_id")
        ),
    )
    op.create_index(
        op.f("ix_consultation_responses_account_id"), "consultation_responses", ["account_id"], unique=False
    )
    op.create_table(
        "council_motions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("quorum", sa.Numeric(precision=4, scale=3), nullable=False),
        sa.Column("majority", sa.String(length=16), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "majority IN ('simple', 'absolute', 'two_thirds')", name=op.f("ck_council_motions_majority")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('adopted', 'rejected', 'no_quorum')",
            name=op.f("ck_council_motions_outcome"),
        ),
        sa.CheckConstraint("status IN ('draft', 'open', 'closed')", name=op.f("ck_council_motions_status")),
        sa.CheckConstraint("quorum > 0 AND quorum <= 1", name=op.f("ck_council_motions_quorum")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_council_motions_area_id_areas"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_council_motions_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_council_motions_round_id_budget_rounds"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_motions")),
    )
    op.create_index(op.f("ix_council_motions_area_id"), "council_motions", ["area_id"], unique=False)
    op.create_table(
        "voter_participations",
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("voter_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "channel IN ('online', 'paper', 'import')", name=op.f("ck_voter_participations_channel")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_voter_participations_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_voter_participations_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "voter_key", name=op.f("pk_voter_participations")),
    )
    op.create_index(
        op.f("ix_voter_participations_account_id"), "voter_participations", ["account_id"], unique=False
    )
    op.create_table(
        "voting_codes",
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.BigInteger(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_voting_codes_area_id_areas"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_voting_codes_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["budget_rounds.id"],
            name=op.f("fk_voting_codes_round_id_budget_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_voting_codes")),
    )
    op.create_index(op.f("ix_voting_codes_round_id"), "voting_codes", ["round_id"], unique=False)
    op.create_table(
        "budget_implementation_updates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("author_account_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress_percent", sa.SmallInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'completed', 'cancelled')",
            name=op.f("ck_budget_implementation_updates_status"),
        ),
        sa.CheckConstraint(
            "progress_percent BETWEEN 0 AND 100", name=op.f("ck_budget_implementation_updates_progress")
        ),
        sa.ForeignKeyConstraint(
            ["author_account_id"],
            ["accounts.id"],
            name=op.f("fk_budget_implementation_updates_author_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["budget_proposals.id"],
            name=op.f("fk_budget_implementation_updates_proposal_id_budget_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_implementation_updates")),
    )
    op.create_index(
        op.f("ix_budget_implementation_updates_proposal_id"),
        "budget_implementation_updates",
        ["proposal_id"],
        unique=False,
    )
    op.create_table(
        "budget_project_followers",
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_budget_project_followers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["budget_proposals.id"],
            name=op.f("fk_budget_project_followers_proposal_id_budget_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "account_id", name=op.f("pk_budget_project_followers")),
    )
    op.create_index(
        op.f("ix_budget_project_followers_account_id"),
        "budget_project_followers",
        ["account_id"],
        unique=False,
    )
    op.create_geospatial_table(
        "consultation_answers",
        sa.Column("response_id", sa.BigInteger(), nullable=False),
        sa.Column("question_id", sa.BigInteger(), nullable=False),
        sa.Column("choices", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("text_value", sa.Text(), nullable=True),
        sa.Column(
            "point",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["consultation_questions.id"],
            name=op.f("fk_consultation_answers_question_id_consultation_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["consultation_responses.id"],
            name=op.f("fk_consultation_answers_response_id_consultation_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "question_id", name=op.f("pk_consultation_answers")),
    )
    op.create_index(
        "ix_consultation_answers_question_id", "consultation_answers", ["question_id"], unique=False
    )
    op.create_table(
        "council_motion_votes",
        sa.Column("motion_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("choice", sa.String(length=8), nullable=False),
        sa.Column(
            "cast_at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False
        ),
        sa.CheckConstraint("choice IN ('yes', 'no', 'abstain')", name=op.f("ck_council_motion_votes_choice")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_council_motion_votes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["motion_id"],
            ["council_motions.id"],
            name=op.f("fk_council_motion_votes_motion_id_council_motions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("motion_id", "account_id", name=op.f("pk_council_motion_votes")),
    )
    op.create_table(
        "budget_implementation_update_photos",
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photos.id"],
            name=op.f("fk_budget_implementation_update_photos_photo_id_photos"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["budget_implementation_updates.id"],
            name=op.f("fk_budget_implementation_update_photos_update_id_budget_implementation_updates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_budget_implementation_update_photos")),
    )
    op.create_index(
        op.f("ix_budget_implementation_update_photos_update_id"),
        "budget_implementation_update_photos",
        ["update_id"],
        unique=False,
    )
    op.create_table(
        "budget_proposal_photos",
        sa.Column("proposal_id", sa.BigInteger(), nullable=False),
        sa.Column("photo_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photos.id"],
            name=op.f("fk_budget_proposal_photos_photo_id_photos"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["budget_proposals.id"],
            name=op.f("fk_budget_proposal_photos_proposal_id_budget_proposals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_budget_proposal_photos")),
    )
    op.create_index(
        op.f("ix_budget_proposal_photos_proposal_id"), "budget_proposal_photos", ["proposal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_budget_proposal_photos_proposal_id"), table_name="budget_proposal_photos")
    op.drop_table("budget_proposal_photos")
    op.drop_index(
        op.f("ix_budget_implementation_update_photos_update_id"),
        table_name="budget_implementation_update_photos",
    )
    op.drop_table("budget_implementation_update_photos")
    op.drop_table("council_motion_votes")
    op.drop_index("ix_consultation_answers_question_id", table_name="consultation_answers")
    op.drop_geospatial_table("consultation_answers")
    op.drop_index(op.f("ix_budget_project_followers_account_id"), table_name="budget_project_followers")
    op.drop_table("budget_project_followers")
    op.drop_index(
        op.f("ix_budget_implementation_updates_proposal_id"), table_name="budget_implementation_updates"
    )
    op.drop_table("budget_implementation_updates")
    op.drop_index(op.f("ix_voting_codes_round_id"), table_name="voting_codes")
    op.drop_table("voting_codes")
    op.drop_index(op.f("ix_voter_participations_account_id"), table_name="voter_participations")
    op.drop_table("voter_participations")
    op.drop_index(op.f("ix_council_motions_area_id"), table_name="council_motions")
    op.drop_table("council_motions")
    op.drop_index(op.f("ix_consultation_responses_account_id"), table_name="consultation_responses")
    op.drop_table("consultation_responses")
    op.drop_index(op.f("ix_consultation_questions_round_id"), table_name="consultation_questions")
    op.drop_table("consultation_questions")
    op.drop_index(op.f("ix_budget_round_phase_changes_round_id"), table_name="budget_round_phase_changes")
    op.drop_table("budget_round_phase_changes")
    op.drop_index(op.f("ix_budget_proposals_round_id"), table_name="budget_proposals")
    op.drop_geospatial_table("budget_proposals")
    op.drop_index("ix_ballots_round_id_id", table_name="ballots")
    op.drop_table("ballots")
    op.drop_geospatial_index(
        "ix_resident_verifications_address",
        table_name="resident_verifications",
        postgresql_using="gist",
        column_name="address",
    )
    op.drop_geospatial_table("resident_verifications")
    op.drop_index(op.f("ix_consultation_rounds_consultation_id"), table_name="consultation_rounds")
    op.drop_table("consultation_rounds")
    op.drop_index(op.f("ix_budget_rounds_area_id"), table_name="budget_rounds")
    op.drop_table("budget_rounds")
    op.drop_table("consultations")
