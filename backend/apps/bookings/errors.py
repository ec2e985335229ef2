"""Booking errors: stable codes of the public API (listed in the schema through `register_error`)."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import Conflict, RateLimited, register_error


@register_error
class SlotUnavailable(Conflict):
    code, message = "slot_unavailable", _("This time is no longer available. Please choose another one.")


@register_error
class InvalidTransition(Conflict):
    """The booking's status does not allow this action; `current_status` says what it is now."""

    code, message = "invalid_transition", _("This booking cannot be changed this way in its current state.")

    def __init__(self, *, current_status: str, action: str) -> None:
        super().__init__(extra={"current_status": current_status, "action": action})
        self.current_status = current_status
        self.action = action


@register_error
class CancellationWindowClosed(Conflict):
    code, message = (
        "cancellation_window_closed",
        _("It is too late to cancel this booking online. Please contact us."),
    )


@register_error
class RescheduleWindowClosed(Conflict):
    code, message = (
        "reschedule_window_closed",
        _("It is too late to move this booking online. Please contact us."),
    )


@register_error
class TooManyPendingBookings(Conflict):
    code, message = (
        "too_many_pending_bookings",
        _("You have too many unpaid bookings. Pay for or cancel one before booking again."),
    )


@register_error
class TooManyUpcomingBookings(Conflict):
    code, message = (
        "too_many_upcoming_bookings",
        _("You have too many upcoming bookings. Cancel one before booking again."),
    )


@register_error
class BookingRateLimited(RateLimited):
    code, message = (
        "booking_rate_limited",
        _("You have made too many bookings in the last hour. Please try again later."),
    )


@register_error
class AccountInactive(Conflict):
    """The customer's account was deleted (or deactivated) while the request was on its way: seen under the
    customer's row lock, which the deletion holds until it commits."""

    code, message = "account_inactive", _("This account is no longer active.")


@register_error
class BookingNotStarted(Conflict):
    code, message = "booking_not_started", _("This booking has not started yet.")


@register_error
class HoldNotExpired(Conflict):
    code, message = "hold_not_expired", _("The hold on this booking has not run out yet.")
