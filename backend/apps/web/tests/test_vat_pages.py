"""The website's VAT lines (docs/payments.md "VAT"): where the business is VAT-registered, the review step shows the
price the booking will charge (the invoice total) with the VAT it includes, my booking the same, and the receipt
net, VAT and VAT-included lines for the price, what was paid, refunded and kept, which add up to the halala; in
English and Arabic; none of it where the business is not registered."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.catalog.models import Business
from apps.payments.models import Refund
from apps.web.tests.test_booking_pages import demo, en, first_time, review_url, service, staff  # noqa: F401
from apps.web.tests.test_home_pages import book, pay, pinned, salon, signed_in  # noqa: F401

pytestmark = pytest.mark.django_db
VAT_NUMBER = "300000000000003"


def test_the_review_step_shows_the_charged_price_and_its_vat(demo):  # noqa: F811
    Business.objects.filter(slug="noor-salon").update(vat_number=VAT_NUMBER)  # registered after pricing 150.00
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    customer = UserFactory()
    start = first_time("noor-salon", haircut.pk, lama.pk)
    url = review_url("noor-salon", service=haircut.pk, staff=lama.pk, start=start[:16])

    body = en(customer).get(url).content.decode()
    arabic = Client()
    arabic.force_login(customer)
    arabic_body = arabic.get(url).content.decode()

    price = re.search(r'data-testid="review-price">(.*?)</dd>', body, re.S).group(1)
    assert price.startswith("149.99 SAR")
    assert "Includes VAT 15%: 19.56 SAR" in price
    assert "شامل ضريبة القيمة المضافة 15%: 19.56 ر.س" in arabic_body
    # and the booking made from it records what the page said
    en(customer).post("/b/noor-salon/book/confirm", {"service": haircut.pk, "staff": lama.pk, "start": start[:16]})
    assert Booking.objects.values_list("price_amount", "price_vat").get(customer=customer) == (14999, 1956)


def test_the_review_step_of_an_unregistered_business_has_no_vat_line(demo):  # noqa: F811
    haircut, lama = service("noor-salon", "Haircut and styling"), staff("noor-salon", "Lama")
    start = first_time("noor-salon", haircut.pk, lama.pk)
    body = en(UserFactory()).get(review_url("noor-salon", service=haircut.pk, staff=lama.pk, start=start[:16]))
    text = body.content.decode()
    assert "150 SAR" in text
    assert 'data-testid="review-vat"' not in text
    assert "VAT" not in text


def test_my_booking_shows_the_vat_it_includes(salon):  # noqa: F811
    me = UserFactory()
    booking = book(salon, me, hours=26)  # 115.00 SAR = 100.00 + 15.00
    body = signed_in(me).get(f"/my/bookings/{booking.pk}").content.decode()
    assert 'data-testid="vat-line">Includes VAT 15%: 15 SAR' in body
    Business.objects.filter(pk=booking.business_id).update(vat_number="")
    plain = book(salon, me, hours=28)
    assert 'data-testid="vat-line"' not in signed_in(me).get(f"/my/bookings/{plain.pk}").content.decode()


def _cells(body: str, row: str) -> list[str]:
    found = re.search(rf'<tr data-testid="{row}">(.*?)</tr>', body, re.S)
    assert found, row
    return re.findall(r"<td>(.*?)</td>", found.group(1))


def _halalas(text: str) -> int:
    number = text.split()[0].replace(",", "")
    whole, _, cents = number.partition(".")
    return int(whole) * 100 + int(cents or 0)


def test_the_receipt_states_net_vat_and_gross_and_they_reconcile(salon):  # noqa: F811
    me = UserFactory()
    booking = book(salon, me, hours=26)
    payment = pay(booking, refunded=1001)
    Refund.objects.create(payment=payment, kind="manual", status="succeeded", amount=1001)  # 8.70 + 1.31

    body = signed_in(me).get(f"/my/bookings/{booking.pk}/receipt").content.decode()

    price, paid = _cells(body, "vat-price"), _cells(body, "vat-paid")
    refunded, kept = _cells(body, "vat-refunded"), _cells(body, "vat-kept")
    assert price == paid == ["100 SAR", "15 SAR", "115 SAR"]
    assert refunded == ["8.70 SAR", "1.31 SAR", "10.01 SAR"]
    assert kept == ["91.30 SAR", "13.69 SAR", "104.99 SAR"]
    for net, vat, gross in (price, paid, refunded, kept):
        assert _halalas(net) + _halalas(vat) == _halalas(gross)
    for column in range(3):
        assert _halalas(paid[column]) - _halalas(refunded[column]) == _halalas(kept[column])
    assert "VAT 15%" in body
    arabic = Client()
    arabic.force_login(me)
    arabic_body = arabic.get(f"/my/bookings/{booking.pk}/receipt").content.decode()
    assert "قبل الضريبة" in arabic_body
    assert "الضريبة 15%" in arabic_body


def test_the_receipt_of_an_unregistered_business_has_no_vat_table(salon):  # noqa: F811
    Business.objects.filter(pk=salon[0].pk).update(vat_number="")
    me = UserFactory()
    booking = book(salon, me, hours=26)
    pay(booking)
    body = signed_in(me).get(f"/my/bookings/{booking.pk}/receipt").content.decode()
    assert 'data-testid="vat-table"' not in body
    assert 'data-testid="paid">115 SAR' in body
