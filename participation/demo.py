"""The demo loader's participation: a budget round gone all the way to implementation updates, a round in
its voting phase with letters' codes, and a consultation with a closed round (results, "you said, we did")
and an open one.

Everything goes through the services the API uses, so the demo shows real data paths. Ballots are written
directly (sealed, random ids) because a demo has no voters to protect and no mixer running.
"""

from __future__ import annotations

import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from geoalchemy2.shape import from_shape
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import Identity
from participation import budget_rounds, consultations, electorate, proposals
from participation.electorate import ParticipationKeys
from participation.models import (
    BallotRecord,
    BudgetRound,
    Consultation,
    ConsultationRound,
    Proposal,
    VoterParticipation,
)
from participation.schemas import (
    Answer,
    ConsultationCreate,
    ConsultationRoundCreate,
    ImplementationUpdateCreate,
    Place,
    Point,
    QuestionCreate,
    ResponseSubmit,
    RoundCreate,
    YouSaidWeDid,
)

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


# ------------------------------------------------------------------------------------------------------
# Taking part now: a round in its voting phase and an open consultation, for a newcomer to try in the app.

VOTING_TITLE = "Buurtbudget Centrum: kies mee (demo)"
CONSULTATION_TITLE = "Het plein van de toekomst (demo)"
VOTING_IDEAS = [
    ("Bomen op het Damrak", "Tien nieuwe bomen met een bankje eromheen.", 18_000),
    ("Fietsenrekken bij de Nieuwmarkt", "Veertig plekken voor fietsen, overdekt.", 9_000),
    ("Speeltoestel op het Waterlooplein", "Een klimrek voor kinderen tot 12 jaar.", 15_000),
    ("Meer licht in de stegen", "Lampen in vier donkere stegen, zodat je je veilig voelt.", 11_000),
    ("Buurtfeest op het Rembrandtplein", "Een dag met muziek en eten, voor iedereen gratis.", 6_000),
    ("Watertappunt bij de Dam", "Gratis drinkwater voor bewoners en bezoekers.", 5_000),
]
# Squares in the Centrum district, offered as the map question's places (the non-map alternative).
PLACES = [
    ("De Dam", 4.8927, 52.3731),
    ("Nieuwmarkt", 4.9003, 52.3727),
    ("Rembrandtplein", 4.8966, 52.3663),
    ("Waterlooplein", 4.9020, 52.3670),
]
TEXTS = [
    "Meer schaduw in de zomer.",
    "Een plek om te zitten zonder iets te kopen.",
    "Minder fietsen op de stoep.",
    "Water voor de honden.",
]


def demo_codes(seed: int, count: int = 5) -> list[str]:
    """The demo's letters: the same codes on every load with the same seed (demo only, never real)."""
    from participation.electorate import CODE_ALPHABET

    chooser = random.Random(seed)
    codes = []
    for _ in range(count):
        raw = "".join(chooser.choice(CODE_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


async def load_demo_voting_round(
    session: AsyncSession,
    *,
    jurisdiction_id: int,
    area_id: int,
    keys: ParticipationKeys | None,
    codes: list[str],
    now: datetime,
) -> BudgetRound:
    """A knapsack round in Centrum, voting open for 60 days, six reviewed ideas at points in the area, and
    the letters' codes. Idempotent: an existing round of this title is reused, its codes stored again."""
    budget_round = await session.scalar(
        select(BudgetRound).where(
            BudgetRound.jurisdiction_id == jurisdiction_id, BudgetRound.title == VOTING_TITLE
        )
    )
    if budget_round is None:
        budget_round = await budget_rounds.create_round(
            session,
            jurisdiction_id=jurisdiction_id,
            data=RoundCreate(
                title=VOTING_TITLE,
                description="Kies de projecten voor het centrum."
                " Samen mogen ze niet meer kosten dan het budget.",
                area_id=area_id,
                budget=Decimal("40000"),
                ballot_type="knapsack",
                voting_closes_at=now + timedelta(days=60),
                rule="mes",
                completion="add1",
            ),
        )
        points = (
            await session.execute(
                text(
                    "SELECT ST_X(p.geom), ST_Y(p.geom) FROM areas a,"
                    " ST_Dump(ST_GeneratePoints(a.geom, :n, 2027)) p WHERE a.id = :a"
                ),
                {"a": area_id, "n": len(VOTING_IDEAS)},
            )
        ).all()
        for (title, description, cost), (longitude, latitude) in zip(VOTING_IDEAS, points, strict=True):
            session.add(
                Proposal(
                    round_id=budget_round.id,
                    title=title,
                    description=description,
                    location=from_shape(ShapelyPoint(longitude, latitude), srid=4326),
                    estimated_cost=Decimal(cost),
                    status="feasible",
                    review_reason="Dit kan. De gemeente heeft de kosten nagerekend.",
                )
            )
        await session.flush()
        await budget_rounds.change_phase(session, budget_round, to="review", actor=None, cipher=None)
        await budget_rounds.change_phase(session, budget_round, to="voting", actor=None, cipher=None)
        # Voting opened two days ago (its message to the checked residents was told then).
        await session.execute(
            text(
                "UPDATE outbox_events SET created_at = now() - interval '2 days'"
                " WHERE aggregate_type = 'budget_round' AND aggregate_id = :id AND processed_at IS NULL"
            ),
            {"id": budget_round.id},
        )
    if keys is not None and codes:
        await electorate.import_codes(
            session, keys=keys, budget_round=budget_round, area_id=area_id, codes=codes
        )
    return budget_round


def _questions(prompts: dict[str, str]) -> list[QuestionCreate]:
    places = [Place(name=name, point=Point(type="Point", coordinates=(x, y))) for name, x, y in PLACES]
    return [
        QuestionCreate(
            kind="single_choice",
            prompt=prompts["single"],
            options=["Ja", "Nee", "Weet ik niet"],
            required=True,
        ),
        QuestionCreate(
            kind="multiple_choice",
            prompt=prompts["multiple"],
            options=["Bomen", "Bankjes", "Speelplek", "Fietsenrekken", "Watertappunt"],
            max_choices=2,
        ),
        QuestionCreate(kind="scale", prompt=prompts["scale"], scale_min=1, scale_max=5),
        QuestionCreate(kind="free_text", prompt=prompts["text"], max_length=1000),
        QuestionCreate(
            kind="ranking", prompt=prompts["ranking"], options=["Groen", "Rust", "Spelen", "Ontmoeten"]
        ),
        QuestionCreate(kind="map_point", prompt=prompts["map"], places=places),
    ]


async def load_demo_consultation(
    session: AsyncSession, *, jurisdiction_id: int, area_id: int, respondents: list[Identity], seed: int
) -> tuple[int, int]:
    """A consultation in Centrum with all six kinds of question: a first round closed with answers, its
    results and "you said, we did", and a second round open for answers. Returns (open, closed) round
    ids; an existing consultation of this title is reused."""
    found = await session.scalar(
        select(Consultation).where(
            Consultation.jurisdiction_id == jurisdiction_id, Consultation.title == CONSULTATION_TITLE
        )
    )
    if found is not None:
        ids = list(
            await session.scalars(
                select(ConsultationRound.id)
                .where(ConsultationRound.consultation_id == found.id)
                .order_by(ConsultationRound.id)
            )
        )
        return ids[-1], ids[0]
    first_prompts = {
        "single": "Moeten er meer bomen op de pleinen komen?",
        "multiple": "Wat mist er op de pleinen? Kies er hoogstens twee.",
        "scale": "Hoe prettig vind je de pleinen nu? (1 = niet prettig, 5 = heel prettig)",
        "text": "Wat is je idee voor de pleinen?",
        "ranking": "Wat vind je het belangrijkst op een plein?",
        "map": "Welk plein moet als eerste aangepakt worden?",
    }
    second_prompts = {
        "single": "Mag het plein een deel van de dag autovrij zijn?",
        "multiple": "Wat wil je op het vernieuwde plein? Kies er hoogstens twee.",
        "scale": "Hoe belangrijk vind je dat het plein groener wordt? (1 = niet, 5 = heel belangrijk)",
        "text": "Wat moeten we nog weten?",
        "ranking": "Zet op volgorde wat je het belangrijkst vindt.",
        "map": "Waar moet het nieuwe watertappunt komen?",
    }
    consultation = await consultations.create_consultation(
        session,
        jurisdiction_id=jurisdiction_id,
        data=ConsultationCreate(
            title=CONSULTATION_TITLE,
            description="De gemeente vernieuwt de pleinen in het centrum. Denk mee in twee rondes.",
            rounds=[
                ConsultationRoundCreate(
                    title="Ronde 1: wat mist er?",
                    area_id=area_id,
                    eligibility="residents",
                    questions=_questions(first_prompts),
                ),
                ConsultationRoundCreate(
                    title="Ronde 2: kies mee",
                    area_id=area_id,
                    eligibility="residents",
                    closes_at=datetime.now(UTC) + timedelta(days=30),
                    questions=_questions(second_prompts),
                ),
            ],
        ),
    )
    closed_round, open_round = list(
        await session.scalars(
            select(ConsultationRound)
            .where(ConsultationRound.consultation_id == consultation.id)
            .order_by(ConsultationRound.id)
        )
    )
    for each in (closed_round, open_round):
        await consultations.change_round_status(
            session, consultation_round=each, to="open", jurisdiction_id=jurisdiction_id
        )
    chooser = random.Random(seed)
    questions = await consultations.questions_of(session, closed_round.id)
    for respondent in respondents:
        answers: list[Answer] = []
        for question in questions:
            settings = question.settings
            if question.kind == "single_choice":
                answers.append(
                    Answer(
                        question_id=question.id, choices=[chooser.choice(["Ja", "Ja", "Nee", "Weet ik niet"])]
                    )
                )
            elif question.kind == "multiple_choice":
                answers.append(
                    Answer(question_id=question.id, choices=chooser.sample(settings["options"], 2))
                )
            elif question.kind == "scale":
                answers.append(Answer(question_id=question.id, number=chooser.choice([2, 3, 3, 4])))
            elif question.kind == "free_text" and chooser.random() < 0.5:
                answers.append(Answer(question_id=question.id, text=chooser.choice(TEXTS)))
            elif question.kind == "ranking":
                answers.append(
                    Answer(question_id=question.id, choices=chooser.sample(settings["options"], 4))
                )
            elif question.kind == "map_point":
                if chooser.random() < 0.1:
                    answers.append(Answer(question_id=question.id, text="Het pleintje achter de Oude Kerk"))
                    continue
                _, x, y = chooser.choice(PLACES[:3] + PLACES[:1])
                jitter = (chooser.uniform(-0.0006, 0.0006), chooser.uniform(-0.0004, 0.0004))
                point = Point(type="Point", coordinates=(round(x + jitter[0], 6), round(y + jitter[1], 6)))
                answers.append(Answer(question_id=question.id, point=point))
        await consultations.submit_response(
            session,
            consultation_round=closed_round,
            jurisdiction_id=jurisdiction_id,
            respondent=respondent,
            data=ResponseSubmit(answers=answers),
        )
    await consultations.change_round_status(
        session, consultation_round=closed_round, to="closed", jurisdiction_id=jurisdiction_id
    )
    await consultations.publish_you_said_we_did(
        session,
        consultation_round=closed_round,
        jurisdiction_id=jurisdiction_id,
        data=YouSaidWeDid(
            summary="De meeste bewoners willen meer bomen en een plek om te zitten."
            " De Dam werd het vaakst genoemd.",
            actions=[
                "Op de Dam komen in 2027 acht bomen met bankjes eromheen.",
                "Op de Nieuwmarkt komt een watertappunt.",
                "In ronde 2 vragen we waar het volgende watertappunt moet komen.",
            ],
        ),
    )
    await session.flush()
    # The first round is history: opened four weeks ago, answered, closed two weeks ago, told one week ago.
    await _backdate_round(session, closed_round.id, opened=28, closed=14, told=7)
    await _backdate_round(session, open_round.id, opened=2, closed=None, told=None)
    return open_round.id, closed_round.id


_BACKDATE_ROUND_EVENTS = text(
    "UPDATE outbox_events SET created_at = now() - make_interval(days => CASE topic"
    " WHEN 'consultation.opened' THEN :opened WHEN 'consultation.closed' THEN :closed"
    " WHEN 'consultation.you_said_we_did' THEN :told ELSE :answered END)"
    " + make_interval(mins => CAST(id % 600 AS int))"
    " WHERE aggregate_type = :kind AND aggregate_id = :id AND processed_at IS NULL"
)


async def _backdate_round(
    session: AsyncSession, round_id: int, *, opened: int, closed: int | None, told: int | None
) -> None:
    answered = (opened + (closed or 0)) // 2
    params = {
        "kind": "consultation_round",
        "id": round_id,
        "opened": opened,
        "closed": closed or 0,
        "told": told or 0,
        "answered": answered,
    }
    await session.execute(_BACKDATE_ROUND_EVENTS, params)
    await session.execute(
        text(
            "UPDATE consultation_responses SET updated_at = now() - make_interval(days => :d)"
            " + make_interval(mins => CAST(id % 600 AS int)) WHERE round_id = :id"
        ),
        {"d": answered, "id": round_id},
    )
    if told is not None:
        await session.execute(
            text(
                "UPDATE consultation_rounds SET you_said_we_did ="
                " jsonb_set(you_said_we_did, '{published_at}',"
                " to_jsonb(to_char((now() - make_interval(days => :d)) AT TIME ZONE 'UTC',"
                ' \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\'))) WHERE id = :id'
            ),
            {"d": told, "id": round_id},
        )
