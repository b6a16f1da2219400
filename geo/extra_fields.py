"""Validation of a report's answers to its category's extra fields."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from geo.errors import InvalidExtraFields

_MAX_LENGTH = {"string": 500, "text": 5000}


def validate_answers(fields: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """Return the normalised answers, or raise with one message per offending field."""
    by_code = {f["code"]: f for f in fields}
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for code in answers.keys() - by_code.keys():
        problems[code] = "unknown field for this category"
    for code, field in by_code.items():
        value = answers.get(code)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "" or value == []:
            if field.get("required"):
                problems[code] = "this field is required"
            continue
        try:
            clean[code] = _check(field, value)
        except ValueError as error:
            problems[code] = str(error)
    if problems:
        raise InvalidExtraFields("some extra fields are invalid", errors=problems)
    return clean


def _check(field: dict[str, Any], value: Any) -> Any:
    kind = field["type"]
    options = {o["key"] for o in field.get("options", [])}
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if len(value) > _MAX_LENGTH[kind]:
            raise ValueError(f"at most {_MAX_LENGTH[kind]} characters")
        return value.strip()
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if kind == "datetime":
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("must carry a time zone offset")
        return parsed.isoformat()
    if kind == "singlevaluelist":
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"must be one of {sorted(options)}")
        return value
    if kind == "multivaluelist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of option keys")
        if unknown := set(value) - options:
            raise ValueError(f"unknown options {sorted(unknown)}; allowed {sorted(options)}")
        if len(set(value)) != len(value):
            raise ValueError("options must not repeat")
        return value
    raise ValueError(f"unsupported field type {kind}")
