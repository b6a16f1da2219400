"""One domain error hierarchy, rendered by a single handler as RFC 9457 problem+json.

Services raise these; only the HTTP layer knows how they look on the wire. A class carries its HTTP
``status``, its stable kebab-case ``code`` (clients switch on it) and a ``title``, as class attributes;
the direct subclasses below are the status families (``InvalidInput`` 422, ``Forbidden`` 403,
``NotFound`` 404, ``Conflict`` 409, …) and every specific error subclasses its family. Every class
is registered (``DomainError.classes``), so ``docs/errors.md`` is generated from them
(``python -m api.docs_tables``).

A code is a class: ``DomainError`` takes no code at the raise site, so a new code cannot appear
without a class (and a line in the generated table); ``tests/api/test_problem_answers.py`` keeps each
code to one class and one status. A class lives in the errors module of the package that raises it
(``geo.errors``, ``participation.errors``, ``notifications.errors``, ``api.errors``); core's own codes,
the codes raised by more than one package, and the status families live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

# The problem members an error class fixes (``type`` follows from ``code``).
_CLASS_MEMBERS = frozenset({"type", "title", "status", "code"})


class DomainError(Exception):
    """An expected failure with a stable code; never a 500."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    classes: ClassVar[list[type[DomainError]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DomainError.classes.append(cls)

    def __init__(self, detail: str, **extra: Any) -> None:
        # ``extra`` adds members to the problem; the ones the class owns cannot be overridden per raise.
        if reserved := sorted(_CLASS_MEMBERS & extra.keys()):
            raise TypeError(f"{', '.join(reserved)} belong to the error class, not to a raise")
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @classmethod
    def summary(cls) -> str:
        """What the error means, for the docs: the first paragraph of the class's own docstring, else
        its title."""
        own = cls.__dict__.get("__doc__")
        return " ".join(own.strip().split("\n\n")[0].split()) if own else cls.title


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


class TooManyRequests(DomainError):
    """A rate limit's window is full (``core.throttle``); ``Retry-After`` says when it ends."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class InvalidLink(NotFound):
    """An account link (confirmation, password reset) that is unknown, tampered with or made for another
    purpose: 404, as a link that was never made."""

    code = "invalid-link"
    title = "Link not valid"


# Codes used across packages (a scoped role, a role a route needs): each its own class.


class NotYourArea(Forbidden):
    """A council member acting outside the area of their grant."""

    code = "not-your-area"
    title = "Not your area"


class RoleRequired(Forbidden):
    """The route needs a role the caller lacks (staff, administrator, election officer)."""

    code = "role-required"
    title = "Role required"


class WrongPassword(Forbidden):
    code = "wrong-password"
    title = "Wrong password"


class GrantScope(InvalidInput):
    """A role grant whose scope does not fit the role (a council member needs an area, …)."""

    code = "grant-scope"
    title = "Grant scope"


class AccountNotFound(NotFound):
    code = "account-not-found"
    title = "Account not found"


class AccountExists(Conflict):
    code = "account-exists"
    title = "Account exists"


class InvalidCredentials(NotAuthenticated):
    """An unknown e-mail address or a wrong password (which of the two is not told)."""

    code = "invalid-credentials"
    title = "Invalid credentials"


class NoPassword(Forbidden):
    """The device has no account with a password to change."""

    code = "no-password"
    title = "No password"


class WrongJurisdiction(Forbidden):
    """The caller's account belongs to another jurisdiction."""

    code = "wrong-jurisdiction"
    title = "Wrong jurisdiction"


class LinkUsed(InvalidLink):
    """An account link (confirmation, password reset) that was used already."""

    code = "link-used"
    title = "Link used"


class Gone(DomainError):
    status = 410
    code = "gone"
    title = "Gone"


class LinkExpired(Gone):
    """A link past its lifetime: an account link (confirmation, password reset) or a signed notification
    link (unsubscribe, satisfaction, feedback). 410: it was valid once and will not be again."""

    code = "link-expired"
    title = "Link expired"


@dataclass(frozen=True)
class ConstraintRule:
    """What a violated database constraint means to the client: the error class and a human detail.

    A package lists its tables' constraints in its ``errors.CONSTRAINTS``; the API maps an
    ``IntegrityError`` by the constraint's name, so PostgreSQL's own text never reaches the client.
    """

    error: type[DomainError]
    detail: str
