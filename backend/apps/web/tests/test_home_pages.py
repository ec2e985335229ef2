"""The home page's search (the API's own selector: Arabic folding, city, category, near), its query budget, the
poster's QR code, my bookings (own only) and the receipt (owner only), through the Django test client."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import segno
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog import discovery
from apps.catalog.models import Membership
from apps.catalog.tests.factories import BranchFactory, BusinessFactory, ServiceFactory, StaffFactory
from apps.payments.models import Payment

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)  # a Tuesday morning, as the browser tests


@pytest.fixture
def pinned():
    with time_machine.travel(PINNED, tick=False):
        yield PINNED


@pytest.fixture
def demo(pinned):
    call_command("seed_demo", verbosity=0)
    return pinned


def slugs(response) -> list[str]:
    return re.findall(r'data-testid="result" data-slug="([^"]+)"', response.content.decode())


def en() -> Client:
    client = Client()
    client.cookies["mawid_lang"] = "en"
    return client


# --- search ---------------------------------------------------------------------------------------------------


def test_the_search_folds_arabic_letters_the_way_the_api_does(demo, api_client):
    # the names are written عيادة ابتسامة ... لطب الأسنان; people type ه for ة and ا for أ
    for typed in ["عياده ابتسامه", "لطب الاسنان", "ابتسامة الخليج", "GULF smile"]:
        page = Client().get("/", {"q": typed})
        assert slugs(page) == ["dammam-dental"], typed
        api = api_client.get("/api/v1/businesses", {"q": typed}).json()
        assert [r["slug"] for r in api["results"]] == slugs(page)


def test_the_search_by_city_and_by_category(demo):
    assert slugs(Client().get("/", {"city": "جده"})) == ["jeddah-barber"]
    assert set(slugs(Client().get("/", {"city": "Riyadh"}))) == {"noor-salon", "riyadh-home-care"}
    assert slugs(Client().get("/", {"category": "dental"})) == ["dammam-dental"]
    assert slugs(Client().get("/", {"category": "barber", "city": "الرياض"})) == []
    page = en().get("/")
    body = page.content.decode()
    # the choices come from the data: the cities and categories the listed businesses have
    assert '<option value="الرياض">Riyadh</option>' in body
    assert '<option value="dental">Dental</option>' in body
    assert '<option value="fitness">' not in body
    assert 'value="الرياض">الرياض</option>' in Client().get("/").content.decode()


def test_near_me_orders_nearest_first_with_the_distance(demo):
    page = en().get("/", {"lat": "24.6953", "lng": "46.6850"})  # at the salon's Olaya branch
    assert slugs(page) == ["noor-salon", "riyadh-home-care"]  # Jeddah and Dammam are far away
    assert re.findall(r'data-testid="distance">([\d.]+) km away', page.content.decode()) == ["0", "15.1"]
    arabic = Client().get("/", {"lat": "24.6953", "lng": "46.6850"}).content.decode()
    assert "على بعد 15.1 كم" in arabic


def test_bad_coordinates_and_pages_are_ignored_not_errors(demo):
    assert len(slugs(Client().get("/", {"lat": "x", "lng": "1e999", "page": "-3"}))) == 4
    empty = en().get("/", {"q": "no such business anywhere"})
    assert slugs(empty) == []
    assert 'data-testid="empty"' in empty.content.decode()


def test_each_result_shows_its_next_available_time_in_local_time(demo):
    result = discovery.business_search(discovery.Search())
    hits = {hit.business.slug: hit for hit in result.hits}
    body = en().get("/").content.decode()
    for slug, hit in hits.items():
        assert hit.next_available is not None
        local = hit.next_available.start.astimezone(RIYADH)
        day = (
            "Today"
            if local.date() == PINNED.date()
            else "Tomorrow"
            if local.date() == PINNED.date() + timedelta(days=1)
            else local.strftime("%a")
        )
        card = body[body.index(f'data-slug="{slug}"') :]
        card = card[: card.index("</li>")]
        assert f"{day} {local:%H:%M}" in card, (slug, card)
    arabic = Client().get("/").content.decode()
    assert "اليوم " in arabic
    assert "أقرب موعد" in arabic
    assert re.search(r"\d{2}:\d{2}", arabic)


def test_the_home_page_asks_a_fixed_number_of_queries_whatever_the_businesses(demo, django_assert_max_num_queries):
    client = Client()
    client.get("/")  # warm the content types and the like
    with CaptureQueriesContext(connection) as four:
        assert len(slugs(client.get("/"))) == 4
    for n in range(8):
        business = BusinessFactory(slug=f"extra-{n}", name_en=f"Extra {n}", branch=False)
        BranchFactory(business=business, city="Riyadh", latitude=24.7, longitude=46.7)
        service = ServiceFactory(business=business)
        StaffFactory(business=business, services=[service])
    with django_assert_max_num_queries(len(four.captured_queries)):
        assert len(slugs(client.get("/"))) == 12
    # one page of results: the search page, its count, branches, services, next available (two) and the choices
    assert len(four.captured_queries) <= 8


# --- the poster -----------------------------------------------------------------------------------------------


def svg_modules(svg: str) -> list[list[bool]]:
    """Read segno's SVG path back into the matrix of dark modules it draws (rows of 1x1 strokes: "M x y.5 h n
    m dx dy ..."): what a scanner would see, without a decoder."""
    d = re.search(r'stroke="#000" d="([^"]+)"', svg)  # the dark modules (the white background is another path)
    assert d, svg[:200]
    box = re.search(r'viewBox="0 0 (\d+) \d+"', svg)
    size = int(box.group(1)) if box else 0
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, args in re.findall(r"([MmHh])([-\d.\s]+)", d.group(1)):
        numbers = [float(v) for v in args.split()]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            length = numbers[0] if op == "h" else numbers[0] - x
            dark.update((int(x) + i, int(y)) for i in range(int(length)))
            x += length
    size = size or (max(c for c, _ in dark) + 5)
    return [[(col, row) in dark for col in range(size)] for row in range(size)]


def expected_modules(url: str) -> list[list[bool]]:
    qr = segno.make(url, error="m")
    return [[bool(v) for v in row] for row in qr.matrix_iter(scale=1, border=4)]


def test_the_poster_carries_a_qr_code_of_the_booking_address(settings, pinned):
    settings.PUBLIC_BASE_URL = "https://mawid.example"
    business = BusinessFactory(slug="noor", name_en="Noor Salon", name_ar="صالون نور")
    page = Client().get("/b/noor/poster")
    assert page.status_code == 200
    body = page.content.decode()
    assert "صالون نور" in body
    assert "Noor Salon" in body
    assert "امسح للحجز" in body
    assert "Scan to book" in body
    svg = body[body.index("<svg") : body.index("</svg>") + 6]
    assert svg_modules(svg) == expected_modules("https://mawid.example/b/noor")
    assert svg_modules(svg) != expected_modules("https://mawid.example/b/noorx")
    assert "https://mawid.example/b/noor" in body
    assert "<script>" not in body
    assert " style=" not in body

    image = Client().get(f"/b/{business.slug}/qr.svg")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    assert "public" in image["Cache-Control"]
    assert "max-age=86400" in image["Cache-Control"]
    assert svg_modules(image.content.decode()) == expected_modules("https://mawid.example/b/noor")


def test_no_poster_for_an_unknown_or_inactive_business(pinned):
    BusinessFactory(slug="closed", is_active=False)
    for url in ["/b/nope/poster", "/b/nope/qr.svg", "/b/closed/poster", "/b/closed/qr.svg"]:
        assert Client().get(url).status_code == 404, url


# --- my bookings and the receipt ------------------------------------------------------------------------------


@pytest.fixture
def salon(pinned):
    business = BusinessFactory(slug="noor", name_en="Noor Salon", name_ar="صالون نور", vat_number="300000000000003")
    branch = business.branches.first()
    branch.address, branch.city = "Olaya Street 12", "Riyadh"
    branch.save()
    service = ServiceFactory(business=business, name_en="Haircut", price_amount=11500)  # 100 + 15% VAT
    staff = StaffFactory(business=business, services=[service], branch=branch)
    return business, service, staff


def book(salon, customer, *, hours: float, status: str = Booking.Status.CONFIRMED) -> Booking:
    _business, service, staff = salon
    start = PINNED + timedelta(hours=hours)
    return BookingFactory.create(customer=customer, service=service, staff=staff, start=start, status=status)


def pay(booking: Booking, *, refunded: int = 0) -> Payment:
    return Payment.objects.create(
        booking=booking, flow="token", status="refunded" if refunded else "captured", amount=booking.price_amount,
        authorized_amount=booking.price_amount, captured_amount=booking.price_amount, refunded_amount=refunded,
        card="visa 4111-11XX-XXXX-1111", provider_id=f"moyasar-{booking.pk}", is_booking_payment=True,
    )  # fmt: skip


def signed_in(user) -> Client:
    client = en()
    client.force_login(user)
    return client


def test_my_bookings_lists_upcoming_and_past_of_the_signed_in_customer_only(salon):
    me, other = UserFactory(), UserFactory()
    soon = book(salon, me, hours=26)
    done = book(salon, me, hours=-50, status=Booking.Status.COMPLETED)
    cancelled = book(salon, me, hours=30, status=Booking.Status.CANCELLED)
    pay(soon)
    theirs = book(salon, other, hours=28)
    body = signed_in(me).get("/my/bookings").content.decode()
    upcoming = body[body.index('data-testid="upcoming"') : body.index('data-testid="past"')]
    past = body[body.index('data-testid="past"') :]
    assert f'data-booking="{soon.pk}"' in upcoming
    assert f'href="/my/bookings/{soon.pk}"' in upcoming
    assert f'data-booking="{done.pk}"' in past
    assert f'data-booking="{cancelled.pk}"' in past
    assert f'data-booking="{theirs.pk}"' not in body
    assert "Paid 115 SAR" in upcoming
    assert "VISA •••• 1111" in upcoming
    assert "4111-11" not in body  # never more of the card than its last four digits
    assert "Haircut" in upcoming
    assert "Noor Salon" in upcoming
    assert "Olaya Street 12" in upcoming
    assert f"with {salon[2].display_name}" in upcoming


def test_a_manager_sees_only_their_own_bookings_as_a_customer(salon):
    business, *_ = salon
    manager, customer = UserFactory(), UserFactory()
    Membership.objects.create(business=business, user=manager, role=Membership.Role.MANAGER)
    theirs = book(salon, customer, hours=26)
    mine = book(salon, manager, hours=27)
    body = signed_in(manager).get("/my/bookings").content.decode()
    assert f'data-booking="{mine.pk}"' in body
    assert f'data-booking="{theirs.pk}"' not in body
    assert signed_in(manager).get(f"/my/bookings/{theirs.pk}/receipt").status_code == 404


def test_my_bookings_needs_a_sign_in_and_a_bounded_number_of_queries(salon, django_assert_max_num_queries):
    assert Client().get("/my/bookings")["Location"].startswith("/login")
    me = UserFactory()
    client = signed_in(me)
    for i in range(3):
        pay(book(salon, me, hours=24 + i))
    client.get("/my/bookings")
    with CaptureQueriesContext(connection) as few:
        client.get("/my/bookings")
    for i in range(12):
        pay(book(salon, me, hours=40 + i * 2))
        book(salon, me, hours=-40 - i * 2, status=Booking.Status.COMPLETED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/my/bookings").content.decode().count('data-testid="booking"') == 27


def test_the_receipt_shows_the_business_the_booking_and_the_payment(salon):
    me = UserFactory()
    booking = book(salon, me, hours=26)
    pay(booking, refunded=5000)
    page = signed_in(me).get(f"/my/bookings/{booking.pk}/receipt")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Noor Salon" in body
    assert 'data-testid="vat"><bdi dir="ltr">300000000000003' in body
    assert "Olaya Street 12" in body
    assert f"MW-{booking.pk:06d}" in body
    assert "Haircut" in body
    assert salon[2].display_name in body
    local = booking.start.astimezone(RIYADH)
    assert f"{local:%H:%M}" in body
    assert local.strftime("%B") in body
    assert 'data-testid="paid">115 SAR' in body
    assert 'data-testid="refunded">50 SAR' in body
    assert "VISA •••• 1111" in body
    assert "4111-11" not in body
    arabic = Client()
    arabic.force_login(me)
    assert "300000000000003" in arabic.get(f"/my/bookings/{booking.pk}/receipt").content.decode()


def test_the_receipt_is_the_owners_only(salon):
    me, other = UserFactory(), UserFactory()
    booking = book(salon, me, hours=26)
    assert signed_in(other).get(f"/my/bookings/{booking.pk}/receipt").status_code == 404
    assert signed_in(me).get("/my/bookings/999999/receipt").status_code == 404
    assert Client().get(f"/my/bookings/{booking.pk}/receipt")["Location"].startswith("/login")
    # a booking paid at the desk (no payment) still has its receipt
    assert "Pay at the business" in signed_in(me).get(f"/my/bookings/{booking.pk}/receipt").content.decode()
