"""Issued invoices never change except their reporting fields (model, queryset and database refuse)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.models import Invoice, InvoiceImmutable
from apps.invoicing.tests.factories import booking_of, vat_business

pytestmark = pytest.mark.django_db


def _invoice(**overrides) -> Invoice:
    business = vat_business()
    booking = booking_of(business)
    fields = {
        "business": business,
        "booking": booking,
        "kind": Invoice.Kind.INVOICE,
        "number": "INV-000001",
        "icv": 1,
        "previous_hash": FIRST_PIH,
        "invoice_hash": "x",
        "xml": "<Invoice/>",
        "qr": "q",
        "issued_at": timezone.now(),
        "net": 10000,
        "vat": 1500,
        "gross": 11500,
        "rate_bps": 1500,
        "means": Invoice.Means.CARD,
    }
    fields.update(overrides)
    return Invoice.objects.create(**fields)


def test_only_reporting_fields_change():
    invoice = _invoice()
    invoice.report_status = Invoice.ReportStatus.REPORTED
    invoice.report_attempts = 1
    invoice.save(update_fields=["report_status", "report_attempts"])
    Invoice.objects.filter(pk=invoice.pk).update(reported_at=timezone.now())

    invoice.gross = 1
    with pytest.raises(InvoiceImmutable):
        invoice.save()
    with pytest.raises(InvoiceImmutable):
        invoice.save(update_fields=["gross", "report_status"])
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).update(net=1)
    with pytest.raises(InvoiceImmutable):
        invoice.delete()
    with pytest.raises(InvoiceImmutable):
        Invoice.objects.filter(pk=invoice.pk).delete()
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.gross, fresh.report_status, fresh.report_attempts) == (11500, "reported", 1)


def test_the_database_refuses_edits_and_deletes_too():
    invoice = _invoice()
    for sql in (
        "UPDATE invoicing_invoice SET xml = '<x/>' WHERE id = %s",
        "UPDATE invoicing_invoice SET number = 'INV-9' WHERE id = %s",
        "DELETE FROM invoicing_invoice WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [invoice.pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE invoicing_invoice SET report_attempts = 3 WHERE id = %s", [invoice.pk])
    assert Invoice.objects.get(pk=invoice.pk).report_attempts == 3


def test_amounts_must_add_up():
    with pytest.raises(IntegrityError), transaction.atomic():
        _invoice(gross=11501)


def test_a_credit_note_needs_its_original():
    with pytest.raises(IntegrityError), transaction.atomic():
        _invoice(kind=Invoice.Kind.CREDIT)
