"""Consultations: rounds of questions to residents, one editable response each, results in aggregate.

Unlike ballots, responses are not secret: a resident edits their own response, and the municipality may
need to contact them about a free-text idea. They are published only as aggregates (and exported for the
council without names); that difference is stated in the consultation's description to residents.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point as ShapelyPoint
from sqlalchemy import delete, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput, NotAuthenticated
from core.identity import Identity
from core.outbox import record_event
from core.spreadsheet import SafeWriter
from participation.electorate import area_in_jurisdiction, check_account_in_area, eligible_account_ids
from participation.errors import AnswerViolation, ConsultationNotFound, NotEligible, WrongPhase
from participation.events import (
    ConsultationClosed,
    ConsultationOpened,
    ResponseReceived,
    YouSaidWeDidPublished,
)
from participation.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationRound,
)
from participation.schemas import (
    Answer,
    ConsultationCreate,
    ConsultationRoundCreate,
    Place,
    ResponseSubmit,
    YouSaidWeDid,
)
from participation.workflow import ConsultationStatus, check_consultation_status_change


async def create_consultation(
    session: AsyncSession, *, jurisdiction_id: int, data: ConsultationCreate
) -> Consultation:
    consultation = Consultation(
        jurisdiction_id=jurisdiction_id, title=data.title, description=data.description
    )
    session.add(consultation)
    await session.flush()
    for round_data in data.rounds:
        await add_round(session, consultation=consultation, data=round_data)
    return consultation


async def add_round(
    session: AsyncSession, *, consultation: Consultation, data: ConsultationRoundCreate
) -> ConsultationRound:
    await area_in_jurisdiction(session, jurisdiction_id=consultation.jurisdiction_id, area_id=data.area_id)
    consultation_round = ConsultationRound(
        consultation_id=consultation.id,
        title=data.title,
        area_id=data.area_id,
        eligibility=data.eligibility,
        min_age=data.min_age,
        opens_at=data.opens_at,
        closes_at=data.closes_at,
    )
    session.add(consultation_round)
    await session.flush()
    for position, question in enumerate(data.questions, start=1):
        for place in question.places or []:
            await _check_place(session, area_id=data.area_id, place=place, position=position)
        settings = question.model_dump(mode="json", exclude={"kind", "prompt", "required"}, exclude_none=True)
        session.add(
            ConsultationQuestion(
                round_id=consultation_round.id,
                position=position,
                kind=question.kind,
                prompt=question.prompt,
                required=question.required,
                settings=settings,
            )
        )
    await session.flush()
    return consultation_round


async def _check_place(session: AsyncSession, *, area_id: int, place: Place, position: int) -> None:
    """A place offered instead of the map must lie in the consulted area: an answer there must count."""
    inside = await session.scalar(
        text("SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM areas WHERE id = :a"),
        {"x": place.point.coordinates[0], "y": place.point.coordinates[1], "a": area_id},
    )
    if not inside:
        raise InvalidInput(
            f"question {position}: the place {place.name!r} lies outside the consulted area",
            code="place-outside-area",
        )


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
        raise ConsultationNotFound(
            f"no consultation round {round_id} in this jurisdiction", code="consultation-round-not-found"
        )
    return found


async def questions_of(session: AsyncSession, round_id: int) -> list[ConsultationQuestion]:
    return list(
        await session.scalars(
            select(ConsultationQuestion)
            .where(ConsultationQuestion.round_id == round_id)
            .order_by(ConsultationQuestion.position)
        )
    )


def render_question(q: ConsultationQuestion) -> dict[str, Any]:
    return {
        "id": q.id,
        "position": q.position,
        "kind": q.kind,
        "prompt": q.prompt,
        "required": q.required,
        **q.settings,
    }


async def render_consultation(
    session: AsyncSession, consultation: Consultation, *, include_drafts: bool = True
) -> dict[str, Any]:
    """The consultation with its rounds; ``include_drafts=False`` (anyone but its administrators) leaves
    out the rounds still in draft, which are work in progress (their own page is a 404 too)."""
    query = select(ConsultationRound).where(ConsultationRound.consultation_id == consultation.id)
    if not include_drafts:
        query = query.where(ConsultationRound.status != "draft")
    rounds = list(await session.scalars(query.order_by(ConsultationRound.id)))
    return {
        "id": consultation.id,
        "title": consultation.title,
        "description": consultation.description,
        "rounds": [await render_round(session, r) for r in rounds],
    }


async def render_round(session: AsyncSession, r: ConsultationRound) -> dict[str, Any]:
    return {
        "id": r.id,
        "consultation_id": r.consultation_id,
        "title": r.title,
        "area_id": r.area_id,
        "eligibility": r.eligibility,
        "min_age": r.min_age,
        "status": r.status,
        "opens_at": r.opens_at,
        "closes_at": r.closes_at,
        "you_said_we_did": r.you_said_we_did,
        "questions": [render_question(q) for q in await questions_of(session, r.id)],
    }


async def change_round_status(
    session: AsyncSession, *, consultation_round: ConsultationRound, to: str, jurisdiction_id: int
) -> ConsultationRound:
    goal = check_consultation_status_change(consultation_round.status, to)
    consultation_round.status = goal.value
    await session.flush()
    if goal is ConsultationStatus.OPEN:
        recipients = (
            await eligible_account_ids(
                session, jurisdiction_id=jurisdiction_id, area_id=consultation_round.area_id
            )
            if consultation_round.eligibility == "verified"
            else []
        )
        event: ConsultationOpened | ConsultationClosed = ConsultationOpened(
            consultation_id=consultation_round.consultation_id,
            round_id=consultation_round.id,
            title=consultation_round.title,
            account_ids=recipients,
            area_id=consultation_round.area_id,
        )
    else:
        event = ConsultationClosed(
            consultation_id=consultation_round.consultation_id,
            round_id=consultation_round.id,
            title=consultation_round.title,
            account_ids=await _respondents(session, consultation_round.id),
        )
    await record_event(session, jurisdiction_id=jurisdiction_id, event=event)
    return consultation_round


async def _respondents(session: AsyncSession, round_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(ConsultationResponse.account_id)
            .where(ConsultationResponse.round_id == round_id)
            .order_by(ConsultationResponse.account_id)
        )
    )


def _violation(question_id: int | None, code: str, detail: str) -> dict[str, Any]:
    return {"question_id": question_id, "code": code, "detail": detail}


async def _check_answers(
    session: AsyncSession,
    consultation_round: ConsultationRound,
    questions: list[ConsultationQuestion],
    answers: list[Answer],
) -> list[dict[str, Any]]:
    by_id = {q.id: q for q in questions}
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    for answer in answers:
        q = by_id.get(answer.question_id)
        if q is None:
            found.append(_violation(answer.question_id, "unknown-question", "not a question of this round"))
            continue
        if answer.question_id in seen:
            found.append(_violation(q.id, "duplicate-answer", "answered twice"))
        seen.add(q.id)
        given = {k for k in ("choices", "number", "text", "point") if getattr(answer, k) is not None}
        expected = {
            "single_choice": "choices",
            "multiple_choice": "choices",
            "ranking": "choices",
            "scale": "number",
            "free_text": "text",
            "map_point": "point",
        }[q.kind]
        if q.kind == "map_point" and given == {"text"}:
            expected = "text"  # the place described in words, by those who do not use the map
        if given != {expected}:
            found.append(
                _violation(q.id, "wrong-answer-type", f"a {q.kind} question is answered with '{expected}'")
            )
            continue
        options = q.settings.get("options", [])
        if expected == "choices":
            choices = answer.choices or []
            if unknown := [c for c in choices if c not in options]:
                found.append(_violation(q.id, "unknown-option", f"{unknown} are not options"))
            if len(set(choices)) != len(choices):
                found.append(_violation(q.id, "duplicate-option", "an option is chosen twice"))
            if not choices:
                found.append(_violation(q.id, "no-choice", "choose at least one option"))
            if q.kind == "single_choice" and len(choices) > 1:
                found.append(_violation(q.id, "too-many-choices", "choose one option"))
            maximum = q.settings.get("max_choices")
            if q.kind == "multiple_choice" and maximum is not None and len(choices) > maximum:
                found.append(_violation(q.id, "too-many-choices", f"choose at most {maximum} options"))
        elif expected == "number":
            low, high = q.settings["scale_min"], q.settings["scale_max"]
            if not low <= (answer.number or 0) <= high:
                found.append(_violation(q.id, "out-of-scale", f"answer between {low} and {high}"))
        elif expected == "text":
            limit = q.settings.get("max_length", 10_000)
            if not (answer.text or "").strip():
                found.append(_violation(q.id, "empty-text", "the answer is empty"))
            elif len(answer.text or "") > limit:
                found.append(_violation(q.id, "text-too-long", f"at most {limit} characters"))
        else:
            assert answer.point is not None
            inside = await session.scalar(
                text(
                    "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM areas WHERE id = :a"
                ),
                {
                    "x": answer.point.coordinates[0],
                    "y": answer.point.coordinates[1],
                    "a": consultation_round.area_id,
                },
            )
            if not inside:
                found.append(
                    _violation(q.id, "point-outside-area", "the point lies outside the consulted area")
                )
    for q in questions:
        if q.required and q.id not in seen:
            found.append(_violation(q.id, "required-question", f"question {q.position} needs an answer"))
    return found


async def submit_response(
    session: AsyncSession,
    *,
    consultation_round: ConsultationRound,
    jurisdiction_id: int,
    respondent: Identity | None,
    data: ResponseSubmit,
) -> tuple[ConsultationResponse, bool]:
    """Create or replace the resident's response; returns (response, whether it replaced an earlier one)."""
    now = datetime.now(UTC)
    if respondent is None:
        raise NotAuthenticated("sign in to respond")
    if consultation_round.status != "open" or (
        consultation_round.closes_at and now >= consultation_round.closes_at
    ):
        raise WrongPhase("this consultation round is not open", code="consultation-not-open")
    area_id = None
    if respondent.is_anonymous:
        # Devices cost nothing to make (30 of them answered a consultation in 0.23 s): every round needs
        # at least a registered account, one response per account; "verified" rounds also the address.
        raise NotEligible(
            "register an account to take part"
            if consultation_round.eligibility == "residents"
            else "have your address verified to take part",
            code="registration-required"
            if consultation_round.eligibility == "residents"
            else "address-not-verified",
        )
    if consultation_round.eligibility == "verified":
        if respondent.is_anonymous:
            raise NotEligible("have your address verified to take part", code="address-not-verified")
        await check_account_in_area(
            session,
            account_id=respondent.account_id,
            jurisdiction_id=jurisdiction_id,
            area_id=consultation_round.area_id,
            min_age=consultation_round.min_age,
            on=(consultation_round.closes_at or now).date(),
        )
    area_id = await session.scalar(
        text(
            "SELECT a.id FROM resident_verifications v JOIN areas a ON ST_Contains(a.geom, v.address)"
            " WHERE v.account_id = :account AND a.jurisdiction_id = :j"
            " ORDER BY CASE a.level WHEN 'neighbourhood' THEN 0 WHEN 'district' THEN 1 ELSE 2 END LIMIT 1"
        ),
        {"account": respondent.account_id, "j": jurisdiction_id},
    )
    questions = await questions_of(session, consultation_round.id)
    if violations := await _check_answers(session, consultation_round, questions, data.answers):
        raise AnswerViolation(violations)
    statement = insert(ConsultationResponse).values(
        round_id=consultation_round.id, account_id=respondent.account_id, respondent_area_id=area_id
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
    await session.execute(delete(ConsultationAnswer).where(ConsultationAnswer.response_id == response_id))
    if data.answers:
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
                for a in data.answers
            ],
        )
    await record_event(
        session,
        jurisdiction_id=jurisdiction_id,
        event=ResponseReceived(
            round_id=consultation_round.id,
            title=consultation_round.title,
            consultation_id=consultation_round.consultation_id,
            edited=bool(replaced),
            account_ids=[respondent.account_id],
        ),
    )
    response = await session.get(ConsultationResponse, response_id, populate_existing=True)
    assert response is not None
    return response, bool(replaced)


async def my_response(session: AsyncSession, *, round_id: int, account_id: int) -> dict[str, Any] | None:
    response = await session.scalar(
        select(ConsultationResponse).where(
            ConsultationResponse.round_id == round_id, ConsultationResponse.account_id == account_id
        )
    )
    if response is None:
        return None
    rows = await session.execute(
        text(
            "SELECT question_id, choices, number, text_value, ST_AsGeoJSON(point) AS point"
            " FROM consultation_answers WHERE response_id = :r ORDER BY question_id"
        ),
        {"r": response.id},
    )
    return {
        "round_id": round_id,
        "updated_at": response.updated_at,
        "answers": [
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
        ],
    }


_AREA_SCOPE = text(
    "WITH RECURSIVE scope AS (SELECT id FROM areas WHERE id = :area"
    " UNION ALL SELECT a.id FROM areas a JOIN scope s ON a.parent_id = s.id)"
    " SELECT id FROM scope"
)
# Every statement below is a literal: the area filter is a bound list of area ids (NULL: no filter).
_RESPONDENTS = text(
    "SELECT count(*) FROM consultation_responses r WHERE r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
_ANSWERS = text(
    "SELECT count(*) FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
_CHOICE_COUNTS = text(
    "SELECT c, count(*) FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id,"
    " jsonb_array_elements_text(x.choices) c"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " GROUP BY c"
)
_SCALE = text(
    "SELECT avg(x.number)::float AS mean, percentile_cont(0.5) WITHIN GROUP (ORDER BY x.number) AS median"
    " FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
_HISTOGRAM = text(
    "SELECT x.number, count(*) FROM consultation_answers x JOIN consultation_responses r"
    " ON r.id = x.response_id WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " GROUP BY x.number"
)
_RANKS = text(
    "SELECT e.c, e.ord FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id,"
    " jsonb_array_elements_text(x.choices) WITH ORDINALITY AS e(c, ord)"
    " WHERE x.question_id = :q AND r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
_TEXTS = text(
    "SELECT x.text_value FROM consultation_answers x JOIN consultation_responses r"
    " ON r.id = x.response_id WHERE x.question_id = :q AND r.round_id = :round AND x.text_value IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " ORDER BY md5(x.text_value)"
)
_DESCRIBED = text(
    "SELECT count(*) FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round AND x.text_value IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
)
_DENSITY = text(
    "SELECT ST_AsGeoJSON(ST_Transform(ST_MakeEnvelope(gx * :cell, gy * :cell,"
    " (gx + 1) * :cell, (gy + 1) * :cell, 3857), 4326), 6) AS cell, n FROM ("
    " SELECT floor(ST_X(ST_Transform(x.point, 3857)) / :cell)::bigint AS gx,"
    " floor(ST_Y(ST_Transform(x.point, 3857)) / :cell)::bigint AS gy, count(*) AS n"
    " FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " WHERE x.question_id = :q AND r.round_id = :round AND x.point IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " GROUP BY 1, 2) g ORDER BY n DESC, gx, gy"
)
_EXPORT_ROWS = text(
    "SELECT r.id, ar.name AS area, x.question_id, x.choices, x.number, x.text_value,"
    " ST_X(x.point) AS lon, ST_Y(x.point) AS lat"
    " FROM consultation_responses r LEFT JOIN areas ar ON ar.id = r.respondent_area_id"
    " LEFT JOIN consultation_answers x ON x.response_id = r.id"
    " WHERE r.round_id = :round"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " ORDER BY r.id"
)
_EXPORT_POINTS = text(
    "SELECT x.question_id, q.prompt, ST_AsGeoJSON(x.point, 6) AS point"
    " FROM consultation_answers x JOIN consultation_responses r ON r.id = x.response_id"
    " JOIN consultation_questions q ON q.id = x.question_id"
    " WHERE r.round_id = :round AND x.point IS NOT NULL"
    " AND (CAST(:areas AS bigint[]) IS NULL OR r.respondent_area_id = ANY(CAST(:areas AS bigint[])))"
    " ORDER BY x.question_id, ST_X(x.point), ST_Y(x.point)"
)


async def _scope(session: AsyncSession, area_id: int | None) -> list[int] | None:
    """The area and every area below it (a district's neighbourhoods); ``None`` when not filtering."""
    if area_id is None:
        return None
    return list(await session.scalars(_AREA_SCOPE, {"area": area_id}))


async def results(
    session: AsyncSession,
    *,
    consultation_round: ConsultationRound,
    area_id: int | None,
    include_texts: bool,
    grid_metres: float = 100.0,
) -> dict[str, Any]:
    """Per question: counts, means, rankings (Borda points), texts (staff only) or a density grid."""
    params: dict[str, Any] = {
        "round": consultation_round.id,
        "areas": await _scope(session, area_id),
        "cell": grid_metres,
    }
    respondents = await session.scalar(_RESPONDENTS, params)
    out = []
    for q in await questions_of(session, consultation_round.id):
        params["q"] = q.id
        item: dict[str, Any] = {**render_question(q)}
        item["answers"] = await session.scalar(_ANSWERS, params)
        if q.kind in ("single_choice", "multiple_choice"):
            choice_counts = (await session.execute(_CHOICE_COUNTS, params)).all()
            rows: dict[str, int] = {option: count for option, count in choice_counts}
            item["counts"] = {option: rows.get(option, 0) for option in q.settings["options"]}
        elif q.kind == "scale":
            row = (await session.execute(_SCALE, params)).one()
            histogram: dict[int, int] = {
                value: count for value, count in (await session.execute(_HISTOGRAM, params)).all()
            }
            item["mean"] = row.mean
            item["median"] = row.median
            item["histogram"] = {
                str(v): histogram.get(v, 0)
                for v in range(q.settings["scale_min"], q.settings["scale_max"] + 1)
            }
        elif q.kind == "ranking":
            options = q.settings["options"]
            ranks = (await session.execute(_RANKS, params)).all()
            borda = {o: 0 for o in options}
            firsts = {o: 0 for o in options}
            for option, position in ranks:
                borda[option] += len(options) - int(position)
                firsts[option] += int(position) == 1
            item["borda"] = borda
            item["first_choices"] = firsts
            item["ranking"] = sorted(options, key=lambda o: (-borda[o], options.index(o)))
        elif q.kind == "free_text":
            if include_texts:
                item["texts"] = list(await session.scalars(_TEXTS, params))
        else:
            item["grid_metres"] = grid_metres
            # Places described in words are no points on the grid: counted, read by insiders only.
            item["described"] = await session.scalar(_DESCRIBED, params)
            if include_texts:
                item["descriptions"] = list(await session.scalars(_TEXTS, params))
            cells = await session.execute(_DENSITY, params)
            item["density"] = {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": json.loads(r.cell), "properties": {"count": r.n}}
                    for r in cells
                ],
            }
        out.append(item)
    return {
        "round_id": consultation_round.id,
        "status": consultation_round.status,
        # The round's own area; ``filtered_area_id`` is the area the caller narrowed the respondents to.
        "area_id": consultation_round.area_id,
        "filtered_area_id": area_id,
        "respondents": respondents,
        "questions": out,
    }


async def export_csv(
    session: AsyncSession, *, consultation_round: ConsultationRound, area_id: int | None
) -> str:
    questions = await questions_of(session, consultation_round.id)
    rows = await session.execute(
        _EXPORT_ROWS, {"round": consultation_round.id, "areas": await _scope(session, area_id)}
    )
    table: dict[int, dict[str | int, str]] = {}  # "area" and each question's id
    for row in rows:
        record = table.setdefault(row.id, {"area": row.area or ""})
        if row.question_id is None:
            continue
        kind = next(q.kind for q in questions if q.id == row.question_id)
        if row.choices is not None:
            value = (" > " if kind == "ranking" else " | ").join(row.choices)
        elif row.number is not None:
            value = str(row.number)
        elif row.text_value is not None:
            value = row.text_value
        else:
            value = f"{row.lon:.6f} {row.lat:.6f}"
        record[row.question_id] = value
    buffer = io.StringIO()
    writer = SafeWriter(buffer)  # free texts of residents: no formulas for whoever opens the file
    writer.writerow(["response", "respondent_area", *[f"Q{q.position}: {q.prompt}" for q in questions]])
    for number, record in enumerate(table.values(), start=1):
        writer.writerow([number, record["area"], *[record.get(q.id, "") for q in questions]])
    return buffer.getvalue()


async def export_geojson(
    session: AsyncSession, *, consultation_round: ConsultationRound, area_id: int | None
) -> dict[str, Any]:
    rows = await session.execute(
        _EXPORT_POINTS, {"round": consultation_round.id, "areas": await _scope(session, area_id)}
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": json.loads(r.point),
                "properties": {"question_id": r.question_id, "question": r.prompt},
            }
            for r in rows
        ],
    }


async def publish_you_said_we_did(
    session: AsyncSession, *, consultation_round: ConsultationRound, jurisdiction_id: int, data: YouSaidWeDid
) -> ConsultationRound:
    if consultation_round.status != "closed":
        raise WrongPhase("publish what you will do once the round has closed", code="consultation-not-closed")
    consultation_round.you_said_we_did = {**data.model_dump(), "published_at": datetime.now(UTC).isoformat()}
    await session.flush()
    await record_event(
        session,
        jurisdiction_id=jurisdiction_id,
        event=YouSaidWeDidPublished(
            round_id=consultation_round.id,
            consultation_id=consultation_round.consultation_id,
            title=consultation_round.title,
            summary=data.summary,
            actions=data.actions,
            account_ids=await _respondents(session, consultation_round.id),
        ),
    )
    return consultation_round


async def advance_due_consultations(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    moved: list[tuple[int, str]] = []
    rows = (
        await session.execute(
            select(ConsultationRound, Consultation.jurisdiction_id)
            .join(Consultation, Consultation.id == ConsultationRound.consultation_id)
            .where(
                ((ConsultationRound.status == "draft") & (ConsultationRound.opens_at <= now))
                | ((ConsultationRound.status == "open") & (ConsultationRound.closes_at <= now))
            )
            .with_for_update(of=ConsultationRound, skip_locked=True)
        )
    ).all()
    for consultation_round, jurisdiction_id in rows:
        if consultation_round.status == "draft":
            await change_round_status(
                session, consultation_round=consultation_round, to="open", jurisdiction_id=jurisdiction_id
            )
        if consultation_round.closes_at is not None and consultation_round.closes_at <= now:
            await change_round_status(
                session, consultation_round=consultation_round, to="closed", jurisdiction_id=jurisdiction_id
            )
        moved.append((consultation_round.id, consultation_round.status))
    return moved
