"""Messages that state an amount (the receipt, the refund notice) state the VAT it includes where the booking's
business is VAT-registered, in both languages, from the rows the payment wrote (docs/payments.md "VAT"); nothing
about VAT where it is not."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.bookings.models import Booking
from apps.notifications import subscribers
from apps.notifications.models import Notification
from apps.notifications.rendering import format_rate, render
from apps.payments.models import Payment, Refund

pytestmark = pytest.mark.django_db
VAT_NUMBER = "300000000000003"


@dataclass(frozen=True)
class Captured:  # the shape of apps.payments.events.PaymentCaptured
    payment_id: int
    booking_id: int
    amount: int


@dataclass(frozen=True)
class Refunded:  # the shape of apps.payments.events.PaymentRefunded
    payment_id: int
    booking_id: int
    refund_id: int
    amount: int


def _paid(booking: Booking) -> tuple[Payment, Refund]:
    payment = Payment.objects.create(
        booking=booking, flow="token", status="partially_refunded", amount=booking.price_amount,
        authorized_amount=booking.price_amount, captured_amount=booking.price_amount, refunded_amount=1001,
        provider_id=f"moyasar-{booking.pk}", is_booking_payment=True,
    )  # fmt: skip
    refund = Refund.objects.create(payment=payment, kind="manual", status="succeeded", amount=1001)
    return payment, refund


def _texts(template: str, booking: Booking) -> dict[str, str]:
    row = Notification.objects.filter(template=template, channel="sms").get()
    return {
        language: render(
            template=template,
            language=language,
            context=row.context,
            recipient=booking.customer,
            booking=booking,
            business=booking.business,
            reference="notification.1",
        ).text
        for language in ("en", "ar")
    }


def test_a_registered_business_receipt_and_refund_state_the_vat(business, book, customer_ar):
    business.vat_number = VAT_NUMBER
    business.save()
    booking = book(customer_ar, "10:00")  # 150.00 SAR is charged as the invoice total 149.99 (130.43 + 19.56)
    payment, refund = _paid(booking)
    assert (refund.net, refund.vat) == (870, 131)  # what Refund.save splits from Moyasar's amount

    subscribers.on_payment_captured(Captured(payment_id=payment.pk, booking_id=booking.pk, amount=14999))
    subscribers.on_payment_refunded(
        Refunded(payment_id=payment.pk, booking_id=booking.pk, refund_id=refund.pk, amount=1001)
    )

    receipt = _texts("payment_receipt", booking)
    assert "your payment of 149.99 SAR (includes VAT 15%: 19.56 SAR) for booking" in receipt["en"]
    assert "بمبلغ 149.99 ر.س (شامل ضريبة القيمة المضافة 15%: 19.56 ر.س) للحجز" in receipt["ar"]
    notice = _texts("payment_refunded", booking)
    assert "we refunded 10.01 SAR (includes VAT 15%: 1.31 SAR) for booking" in notice["en"]
    assert "مبلغ 10.01 ر.س (شامل ضريبة القيمة المضافة 15%: 1.31 ر.س) للحجز" in notice["ar"]


def test_without_a_vat_number_messages_say_nothing_of_vat(business, book, customer_ar):
    booking = book(customer_ar, "10:00")
    payment, refund = _paid(booking)

    subscribers.on_payment_captured(Captured(payment_id=payment.pk, booking_id=booking.pk, amount=15000))
    subscribers.on_payment_refunded(
        Refunded(payment_id=payment.pk, booking_id=booking.pk, refund_id=refund.pk, amount=1001)
    )

    for template in ("payment_receipt", "payment_refunded"):
        assert "vat" not in Notification.objects.filter(template=template).first().context
        texts = _texts(template, booking)
        assert "VAT" not in texts["en"]
        assert "ضريبة" not in texts["ar"]
    assert "your payment of 150.00 SAR for booking" in _texts("payment_receipt", booking)["en"]


@pytest.mark.parametrize(("bps", "text"), [(1500, "15%"), (500, "5%"), (1250, "12.5%"), (1505, "15.05%")])
def test_rates_read_as_percentages(bps, text):
    assert format_rate(bps) == text
