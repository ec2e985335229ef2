"""In a real browser: the business page and the booking flow up to the payment page, with JavaScript off (phone,
Arabic) and on (desktop, English); two customers racing for one time; every step passes axe-core and fits its
screen in its direction, in both languages and at both sizes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from apps.bookings.models import Booking
from apps.catalog.models import Service, Staff
from apps.web.tests.browser import assert_accessible, assert_fits, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def tomorrow(web) -> str:
    return (web.today + timedelta(days=1)).isoformat()


def haircut() -> Service:
    return Service.objects.get(business__slug="jeddah-barber", name_en="Haircut")


def book_to_review(page, web, phone: str) -> str:
    """Business page → the haircut → anyone → tomorrow → the first time → sign in → the review page. Returns
    the chosen start (ISO, Riyadh time)."""
    page.goto("/b/jeddah-barber")
    page.locator(f"[data-testid=service][data-service='{haircut().pk}'] [data-testid=book-service]").click()
    page.get_by_test_id("choose-anyone").first.click()
    page.locator(f"[data-testid=date-strip] a[data-date='{tomorrow(web)}']").click()
    page.get_by_test_id("times-date").wait_for()
    first = page.get_by_test_id("time").first
    page.wait_for_function(
        "d => document.querySelector('[data-testid=time]') && "
        "document.querySelector('[data-testid=time]').dataset.start.startsWith(d)", arg=tomorrow(web)
    )
    start = first.get_attribute("data-start")
    first.click()
    page.wait_for_url("**/login?next=**")
    sign_in(page, web, phone)
    page.wait_for_url("**/book/review?**")
    return start


@pytest.mark.parametrize(("size", "lang", "javascript"), [("phone", "ar", False), ("desktop", "en", True)])
def test_a_booking_from_the_business_page_to_the_payment_page(demo, open_page, size, lang, javascript):
    page = open_page(size=size, lang=lang, javascript=javascript)
    start = book_to_review(page, demo, "0551110001")
    assert page.get_by_test_id("review-price").inner_text().startswith("80 ")
    assert datetime.fromisoformat(start).strftime("%H:%M") in page.get_by_test_id("review-time").inner_text()
    page.get_by_test_id("confirm").click()
    page.wait_for_url("**/my/bookings/*/pay")
    booking = Booking.objects.get(customer__phone="+966551110001")
    assert page.url.endswith(f"/my/bookings/{booking.pk}/pay")
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.start == datetime.fromisoformat(start)
    assert booking.service_id == haircut().pk


def test_two_customers_racing_for_one_time(demo, open_page, tmp_path):
    service = haircut()
    khalid = Staff.objects.get(business__slug="jeddah-barber", display_name="Khalid")
    times = f"/b/jeddah-barber/book?service={service.pk}&staff={khalid.pk}&date={tomorrow(demo)}"
    first, second = open_page(size="desktop", lang="en"), open_page(size="phone", lang="ar")
    for page, phone in [(first, "0551110002"), (second, "0551110003")]:
        page.goto(times)
        page.get_by_test_id("time").first.click()
        page.wait_for_url("**/login?next=**")
        sign_in(page, demo, phone)
        page.wait_for_url("**/book/review?**")
    start = first.url.split("start=")[1][:16]
    assert second.url.split("start=")[1][:16] == start
    first.get_by_test_id("confirm").click()
    first.wait_for_url("**/my/bookings/*/pay")
    second.get_by_test_id("confirm").click()
    second.get_by_test_id("taken").wait_for()
    assert "حُجز هذا الوقت للتو" in second.get_by_test_id("taken").inner_text()
    taken = Booking.objects.get(customer__phone="+966551110002").start.astimezone(demo.now.tzinfo).isoformat()
    nearest = second.get_by_test_id("nearest-time").evaluate_all("els => els.map(e => e.dataset.start)")
    offered = second.get_by_test_id("time").evaluate_all("els => els.map(e => e.dataset.start)")
    assert nearest
    assert taken not in nearest
    assert taken not in offered
    assert not Booking.objects.filter(customer__phone="+966551110003").exists()
    assert_accessible(second)
    assert_fits(second, "ar")
    screenshot(second, "taken-ar-phone", tmp_path)
    # one of the nearest times can be had
    second.get_by_test_id("nearest-time").first.click()
    second.wait_for_url("**/book/review?**")
    second.get_by_test_id("confirm").click()
    second.wait_for_url("**/my/bookings/*/pay")
    assert Booking.objects.get(customer__phone="+966551110003").start.isoformat() != taken


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_business_page_times_and_review_are_accessible_and_fit(demo, open_page, size, lang, tmp_path):
    page = open_page(size=size, lang=lang)
    page.goto("/b/noor-salon")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"business-{lang}-{size}", tmp_path)
    service = Service.objects.get(business__slug="noor-salon", name_en="Haircut and styling")
    lama = Staff.objects.get(business__slug="noor-salon", display_name="Lama")
    page.goto(f"/b/noor-salon/book?service={service.pk}")
    assert_fits(page, lang)
    assert_accessible(page)
    page.goto(f"/b/noor-salon/book?service={service.pk}&staff={lama.pk}&date={tomorrow(demo)}")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"times-{lang}-{size}", tmp_path)
    # another date swaps the times in place (JavaScript on)
    later = (demo.today + timedelta(days=2)).isoformat()
    page.evaluate("() => { window.sameDocument = true; }")
    page.locator(f"[data-testid=date-strip] a[data-date='{later}']").click()
    page.wait_for_function(
        "d => [...document.querySelectorAll('[data-testid=time]')].every(e => e.dataset.start.startsWith(d))",
        arg=later,
    )
    assert page.url.endswith(f"date={later}")
    assert page.evaluate("() => window.sameDocument === true")  # swapped in place, not loaded again
    assert page.locator("[data-testid=date-strip] a[aria-current=date]").get_attribute("data-date") == later
    page.get_by_test_id("time").first.click()
    page.wait_for_url("**/login?next=**")
    sign_in(page, demo, "0551110009")
    page.wait_for_url("**/book/review?**")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"review-{lang}-{size}", tmp_path)
    assert not demo.pages, demo.pages
