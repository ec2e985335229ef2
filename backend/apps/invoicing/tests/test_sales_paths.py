# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""Every way money arrives issues its tax invoice, and the business's statement reconciles with them to the halala:
a deposit paid by card and the balance paid in cash at the venue (two invoices that add up to the price), a
payment by STC Pay (money captured when paid), and the settlement statement against the period's documents. The
Moyasar fake over HTTP, the real worker; a VAT-registered salon at 115.00 SAR (100.00 + 15.00)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from apps.bookings.tests.fixtures import customer, manager  # noqa: F401
from apps.catalog.models import Service
from apps.core.testing import run_jobs
from apps.invoicing.models import Invoice
from apps.invoicing.qr import decode
from apps.invoicing.tests.test_payment_flow import business_settings, service  # noqa: F401 - a VAT-registered salon
from apps.payments.models import Payment
from apps.payments.selectors import settlement_statement
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

PRICE = 11500  # the salon's haircut (test_payment_flow's fixtures)


def test_a_deposit_by_card_and_the_balance_in_cash_are_two_invoices_that_make_the_price(
    fake, service, authorized, manager_client, business
):
    Service.objects.filter(pk=service.pk).update(payment_policy="deposit", deposit_percent=30)
    booking, payment = authorized()
    assert payment.purpose == "deposit"
    deposit = payment.amount
    assert 0 < deposit < PRICE
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    card = Invoice.objects.get(payment=payment)
    assert (card.gross, card.means) == (deposit, "48")
    assert card.net + card.vat == card.gross

    url = f"/api/v1/manage/businesses/{business.slug}/bookings/{booking['id']}/venue-payments"
    answer = manager_client.post(url, {"amount": PRICE - deposit, "method": "cash"}, format="json")
    assert answer.status_code == 201, answer.content

    cash = Invoice.objects.exclude(pk=card.pk).get()
    assert (cash.gross, cash.means, cash.payment_id) == (PRICE - deposit, "10", None)
    assert cash.venue_payment_id is not None
    assert card.gross + cash.gross == PRICE
    assert (cash.icv, cash.previous_hash) == (card.icv + 1, card.invoice_hash)
    assert decode(cash.qr)[4] == f"{cash.gross / 100:.2f}".encode()
    # more than is due: refused, and no document for it
    again = manager_client.post(url, {"amount": 100, "method": "cash"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "venue_payment_exceeds_due"
    assert Invoice.objects.count() == 2


def test_stc_pay_money_is_invoiced_when_paid(fake, book, customer_client):
    booking = book("10:00")
    started = customer_client.post(
        f"/api/v1/bookings/{booking['id']}/pay", {"source": {"type": "stcpay", "mobile": "0512345678"}}, format="json"
    )
    assert started.status_code == 201, started.content
    paid = customer_client.post(f"/api/v1/payments/{started.json()['id']}/stcpay-otp", {"otp": "123456"}, format="json")
    assert paid.status_code == 200, paid.content

    payment = Payment.objects.get(pk=started.json()["id"])
    assert (payment.method, payment.status, payment.captured_amount) == ("stcpay", "captured", PRICE)
    invoice = Invoice.objects.get(payment=payment)
    assert (invoice.net, invoice.vat, invoice.gross) == (10000, 1500, PRICE)


def test_the_statement_reconciles_with_the_invoices_and_credit_notes(fake, authorized, manager_client, business):
    kept, _ = _captured(authorized, "10:00")
    returned, _ = _captured(authorized, "11:00")
    cancelled = manager_client.post(f"/api/v1/bookings/{returned['id']}/cancel", {"reason": "ill"}, format="json")
    assert cancelled.status_code == 200
    run_jobs(queues=["payments"])

    today = timezone.localdate()
    statement = settlement_statement(business=business, start=today, end=today)
    invoices = Invoice.objects.filter(business=business, kind="invoice", payment__isnull=False)
    notes = Invoice.objects.filter(business=business, kind="credit")
    assert sum(i.gross for i in invoices) == statement.captured == 2 * PRICE
    assert sum(n.gross for n in notes) == statement.refunded == PRICE
    assert sum(i.vat for i in invoices) - sum(n.vat for n in notes) == statement.vat == 1500
    assert sum(i.net for i in invoices) - sum(n.net for n in notes) == statement.sales_net == 10000
    assert kept["id"] != returned["id"]


def _captured(authorized, hhmm: str) -> tuple[dict[str, Any], Payment]:
    booking, payment = authorized(hhmm)
    make_capture_due(payment)
    run_jobs(queues=["payments"])
    payment.refresh_from_db()
    assert payment.status == "captured"
    return booking, payment
