"""The error answers of every operation in the OpenAPI, derived from what the route depends on.

Every error is RFC 9457 ``application/problem+json`` (``api.problems``), and which statuses an operation
can answer follows mostly from its shape, so they are derived here when the OpenAPI is built instead of
being declared at ~130 routes:

- a bearer token is read by every route's policy: 401 for one that is malformed, unknown
  or revoked; a route whose policy is not ``PUBLIC`` also answers 401 without a token, 403 to a caller
  of another jurisdiction or without the role, and 429 to an anonymous device that writes too often;
- a write can conflict with the state of what it changes or with a row another request wrote first
  (a constraint, mapped by ``api.problems``): 409;
- a path parameter names something that may not exist: 404; a parameter or a body that does not match
  its schema: 422 (a JSON body that is not JSON: 400);
- a body passes ``BodyGuard`` first: 413 when too large, 415 in a type no route reads;
- a route answering through ``idempotent()`` takes an ``Idempotency-Key`` (documented as a header):
  422 for a malformed or reused key, 409 while the first request with it is still running.

What a service rule refuses (a workflow move, an eligibility rule, an object named in the body) cannot
be read off the route: ``RULE_ERRORS`` lists those per operation with the error classes they raise.
``tests/response_schemas.py`` fails any test whose answer has a status its operation does not list, so
the derivation and the list stay true to what the app answers.

Open311 routes answer GeoReport v2's own error list (JSON or XML) and fold every failure onto 400, 403
and 404 (``api.open311.router.Open311Route``), but for a rate limit's 429 (with ``Retry-After``); only
``BodyGuard``'s 413/415 stay problem+json there. A 429 documents its ``Retry-After`` header everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import _get_api_route_for_openapi

from api.auth import Policy
from api.errors import ResultsNotPublic, TooManyCodeAttempts, TooManySignInAttempts
from api.open311.router import Open311Route
from api.problems import PROBLEM_JSON
from core.errors import (
    DomainError,
    InvalidCredentials,
    InvalidLink,
    LinkExpired,
    LinkUsed,
    NoPassword,
    PreconditionRequired,
    TooManyRequests,
    WrongJurisdiction,
    WrongPassword,
)
from core.identity import Role
from geo.errors import CategoryNotFound, JurisdictionNotFound, StaleVersion
from notifications.errors import (
    AlreadyAnswered,
    InvalidLinkToken,
    MalformedLinkToken,
    NotYetAsked,
)
from participation.errors import (
    AccountsNotAccepted,
    AddressNotVerified,
    AgeNotVerified,
    AlreadyVoted,
    BallotInProgress,
    BallotRuleViolation,
    BallotsNotSealed,
    CodeAlreadyUsed,
    CodeForAnotherRound,
    CodeRevoked,
    CodesNotAccepted,
    ConsultationNotOpen,
    MotionNotOpen,
    MotionVotingClosed,
    NotACouncilMember,
    OutsideArea,
    RegistrationRequired,
    ResultsNotPublished,
    TooYoung,
    UnknownCode,
    VotingClosed,
    VotingNotOpen,
)

PROBLEM_REF = "#/components/schemas/Problem"
OPEN311_ERRORS_REF = "#/components/schemas/Open311Errors"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; clients switch on ``code`` (see docs/errors.md).",
        "type": "object",
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "code": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "errors": {
                "description": "400/422: each mistake in the request (schema validation), or the"
                " invalid extra fields of a category by field code",
                "anyOf": [
                    {"type": "array", "items": {"$ref": "#/components/schemas/ProblemValidationError"}},
                    {"type": "object", "additionalProperties": {"type": "string"}},
                ],
            },
            "violations": {
                "description": "422: every broken rule of a ballot or a consultation response, each with its"
                " own ``code`` and ``detail`` (and what it is about: ``limit``, ``question_id``, …)",
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
                    "required": ["code", "detail"],
                },
            },
            "retry_after": {"type": "integer", "description": "429: seconds until the window ends"},
            "line": {"type": "integer", "description": "the line of an uploaded file that is malformed"},
            "allowed": {"type": "array", "items": {"type": "string"}, "description": "the values allowed"},
            "current": {"type": "string", "description": "409 `illegal-transition`: the report's status"},
            "current_version": {"type": "integer", "description": "412: the version the report is at"},
            "photo_ids": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "404 `photo-not-found`: the photos that cannot be attached",
            },
            "max_bytes": {"type": "integer", "description": "413: the largest body or photo accepted"},
            "declared_content_type": {
                "type": ["string", "null"],
                "description": "415 `photo-unsupported-type`: the type the upload claimed",
            },
        },
        "required": ["type", "title", "status", "detail", "code"],
        "additionalProperties": False,
    },
    "ProblemValidationError": {
        "title": "ProblemValidationError",
        "type": "object",
        "properties": {
            "location": {"type": "array", "items": {"type": "string"}},
            "message": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["location", "message", "type"],
        "additionalProperties": False,
    },
}

RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds until the rate limit's window ends and the request may be sent again.",
    "schema": {"type": "integer", "minimum": 1},
}

IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Sent again with a retry, the first answer is given back instead of a second change."
    " 1-255 visible ASCII characters; without a token, a random UUID (or >= 22 URL-safe characters).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}

# What the services behind an operation refuse, beyond what its shape tells (see the module docstring):
# (method, path template) -> the error classes (each one code; docs/errors.md lists them).
RuleError = type[DomainError]
_J = "/api/v1/jurisdictions/{jurisdiction}"
_VERSIONED: tuple[RuleError, ...] = (StaleVersion, PreconditionRequired)
# Sign-up, sign-in and mailed links name the jurisdiction in the body (404) and are rate limited per
# address, also for anonymous callers (429).
_BODY_JURISDICTION: tuple[RuleError, ...] = (JurisdictionNotFound, TooManyRequests)
_LINK_TOKEN: tuple[RuleError, ...] = (InvalidLinkToken, LinkExpired, MalformedLinkToken)
_ACCOUNT_LINK: tuple[RuleError, ...] = (InvalidLink, LinkUsed, LinkExpired)
RULE_ERRORS: dict[tuple[str, str], tuple[RuleError, ...]] = {
    ("POST", "/api/v1/auth/devices"): _BODY_JURISDICTION,
    ("POST", "/api/v1/auth/accounts"): _BODY_JURISDICTION,
    ("POST", "/api/v1/auth/tokens"): (JurisdictionNotFound, TooManySignInAttempts, InvalidCredentials),
    ("POST", "/api/v1/auth/password-resets"): _BODY_JURISDICTION,
    ("POST", "/api/v1/auth/accounts/confirmations"): _ACCOUNT_LINK,
    ("POST", "/api/v1/auth/password-resets/confirmations"): _ACCOUNT_LINK,
    ("PUT", "/api/v1/auth/password"): (WrongPassword, NoPassword),
    ("DELETE", "/api/v1/me"): (WrongPassword,),
    ("GET", "/api/v1/notifications/unsubscribe/{token}"): _LINK_TOKEN,
    ("POST", "/api/v1/notifications/unsubscribe/{token}"): _LINK_TOKEN,
    ("GET", "/api/v1/notifications/satisfaction/{token}"): _LINK_TOKEN,
    ("POST", "/api/v1/notifications/satisfaction/{token}"): (*_LINK_TOKEN, NotYetAsked, AlreadyAnswered),
    # Open311 reads ``jurisdiction_id`` (and the service of a new request) by hand from the query or form.
    ("GET", "/open311/v2/services.{fmt}"): (JurisdictionNotFound,),
    ("GET", "/open311/v2/requests.{fmt}"): (JurisdictionNotFound,),
    ("POST", "/open311/v2/requests.{fmt}"): (JurisdictionNotFound, CategoryNotFound, TooManyRequests),
    ("GET", f"{_J}/budget-rounds/{{round_id}}/export.pb"): (BallotsNotSealed,),
    ("PUT", f"{_J}/consultation-rounds/{{round_id}}/response"): (
        ConsultationNotOpen,
        RegistrationRequired,
        AddressNotVerified,
        OutsideArea,
        AgeNotVerified,
        TooYoung,
    ),
    ("PUT", f"{_J}/motions/{{motion_id}}/vote"): (MotionNotOpen, MotionVotingClosed, NotACouncilMember),
    ("GET", f"{_J}/budget-rounds/{{round_id}}/results"): (ResultsNotPublished,),
    ("GET", f"{_J}/consultation-rounds/{{round_id}}/results"): (ResultsNotPublic,),
    ("POST", f"{_J}/budget-rounds/{{round_id}}/ballots"): (
        CodesNotAccepted,
        AccountsNotAccepted,
        AddressNotVerified,
        OutsideArea,
        AgeNotVerified,
        TooYoung,
        UnknownCode,
        CodeForAnotherRound,
        CodeRevoked,
        WrongJurisdiction,
        VotingNotOpen,
        VotingClosed,
        AlreadyVoted,
        CodeAlreadyUsed,
        BallotInProgress,
        BallotRuleViolation,
        TooManyCodeAttempts,
    ),
    ("POST", "/api/v1/voting-codes/lookup"): (
        UnknownCode,
        CodeRevoked,
        CodesNotAccepted,
        TooManyCodeAttempts,
    ),
    # Staff updates need the version they read (``If-Match`` or ``expected_version``): 412 stale, 428 none.
    ("POST", f"{_J}/reports/{{report_id}}/transitions"): _VERSIONED,
    ("POST", f"{_J}/reports/{{report_id}}/merge"): _VERSIONED,
}

Reasons = dict[int, list[str]]


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the error answers (built once, cached like FastAPI's own)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_errors(app, build())  # FastAPI's build caches the schema in app.openapi_schema
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI


def document_errors(app: FastAPI, schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(PROBLEM_SCHEMAS)
    for context in routing.iter_route_contexts(app.routes):
        route = _get_api_route_for_openapi(context)
        if route is None or not route.include_in_schema:
            continue
        open311 = isinstance(context.original_route, Open311Route)
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            reasons = error_reasons(route, method, operation)
            if "idempotent" in route.endpoint.__code__.co_names:
                _document_idempotency(operation, reasons)
            for rule in RULE_ERRORS.get((method, route.path_format), ()):
                status, reason = _rule_reason(rule)
                reasons.setdefault(status, []).append(reason)
            if open311:
                _document_open311(operation, reasons)
            else:
                _document_problems(operation, reasons)
    # FastAPI's default 422 schema is replaced everywhere: drop its now unused definitions.
    text = str(schema["paths"])
    for name in ("HTTPValidationError", "ValidationError"):
        if f"/{name}'" not in text:
            schemas.pop(name, None)


def error_reasons(route: Any, method: str, operation: dict[str, Any]) -> Reasons:
    """Status -> why, from the route's dependencies, parameters and body."""
    reasons: Reasons = {}

    def add(status: int, reason: str) -> None:
        if reason not in reasons.setdefault(status, []):
            reasons[status].append(reason)

    calls = list(_dependency_calls(route.dependant))
    parameters = operation.get("parameters", [])
    # ``{fmt}`` (Open311's .json/.xml) names a format, not an object: a wrong one is a 400.
    path_parameters = {p["name"] for p in parameters if p["in"] == "path"} - {"fmt"}
    body = operation.get("requestBody")
    # A token, when sent, is checked by every policy (``PUBLIC`` included).
    if any(isinstance(call, Policy) for call in calls):
        add(401, "the bearer token is malformed, unknown, expired or revoked")
    for policy in (call for call in calls if isinstance(call, Policy)):
        if Role.PUBLIC in policy.roles:
            continue
        add(401, "no bearer token")
        if "jurisdiction" in path_parameters:
            add(403, "the account belongs to another jurisdiction (`wrong-jurisdiction`)")
        if Role.RESIDENT not in policy.roles:
            add(403, "the caller lacks the role (`role-required`)")
        if method in _WRITES and Role.RESIDENT in policy.roles:
            add(429, "an anonymous device made too many changes this hour (`too-many-requests`)")
    if method in _WRITES:
        # Any write can meet a constraint another request got to first (``api.problems``'
        # ``integrity_problem``), and most meet a rule of the object's state (a phase, a workflow).
        add(409, "the change conflicts with the object's state or with existing data (e.g. `conflict`)")
    if path_parameters:
        add(404, "nothing of that name or id in the path (e.g. `jurisdiction-not-found`)")
    if parameters or body:
        add(422, "the request does not match the schema (`invalid-input`, `errors` lists each mistake)")
        add(400, "NUL characters in the URL (`invalid-characters`)")
    if body:
        content = body.get("content", {})
        if "application/json" in content:
            add(400, "the body is not valid JSON (`malformed-json`)")
        add(413, "the body is too large (`payload-too-large`)")
        add(415, "a body type other than JSON or a form (`unsupported-media-type`)")
    return reasons


def _dependency_calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependency_calls(sub)


def _document_idempotency(operation: dict[str, Any], reasons: Reasons) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p["name"].lower() == "idempotency-key" for p in parameters):
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
    reasons.setdefault(422, []).append(
        "a malformed `Idempotency-Key` (`invalid-idempotency-key`, `weak-idempotency-key`) or one used"
        " for another request (`idempotency-key-reused`)"
    )
    reasons.setdefault(409, []).append(
        "the first request with this `Idempotency-Key` is still running (`request-in-progress`)"
    )


def _rule_reason(rule: RuleError) -> tuple[int, str]:
    """The status and a line for the docs: what the class means and its code."""
    return rule.status, f"{rule.summary().rstrip('.')} (`{rule.code}`)"


def _describe(lines: list[str]) -> str:
    return "; ".join(lines)


def _document_problems(operation: dict[str, Any], reasons: Reasons) -> None:
    responses = operation["responses"]
    for status, lines in sorted(reasons.items()):
        responses[str(status)] = {
            "description": _describe(lines),
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
            **_headers(status),
        }


def _headers(status: int) -> dict[str, Any]:
    return {"headers": {"Retry-After": RETRY_AFTER_HEADER}} if status == 429 else {}


def _document_open311(operation: dict[str, Any], reasons: Reasons) -> None:
    """GeoReport v2's folding (``Open311Route``): 401/403 -> 403, 404 -> 404, 429 -> 429 (with
    ``Retry-After``), any other -> 400. The body guard answers before the route, in problem+json."""
    responses = operation["responses"]
    errors = responses.pop("4XX")
    folded: dict[int, list[str]] = {400: ["bad input: the format, a parameter or the body"]}
    for status, lines in reasons.items():
        if status in (413, 415):
            continue
        spec = 403 if status in (401, 403) else status if status in (404, 429) else 400
        folded.setdefault(spec, []).extend(lines)
    for status, lines in sorted(folded.items()):
        responses[str(status)] = {**errors, "description": _describe(lines), **_headers(status)}
    for status in (413, 415):
        if status in reasons:
            responses[str(status)] = {
                "description": _describe(reasons[status]),
                "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
            }
