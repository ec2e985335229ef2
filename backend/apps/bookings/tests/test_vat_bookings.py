"""A booking's price as its tax invoice states it (apps/core/vat.py; docs/payments.md "VAT"): stored net + VAT =
gross in halalas when the booking is made, the gross charged being the invoice total nearest the list price; no VAT
where the business is not VAT-registered; a check constraint refuses a row that does not add up; the API shows
the VAT line (`price_vat`) only where VAT applies."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.bookings.models import Booking
from apps.bookings.services import booking_create, booking_reschedule
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Service

pytestmark = pytest.mark.django_db
VAT_NUMBER = "300000000000003"


def _vat(net: int) -> int:
    """15 % of a net amount, half up to the halala: computed independently of apps/core/vat.py."""
    return int((Decimal(net) * Decimal("0.15")).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# list price -> (charged = the invoice total, net, VAT); each checked below against the rule itself
ROUNDING = [
    (11500, 11500, 10000, 1500),
    (10000, 10000, 8696, 1304),  # 8696 x 15% = 1304.40
    (9980, 9980, 8678, 1302),  # 1301.70 up
    (9971, 9971, 8670, 1301),  # 1300.50: half up (half-even would say 1300)
    (15000, 14999, 13043, 1956),  # 150.00 SAR has no net: 13043 + 1956.45 -> 149.99, 13044 + 1957 -> 150.01
    (1000, 999, 869, 130),  # 10.00 SAR: the spec's example (8.70 + 1.31 = 10.01, 8.69 + 1.30 = 9.99)
    (3500, 3499, 3043, 456),
    (1, 1, 1, 0),
    (99999, 99999, 86956, 13043),
]


@pytest.mark.parametrize(("price", "charged", "net", "vat"), ROUNDING)
def test_a_registered_business_booking_stores_the_invoice_split(
    price, charged, net, vat, business, staff, service, customer, at
):
    assert net + _vat(net) == charged
    assert abs(charged - price) <= 1
    business.vat_number = VAT_NUMBER
    business.save()
    Service.objects.filter(pk=service.pk).update(price_amount=price)  # set before it registered
    service.refresh_from_db()

    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    row = Booking.objects.values_list("price_amount", "price_net", "price_vat", "vat_rate_bps").get(pk=booking.pk)
    assert row == (charged, net, vat, 1500)


def test_without_a_vat_number_the_price_has_no_vat(business, staff, service, customer, at):
    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    row = Booking.objects.values_list("price_amount", "price_net", "price_vat", "vat_rate_bps").get(pk=booking.pk)
    assert row == (15000, 15000, 0, 0)
    assert not booking.is_vat_invoiced


def test_a_move_keeps_the_price_and_its_vat(business, staff, service, customer, at):
    business.vat_number = VAT_NUMBER
    business.save()
    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
    Service.objects.filter(pk=service.pk).update(price_amount=20000)

    booking_reschedule(booking_id=booking.pk, start=at("11:00"), actor=None)

    booking.refresh_from_db()
    assert (booking.price_amount, booking.price_net, booking.price_vat) == (14999, 13043, 1956)


def test_the_rate_is_the_one_in_force_on_the_business_local_day(business, settings):
    settings.MAWID_VAT_RATES = "2020-07-01:1500,2027-01-01:1700"
    business.vat_number = VAT_NUMBER
    # 31 Dec 2026 22:00 UTC is already 1 Jan 2027 in Riyadh
    assert business.vat_rate_bps(datetime.fromisoformat("2026-12-31T20:59:59+00:00")) == 1500
    assert business.vat_rate_bps(datetime.fromisoformat("2026-12-31T21:00:00+00:00")) == 1700
    assert business.price_split(11700, datetime.fromisoformat("2027-02-01T00:00:00+00:00")).net == 10000
    business.vat_number = ""
    assert business.vat_rate_bps(datetime.fromisoformat("2027-02-01T00:00:00+00:00")) == 0


@pytest.mark.parametrize(
    "change",
    [
        {"price_net": 13044},  # net + VAT != gross
        {"price_vat": 1957},
        {"price_amount": 15000},
        {"vat_rate_bps": 0},  # VAT without a rate
    ],
)
def test_the_database_refuses_a_price_that_does_not_add_up(business, service, change):
    business.vat_number = VAT_NUMBER
    business.save()
    booking = BookingFactory.create(service=service)
    assert (booking.price_amount, booking.price_net, booking.price_vat) == (14999, 13043, 1956)

    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(**change)


@pytest.fixture
def mine(customer, auth_client):
    return auth_client(customer)


def test_the_api_shows_the_vat_line_only_where_the_business_is_registered(business, staff, service, customer, at, mine):
    plain = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
    business.vat_number = VAT_NUMBER
    business.save()
    taxed = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))

    no_vat = mine.get(f"/api/v1/bookings/{plain.pk}").json()
    with_vat = mine.get(f"/api/v1/bookings/{taxed.pk}").json()

    assert no_vat["price"] == {"amount": 15000, "currency": "SAR"}
    assert no_vat["price_vat"] is None
    assert with_vat["price"] == {"amount": 14999, "currency": "SAR"}
    assert with_vat["price_vat"] == {
        "rate_bps": 1500,
        "net": {"amount": 13043, "currency": "SAR"},
        "vat": {"amount": 1956, "currency": "SAR"},
        "gross": {"amount": 14999, "currency": "SAR"},
    }
    listed = {b["id"]: b for b in mine.get("/api/v1/bookings").json()["results"]}
    assert listed[taxed.pk]["price_vat"] == with_vat["price_vat"]
    assert listed[plain.pk]["price_vat"] is None
