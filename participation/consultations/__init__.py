"""Consultations: rounds of questions to residents, one editable response each, results in aggregate.

Unlike ballots, responses are not secret: a resident edits their own response, and the municipality may
need to contact them about a free-text idea. They are published only as aggregates (and exported for the
council without names); that difference is stated in the consultation's description to residents.

The modules, by who uses them: ``admin`` (running a consultation: rounds, questions, status, "you said,
we did", the clock), ``answering`` (residents' responses), ``results`` (aggregates and exports),
``rendering`` (what the API shows), ``queries`` (the SQL). Import from here.
"""

from __future__ import annotations

from participation.consultations.admin import (
    add_round,
    advance_due_consultations,
    change_round_status,
    create_consultation,
    publish_you_said_we_did,
)
from participation.consultations.answering import my_response, submit_response
from participation.consultations.queries import get_consultation, get_round, questions_of
from participation.consultations.rendering import render_consultation, render_question, render_round
from participation.consultations.results import export_csv, export_geojson, results

__all__ = [
    "add_round",
    "advance_due_consultations",
    "change_round_status",
    "create_consultation",
    "export_csv",
    "export_geojson",
    "get_consultation",
    "get_round",
    "my_response",
    "publish_you_said_we_did",
    "questions_of",
    "render_consultation",
    "render_question",
    "render_round",
    "results",
    "submit_response",
]
