"""Issuing invoices and credit notes: numbers, the ICV/PIH chain, the XML, the QR, idempotency, the events."""

from __future__ import annotations

import base64

import pytest
import time_machine
from django.db import transaction
from lxml import etree

from apps.core import events
from apps.core.testing import job_rows
from apps.invoicing import services, subscribers
from apps.invoicing.constants import FIRST_PIH
from apps.invoicing.hashing import invoice_hash
from apps.invoicing.models import Invoice, InvoiceSeries
from apps.invoicing.qr import decode
from apps.invoicing.tests.factories import booking_of, captured_payment, refund_of, vat_business
from apps.payments.events import PaymentCaptured, PaymentRefunded, VenuePaymentRecorded

pytestmark = pytest.mark.django_db
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def _text(invoice: Invoice, path: str) -> str:
    return etree.fromstring(invoice.xml.encode()).xpath(f"string({path})", namespaces=NS)


@time_machine.travel("2026-05-01T10:30:00Z", tick=False)
def test_an_invoice_and_the_next_one_chain():
    business = vat_business()
    booking = booking_of(business, price=11500)
    first = services.invoice_issue(booking_id=booking.pk, gross=11500, means="card")
    assert first is not None
    assert (first.number, first.icv, first.previous_hash) == ("INV-000001", 1, FIRST_PIH)
    assert (first.net, first.vat, first.gross, first.rate_bps) == (10000, 1500, 11500, 1500)
    assert first.invoice_hash == invoice_hash(first.xml.encode())
    assert _text(first, "cbc:ID") == "INV-000001"
    assert _text(first, "cbc:IssueTime") == "13:30:00"
    assert _text(first, "cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject") == first.qr
    qr = decode(first.qr)
    assert qr[1].decode() == "صالون مواعيد"
    assert qr[2] == b"310122393500003"
    assert qr[3] == b"2026-05-01T13:30:00"
    assert (qr[4], qr[5]) == (b"115.00", b"15.00")
    assert qr[6].decode() == first.invoice_hash
    assert first.seller["building_number"] == "1234"
    assert first.report_status == Invoice.ReportStatus.PENDING
    assert not first.stamped

    second = services.invoice_issue(booking_id=booking.pk, gross=3450, means="cash")
    assert (second.number, second.icv, second.previous_hash) == ("INV-000002", 2, first.invoice_hash)
    assert second.means == "10"
    assert _text(second, "cac:PaymentMeans/cbc:PaymentMeansCode") == "10"
    series = InvoiceSeries.objects.get(business=business)
    assert (series.next_invoice_number, series.last_icv, series.last_hash) == (3, 2, second.invoice_hash)
    # Each issue deferred its reporting job, locked per business (one at a time, in ICV order).
    jobs = job_rows("apps.invoicing.jobs.invoice_report")
    assert [job["args"] for job in jobs] == [{"invoice_id": first.pk}, {"invoice_id": second.pk}]


def test_no_invoice_without_a_vat_number():
    business = vat_business(vat_number="")
    booking = booking_of(business)
    assert services.invoice_issue(booking_id=booking.pk, gross=11500, means="card") is None
    assert not Invoice.objects.exists()


def test_an_unreachable_amount_is_invoiced_at_the_nearest_total():
    business = vat_business()
    booking = booking_of(business, price=1000)
    invoice = services.invoice_issue(booking_id=booking.pk, gross=1000, means="card")  # 10.00: 8.70 + 1.31
    assert (invoice.net, invoice.vat, invoice.gross) in {(870, 131, 1001), (869, 130, 999)}


def test_a_credit_note_references_its_invoice_and_shares_the_counter():
    business = vat_business()
    booking = booking_of(business, price=11500)
    payment = captured_payment(booking)
    invoice = services.invoice_issue(booking_id=booking.pk, gross=11500, means="card", payment_id=payment.pk)
    refund = refund_of(payment, 5750)
    note = services.credit_note_issue(invoice=invoice, gross=5750, reason="Late cancellation", refund_id=refund.pk)
    assert (note.kind, note.number, note.icv, note.previous_hash) == ("credit", "CRN-000001", 2, invoice.invoice_hash)
    assert note.original == invoice
    assert (note.net, note.vat, note.gross) == (5000, 750, 5750)
    assert _text(note, "cbc:InvoiceTypeCode") == "381"
    assert _text(note, "cbc:InvoiceTypeCode/@name") == "0200000"
    assert _text(note, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "INV-000001"
    assert _text(note, "cac:PaymentMeans/cbc:InstructionNote") == "Late cancellation"
    assert _text(note, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "57.50"
    # The same refund again: the same note. More than is left: refused.
    assert services.credit_note_issue(invoice=invoice, gross=5750, reason="x", refund_id=refund.pk) == note
    with pytest.raises(services.InvoicingError):
        services.credit_note_issue(invoice=invoice, gross=5751, reason="too much")
    rest = services.credit_note_issue(invoice=invoice, gross=5750, reason="The rest")
    assert rest.number == "CRN-000002"
    assert services.credited_total(invoice) == 11500


def test_events_issue_invoices_once_and_credit_refunds():
    business = vat_business()
    booking = booking_of(business, price=11500)
    payment = captured_payment(booking)
    with transaction.atomic():
        events.publish(PaymentCaptured(payment_id=payment.pk, booking_id=booking.pk, amount=11500))
        events.publish(PaymentCaptured(payment_id=payment.pk, booking_id=booking.pk, amount=11500))  # a replay
    invoice = Invoice.objects.get(payment=payment, kind="invoice")
    refund = refund_of(payment, 11500, reason="")
    events.publish(PaymentRefunded(payment_id=payment.pk, booking_id=booking.pk, refund_id=refund.pk, amount=11500))
    note = Invoice.objects.get(refund=refund)
    assert note.original == invoice
    assert note.reason == "Booking cancelled"
    events.publish(VenuePaymentRecorded(venue_payment_id=77, booking_id=booking.pk, amount=2300, method="cash"))
    venue = Invoice.objects.get(venue_payment_id=77)
    assert (venue.number, venue.means, venue.gross) == ("INV-000002", "10", 2300)
    assert [i.icv for i in Invoice.objects.order_by("icv")] == [1, 2, 3]


def test_an_invoicing_failure_never_loses_the_capture(monkeypatch):
    business = vat_business()
    booking = booking_of(business, price=11500)
    payment = captured_payment(booking)

    def broken(**kwargs):
        raise RuntimeError("broken tax profile")

    monkeypatch.setitem(subscribers.HANDLERS, "capture", broken)
    with transaction.atomic():
        payment.message = "captured"
        payment.save(update_fields=["message"])
        events.publish(PaymentCaptured(payment_id=payment.pk, booking_id=booking.pk, amount=11500))
    payment.refresh_from_db()
    assert payment.message == "captured"
    assert not Invoice.objects.exists()
    retry = job_rows("apps.invoicing.jobs.invoice_issue_retry")
    assert [job["args"] for job in retry] == [
        {"kind": "capture", "arguments": {"payment_id": payment.pk, "booking_id": booking.pk, "amount": 11500}}
    ]
    monkeypatch.undo()
    from apps.invoicing.jobs import invoice_issue_retry

    invoice_issue_retry(**retry[0]["args"])
    assert Invoice.objects.get(payment=payment).number == "INV-000001"


def test_the_report_job_marks_an_unstamped_invoice_not_required():
    from apps.invoicing.jobs import invoice_report

    business = vat_business()
    invoice = services.invoice_issue(booking_id=booking_of(business).pk, gross=11500, means="card")
    invoice_report(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.report_status == Invoice.ReportStatus.NOT_REQUIRED
    assert base64.b64decode(invoice.invoice_hash)
