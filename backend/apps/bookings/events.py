"""Facts the bookings app announces (published with `apps.core.events.publish` inside the service's transaction).

Subscribers (payments, notifications) load what they need by `booking_id`. A booking that needs no payment is
confirmed when it is made: it publishes `BookingCreated` and then `BookingConfirmed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class BookingCreated:
    booking_id: int


@dataclass(frozen=True, slots=True)
class BookingConfirmed:
    booking_id: int


@dataclass(frozen=True, slots=True)
class BookingRescheduled:
    booking_id: int
    old_start: datetime
    old_end: datetime


@dataclass(frozen=True, slots=True)
class BookingCancelled:
    booking_id: int
    by_business: bool  # a manager or the staff member cancelled (the customer is owed a full refund)
    before_cutoff: bool  # cancelled before start - cancellation cut-off
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BookingExpired:
    booking_id: int


@dataclass(frozen=True, slots=True)
class BookingCompleted:
    booking_id: int


@dataclass(frozen=True, slots=True)
class BookingNoShow:
    booking_id: int
