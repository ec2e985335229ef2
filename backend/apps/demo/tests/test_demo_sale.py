"""`manage.py demo_sale`: the VAT-registered demo business's paid sale has a tax invoice whose QR code reads back."""

from __future__ import annotations

import io
from io import StringIO

import pytest
import segno
import zxingcpp
from django.core.management import call_command
from PIL import Image

from apps.bookings.models import Booking
from apps.invoicing import qr
from apps.invoicing.models import Invoice, TaxProfile
from apps.payments.models import Payment

pytestmark = pytest.mark.django_db


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def test_the_demo_sale_has_an_invoice_whose_qr_code_a_camera_reads():
    run("seed_demo")
    assert TaxProfile.objects.filter(business__slug="riyadh-home-care").exists()
    said = run("demo_sale")

    invoice = Invoice.objects.get(business__slug="riyadh-home-care")
    booking = Booking.objects.get(pk=invoice.booking_id)
    payment = Payment.objects.get(booking=booking)
    assert booking.status == Booking.Status.COMPLETED
    assert payment.captured_amount == booking.price_amount == invoice.gross
    assert invoice.net + invoice.vat == invoice.gross
    assert invoice.vat == booking.price_vat > 0
    assert invoice.number in said
    assert f"/my/bookings/{booking.pk}/invoices/{invoice.pk}" in said

    # The QR as the invoice page draws it (segno, same data and error level), read back like a phone's camera.
    png = io.BytesIO()
    segno.make(invoice.qr, error="m").save(png, kind="png", scale=6, border=4)
    png.seek(0)
    found = zxingcpp.read_barcodes(Image.open(png))
    assert [r.text for r in found] == [invoice.qr]
    tags = qr.decode(found[0].text)
    assert tags[2] == b"310122393500003"
    assert tags[4] == f"{invoice.gross / 100:.2f}".encode()
    assert tags[5] == f"{invoice.vat / 100:.2f}".encode()


def test_a_second_run_shows_the_same_invoice():
    run("seed_demo")
    first = run("demo_sale")
    second = run("demo_sale")
    assert Invoice.objects.filter(business__slug="riyadh-home-care").count() == 1
    assert first == second
