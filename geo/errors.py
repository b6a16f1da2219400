"""Expected failures of public space, each with a stable code."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound


class JurisdictionNotFound(NotFound):
    code = "jurisdiction-not-found"


class CategoryNotFound(NotFound):
    code = "category-not-found"


class ReportNotFound(NotFound):
    code = "report-not-found"


class AreaNotFound(NotFound):
    code = "area-not-found"


class PhotoNotFound(NotFound):
    code = "photo-not-found"


class DepartmentNotFound(NotFound):
    code = "department-not-found"


class OutsideJurisdiction(Conflict):
    """A point that lies in no area of the jurisdiction: the municipality cannot act there."""

    status = 422
    code = "location-outside-jurisdiction"
    title = "Location outside the jurisdiction"


class InvalidExtraFields(InvalidInput):
    code = "invalid-extra-fields"


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "Transition not allowed"


class ReasonRequired(InvalidInput):
    code = "reason-required"


class CategoryNotSelectable(Conflict):
    code = "category-not-selectable"


class ReportNotOpen(Conflict):
    code = "report-not-open"


class MessageTemplateNotFound(NotFound):
    code = "message-template-not-found"
