"""Waitlist errors: stable codes of the public API (listed in the schema through `register_error`)."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, DomainError, ValidationFailed, register_error


@register_error
class OfferGone(DomainError):
    code, status, message = "offer_gone", 410, _("This offer has ended: its time was passed on or declined.")


@register_error
class AlreadyWaiting(Conflict):
    code, message = "already_waiting", _("You are already on the waitlist for this time.")


@register_error
class WindowOutsideBookingWindow(ValidationFailed):
    code, message = (
        "waitlist_window_invalid",
        _("Choose dates from today up to as far ahead as this business takes bookings."),
    )
