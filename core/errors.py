"""One domain error hierarchy, rendered by a single handler as RFC 9457 problem+json.

Services raise these; only the HTTP layer knows how they look on the wire. A class carries its HTTP
``status``, its stable kebab-case ``code`` (clients switch on it) and a ``title``, as class attributes;
the direct subclasses below are the status families (``InvalidInput`` 422, ``Forbidden`` 403,
``NotFound`` 404, ``Conflict`` 409, …) and every specific error subclasses its family. Every class
is registered (``DomainError.classes``), so ``docs/errors.md`` is generated from them
(``python -m api.docs_tables``).

Raising a family with ``code="…"`` still works, for codes used at a single place; the generated table
lists those too (found in the source), and a test keeps one code to one status. A new code used at
more than one place gets its own class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


class DomainError(Exception):
    """An expected failure with a stable code; never a 500."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    classes: ClassVar[list[type[DomainError]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DomainError.classes.append(cls)

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # a single-use code on a family class (see above)
        self.extra = extra


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "Invalid input"


class NotAuthenticated(DomainError):
    status = 401
    code = "not-authenticated"
    title = "Not authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition-required"
    title = "Precondition required"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


# Codes used across packages (a scoped role, a role a route needs): each its own class.


class NotYourArea(Forbidden):
    """A council member acting outside the area of their grant."""

    code = "not-your-area"


class RoleRequired(Forbidden):
    """The route needs a role the caller lacks (staff, administrator, election officer)."""

    code = "role-required"


class WrongPassword(Forbidden):
    code = "wrong-password"


class GrantScope(InvalidInput):
    """A role grant whose scope does not fit the role (a council member needs an area, …)."""

    code = "grant-scope"


@dataclass(frozen=True)
class ConstraintRule:
    """What a violated database constraint means to the client: the error class and a human detail.

    A package lists its tables' constraints in its ``errors.CONSTRAINTS``; the API maps an
    ``IntegrityError`` by the constraint's name, so PostgreSQL's own text never reaches the client.
    """

    error: type[DomainError]
    detail: str
