"""Expected failures of public space, each with a stable code."""

from __future__ import annotations

from core.errors import Conflict, ConstraintRule, InvalidInput, NotFound


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


class OutsideJurisdiction(InvalidInput):
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


class PhotoUnreadable(InvalidInput):
    code = "photo-unreadable"


class PhotoDecompressionBomb(InvalidInput):
    """More pixels than the limit: decoding it would take the server's memory."""

    code = "photo-decompression-bomb"


class CategoryExists(CategoryNotSelectable):
    code = "category-exists"


class DepartmentExists(InvalidInput):
    code = "department-exists"


class JurisdictionExists(Conflict):
    code = "jurisdiction-exists"


class AreaExists(Conflict):
    code = "area-exists"


# The constraints of geo's tables a client's request can reach, by name (see core.errors.ConstraintRule).
# A service checks most of them first; the constraint answers the same when two requests race.
CONSTRAINTS: dict[str, ConstraintRule] = {
    "uq_categories_jurisdiction_id_code": ConstraintRule(CategoryExists, "a category with this code exists"),
    "uq_departments_jurisdiction_id_name": ConstraintRule(
        DepartmentExists, "a department with this name exists"
    ),
    "uq_jurisdictions_slug": ConstraintRule(JurisdictionExists, "a jurisdiction with this slug exists"),
    "uq_areas_jurisdiction_id_level_name": ConstraintRule(
        AreaExists, "an area of this level with this name exists in the jurisdiction"
    ),
    "ck_areas_geom_valid": ConstraintRule(InvalidInput, "the area's geometry is not valid"),
    "ck_categories_handling_days": ConstraintRule(InvalidInput, "handling days lie between 0 and 365"),
    "ck_jurisdictions_retention": ConstraintRule(InvalidInput, "retention periods cannot be negative"),
}
