"""Expected failures of public space, each with a stable code."""

from __future__ import annotations

from core.errors import (
    Conflict,
    ConstraintRule,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
)


class JurisdictionNotFound(NotFound):
    code = "jurisdiction-not-found"
    title = "Jurisdiction not found"


class CategoryNotFound(NotFound):
    code = "category-not-found"
    title = "Category not found"


class ReportNotFound(NotFound):
    code = "report-not-found"
    title = "Report not found"


class AreaNotFound(NotFound):
    code = "area-not-found"
    title = "Area not found"


class PhotoNotFound(NotFound):
    code = "photo-not-found"
    title = "Photo not found"


class DepartmentNotFound(NotFound):
    code = "department-not-found"
    title = "Department not found"


class OutsideJurisdiction(InvalidInput):
    """A point that lies in no area of the jurisdiction: the municipality cannot act there."""

    status = 422
    code = "location-outside-jurisdiction"
    title = "Location outside the jurisdiction"


class InvalidExtraFields(InvalidInput):
    code = "invalid-extra-fields"
    title = "Invalid extra fields"


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "Transition not allowed"


class ReasonRequired(InvalidInput):
    code = "reason-required"
    title = "Reason required"


class CategoryNotSelectable(Conflict):
    code = "category-not-selectable"
    title = "Category not selectable"


class ReportNotOpen(Conflict):
    code = "report-not-open"
    title = "Report not open"


class MessageTemplateNotFound(NotFound):
    code = "message-template-not-found"
    title = "Message template not found"


class PhotoUnreadable(InvalidInput):
    code = "photo-unreadable"
    title = "Photo unreadable"


class PhotoDecompressionBomb(InvalidInput):
    """More pixels than the limit: decoding it would take the server's memory."""

    code = "photo-decompression-bomb"
    title = "Photo decompression bomb"


class CategoryExists(CategoryNotSelectable):
    code = "category-exists"
    title = "Category exists"


class DepartmentExists(InvalidInput):
    code = "department-exists"
    title = "Department exists"


class JurisdictionExists(Conflict):
    code = "jurisdiction-exists"
    title = "Jurisdiction exists"


class AreaExists(Conflict):
    code = "area-exists"
    title = "Area exists"


# One class per code raised at a single place, beside its family.


class UnknownCategory(InvalidInput):
    code = "unknown-category"
    title = "Unknown category"


class CategoryTooDeep(CategoryNotSelectable):
    """Categories nest two levels deep at most."""

    code = "category-too-deep"
    title = "Category too deep"


class StaleVersion(PreconditionFailed):
    """The report changed since the version the request names (``If-Match``/``expected_version``)."""

    code = "stale-version"
    title = "Stale version"


class MergeIntoSelf(InvalidInput):
    """A report cannot be merged into itself."""

    code = "merge-into-self"
    title = "Merge into itself"


class InvalidCursor(InvalidInput):
    """A paging cursor this API did not hand out."""

    code = "invalid-cursor"
    title = "Invalid cursor"


class ReasonNotAllowed(ReasonRequired):
    """Only closing a report takes a reason."""

    code = "reason-not-allowed"
    title = "Reason not allowed"


class PhotoTooLarge(PayloadTooLarge):
    code = "photo-too-large"
    title = "Photo too large"


class PhotoUnsupportedType(UnsupportedMediaType):
    code = "photo-unsupported-type"
    title = "Photo type not supported"


class AccountAnonymous(InvalidInput):
    """Roles go to registered accounts, not anonymous devices."""

    code = "account-anonymous"
    title = "Account anonymous"


class ViewportTooLarge(InvalidInput):
    """A clustered map viewport that spans too many cells at its zoom: zoom in or ask for a smaller box."""

    code = "viewport-too-large"
    title = "Viewport too large"


class RoleGrantNotFound(NotFound):
    code = "role-grant-not-found"
    title = "Role grant not found"


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
