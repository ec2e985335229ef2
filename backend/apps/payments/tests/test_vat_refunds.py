"""Refunds Mawid chooses, as their credit notes state them (apps/payments/vat.py over core.vat.split_part): the
amount that moves is one a credit note can total (the nearest above when the asked one is not, never more than is
left), its net and VAT are stored, and refunds in parts come back to the payment's split exactly. Rows written
directly; the refunds are recorded by the service (the job that sends them is not run)."""

from __future__ import annotations

import pytest

from apps.bookings.tests.factories import BookingFactory
from apps.payments import services
from apps.payments.models import Payment, Refund
from apps.payments.vat import chosen_part, remaining, reported_part

pytestmark = pytest.mark.django_db
VAT_NUMBER = "300000000000003"


@pytest.fixture
def captured(business, service) -> Payment:
    """A captured payment of a VAT-registered salon: 149.99 SAR = 130.43 + 19.56 (its 150.00 price's invoice)."""
    business.vat_number = VAT_NUMBER
    business.save()
    booking = BookingFactory.create(service=service)
    return Payment.objects.create(
        booking=booking, flow="token", status="captured", amount=booking.price_amount,
        amount_net=booking.price_net, amount_vat=booking.price_vat, authorized_amount=booking.price_amount,
        captured_amount=booking.price_amount, provider_id="pay-1", is_booking_payment=True,
    )  # fmt: skip


# asked -> (moved, net, VAT): each row checked against the rule (net + 15% of it half up = moved)
REFUNDS = [
    (1000, 1001, 870, 131),  # 10.00 has no net; 10.01 is the nearest above
    (3500, 3501, 3044, 457),
    (5000, 5000, 4348, 652),
    (1, 1, 1, 0),
    (14998, 14998, 13042, 1956),
    (14999, 14999, 13043, 1956),  # all of it: exactly the invoice
]


@pytest.mark.parametrize(("asked", "moved", "net", "vat"), REFUNDS)
def test_a_refund_moves_an_amount_a_credit_note_can_state(captured, asked, moved, net, vat):
    assert net + (net * 1500 + 5000) // 10000 == moved
    refund = services.payment_refund(payment_id=captured.pk, amount=asked, reason="goodwill")
    row = Refund.objects.values_list("amount", "net", "vat").get(pk=refund.pk)
    assert row == (moved, net, vat)


def test_refunds_in_parts_come_back_to_the_invoice_exactly(captured):
    for asked in (1000, 3500, 2000, 333):
        services.payment_refund(payment_id=captured.pk, amount=asked, reason="part")
    Refund.objects.update(status="succeeded")
    Payment.objects.filter(pk=captured.pk).update(refunded_amount=sum(Refund.objects.values_list("amount", flat=True)))
    last = services.payment_refund(payment_id=captured.pk, reason="the rest")  # everything left
    rows = list(Refund.objects.values_list("amount", "net", "vat"))
    assert all(net + vat == amount for amount, net, vat in rows)
    assert sum(r[0] for r in rows) == 14999
    assert (sum(r[1] for r in rows), sum(r[2] for r in rows)) == (13043, 1956)
    assert last.amount == 14999 - sum(r[0] for r in rows[:-1])


def test_without_vat_a_refund_moves_what_was_asked(business, service):
    booking = BookingFactory.create(service=service)
    payment = Payment.objects.create(
        booking=booking, flow="token", status="captured", amount=15000, authorized_amount=15000,
        captured_amount=15000, provider_id="pay-2", is_booking_payment=True,
    )  # fmt: skip
    assert (payment.amount_net, payment.amount_vat) == (15000, 0)
    refund = services.payment_refund(payment_id=payment.pk, amount=1000, reason="goodwill")
    assert (refund.amount, refund.net, refund.vat) == (1000, 1000, 0)


def test_an_amount_moyasar_reports_always_adds_up(captured):
    whole = captured.vat_split
    for amount in (1, 999, 1000, 7777, 14998, 14999, 20000):
        split = reported_part(amount, whole)
        assert (split.gross, split.net + split.vat) == (amount, amount)
        assert split.vat <= amount
    assert chosen_part(14999, whole) == whole
    left = remaining(whole, [(870, 131)])
    assert (left.net, left.vat, left.gross) == (12173, 1825, 13998)
