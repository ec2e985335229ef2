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


@register_error
class PaymentNotAwaitingOtp(Conflict):
    """The payment is not an STC Pay payment waiting for its OTP (another method, already paid or failed, or its
    creation at Moyasar is not confirmed yet). `payment_status` says where it stands."""

    code, message = "payment_not_awaiting_otp", _("This payment is not waiting for an STC Pay code.")


@register_error
class StcPayOtpInvalid(DomainError):
    """STC Pay refused the code. The payment has failed at Moyasar (STC Pay judges a code once): pay again
    (`POST /bookings/ID/pay` with the mobile number) to get a new code. `payment` is the failed payment's id."""

    code, status, message = (
        "stcpay_otp_invalid",
        400,
        _("The STC Pay code is wrong. Please pay again to get a new code."),
    )


@register_error
class StcPayInsufficientBalance(DomainError):
    """The STC Pay wallet does not hold enough. The payment has failed; the customer may pay again (another method,
    or after topping up)."""

    code, status, message = (
        "stcpay_insufficient_balance",
        402,
        _("Your STC Pay balance is not enough for this payment."),
    )


@register_error
class StcPayDeclined(DomainError):
    """STC Pay refused the payment for another reason (`provider_message` says which: a limit, a timeout...). The
    payment has failed; the customer may pay again."""

    code, status, message = "stcpay_declined", 402, _("STC Pay declined the payment. Please try again.")
