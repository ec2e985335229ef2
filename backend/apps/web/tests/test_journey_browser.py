"""The whole customer journey in a real browser, against the running app, both provider fakes (Authentica for the
code, Moyasar's payment form, its 3-D Secure page and webhooks) and the real job worker, at phone and desktop size
in Arabic and English: search on the home page → the business → a service, anyone, a day and a time → sign in with
a one-time code → review → pay with 3-D Secure → the confirmation (add to calendar, share) → my bookings → cancel,
and the payment is voided at Moyasar and on the page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from apps.bookings.models import Booking
from apps.web.tests.browser import assert_accessible, assert_fits, screenshot
from apps.web.tests.test_booking_browser import book_to_review
from apps.web.tests.test_home_browser import result_slugs, search
from apps.web.tests.test_mybooking_browser import (
    VISA_3DS,
    assert_pay_page_accessible,
    fake_payment,
    pay_with_card,
    script_errors,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_search_book_sign_in_pay_with_3ds_then_cancel_and_the_payment_is_voided(
    demo, open_page, web, size, lang, tmp_path
):  # fmt: skip
    page = open_page(size=size, lang=lang)

    # the home page's search: the barber by its name in the page's language
    page.goto("/")
    search(page, q="حلاق البلد" if lang == "ar" else "balad barber")
    assert result_slugs(page) == ["jeddah-barber"]
    with page.expect_navigation():
        page.locator("[data-testid=result][data-slug=jeddah-barber]").click()
    assert page.url.endswith("/b/jeddah-barber")

    # the business page → haircut → anyone → tomorrow → a time → sign in (OTP) → review → confirm
    start = book_to_review(page, web, "0551230001")
    assert datetime.fromisoformat(start).strftime("%H:%M") in page.get_by_test_id("review-time").inner_text()
    with page.expect_navigation(url="**/my/bookings/*/pay"):
        page.get_by_test_id("confirm").click()
    booking = Booking.objects.get(customer__phone="+966551230001")
    assert (booking.status, booking.start) == (Booking.Status.PENDING_PAYMENT, datetime.fromisoformat(start))

    # pay: the payment form, 3-D Secure at the "bank", back to our verified return, the confirmation
    page.get_by_test_id("mysr-form").wait_for()
    assert page.get_by_test_id("hold").is_visible()
    assert_fits(page, lang)
    assert_pay_page_accessible(page, web)
    screenshot(page, f"pay-{lang}-{size}", tmp_path)
    pay_with_card(page, VISA_3DS)
    assert page.url.endswith(f"/my/bookings/{booking.pk}?paid=1")
    assert page.get_by_test_id("confirmed").is_visible()
    assert page.get_by_test_id("booking-detail").get_attribute("data-status") == "confirmed"
    assert page.get_by_test_id("payment-state").get_attribute("data-payment") == "authorized"
    assert fake_payment(web, booking)["status"] == "authorized"
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"journey-confirmed-{lang}-{size}", tmp_path)

    # add to calendar (a real .ics download) and share (the business's page)
    with page.expect_download() as download:
        page.get_by_test_id("add-to-calendar").click()
    (event,) = Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")
    assert str(event["UID"]).startswith(f"booking-{booking.pk}@")
    assert event.decoded("DTSTART") == booking.start
    assert str(event["URL"]).endswith(f"/my/bookings/{booking.pk}")
    assert page.get_by_test_id("share-link").get_attribute("href").endswith("/b/jeddah-barber")

    # my bookings: it is there, upcoming and confirmed; open it from the list
    page.goto("/my/bookings")
    card = page.get_by_test_id("upcoming").locator(f"[data-testid=booking][data-booking='{booking.pk}']")
    assert card.is_visible()
    assert_fits(page, lang)
    with page.expect_navigation():
        card.click()

    # cancel with a reason; the job voids the authorization at Moyasar; the page says so
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#cancel-reason", "Something came up")
    with page.expect_navigation():
        page.get_by_test_id("cancel").click()
    assert page.get_by_test_id("booking-detail").get_attribute("data-status") == "cancelled"
    web.run_jobs()
    assert fake_payment(web, booking)["status"] == "voided"
    page.reload()
    assert page.get_by_test_id("payment-state").get_attribute("data-payment") == "voided"
    assert_fits(page, lang)
    assert_accessible(page)
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (Booking.Status.CANCELLED, "Something came up")
    page.goto("/my/bookings")
    assert page.get_by_test_id("past").locator(f"[data-testid=booking][data-booking='{booking.pk}']").is_visible()
    assert not script_errors(web), web.pages
