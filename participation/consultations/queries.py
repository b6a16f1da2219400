"""The consultations' SQL: look-ups, the writes of a response, and the aggregates of results and exports.

Every statement is a literal: the area filter of results and exports is a bound list of area ids (NULL:
no filter), computed once per request by :func:`area_scope`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import delete, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from participation.errors import ConsultationNotFound, ConsultationRoundNotFound
from participation.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationRound,
)
from participation.schemas import Answer

# ------------------------------------------------------------------------------------------------- look-ups


async def get_consultation(
    session: AsyncSession, *, jurisdiction_id: int, consultation_id: int
) -> Consultation:
    found = await session.scalar(
        select(Consultation).where(
            Consultation.id == consultation_id, Consultation.jurisdiction_id == jurisdiction_id
        )
    )
    if found is None:
        raise ConsultationNotFound(f"no consultation {consultation_id} in this jurisdiction")
    return found


async def get_round(
    session: AsyncSession, *, jurisdiction_id: int, round_id: int, lock: bool = False
) -> ConsultationRound:
    statement = (
        select(ConsultationRound)
        .join(Consultation, Consultation.id == ConsultationRound.consultation_id)
        .where(ConsultationRound.id == round_id, Consultation.jurisdiction_id == jurisdiction_id)
    )
    if lock:
        statement = statement.with_for_update(of=ConsultationRound)
    found = await session.scalar(statement)
    if found is None:
        raise ConsultationRoundNotFound(f"no consultation round {round_id} in this jurisdiction")
    return found


async def rounds_of(
    session: AsyncSession, consultation_id: int, *, include_drafts: bool
) -> list[ConsultationRound]:
    query = select(ConsultationRound).where(ConsultationRound.consultation_id == consultation_id)
    if not include_drafts:
        query = query.where(ConsultationRound.status != "draft")
    return list(await session.scalars(query.order_by(ConsultationRound.id)))


async def questions_of(session: AsyncSession, round_id: int) -> list[ConsultationQuestion]:
    return list(
        await session.scalars(
            select(ConsultationQuestion)
            .where(ConsultationQuestion.round_id == round_id)
            .order_by(ConsultationQuestion.position)
        )
    )


async def respondent_ids(session: AsyncSession, round_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(ConsultationResponse.account_id)
            .where(ConsultationResponse.round_id == round_id)
            .order_by(ConsultationResponse.account_id)
        )
    )


async def due_rounds(session: AsyncSession, now: datetime) -> list[tuple[ConsultationRound, int]]:
    """Rounds whose opening or closing time has come, with their jurisdiction's id; locked, and those
    another process holds skipped (it moves them)."""
    rows = await session.execute(
        select(ConsultationRound, Consultation.jurisdiction_id)
        .join(Consultation, Consultation.id == ConsultationRound.consultation_id)
        .where(
            ((ConsultationRound.status == "draft") & (ConsultationRound.opens_at <= now))
            | ((ConsultationRound.status == "open") & (ConsultationRound.closes_at <= now))
        )
        .with_for_update(of=ConsultationRound, skip_locked=True)
    )
    return [(consultation_round, jurisdiction_id) for consultation_round, jurisdiction_id in rows.all()]


_COVERS = text("SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM areas WHERE id = :a")


async def area_covers(session: AsyncSession, *, area_id: int, coordinates: Sequence[float]) -> bool:
    """Whether the point (longitude, latitude) lies in the area, its edge included."""
    return bool(await session.scalar(_COVERS, {"x": coordinates[0], "y": coordinates[1], "a": area_id}))


_RESPONDENT_AREA = text(
    "SELECT a.id FROM resident_verifications v JOIN areas a ON ST_Contains(a.geom, v.address)"
    " WHERE v.account_id = :account AND a.jurisdiction_id = :j"
    " ORDER BY CASE a.level WHEN 'neighbourhood' THEN 0 WHEN 'district' THEN 1 ELSE 2 END LIMIT 1"
)


async def respondent_area_id(session: AsyncSession, *, account_id: int, jurisdiction_id: int) -> int | None:
    """The smallest area around the account's verified address (results are filtered by it)."""
    found: int | None = await session.scalar(_RESPONDENT_AREA, {"account": account_id, "j": jurisdiction_id})
    return found


# ------------------------------------------------------------------------------------------------- responses


async def upsert_response(
    session: AsyncSession, *, round_id: int, account_id: int, respondent_area_id: int | None
) -> tuple[int, bool]:
    """The account's one response to the round, made or touched; returns (its id, whether it existed)."""
    statement = insert(ConsultationResponse).values(
        round_id=round_id, account_id=account_id, respondent_area_id=respondent_area_id
    )
    response_id: int
    replaced: bool  # xmax <> 0: the row existed and was updated
    response_id, replaced = (
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["round_id", "account_id"],
                set_={
                    "respondent_area_id": statement.excluded.respondent_area_id,
                    "updated_at": text("now()"),
                },
            ).returning(ConsultationResponse.id, literal_column("xmax <> 0").label("replaced"))
        )
    ).one()
    return response_id, bool(replaced)


async def replace_answers(session: AsyncSession, *, response_id: int, answers: list[Answer]) -> None:
    await session.execute(delete(ConsultationAnswer).where(ConsultationAnswer.response_id == response_id))
    if answers:
        await session.execute(
            insert(ConsultationAnswer),
            [
                {
                    "response_id": response_id,
                    "question_id": a.question_id,
                    "choices": a.choices,
                    "number": a.number,
                    "text_value": a.text,
                    "point": from_shape(ShapelyPoint(*a.point.coordinates), srid=4326) if a.point else None,
                }
                for a in answers
            ],
        )


async def response_of(
    session: AsyncSession, *, round_id: int, account_id: int
) -> ConsultationResponse | None:
    return await session.scalar(
        select(ConsultationResponse).where(
            ConsultationResponse.round_id == round_id, ConsultationResponse.account_id == account_id
        )
    )


_ANSWERS_OF_RESPONSE = text(
    "SELECT question_id, choices, number, text_value, ST_AsGeoJSON(point) AS point"
    " FROM consultation_answers WHERE response_id = :r ORDER BY question_id"
)


async def answers_of(session: AsyncSession, response_id: int) -> list[dict[str, Any]]:
    """A response's answers as the API shows them: only the keys an answer has, the point as GeoJSON."""
    rows = await session.execute(_ANSWERS_OF_RESPONSE, {"r": response_id})
    return [
        {
            k: v
            for k, v in {
                "question_id": r.question_id,
                "choices": r.choices,
                "number": r.number,
                "text": r.text_value,
                "point": json.loads(r.point) if r.point else None,
            }.items()
            if v is not None
        }
        for r in rows
    ]


# ------------------------------------------------------------------------------------------------- results

_AREA_SCOPE = text(
    "WITH RECURSIVE scope AS (SELECT id FROM areas WHERE id = :area"
    " UNION ALL SELECT a.id FROM areas a JOIN scope s ON a.parent_id = s.id)"
    " SELECT id FROM scope"
)


async def area_scope(session: AsyncSession, area_id: int | None) -> list[int] | None:
    """The area and every area below it (a district's neighbourhoods); ``None`` when not filtering."""
    if area_id is None:
        return None
    return list(await session.scalars(_AREA_SCOPE, {"area": area_id}))


# Parameters of the statements below: ``round``, ``areas`` (from area_scope), ``q`` (a question's id) and,
# for the density grid, ``cell`` (metres).
RESPONDENTS = text(
    "SELECT count(*) FROM consultation_responses r WHERE r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
ANSWERS = text(
    "SELECT count(*) FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
CHOICE_COUNTS = text(
    "SELECT c, count(*) FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id,"
    " jsonb_array_elements_text(x.choices) c"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " GROUP BY c"
)
SCALE = text(
    "SELECT avg(x.number)::float AS mean, percentile_cont(0.5) WITHIN GROUP (ORDER BY x.number) AS median"
    " FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
HISTOGRAM = text(
    "SELECT x.number, count(*) FROM consultation_answers x JOIN consultation_responses r"
    " ON r.id = x.response_id WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " GROUP BY x.number"
)
RANKS = text(
    "SELECT e.c, e.ord FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id,"
    " jsonb_array_elements_text(x.choices) WITH ORDINALITY AS e(c, ord)"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
TEXTS = text(
    "SELECT x.text_value FROM consultation_answers x JOIN consultation_responses r"
    " ON r.id = x.response_id WHERE x.question_id = :q AND r.round_id = :round AND x.text_value IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " ORDER BY md5(x.text_value)"
)
DESCRIBED = text(
    "SELECT count(*) FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round AND x.text_value IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
DENSITY = text(
    "SELECT ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(gx * :cell, gy * :cell,"
    " (gx + 1) * :cell, (gy + 1) * :cell, 3857), 4326), 6) AS cell, n FROM ("
    " SELECT floor(ST_X(ST_Transform(x.point, 3857)) / :cell)::bigint AS gx,"
    " floor(ST_Y(ST_Transform(x.point, 3857)) / :cell)::bigint AS gy, count(*) AS n"
    " FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round AND x.point IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " GROUP BY 1, 2) g ORDER BY n DESC, gx, gy"
)
EXPORT_ROWS = text(
    "SELECT r.id, ar.name AS area, x.question_id, x.choices, x.number, x.text_value,"
    " ST_X(x.point) AS lon, ST_Y(x.point) AS lat"
    " FROM consultation_responses r LEFT JOIN areas ar ON ar.id = r.respondent_area_id"
    " LEFT JOIN consultation_answers x ON x.response_id = r.id"
    " WHERE r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " ORDER BY r.id"
)
EXPORT_POINTS = text(
    "SELECT x.question_id, q.prompt, ST_AsGeoJSON(x.point, 6) AS point"
    " FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " JOIN consultation_questions q ON q.id = x.question_id"
    " WHERE r.round_id = :round AND x.point IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " ORDER BY x.question_id, ST_X(x.point), ST_Y(x.point)"
)
