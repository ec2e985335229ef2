"""Who sees which invoice: the booking's customer downloads theirs (API and website); a business's owners and
managers export their business's documents for a period; everyone else gets 404."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
import time_machine
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Membership
from apps.catalog.tests.factories import MembershipFactory
from apps.invoicing import services
from apps.invoicing.models import Invoice
from apps.invoicing.tests.factories import booking_of, captured_payment, vat_business

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(auth_client):
    """A captured sale and its partial refund at a VAT-registered salon, issued on 1 May 2026 (Riyadh)."""
    with time_machine.travel("2026-05-01T10:30:00Z", tick=False):
        business = vat_business(slug="salon-vat")
        customer = UserFactory.create(name="Customer")
        booking = booking_of(business, price=11500, customer=customer)
        payment = captured_payment(booking)
        invoice = services.invoice_issue(booking_id=booking.pk, gross=11500, means="card", payment_id=payment.pk)
        note = services.credit_note_issue(invoice=invoice, gross=2300, reason="Late cancellation fee kept")
    return {"business": business, "customer": customer, "booking": booking, "invoice": invoice, "note": note}


def _manager_of(business) -> User:
    user = UserFactory.create(role=User.Role.MANAGER, name="Manager", is_staff=True)
    MembershipFactory.create(business=business, user=user, role=Membership.Role.MANAGER)
    return user


def test_the_customer_lists_and_downloads_their_invoices(sale, auth_client):
    client = auth_client(sale["customer"])
    booking, invoice, note = sale["booking"], sale["invoice"], sale["note"]
    response = client.get(f"/api/v1/bookings/{booking.pk}/invoices")
    assert response.status_code == 200
    body = response.json()
    assert [(d["number"], d["kind"], d["type_code"]) for d in body] == [
        ("INV-000001", "invoice", "388"),
        ("CRN-000001", "credit", "381"),
    ]
    assert body[0]["gross"] == {"amount": 11500, "currency": "SAR"}
    assert body[0]["vat"] == {"amount": 1500, "currency": "SAR"}
    assert body[0]["vat_rate"] == "15.00"
    assert body[1]["original_number"] == "INV-000001"
    assert body[0]["qr"] == invoice.qr

    xml = client.get(body[0]["xml_url"])
    assert xml.status_code == 200
    assert xml["Content-Type"].startswith("application/xml")
    assert xml.content == invoice.xml.encode("utf-8")
    assert 'filename="INV-000001.xml"' in xml["Content-Disposition"]

    page = client.get(body[1]["html_url"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "إشعار دائن مبسط" in html
    assert "INV-000001" in html  # the original invoice, in the notes
    assert "Late cancellation fee kept" in html
    assert "<style>" in html  # a file that prints as it looks on its own
    assert note.number in html


def test_the_printed_invoice_has_the_mandatory_content(sale, auth_client):
    client = auth_client(sale["customer"])
    invoice = sale["invoice"]
    html = client.get(f"/api/v1/bookings/{sale['booking'].pk}/invoices/{invoice.pk}.html").content.decode()
    for text in (
        "فاتورة ضريبية مبسطة",
        "Simplified Tax Invoice",
        "INV-000001",
        "2026-05-01 13:30:00",  # Riyadh
        "14 ذو القعدة 1447 هـ",  # the Hijri date beside it
        "14 Dhu al-Qa&#x27;dah 1447 AH",
        "صالون مواعيد",
        "310122393500003",
        "1010010000",
        "King Fahd Road",
        "1234",
        "5678",
        "Al Olaya",
        "Riyadh",
        "12214",
        "المملكة العربية السعودية",
        "قص شعر",
        "15.00%",
        "جميع الأسعار شاملة ضريبة القيمة المضافة",
        "100.00 SAR",
        "15.00 SAR",
        "115.00 SAR",
        "المبلغ المستحق",
        '<svg viewBox="0 0 ',  # scales to its box whole (a fixed-size SVG shrunk by CSS was cut off)
    ):
        assert text in html, text


def test_nobody_else_sees_a_customers_invoices(sale, auth_client):
    booking, invoice = sale["booking"], sale["invoice"]
    paths = [
        f"/api/v1/bookings/{booking.pk}/invoices",
        f"/api/v1/bookings/{booking.pk}/invoices/{invoice.pk}.html",
        f"/api/v1/bookings/{booking.pk}/invoices/{invoice.pk}.xml",
    ]
    for user in (UserFactory.create(name="Someone else"), _manager_of(sale["business"])):
        client = auth_client(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 404, (user.name, path)
            assert response.json()["error"]["code"] == "not_found"
    # An invoice of another booking through one's own booking: 404 too.
    mine = booking_of(sale["business"], customer=UserFactory.create(name="Other customer"))
    response = auth_client(mine.customer).get(f"/api/v1/bookings/{mine.pk}/invoices/{invoice.pk}.xml")
    assert response.status_code == 404
    assert Client().get(paths[0]).status_code == 401


def test_the_website_links_the_booking_to_its_invoice_page(sale):
    booking, invoice = sale["booking"], sale["invoice"]
    browser = Client()
    browser.force_login(sale["customer"])
    detail = browser.get(f"/my/bookings/{booking.pk}").content.decode()
    assert f'href="/my/bookings/{booking.pk}/invoices/{invoice.pk}"' in detail
    assert "فاتورة ضريبية مبسطة INV-000001" in detail
    page = browser.get(f"/my/bookings/{booking.pk}/invoices/{invoice.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "invoicing/invoice.css" in html
    assert "<style>" not in html  # the website's Content Security Policy allows style files only
    stranger = Client()
    stranger.force_login(UserFactory.create(name="Stranger"))
    assert stranger.get(f"/my/bookings/{booking.pk}/invoices/{invoice.pk}").status_code == 404


def test_a_manager_exports_their_business_period(sale, auth_client):
    business = sale["business"]
    other = vat_business(slug="other-vat", vat_number="300000000000003")
    with time_machine.travel("2026-05-01T11:00:00Z", tick=False):
        services.invoice_issue(booking_id=booking_of(other).pk, gross=5750, means="cash")
    client = auth_client(_manager_of(business))
    base = f"/api/v1/manage/businesses/{business.slug}/invoices"
    listed = client.get(base, {"from": "2026-05-01", "to": "2026-05-01"})
    assert listed.status_code == 200
    assert [d["number"] for d in listed.json()["results"]] == ["INV-000001", "CRN-000001"]
    assert "xml_url" not in listed.json()["results"][0]  # the customer's links; managers export
    assert client.get(base, {"from": "2026-05-02", "to": "2026-05-31"}).json()["results"] == []

    exported = client.get(f"{base}/export.csv", {"from": "2026-05-01", "to": "2026-05-31"})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [(r["number"], r["gross"], r["vat"]) for r in rows] == [
        ("INV-000001", "115.00", "15.00"),
        ("CRN-000001", "-23.00", "-3.00"),
        ("total", "92.00", "12.00"),
    ]

    archive = client.get(f"{base}/export.zip", {"from": "2026-05-01", "to": "2026-05-31"})
    assert archive.status_code == 200
    assert archive["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert sorted(z.namelist()) == ["CRN-000001.xml", "INV-000001.xml", "invoices.csv"]
        assert z.read("INV-000001.xml") == Invoice.objects.get(business=business, number="INV-000001").xml.encode()


def test_the_export_refuses_strangers_and_bad_periods(sale, auth_client):
    business = sale["business"]
    base = f"/api/v1/manage/businesses/{business.slug}/invoices"
    period = {"from": "2026-05-01", "to": "2026-05-31"}
    other_manager = _manager_of(vat_business(slug="other-vat", vat_number="300000000000003"))
    for user in (other_manager, sale["customer"]):
        for path in (base, f"{base}/export.csv", f"{base}/export.zip"):
            response = auth_client(user).get(path, period)
            assert response.status_code == 404, path
    manager = auth_client(_manager_of(business))
    reversed_period = manager.get(f"{base}/export.csv", {"from": "2026-05-31", "to": "2026-05-01"})
    assert reversed_period.status_code == 400
    assert reversed_period.json()["error"]["code"] == "invalid_date_range"
    assert manager.get(base, {"from": "2026-01-01", "to": "2027-12-31"}).status_code == 400
    assert manager.get(base, {"from": "nope"}).status_code == 400
