"""In a real browser, at phone and desktop size, in Arabic and English: the home page's search (an Arabic name
typed with other letter forms, a city, a category, near me from the browser's location), each result's next free
time; the printable poster; my bookings (the signed-in customer's only) and the receipt. Every page passes axe-core
and fits its screen in its direction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Business, Service, Staff
from apps.payments.models import Payment
from apps.web.tests.browser import assert_accessible, assert_fits, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def result_slugs(page) -> list[str]:
    return page.locator("[data-testid=result]").evaluate_all("els => els.map(e => e.dataset.slug)")


def search(page, **fields) -> None:
    if "q" in fields:
        page.fill("[data-testid=search-q]", fields["q"])
    if "city" in fields:
        page.select_option("[data-testid=search-city]", fields["city"])
    if "category" in fields:
        page.select_option("[data-testid=search-category]", fields["category"])
    with page.expect_navigation():
        page.click("[data-testid=search-submit]")


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_home_finds_businesses_by_name_city_and_category(demo, open_page, size, lang, tmp_path):
    page = open_page(size=size, lang=lang)
    page.goto("/")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"home-{lang}-{size}", tmp_path)
    assert len(result_slugs(page)) == 4
    first = page.locator("[data-testid=result]").first
    assert first.get_by_test_id("next-available").is_visible()
    assert ("اليوم" if lang == "ar" else "Today") in first.get_by_test_id("next-available").inner_text()

    search(page, q="عياده ابتسامه")  # written "عيادة ابتسامة": ه for ة, as people type it
    assert result_slugs(page) == ["dammam-dental"]
    search(page, q="لطب الاسنان")  # "الأسنان" without its hamza
    assert result_slugs(page) == ["dammam-dental"]
    assert_fits(page, lang)

    search(page, q="", city="جده")
    assert result_slugs(page) == ["jeddah-barber"]
    assert page.locator("[data-testid=search-city]").input_value() == "جده"  # the choice is kept
    search(page, city="", category="salon")
    assert result_slugs(page) == ["noor-salon"]

    search(page, q="لا يوجد شيء بهذا الاسم", category="")
    assert page.get_by_test_id("empty").is_visible()
    assert_accessible(page)
    assert_fits(page, lang)


@pytest.mark.parametrize(("size", "lang"), [("phone", "ar"), ("desktop", "en")])
def test_near_me_uses_the_browsers_location_nearest_first(demo, open_page, web, size, lang, tmp_path):
    page = open_page(size=size, lang=lang)
    page.context.grant_permissions(["geolocation"], origin=web.base_url)
    page.context.set_geolocation({"latitude": 24.8246, "longitude": 46.6396})  # at Raha's base in Al Yasmin
    page.goto("/")
    with page.expect_navigation():
        page.get_by_test_id("near-me").click()
    assert "lat=24.82460" in page.url
    # by name the salon comes first; nearest first, the home-care base (0 km) before the salon's Malqa (~3 km)
    assert result_slugs(page) == ["riyadh-home-care", "noor-salon"]
    distances = page.get_by_test_id("distance").all_inner_texts()
    assert any(ch.isascii() and ch.isdigit() for ch in distances[0])  # Western digits in both languages
    assert page.get_by_test_id("near-on").is_visible()
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"home-near-{lang}-{size}", tmp_path)
    page.get_by_test_id("near-on").click()  # back to every business
    page.wait_for_load_state()
    assert len(result_slugs(page)) == 4
    assert not web.pages, web.pages


def test_without_javascript_the_city_choice_still_works(demo, open_page):
    page = open_page(lang="ar", javascript=False)
    page.goto("/")
    assert not page.get_by_test_id("near-me").is_visible()  # it needs the browser's location: hidden
    search(page, city="الرياض")
    assert set(result_slugs(page)) == {"noor-salon", "riyadh-home-care"}


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_poster_renders_fits_and_prints_on_one_a4_page(demo, open_page, web, lang, tmp_path):
    page = open_page(size="phone", lang=lang)
    page.goto("/b/noor-salon/poster")
    assert_fits(page, lang)
    assert_accessible(page)
    poster = page.get_by_test_id("poster")
    assert "صالون نور للتجميل" in poster.inner_text()
    assert "Noor Beauty Salon" in poster.inner_text()
    qr = page.locator("[data-testid=qr] svg")
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 250  # big enough to scan from the street
    assert page.get_by_test_id("print").is_visible()
    screenshot(page, f"poster-{lang}-phone", tmp_path)
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_test_id("print").is_visible()
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1
    (tmp_path / f"poster-{lang}.pdf").write_bytes(pdf)
    assert not web.pages, web.pages


def _my_bookings(phone: str) -> tuple[User, list[Booking]]:
    """Three bookings of the customer at the salon (coming, coming and paid by card, done) and the salon's VAT
    number; the demo's other customers have many more."""
    me = User.objects.create_user(phone=phone, name="Test Customer", language="ar")
    business = Business.objects.get(slug="noor-salon")
    business.vat_number = "300000000000003"
    business.save()
    service = Service.objects.filter(business=business, name_en="Manicure").get()
    staff = Staff.objects.filter(business=business, services=service).order_by("id").first()
    base = Booking.objects.filter(staff=staff).order_by("-start").values_list("start", flat=True).first()
    assert base is not None
    later = base + timedelta(days=1)  # after every demo booking of this staff member: no overlap
    mine = [
        BookingFactory.create(customer=me, service=service, staff=staff, start=later),
        BookingFactory.create(customer=me, service=service, staff=staff, start=later + timedelta(hours=2)),
        BookingFactory.create(
            customer=me, service=service, staff=staff, start=later - timedelta(days=30),
            status=Booking.Status.COMPLETED,
        ),
    ]  # fmt: skip
    Payment.objects.create(
        booking=mine[1], flow="token", status="captured", amount=8000, authorized_amount=8000, captured_amount=8000,
        card="mada 4201-32XX-XXXX-0004", provider_id="moyasar-test-1", is_booking_payment=True,
    )  # fmt: skip
    return me, mine


@pytest.mark.parametrize(("size", "lang"), [("phone", "ar"), ("phone", "en"), ("desktop", "ar")])
def test_my_bookings_and_the_receipt(demo, open_page, web, size, lang, tmp_path):
    me, mine = _my_bookings("+966551234567")
    page = open_page(size=size, lang=lang)
    sign_in(page, web, "0551234567")
    page.goto("/my/bookings")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"my-bookings-{lang}-{size}", tmp_path)
    upcoming = page.get_by_test_id("upcoming").locator("[data-testid=booking]")
    past = page.get_by_test_id("past").locator("[data-testid=booking]")
    assert upcoming.evaluate_all("els => els.map(e => +e.dataset.booking)") == [mine[0].pk, mine[1].pk]
    assert past.evaluate_all("els => els.map(e => +e.dataset.booking)") == [mine[2].pk]
    assert upcoming.nth(1).get_attribute("href") == f"/my/bookings/{mine[1].pk}"
    assert "•••• 0004" in upcoming.nth(1).inner_text()

    page.goto(f"/my/bookings/{mine[1].pk}/receipt")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"receipt-{lang}-{size}", tmp_path)
    receipt = page.get_by_test_id("receipt")
    assert ("صالون نور للتجميل" if lang == "ar" else "Noor Beauty Salon") in receipt.inner_text()
    assert page.get_by_test_id("vat").inner_text() == "300000000000003"
    assert page.get_by_test_id("paid").inner_text() == ("80 ر.س" if lang == "ar" else "80 SAR")
    assert "0004" in page.get_by_test_id("method").inner_text()
    assert page.get_by_test_id("print").is_visible()
    other = Booking.objects.exclude(customer=me).first()
    assert page.goto(f"/my/bookings/{other.pk}/receipt").status == 404
    assert not [e for e in web.pages if "404" not in e[1]], web.pages
