"""Facts the payments app announces (published with `apps.core.events.publish` inside the transaction that
recorded them). Amounts are integer minor units in the payment's currency. Subscribers (notifications) load
anything else by id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PaymentAuthorized:
    payment_id: int
    booking_id: int
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentCaptured:
    payment_id: int
    booking_id: int
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentVoided:
    payment_id: int
    booking_id: int


@dataclass(frozen=True, slots=True)
class PaymentRefunded:
    payment_id: int
    booking_id: int
    refund_id: int
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentFailed:
    payment_id: int
    booking_id: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class VenuePaymentRecorded:
    venue_payment_id: int
    booking_id: int
    amount: int  # halalas, VAT-inclusive
    method: str  # "cash" | "terminal"
