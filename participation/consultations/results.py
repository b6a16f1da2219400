"""What a consultation round's residents said, in aggregate: results per question (counts, means, Borda
points, a density grid of map answers; free texts for insiders only) and the exports for the council."""

from __future__ import annotations

import io
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.spreadsheet import SafeWriter
from participation.consultations import queries
from participation.consultations.rendering import render_question
from participation.models import ConsultationRound


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
        "areas": await queries.area_scope(session, area_id),
        "cell": grid_metres,
    }
    respondents = await session.scalar(queries.RESPONDENTS, params)
    out = []
    for q in await queries.questions_of(session, consultation_round.id):
        params["q"] = q.id
        item: dict[str, Any] = {**render_question(q)}
        item["answers"] = await session.scalar(queries.ANSWERS, params)
        if q.kind in ("single_choice", "multiple_choice"):
            choice_counts = (await session.execute(queries.CHOICE_COUNTS, params)).all()
            rows: dict[str, int] = {option: count for option, count in choice_counts}
            item["counts"] = {option: rows.get(option, 0) for option in q.settings["options"]}
        elif q.kind == "scale":
            row = (await session.execute(queries.SCALE, params)).one()
            histogram: dict[int, int] = {
                value: count for value, count in (await session.execute(queries.HISTOGRAM, params)).all()
            }
            item["mean"] = row.mean
            item["median"] = row.median
            item["histogram"] = {
                str(v): histogram.get(v, 0)
                for v in range(q.settings["scale_min"], q.settings["scale_max"] + 1)
            }
        elif q.kind == "ranking":
            options = q.settings["options"]
            ranks = (await session.execute(queries.RANKS, params)).all()
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
                item["texts"] = list(await session.scalars(queries.TEXTS, params))
        else:
            item["grid_metres"] = grid_metres
            # Places described in words are no points on the grid: counted, read by insiders only.
            item["described"] = await session.scalar(queries.DESCRIBED, params)
            if include_texts:
                item["descriptions"] = list(await session.scalars(queries.TEXTS, params))
            cells = await session.execute(queries.DENSITY, params)
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
    questions = await queries.questions_of(session, consultation_round.id)
    rows = await session.execute(
        queries.EXPORT_ROWS,
        {"round": consultation_round.id, "areas": await queries.area_scope(session, area_id)},
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
        queries.EXPORT_POINTS,
        {"round": consultation_round.id, "areas": await queries.area_scope(session, area_id)},
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
