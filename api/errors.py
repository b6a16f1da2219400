"""Expected failures the HTTP layer itself finds (a header, a query parameter, an idempotency key), and
the codes only its routes raise; each a class with its stable code, like the packages' own errors."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, TooManyRequests


class TooManySignInAttempts(TooManyRequests):
    """Too many failed sign-ins for the account or from the address in the window."""

    code = "too-many-sign-in-attempts"
    title = "Too many sign-in attempts"


class TooManyCodeAttempts(TooManyRequests):
    """Too many unknown, revoked or misdirected voting codes from the address in the window: a letter's
    code is a secret, so guessing one is throttled (``api.code_attempts``)."""

    code = "too-many-code-attempts"
    title = "Too many voting-code attempts"


class InvalidAuthorizationHeader(NotAuthenticated):
    code = "invalid-authorization-header"
    title = "Malformed Authorization header"


class InvalidToken(NotAuthenticated):
    """A bearer token that is unknown, expired or revoked."""

    code = "invalid-token"
    title = "Token not valid"


class AccountHasRoles(Conflict):
    """An account with role grants cannot be deleted until an administrator revokes them."""

    code = "account-has-roles"
    title = "Account holds roles"


class InvalidIfMatch(InvalidInput):
    """An If-Match that is not one of this API's ETags, or disagrees with ``expected_version``."""

    code = "invalid-if-match"
    title = "Invalid If-Match"


class NotYourDepartment(Forbidden):
    """Staff acting on a report or department outside their own departments."""

    code = "not-your-department"
    title = "Not your department"


class InvalidTileCoordinates(InvalidInput):
    code = "invalid-tile-coordinates"
    title = "Invalid tile coordinates"


class TileOutOfRange(NotFound):
    """A tile beyond the zoom level's grid."""

    code = "tile-out-of-range"
    title = "Tile out of range"


class NoResponse(NotFound):
    """The caller has not responded to this consultation round."""

    code = "no-response"
    title = "No response"


class ResultsNotPublic(Forbidden):
    """A consultation round's results are public once it has closed."""

    code = "results-not-public"
    title = "Results not public"


class InvalidBbox(InvalidInput):
    code = "invalid-bbox"
    title = "Invalid bbox"


class InvalidNear(InvalidInput):
    code = "invalid-near"
    title = "Invalid near"


class InvalidRadius(InvalidInput):
    code = "invalid-radius"
    title = "Invalid radius"


class UnknownStatus(InvalidInput):
    """A status filter that names no status.

    422, as every malformed parameter; a workflow's status change to an unknown status answers 409
    (``participation.errors.UnknownWorkflowStatus``).
    """

    code = "unknown-status"
    title = "Unknown status"


class InvalidTimeRange(InvalidInput):
    code = "invalid-time-range"
    title = "Invalid time range"


class InvalidPosition(InvalidInput):
    code = "invalid-position"
    title = "Invalid position"


class InvalidIdempotencyKey(InvalidInput):
    code = "invalid-idempotency-key"
    title = "Invalid Idempotency-Key"


class WeakIdempotencyKey(InvalidInput):
    """A key without a token that is too easy to guess (not a UUID or 22+ URL-safe characters)."""

    code = "weak-idempotency-key"
    title = "Weak Idempotency-Key"


class IdempotencyKeyReused(InvalidInput):
    """The key was used for a different request."""

    code = "idempotency-key-reused"
    title = "Idempotency-Key reused"


class RequestInProgress(Conflict):
    """The first request with this Idempotency-Key is still being processed."""

    code = "request-in-progress"
    title = "Request in progress"
