# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""End to end with the real payment flow (the Moyasar fake over HTTP, the real worker): a capture issues the
invoice in its own transaction; a refund after cancellation issues the credit note; the reporting job marks
unstamped documents `not_required`. A VAT-registered salon, a reachable price (115.00 = 100.00 + 15.00)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.bookings.tests.fixtures import customer, manager  # noqa: F401
from apps.catalog.models import Business, Service
from apps.catalog.tests.factories import ServiceFactory
from apps.core.events import publish
from apps.core.testing import run_jobs
from apps.invoicing.models import Invoice, TaxProfile
from apps.invoicing.qr import decode
from apps.payments.models import Payment
from apps.payments.tests.conftest import (  # noqa: F401
    authorized,
    book,
    browser,
    card_token,
    customer_client,
    fake,
    make_capture_due,
    manager_client,
    pay,
)
from apps.payments.tests.fakes import moyasar_fake  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("apps.payments.tests.urls")]


@pytest.fixture
def business_settings() -> dict[str, Any]:
    return {"max_pending_per_customer": 5, "vat_number": "310122393500003"}


@pytest.fixture
def service(business: Business) -> Service:
    TaxProfile.objects.create(
        business=business,
        legal_name_ar="صالون مواعيد",
        legal_name_en="Mawid Salon",
        street="King Fahd Road",
        building_number="1234",
        district="Al Olaya",
        city="Riyadh",
        postal_code="12214",
    )
    return ServiceFactory.create(name_en="Haircut", name_ar="قص شعر", duration_minutes=30, price_amount=11500)


def _captured(authorized) -> tuple[dict[str, Any], Payment]:
    booking, payment = authorized()
    assert not Invoice.objects.exists()  # an authorization is not a sale
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert (payment.status, payment.captured_amount) == ("captured", 11500)
    return booking, payment


def test_a_capture_issues_the_invoice_and_a_refund_the_credit_note(fake, authorized, manager_client):
    booking, payment = _captured(authorized)
    invoice = Invoice.objects.get(payment=payment)
    assert (invoice.number, invoice.kind, invoice.icv) == ("INV-000001", "invoice", 1)
    assert (invoice.net, invoice.vat, invoice.gross) == (10000, 1500, 11500)
    assert invoice.means == "48"
    qr = decode(invoice.qr)
    assert (qr[1].decode(), qr[4], qr[5]) == ("صالون مواعيد", b"115.00", b"15.00")

    response = manager_client.post(f"/api/v1/bookings/{booking['id']}/cancel", {"reason": "staff ill"}, format="json")
    assert response.status_code == 200
    run_jobs(queues=["payments"])
    note = Invoice.objects.get(kind="credit")
    assert (note.number, note.icv, note.previous_hash) == ("CRN-000001", 2, invoice.invoice_hash)
    assert (note.original_id, note.gross, note.refund.payment_id) == (invoice.pk, 11500, payment.pk)

    run_jobs(queues=["invoicing"])
    assert set(Invoice.objects.values_list("report_status", flat=True)) == {"not_required"}


def test_a_late_cancellation_credits_the_refund_and_the_fee_stays_invoiced(fake, authorized):
    booking, payment = _captured(authorized)
    with transaction.atomic():
        Booking.objects.filter(pk=booking["id"]).update(status="cancelled")
        publish(booking_events.BookingCancelled(booking_id=booking["id"], by_business=False, before_cutoff=False))
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.refunded_amount == 9200  # 20 % (23.00) kept
    note = Invoice.objects.get(kind="credit")
    assert (note.net, note.vat, note.gross) == (8000, 1200, 9200)
    assert note.reason == (note.refund.reason or "Booking cancelled")
    assert note.reason
    invoice = Invoice.objects.get(kind="invoice")
    assert invoice.gross - note.gross == 2300  # what the business keeps, and its VAT, stays invoiced
