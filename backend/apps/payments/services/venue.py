"""Payments at the venue: cash or the business's card terminal, recorded by its staff or a manager (the manager
API and the business calendar). Never more than what is still due on the booking (its price less what was paid
online and at the venue). Recording one for an unpaid booking (`pending_payment`, a customer who pays at the
counter instead of online) confirms it. `VenuePaymentRecorded` is published in the same transaction (invoicing
issues the invoice from it).
"""

from __future__ import annotations

import logging

from django.db import transaction

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.bookings.services import booking_confirm
from apps.core.errors import NotFound
from apps.core.events import publish
from apps.payments import events
from apps.payments.errors import BookingNotPayableAtVenue, VenuePaymentExceedsDue
from apps.payments.models import Payment, VenuePayment
from apps.payments.selectors import paid_online, venue_totals

logger = logging.getLogger("mawid.payments")
B = Booking.Status
OPEN_STATUSES = frozenset({B.PENDING_PAYMENT, B.CONFIRMED, B.COMPLETED})


def amount_due(booking: Booking) -> int:
    """What is still due on `booking` (locked by the caller): its price less what its payment holds (authorized or
    captured, less refunds) and what was paid at the venue."""
    payment = Payment.objects.filter(booking=booking, is_booking_payment=True).first()
    venue = venue_totals([booking.pk]).get(booking.pk, 0)
    return max(0, booking.price_amount - paid_online(payment) - venue)


@transaction.atomic
def venue_payment_record(
    *, booking_id: int, amount: int, method: str, actor: User | None, note: str = ""
) -> VenuePayment:
    """Record `amount` (minor units, VAT included) paid at the venue by `method` ("cash" or "terminal").

    The booking row is locked, so two recordings are decided one at a time. `VenuePaymentExceedsDue` (409) for
    more than is due, `BookingNotPayableAtVenue` (409) for a cancelled, expired or no-show booking. The caller
    checks that `actor` may act on the booking (staff: their own bookings; managers: the business's)."""
    booking = Booking.objects.select_for_update(of=("self",)).filter(pk=booking_id).first()
    if booking is None:
        raise NotFound()
    if method not in VenuePayment.Method.values:
        raise ValueError(f"unknown method {method!r}")
    if booking.status not in OPEN_STATUSES:
        raise BookingNotPayableAtVenue(extra={"booking_status": booking.status})
    due = amount_due(booking)
    if amount <= 0 or amount > due:
        raise VenuePaymentExceedsDue(due=due, currency=booking.currency)
    venue_payment = VenuePayment.objects.create(
        booking=booking,
        business_id=booking.business_id,
        amount=amount,
        currency=booking.currency,
        method=method,
        recorded_by=actor,
        note=note[:500],
    )
    publish(
        events.VenuePaymentRecorded(
            venue_payment_id=venue_payment.pk, booking_id=booking.pk, amount=amount, method=method
        )
    )
    if booking.status == B.PENDING_PAYMENT:
        booking_confirm(booking_id=booking.pk, actor=actor, reason=f"paid at the venue ({method})")
    logger.info(
        "venue_payment_recorded",
        extra={"booking_id": booking.pk, "venue_payment_id": venue_payment.pk, "amount": amount, "method": method},
    )
    return venue_payment
