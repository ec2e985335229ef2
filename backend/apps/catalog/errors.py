"""Catalog errors: stable codes of the public API (listed in the schema through `register_error`).

Unknown or inactive staff and services are `apps.core.errors.NotFound` (404 `not_found`); the subclasses below
only say which one, so a caller can map them to a field.
"""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, NotFound, register_error


class ServiceMissing(NotFound):
    message = _("No such service.")


class StaffMissing(NotFound):
    message = _("No such staff member.")


@register_error
class ServiceNotOffered(DomainError):
    code, status, message = "service_not_offered", 400, _("This staff member does not offer this service.")


@register_error
class InvalidDateRange(DomainError):
    code, status, message = "invalid_date_range", 400, _("The date range is invalid: it ends before it starts.")


class BusinessMissing(NotFound):
    message = _("No such business.")


@register_error
class BusinessRequired(DomainError):
    code, status, message = (
        "business_required",
        404,
        _(
            "Several businesses use this server: ask for one by its address, /api/v1/businesses/SLUG/services, "
            "/api/v1/businesses/SLUG/staff or /api/v1/businesses/SLUG/availability (GET /api/v1/businesses finds them)."
        ),
    )


@register_error
class PriceNotReachable(DomainError):
    """A VAT-registered business's price that no invoice can total (apps/core/vat.py): `extra` names the nearest
    two that can (`lower`, `upper`, minor units)."""

    code, status, message = (
        "price_not_reachable",
        400,
        _("No tax invoice can total this VAT-inclusive price: choose one of the nearest prices that can."),
    )


@register_error
class PaymentPolicyInvalid(DomainError):
    """A deposit or fee that makes no sense; `extra.reasons` names each field's problem: `deposit_exceeds_price`,
    `deposit_percent_range`, `deposit_amount_and_percent`, `deposit_missing`, `fee_percent_range`."""

    code, status, message = "payment_policy_invalid", 400, _("The payment policy is invalid.")


@register_error
class HoldsBusinessRole(DomainError):
    code, status, message = (
        "holds_business_role",
        409,
        _("You work at a business on Mawid: ask its owner to remove you before deleting your account."),
    )
