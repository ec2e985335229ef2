"""What booking events mean for the waitlist. Handlers run inside the publisher's transaction
(`apps.core.events.publish`): they update offers and defer the offer job, which therefore commits (and runs)
only with the fact it reacts to.

| event              | the offer whose hold it is     | the business's line                       |
|--------------------|--------------------------------|-------------------------------------------|
| BookingConfirmed   | `claimed`, its entry `booked`  | —                                         |
| BookingCancelled   | `withdrawn`, its entry waits   | offer job deferred (the slot is free)     |
| BookingExpired     | `passed`, its entry waits      | offer job deferred (the slot is free)     |
| BookingRescheduled | —                              | offer job deferred (the old time is free) |
"""

from __future__ import annotations

from typing import Any

from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.core import events
from apps.waitlist import services
from apps.waitlist.models import WaitlistEntry


def _defer_if_anyone_waits(booking_id: int) -> None:
    business_id = Booking.objects.filter(pk=booking_id).values_list("business_id", flat=True).first()
    if business_id is None:
        return
    if WaitlistEntry.objects.filter(business_id=business_id, status=WaitlistEntry.Status.WAITING).exists():
        services.waitlist_defer_offers(business_id=business_id)


def on_booking_confirmed(event: booking_events.BookingConfirmed) -> None:
    services.waitlist_hold_confirmed(booking_id=event.booking_id)


def on_booking_cancelled(event: booking_events.BookingCancelled) -> None:
    services.waitlist_hold_closed(booking_id=event.booking_id, expired=False)
    _defer_if_anyone_waits(event.booking_id)


def on_booking_expired(event: booking_events.BookingExpired) -> None:
    services.waitlist_hold_closed(booking_id=event.booking_id, expired=True)
    _defer_if_anyone_waits(event.booking_id)


def on_booking_rescheduled(event: booking_events.BookingRescheduled) -> None:
    _defer_if_anyone_waits(event.booking_id)


def connect() -> list[str]:
    """Subscribe every handler (idempotent). Returns the names of the events wired."""
    wiring: list[tuple[type, Any]] = [
        (booking_events.BookingConfirmed, on_booking_confirmed),
        (booking_events.BookingCancelled, on_booking_cancelled),
        (booking_events.BookingExpired, on_booking_expired),
        (booking_events.BookingRescheduled, on_booking_rescheduled),
    ]
    for event_type, handler in wiring:
        events.subscribe(event_type, handler)
    return [event_type.__name__ for event_type, _ in wiring]
