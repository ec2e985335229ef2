"""In a real browser, against the running app and the Moyasar fake (its payment form, its 3-D Secure page): a
declined card explains itself and the retry pays; a bad card number is caught in the form; the pay page without
JavaScript; moving a booking. (Paying with 3-D Secure, the confirmation, the .ics, cancelling and the void are in
the whole customer journey, test_journey_browser.py.) The helpers here are shared with it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from apps.accounts.models import User
from apps.bookings import services as bookings
from apps.bookings.models import Booking
from apps.catalog.models import Business, Service, Staff
from apps.catalog.selectors import slot_list_available
from apps.payments.models import Payment
from apps.web.tests.browser import assert_accessible, assert_fits, screenshot, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

VISA_3DS = "4111111111111111"  # approved after the 3-D Secure challenge
VISA_DECLINED = "4123120001090109"  # the bank declines it after the challenge


def pending_booking(web, phone: str, lang: str) -> Booking:
    """A booking at the demo salon two days from the pinned today, waiting for payment, made with the bookings
    service (as the booking flow does) for a new customer."""
    me = User.objects.create_user(phone=phone, name="Test Customer", language=lang)
    business = Business.objects.get(slug="noor-salon")
    service = Service.objects.filter(business=business, name_en="Manicure").get()
    staff = Staff.objects.filter(business=business, services=service, is_active=True).order_by("id").first()
    assert staff is not None
    day = web.today + timedelta(days=2)
    slots = slot_list_available(staff=staff, service=service, date_from=day, date_to=day).slots
    assert slots, "the salon has free times that day"
    booking = bookings.booking_create(customer=me, staff_id=staff.pk, service=service, start=slots[0].start)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    return booking


def pay_with_card(page, number: str) -> None:
    """Fill the payment form (the fake's equivalent of Moyasar's) and approve on the 3-D Secure page."""
    form = page.get_by_test_id("mysr-form")
    form.wait_for()
    page.get_by_test_id("mysr-name").fill("Test Payer")
    page.get_by_test_id("mysr-number").fill(number)
    page.get_by_test_id("mysr-expiry").fill("12/30")
    page.get_by_test_id("mysr-cvc").fill("123")
    with page.expect_navigation(url="**/_fake/3ds/**"):
        page.get_by_test_id("mysr-pay").click()
    with page.expect_navigation(url="**/my/bookings/*"):
        page.locator("#approve").click()


def fake_payment(web, booking: Booking) -> dict:
    payment = Payment.objects.filter(booking=booking).exclude(provider_id=None).order_by("-id").first()
    assert payment is not None
    return web.moyasar.payment(payment.provider_id)


def script_errors(web) -> list:
    return list(web.pages)


def assert_pay_page_accessible(page, web) -> None:
    """axe-core on the pay page. To read the payment form's cross-origin stylesheet axe fetches it and parses it in
    a <style> element of its own, which the page's policy (rightly) refuses: that one console message is axe's,
    not the page's, and is dropped; any other stays."""
    before = len(web.pages)
    assert_accessible(page)
    web.pages[before:] = [e for e in web.pages[before:] if not e[1].startswith("Applying inline style violates")]


@pytest.mark.parametrize(("size", "lang"), [("phone", "ar"), ("desktop", "en")])
def test_a_declined_card_explains_itself_and_the_retry_pays(demo, open_page, web, size, lang, tmp_path):
    booking = pending_booking(web, "+966551234568", lang)
    page = open_page(size=size, lang=lang)
    sign_in(page, web, "0551234568")
    page.goto(f"/my/bookings/{booking.pk}/pay")
    pay_with_card(page, VISA_DECLINED)

    assert page.url.endswith(f"/my/bookings/{booking.pk}?paid=0")
    failed = page.get_by_test_id("payment-failed")
    assert failed.is_visible()
    assert page.get_by_test_id("failure-reason").inner_text() == "DECLINED"
    assert page.get_by_test_id("confirmed").count() == 0
    assert page.get_by_test_id("booking-detail").get_attribute("data-status") == "pending_payment"
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"payment-failed-{lang}-{size}", tmp_path)

    with page.expect_navigation():
        page.get_by_test_id("retry").click()
    assert page.url.endswith(f"/my/bookings/{booking.pk}/pay")
    pay_with_card(page, VISA_3DS)
    assert page.get_by_test_id("confirmed").is_visible()
    assert page.get_by_test_id("booking-detail").get_attribute("data-status") == "confirmed"
    assert not script_errors(web), web.pages


def test_a_bad_card_number_is_explained_in_the_form_before_anything_is_sent(demo, open_page, web):
    booking = pending_booking(web, "+966551234569", "en")
    page = open_page(size="phone", lang="en")
    sign_in(page, web, "0551234569")
    page.goto(f"/my/bookings/{booking.pk}/pay")
    page.get_by_test_id("mysr-form").wait_for()
    page.get_by_test_id("mysr-name").fill("Test")
    page.get_by_test_id("mysr-number").fill("4111 1111 1111 1112")
    page.get_by_test_id("mysr-pay").click()
    assert page.get_by_test_id("mysr-number").get_attribute("aria-invalid") == "true"
    assert page.get_by_text("Enter a valid card number.").is_visible()
    assert page.get_by_text("Enter the first and last name on the card.").is_visible()
    assert_pay_page_accessible(page, web)
    assert web.moyasar.calls("create") == []
    assert not script_errors(web), web.pages


def test_without_javascript_the_pay_page_says_what_is_needed(demo, open_page, web):
    booking = pending_booking(web, "+966551234570", "ar")
    page = open_page(size="phone", lang="ar", javascript=False)
    sign_in(page, web, "0551234570")
    page.goto(f"/my/bookings/{booking.pk}/pay")
    assert page.get_by_test_id("summary").is_visible()
    assert page.get_by_test_id("needs-js").is_visible()
    assert page.get_by_test_id("mysr-form").count() == 0
    assert_fits(page, "ar")
    # the booking's page works without it: the cancel form posts
    page.goto(f"/my/bookings/{booking.pk}")
    with page.expect_navigation():
        page.get_by_test_id("cancel").click()
    assert page.get_by_test_id("booking-detail").get_attribute("data-status") == "cancelled"


@pytest.mark.parametrize(("size", "lang"), [("phone", "ar")])
def test_move_a_confirmed_booking_to_another_free_time(demo, open_page, web, size, lang, tmp_path):
    booking = pending_booking(web, "+966551234571", lang)
    bookings.booking_confirm(booking_id=booking.pk)  # paid at the desk, say
    page = open_page(size=size, lang=lang)
    sign_in(page, web, "0551234571")
    page.goto(f"/my/bookings/{booking.pk}")
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"booking-{lang}-{size}", tmp_path)
    with page.expect_navigation():
        page.get_by_test_id("reschedule").click()
    assert_fits(page, lang)
    assert_accessible(page)
    screenshot(page, f"booking-move-{lang}-{size}", tmp_path)
    day = (web.today + timedelta(days=3)).isoformat()
    with page.expect_navigation():
        page.locator(f"[data-testid=days] a[data-date='{day}']").click()
    first = page.locator("[data-testid=times] button").first
    new_start = first.get_attribute("data-start")
    with page.expect_navigation():
        first.click()
    assert page.url.endswith(f"/my/bookings/{booking.pk}")
    booking.refresh_from_db()
    assert booking.start == datetime.fromisoformat(new_start)
    assert page.get_by_test_id("booking-detail").get_attribute("data-status") == "confirmed"
    assert not script_errors(web), web.pages
