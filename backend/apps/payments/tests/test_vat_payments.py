"""VAT on the money that moves (docs/payments.md "VAT"): a VAT-registered business's payment, refunds, late-
cancellation fee and ledger entries each store net + VAT = gross in halalas; the card charge is the booking's
invoice total; a refund of an amount no credit note can state moves the nearest one above it; the settlement
statement's net, VAT and gross reconcile to the halala; the API shows the VAT line only where VAT applies; the
database refuses rows that do not add up. End to end: the Moyasar fake over HTTP, jobs in the real worker."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.core.events import publish
from apps.core.testing import run_jobs
from apps.payments import services
from apps.payments.models import LedgerEntry, Payment, Refund
from apps.payments.tests.conftest import make_capture_due
from apps.payments.tests.test_ledger import _statement

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]
VAT_NUMBER = "300000000000003"


def _halalas(text: str) -> int:
    return int(Decimal(text) * 100)


@pytest.fixture
def registered(business):
    """The salon, VAT-registered after its 150.00 SAR haircut was priced (no invoice totals 150.00 at 15%: the
    booking records and charges 149.99 = 130.43 + 19.56), taking 2.5% commission."""
    business.vat_number = VAT_NUMBER
    business.commission_bps = 250
    business.save()
    return business


def _captured(authorized, hhmm: str) -> tuple[dict, Payment]:
    booking, payment = authorized(hhmm)
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    return booking, payment


def _adds_up(*rows) -> None:
    for row in rows:
        if isinstance(row, Payment):
            assert row.amount_net + row.amount_vat == row.amount
        elif isinstance(row, Refund):
            assert row.net + row.vat == row.amount
        else:
            assert row.sale_net + row.sale_vat == row.gross


def test_the_charge_is_the_invoice_total_and_every_movement_adds_up(
    fake, registered, service, authorized, manager, manager_client, customer_client
):
    # given: a payment captured, one refunded in part by a manager (10.00 SAR: no credit note totals it), and a
    # late cancellation that keeps the 20% fee
    booking, kept = _captured(authorized, "09:00")
    _, partial = _captured(authorized, "10:00")
    refund = services.payment_refund(payment_id=partial.pk, amount=1000, actor=manager, reason="goodwill")
    run_jobs(queues=["payments"])
    late, fee_kept = _captured(authorized, "11:00")
    with transaction.atomic():
        Booking.objects.filter(pk=late["id"]).update(status="cancelled")
        publish(booking_events.BookingCancelled(booking_id=late["id"], by_business=False, before_cutoff=False))
    run_jobs(queues=["payments"])

    # then: the booking, the charge at Moyasar and the payment are the invoice total, split as the invoice states it
    assert booking["price"] == {"amount": 14999, "currency": "SAR"}
    assert fake.payment(kept.provider_id)["amount"] == 14999
    assert (kept.amount, kept.amount_net, kept.amount_vat, kept.captured_amount) == (14999, 13043, 1956, 14999)
    # the manager's 10.00 refund moved 10.01 (8.70 + 1.31), in the customer's favour
    refund.refresh_from_db()
    partial.refresh_from_db()
    assert (refund.status, refund.amount, refund.net, refund.vat) == ("succeeded", 1001, 870, 131)
    assert partial.refunded_amount == 1001
    # the late cancellation refunded all but the fee: 120.00 = 104.35 + 15.65 back, 29.99 = 26.08 + 3.91 kept
    fee_refund = Refund.objects.get(payment=fee_kept)
    assert (fee_refund.amount, fee_refund.net, fee_refund.vat) == (12000, 10435, 1565)
    fee_entry = LedgerEntry.objects.get(refund=fee_refund)
    assert (fee_entry.fee_kept, fee_entry.fee_kept_vat) == (2999, 391)
    # every row adds up
    entries = list(LedgerEntry.objects.order_by("pk"))
    _adds_up(*Payment.objects.all(), *Refund.objects.all(), *entries)
    assert [(e.kind, e.gross, e.sale_net, e.sale_vat) for e in entries if e.payment_id == partial.pk] == [
        ("capture", 14999, 13043, 1956),
        ("refund", -1001, -870, -131),
    ]

    # and the statement: each line and the totals reconcile net + VAT = gross to the halala
    lines, totals = _statement(manager_client, "salon")
    for line in lines:
        assert _halalas(line["gross_before_vat"]) + _halalas(line["vat"]) == _halalas(line["gross"])
    total = totals["total"]
    assert _halalas(total["gross"]) == 14999 + (14999 - 1001) + 2999
    assert _halalas(total["vat"]) == 1956 + (1956 - 131) + 391
    assert _halalas(total["gross_before_vat"]) + _halalas(total["vat"]) == _halalas(total["gross"])
    assert sum(_halalas(r["vat"]) for r in lines) == _halalas(total["vat"])
    assert _halalas(totals["subtotal_capture"]["vat"]) == 3 * 1956
    assert _halalas(totals["subtotal_refund"]["vat"]) == -(131 + 1565)
    assert _halalas(total["late_cancellation_fee_vat"]) == 391
    # the VAT the business owes on what it kept is the VAT of its invoices less its credit notes
    kept_vat = sum(p.captured_split.vat for p in Payment.objects.all()) - sum(r.vat for r in Refund.objects.all())
    assert _halalas(total["vat"]) == kept_vat

    # the API states the VAT of the payment and of each refund
    shown = customer_client.get(f"/api/v1/payments/{partial.pk}").json()
    assert shown["amount_vat"] == {
        "rate_bps": 1500,
        "net": {"amount": 13043, "currency": "SAR"},
        "vat": {"amount": 1956, "currency": "SAR"},
        "gross": {"amount": 14999, "currency": "SAR"},
    }
    assert shown["refunds"][0]["amount_vat"]["vat"] == {"amount": 131, "currency": "SAR"}
    listed = customer_client.get(f"/api/v1/bookings/{booking['id']}").json()
    assert listed["payment"]["amount_vat"]["vat"] == {"amount": 1956, "currency": "SAR"}


def test_without_a_vat_number_no_vat_is_stated(fake, business, authorized, customer_client, manager_client):
    _, payment = _captured(authorized, "09:00")
    services.payment_refund(payment_id=payment.pk, amount=1000, reason="goodwill")
    run_jobs(queues=["payments"])

    payment.refresh_from_db()
    assert (payment.amount, payment.amount_net, payment.amount_vat) == (15000, 15000, 0)
    assert list(Refund.objects.values_list("amount", "net", "vat")) == [(1000, 1000, 0)]  # moved as asked
    assert list(LedgerEntry.objects.values_list("gross", "sale_net", "sale_vat")) == [
        (15000, 15000, 0),
        (-1000, -1000, 0),
    ]
    shown = customer_client.get(f"/api/v1/payments/{payment.pk}").json()
    assert shown["amount_vat"] is None
    assert shown["refunds"][0]["amount_vat"] is None
    _, totals = _statement(manager_client, "salon")
    assert (totals["total"]["vat"], totals["total"]["gross_before_vat"]) == ("0.00", "140.00")


def test_the_database_refuses_amounts_that_do_not_add_up(fake, registered, authorized):
    _, payment = _captured(authorized, "09:00")
    refund = services.payment_refund(payment_id=payment.pk, amount=5000, reason="goodwill")
    run_jobs(queues=["payments"])
    entry = LedgerEntry.objects.get(refund=refund)
    for model, pk, change in [
        (Payment, payment.pk, {"amount_vat": 1957}),
        (Payment, payment.pk, {"amount_net": 0}),
        (Refund, refund.pk, {"vat": 653}),
        (LedgerEntry, entry.pk, {"sale_vat": -653}),
        (LedgerEntry, entry.pk, {"sale_net": 4348, "sale_vat": -9348}),  # adds up, but a refund's VAT is negative
        (LedgerEntry, entry.pk, {"fee_kept_vat": 1}),  # VAT in a fee that was not kept
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.filter(pk=pk).update(**change)


def test_the_data_migration_splits_rows_written_before_vat(fake, registered, authorized):
    # given: a payment captured and partly refunded, its VAT columns as 0006 found them (before VAT: all net)
    _, payment = _captured(authorized, "09:00")
    services.payment_refund(payment_id=payment.pk, amount=5000, reason="goodwill")
    run_jobs(queues=["payments"])
    expected = (
        list(Payment.objects.values_list("amount_net", "amount_vat")),
        list(Refund.objects.values_list("net", "vat")),
        list(LedgerEntry.objects.order_by("pk").values_list("sale_net", "sale_vat", "fee_kept_vat")),
    )
    with transaction.atomic():
        Booking.objects.update(price_net=F("price_amount"), price_vat=0, vat_rate_bps=0)
        importlib.import_module("apps.bookings.migrations.0005_vat").fill(django_apps, None)
        importlib.import_module("apps.payments.migrations.0006_vat").fill(django_apps, None)
    # then: the same split the live code writes
    assert Booking.objects.get().price_vat == 1956
    assert (
        list(Payment.objects.values_list("amount_net", "amount_vat")),
        list(Refund.objects.values_list("net", "vat")),
        list(LedgerEntry.objects.order_by("pk").values_list("sale_net", "sale_vat", "fee_kept_vat")),
    ) == expected
