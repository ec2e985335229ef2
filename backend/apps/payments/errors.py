"""Payment errors: stable codes of the public API (listed in the schema through `register_error`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, ProviderUnavailable, ValidationFailed, register_error


@register_error
class BookingNotPayable(Conflict):
    """The booking is not waiting for a payment (confirmed, cancelled, expired...) or its hold ran out."""

    code, message = "booking_not_payable", _("This booking is not waiting for a payment.")


@register_error
class BookingAlreadyPaid(Conflict):
    code, message = "booking_already_paid", _("This booking is already paid.")


@register_error
class PaymentInProgress(Conflict):
    """Another attempt for this booking is talking to Moyasar right now; retry in a moment."""

    code, message = "payment_in_progress", _("A payment for this booking is being processed. Try again shortly.")


@register_error
class PaymentSourceInvalid(ValidationFailed):
    """Moyasar refused the payment source (an unknown, used or inactive token)."""

    code, message = "payment_source_invalid", _("The card could not be used. Please enter it again.")


@register_error
class PaymentNotCapturable(Conflict):
    code, message = "payment_not_capturable", _("Only an authorized payment can be captured.")


@register_error
class PaymentNotVoidable(Conflict):
    code, message = "payment_not_voidable", _("Only an authorized payment can be voided; refund a captured one.")


@register_error
class PaymentNotRefundable(Conflict):
    code, message = "payment_not_refundable", _("Only a captured payment can be refunded; void an authorized one.")


@register_error
class RefundExceedsCaptured(Conflict):
    """The refund is larger than what is left to refund; `refundable` says how much that is (minor units)."""

    code, message = "refund_exceeds_captured", _("The refund is larger than the amount left to refund.")

    def __init__(self, *, refundable: int, currency: str) -> None:
        super().__init__(extra={"refundable": {"amount": refundable, "currency": currency}})
        self.refundable = refundable


@register_error
class WebhookUnauthorized(DomainError):
    code, status, message = "webhook_unauthorized", 401, _("The webhook secret token is wrong.")


@register_error
class WebhookWrongEnvironment(DomainError):
    """A test-mode event sent to a live server, or the reverse."""

    code, status, message = "webhook_wrong_environment", 400, _("The event's live flag does not match this server.")


class PaymentBusy(Exception):
    """Another capture/void/refund of this payment is in progress. Jobs retry later (see `jobs.py`)."""

    retryable = True


class PaymentGatewayFailed(ProviderUnavailable):
    """Moyasar could not be reached or did not answer usably; nothing was changed (503)."""


@register_error
class VenuePaymentExceedsDue(Conflict):
    """More than what is still due on the booking; `due` says how much that is (minor units)."""

    code, message = "venue_payment_exceeds_due", _("This is more than what is still due on the booking.")

    def __init__(self, *, due: int, currency: str) -> None:
        super().__init__(extra={"due": {"amount": due, "currency": currency}})
        self.due = due


@register_error
class BookingNotPayableAtVenue(Conflict):
    """Only a booking still to take place or taken place (pending, confirmed, completed) takes payments."""

    code, message = "booking_not_payable_at_venue", _("This booking takes no payment now.")
