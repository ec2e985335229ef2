"""The chain under real concurrency (PostgreSQL, one connection per thread, released together by a barrier): 50
simultaneous sales of one business give 50 consecutive numbers and ICVs and an unbroken PIH chain, while another
business's sales run alongside on a sequence of its own; a sale whose transaction rolls back leaves no gap."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core.testing import run_together
from apps.invoicing import services
from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.hashing import invoice_hash
from apps.invoicing.models import Invoice
from apps.invoicing.tests.factories import booking_of, vat_business

pytestmark = pytest.mark.django_db(transaction=True)


class RolledBack(Exception):
    pass


def assert_chain(business_id: int, count: int) -> None:
    invoices = list(Invoice.objects.filter(business_id=business_id).order_by("icv"))
    assert [i.icv for i in invoices] == list(range(1, count + 1))
    assert [i.number for i in invoices] == [f"INV-{n:06d}" for n in range(1, count + 1)]
    previous = FIRST_PIH
    for invoice in invoices:
        assert invoice.previous_hash == previous, invoice.number
        assert invoice_hash(invoice.xml.encode()) == invoice.invoice_hash
        previous = invoice.invoice_hash
    # Issue order is chain order.
    assert [i.issued_at for i in invoices] == sorted(i.issued_at for i in invoices)


def test_fifty_simultaneous_sales_make_one_unbroken_chain_per_business():
    salon = vat_business()
    clinic = vat_business(vat_number="300000000000003")
    salon_booking = booking_of(salon, price=11500)
    clinic_booking = booking_of(clinic, price=23000)
    salon_sales, clinic_sales = 50, 12
    rolled_back = {3, 8}  # two clinic sales whose payment transaction fails after the invoice was issued

    def sale(i: int) -> Invoice | None:
        if i < salon_sales:
            return services.invoice_issue(booking_id=salon_booking.pk, gross=11500, means="card")
        k = i - salon_sales
        with transaction.atomic():
            invoice = services.invoice_issue(booking_id=clinic_booking.pk, gross=23000, means="card")
            if k in rolled_back:
                raise RolledBack()
            return invoice

    results = run_together(salon_sales + clinic_sales, sale)

    failures = [r for r in results if isinstance(r, Exception) and not isinstance(r, RolledBack)]
    assert failures == []
    assert sum(isinstance(r, RolledBack) for r in results) == len(rolled_back)
    assert_chain(salon.pk, salon_sales)
    assert_chain(clinic.pk, clinic_sales - len(rolled_back))
    assert salon.invoice_series.last_icv == salon_sales
    clinic.invoice_series.refresh_from_db()
    assert clinic.invoice_series.next_invoice_number == clinic_sales - len(rolled_back) + 1
