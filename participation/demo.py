"""A demo budget round for the demo loader: proposals, review, votes, results and implementation updates.

Everything goes through the services the API uses, so the demo shows real data paths. Ballots are written
directly (sealed, random ids) because a demo has no voters to protect and no mixer running.
"""

from __future__ import annotations

import os
import random
import uuid
from decimal import Decimal

from geoalchemy2.shape import from_shape
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from participation import budget_rounds, proposals
from participation.models import BallotRecord, BudgetRound, Proposal, VoterParticipation
from participation.schemas import ImplementationUpdateCreate, RoundCreate

IDEAS = [
    ("Bankjes rond het plein", "Zes bankjes in de schaduw.", 8_000),
    ("Geveltuinen", "Tegels eruit, planten erin, langs de hele straat.", 12_000),
    ("Speelplek voor peuters", "Een kleine speelplek met zand en een glijbaan.", 25_000),
    ("Watertappunt", "Gratis drinkwater voor iedereen.", 6_000),
    ("Buurtbibliotheekkastjes", "Drie kastjes om boeken te ruilen.", 3_000),
]


async def load_demo_round(session: AsyncSession, jurisdiction_id: int, area_id: int) -> BudgetRound:
    """Create a round in ``area_id`` that has gone all the way to implementation updates. Flushes only."""
    budget_round = await budget_rounds.create_round(
        session,
        jurisdiction_id=jurisdiction_id,
        data=RoundCreate(
            title="Buurtbudget (demo)",
            area_id=area_id,
            budget=Decimal("40000"),
            ballot_type="approval",
            ballot_rules={"max_projects": 3},
            rule="mes",
            completion="add1",
            add1_stop="infeasible",
        ),
    )
    centre = (
        await session.execute(
            text(
                "SELECT ST_X(c), ST_Y(c)"
                " FROM (SELECT ST_PointOnSurface(geom) AS c FROM areas WHERE id = :a) p"
            ),
            {"a": area_id},
        )
    ).one()
    ids = []
    for title, description, cost in IDEAS:
        proposal = Proposal(
            round_id=budget_round.id,
            title=title,
            description=description,
            location=from_shape(ShapelyPoint(centre[0], centre[1]), srid=4326),
            estimated_cost=Decimal(cost),
            status="feasible",
            review_reason="Haalbaar binnen de regels van het buurtbudget.",
        )
        session.add(proposal)
        await session.flush()
        ids.append(proposal.id)
    budget_round.phase = "voting"
    chooser = random.Random(2027)
    rows = []
    for _ in range(120):
        chosen = chooser.sample(ids, chooser.randint(1, 3))
        rows.append(
            {
                "id": uuid.uuid4(),
                "round_id": budget_round.id,
                "channel": "online",
                "projects": chosen,
                "points": None,
            }
        )
    await session.execute(insert(BallotRecord), rows)
    # One participation per ballot, as a cast records it: the results count voters from these.
    await session.execute(
        insert(VoterParticipation),
        [
            {
                "round_id": budget_round.id,
                "voter_key": os.urandom(32),
                "account_id": None,
                "channel": "online",
            }
            for _ in rows
        ],
    )
    # The demo's ballots were written in clear (a closed, public example): no key needed to seal them.
    await budget_rounds.change_phase(session, budget_round, to="results", actor=None, cipher=None)
    await budget_rounds.change_phase(session, budget_round, to="implementation", actor=None, cipher=None)
    staff = Identity(account_id=0, jurisdiction_id=jurisdiction_id, is_anonymous=False, admin=True)
    funded = [pid for pid in ids if str(pid) in set((budget_round.result or {}).get("selected", []))]
    if funded:
        await proposals.add_implementation_update(
            session,
            budget_round=budget_round,
            proposal_id=funded[0],
            data=ImplementationUpdateCreate(
                status="in_progress", progress_percent=30, message="De aannemer is begonnen."
            ),
            staff=staff,
        )
    await session.flush()
    return budget_round
