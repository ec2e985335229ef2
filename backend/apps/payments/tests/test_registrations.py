"""What payments puts into the places bookings leaves for it, at start-up (`apps.core.registry`)."""

from __future__ import annotations

from apps.bookings.admin import booking_inlines
from apps.bookings.hooks import payment_summary_source
from apps.payments.admin import BookingPaymentInline
from apps.payments.selectors import payment_summaries


def test_payments_fills_the_payment_summary_slot_and_adds_its_inline_to_the_booking_page():
    assert payment_summary_source.get() is payment_summaries
    assert BookingPaymentInline in booking_inlines.all()
