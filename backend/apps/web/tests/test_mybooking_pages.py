# ruff: noqa: F401, F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""A customer's own booking through the Django test client: paying with the payment form's parameters (the
Moyasar fake as the provider, over real HTTP), the return from Moyasar verified on the server (a forged status
confirms nothing), the booking's page, its calendar file, cancel and reschedule within the business's rules, and
404 for every other customer on every address."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from django.test import Client
from icalendar import Calendar

from apps.bookings import services as bookings
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.tests.fixtures import at, branch, business, business_settings, day, service, staff, staff_details
from apps.payments.models import Payment
from apps.payments.providers.fake import MoyasarFake
from apps.payments.tests.fakes import moyasar_fake

pytestmark = pytest.mark.django_db(transaction=True)

RIYADH = ZoneInfo("Asia/Riyadh")
PINNED = datetime(2027, 1, 12, 9, 30, tzinfo=RIYADH)  # a Tuesday morning, as the browser tests
VISA_3DS = "4111111111111111"  # approved after 3-D Secure
VISA_DECLINED = "4123120001090109"  # declined by the bank after 3-D Secure


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(PINNED, tick=True):
        yield PINNED


@pytest.fixture
def fake(moyasar_fake: MoyasarFake, settings) -> MoyasarFake:
    settings.MOYASAR_BASE_URL = moyasar_fake.api_url
    settings.MOYASAR_SECRET_KEY = moyasar_fake.secret_key
    settings.MOYASAR_PUBLISHABLE_KEY = moyasar_fake.publishable_key
    settings.MOYASAR_LIVE = False
    settings.MOYASAR_CONNECT_TIMEOUT = settings.MOYASAR_READ_TIMEOUT = 2.0
    settings.PAYMENTS_CALLBACK_URL = "http://testserver/payments/return"
    return moyasar_fake


@pytest.fixture
def me(make_user):
    return make_user(name="Me")


@pytest.fixture
def stranger(make_user):
    return make_user(name="Someone else")


def signed_in(user, lang: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["mawid_lang"] = lang
    return client


@pytest.fixture
def pending(me, staff, service, at) -> Booking:
    """My booking at the salon in three days at 10:00, waiting for payment (10-minute hold)."""
    return bookings.booking_create(customer=me, staff_id=staff.pk, service=service, start=at("10:00"))


def form_config(response) -> dict:
    found = re.search(r'<script id="moyasar-config" type="application/json">(.*?)</script>', response.content.decode())
    assert found, "the payment form's configuration is on the page"
    return json.loads(found.group(1))


def browser_pays(fake: MoyasarFake, config: dict, number: str, *, approve: bool = True) -> str:
    """What the payment form does in the browser: create the payment with the publishable key (CORS), then the
    payer on the 3-D Secure page. Returns where Moyasar sends the browser (our callback URL)."""
    body = {
        "amount": config["amount"], "currency": config["currency"], "description": config["description"],
        "callback_url": config["callback_url"], "metadata": config["metadata"], "given_id": config["given_id"],
        "source": {"type": "creditcard", "name": "Test Payer", "number": number, "month": 12, "year": 2030,
                   "cvc": "123", "manual": config["manual"]},
    }  # fmt: skip
    answer = httpx.post(
        f"{fake.api_url}/payments", json=body, auth=(config["publishable_api_key"], ""),
        headers={"Origin": "http://testserver"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == "http://testserver"
    payment = answer.json()
    assert payment["status"] == "initiated"
    location = fake.complete_3ds(payment["id"], approve=approve)
    assert location is not None
    return location


def local_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


# --- only my own ----------------------------------------------------------------------------------------------


def test_every_address_of_my_booking_is_404_for_another_customer(fake, pending, stranger, me):
    other = signed_in(stranger)
    base = f"/my/bookings/{pending.pk}"
    for path in [base, f"{base}/pay", f"{base}/paid?id={uuid.uuid4()}", f"{base}/calendar.ics", f"{base}/reschedule",
                 f"{base}/receipt"]:  # fmt: skip
        assert other.get(path).status_code == 404, path
    assert other.post(f"{base}/cancel", {"reason": "mine now"}).status_code == 404
    assert other.post(f"{base}/reschedule", {"start": "2027-01-15T11:00:00+03:00"}).status_code == 404
    pending.refresh_from_db()
    assert (pending.status, pending.cancel_reason) == (Booking.Status.PENDING_PAYMENT, "")
    assert Payment.objects.count() == 0  # the pay page started nothing for them
    # signed out: the sign-in page, with the way back
    anonymous = Client().get(base)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login?next=")
    # and mine are mine
    assert signed_in(me).get(base).status_code == 200


def test_a_manager_of_the_business_gets_404_on_the_customers_pages(fake, pending, make_user):
    manager = make_user(role="manager")
    assert signed_in(manager).get(f"/my/bookings/{pending.pk}").status_code == 404


# --- paying ---------------------------------------------------------------------------------------------------


def test_the_pay_page_configures_the_payment_form_like_the_api(fake, pending, me, settings):
    response = signed_in(me).get(f"/my/bookings/{pending.pk}/pay")
    assert response.status_code == 200
    config = form_config(response)
    payment = Payment.objects.get(booking=pending)
    assert payment.status == Payment.Status.AWAITING_CLIENT
    assert config["given_id"] == str(payment.given_id)
    assert (config["amount"], config["currency"]) == (15000, "SAR")
    assert config["publishable_api_key"] == fake.publishable_key
    assert config["callback_url"] == f"http://testserver/my/bookings/{pending.pk}/paid"
    assert config["methods"] == ["creditcard"]
    assert config["manual"] is True
    assert config["metadata"] == {"booking_id": str(pending.pk), "payment_ref": str(payment.given_id)}
    body = response.content.decode()
    # the fake's form, allowed by the policy; no inline script
    assert f'src="{fake.base_url}/_fake/mpf/moyasar.js"' in body
    assert f'href="{fake.base_url}/_fake/mpf/moyasar.css"' in body
    policy = response["Content-Security-Policy"]
    assert f"script-src 'self' {fake.base_url}" in policy
    assert f"connect-src 'self' {fake.base_url}" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", body)
    # without JavaScript: the summary and what to do
    assert "Paying by card needs JavaScript" in body
    assert 'data-testid="hold"' in body
    assert "09:40" in body
    # the same attempt on a reload (one set of parameters per booking)
    assert form_config(signed_in(me).get(f"/my/bookings/{pending.pk}/pay"))["given_id"] == config["given_id"]


def test_the_fake_serves_the_form_and_refuses_the_secret_key_from_a_browser(fake):
    script = httpx.get(f"{fake.base_url}/_fake/mpf/moyasar.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "Moyasar = { init: init" in script.text
    assert httpx.get(f"{fake.base_url}/_fake/mpf/moyasar.css").headers["Content-Type"].startswith("text/css")
    preflight = httpx.request(
        "OPTIONS", f"{fake.api_url}/payments",
        headers={"Origin": "http://localhost:8000", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    # a browser may not read or change payments, nor use the secret key
    listing = httpx.get(f"{fake.api_url}/payments", auth=(fake.publishable_key, ""), headers={"Origin": "http://x"})
    assert listing.status_code == 403
    assert "Access-Control-Allow-Origin" not in listing.headers
    secret = httpx.post(f"{fake.api_url}/payments", json={}, auth=(fake.secret_key, ""), headers={"Origin": "http://x"})
    assert secret.status_code == 403
    assert fake.calls("create") == []


def test_a_deposit_booking_s_pay_page_asks_for_the_deposit_and_shows_the_balance(fake, me, staff, service, at):
    type(service).objects.filter(pk=service.pk).update(payment_policy="deposit", deposit_amount=4500)
    service.refresh_from_db()
    booking = bookings.booking_create(customer=me, staff_id=staff.pk, service=service, start=at("10:00"))
    response = signed_in(me).get(f"/my/bookings/{booking.pk}/pay")
    assert form_config(response)["amount"] == 4500
    body = response.content.decode()
    assert "Deposit to pay now" in body
    assert re.search(r'data-testid="amount">45 SAR<', body)
    page = signed_in(me).get(f"/my/bookings/{booking.pk}").content.decode()
    assert re.search(r'data-testid="due">150 SAR<', page)
    assert Payment.objects.get(booking=booking).purpose == "deposit"


def test_paying_with_3ds_confirms_the_booking(fake, pending, me):
    browser = signed_in(me)
    config = form_config(browser.get(f"/my/bookings/{pending.pk}/pay"))
    back = browser.get(local_path(browser_pays(fake, config, VISA_3DS)))
    assert back.status_code == 302
    assert back["Location"] == f"/my/bookings/{pending.pk}?paid=1"
    pending.refresh_from_db()
    assert pending.status == Booking.Status.CONFIRMED
    assert Payment.objects.get(booking=pending).status == Payment.Status.AUTHORIZED
    page = browser.get(back["Location"]).content.decode()
    assert 'data-testid="confirmed"' in page
    assert 'data-payment="authorized"' in page
    assert "Payment received. Your booking is confirmed." in page
    # paid: the pay page sends the customer back to the booking
    again = browser.get(f"/my/bookings/{pending.pk}/pay")
    assert again["Location"] == f"/my/bookings/{pending.pk}"
    assert "already paid" in browser.get(again["Location"]).content.decode()


def test_back_from_3ds_the_pay_page_hands_out_fresh_parameters(fake, pending, me):
    browser = signed_in(me)
    config = form_config(browser.get(f"/my/bookings/{pending.pk}/pay"))
    body = {
        "amount": config["amount"], "currency": "SAR", "callback_url": config["callback_url"],
        "metadata": config["metadata"], "given_id": config["given_id"],
        "source": {"type": "creditcard", "name": "Test Payer", "number": VISA_3DS, "month": 12, "year": 2030,
                   "cvc": "123", "manual": True},
    }  # fmt: skip
    made = httpx.post(f"{fake.api_url}/payments", json=body, auth=(fake.publishable_key, ""))
    assert made.json()["status"] == "initiated"
    # the payer goes back from the 3-D Secure page: the used set gives way to a fresh one
    again = form_config(browser.get(f"/my/bookings/{pending.pk}/pay"))
    assert again["given_id"] != config["given_id"]
    assert Payment.objects.get(given_id=config["given_id"]).status == Payment.Status.INITIATED
    # and the first one, approved after all in another tab, still confirms the booking
    back = browser.get(local_path(fake.complete_3ds(config["given_id"]) or ""))
    assert back["Location"] == f"/my/bookings/{pending.pk}?paid=1"
    assert browser.get(f"/my/bookings/{pending.pk}/pay")["Location"] == f"/my/bookings/{pending.pk}"


def test_a_form_without_our_given_id_is_found_by_its_metadata(fake, pending, me):
    browser = signed_in(me)
    config = form_config(browser.get(f"/my/bookings/{pending.pk}/pay"))
    body = {
        "amount": config["amount"], "currency": "SAR", "callback_url": config["callback_url"],
        "metadata": config["metadata"],
        "source": {"type": "creditcard", "name": "Test Payer", "number": VISA_3DS, "month": 12, "year": 2030,
                   "cvc": "123", "manual": True},
    }  # fmt: skip
    made = httpx.post(f"{fake.api_url}/payments", json=body, auth=(fake.publishable_key, "")).json()
    assert made["id"] != config["given_id"]
    back = browser.get(local_path(fake.complete_3ds(made["id"]) or ""))
    assert back["Location"] == f"/my/bookings/{pending.pk}?paid=1"
    assert Payment.objects.get(booking=pending, is_booking_payment=True).provider_id == made["id"]


def test_a_forged_status_in_the_return_address_does_not_confirm(fake, pending, me):
    browser = signed_in(me)
    config = form_config(browser.get(f"/my/bookings/{pending.pk}/pay"))
    location = browser_pays(fake, config, VISA_DECLINED)
    assert "status=failed" in location
    forged = local_path(location).replace("status=failed", "status=authorized").replace("DECLINED", "APPROVED")
    back = browser.get(forged)
    assert back["Location"] == f"/my/bookings/{pending.pk}?paid=0"
    pending.refresh_from_db()
    assert pending.status == Booking.Status.PENDING_PAYMENT
    assert Payment.objects.get(booking=pending).status == Payment.Status.FAILED
    page = browser.get(back["Location"]).content.decode()
    assert 'data-testid="payment-failed"' in page
    assert 'data-testid="confirmed"' not in page
    assert "DECLINED" in page
    assert f'href="/my/bookings/{pending.pk}/pay"' in page
    # ?paid=1 typed by hand shows no confirmation either
    assert 'data-testid="confirmed"' not in browser.get(f"/my/bookings/{pending.pk}?paid=1").content.decode()
    # the retry gets fresh parameters
    retry = form_config(browser.get(f"/my/bookings/{pending.pk}/pay"))
    assert retry["given_id"] != config["given_id"]


def test_a_made_up_or_someone_elses_payment_id_is_not_looked_up(fake, pending, me, stranger, staff, service, at):
    browser = signed_in(me)
    answer = browser.get(f"/my/bookings/{pending.pk}/paid?id={uuid.uuid4()}&status=paid")
    assert answer["Location"] == f"/my/bookings/{pending.pk}?paid=0"
    # a payment of another booking (its id is ours, but not this booking's)
    theirs = bookings.booking_create(customer=stranger, staff_id=staff.pk, service=service, start=at("12:00"))
    their_config = form_config(signed_in(stranger).get(f"/my/bookings/{theirs.pk}/pay"))
    answer = browser.get(f"/my/bookings/{pending.pk}/paid?id={their_config['given_id']}&status=paid")
    assert answer["Location"] == f"/my/bookings/{pending.pk}?paid=0"
    assert browser.get(f"/my/bookings/{pending.pk}/paid").status_code == 302  # no id at all: no 500
    assert fake.calls("fetch") == []
    pending.refresh_from_db()
    assert pending.status == Booking.Status.PENDING_PAYMENT


def test_the_pay_page_of_a_booking_that_can_no_longer_be_paid(fake, pending, me):
    bookings.booking_cancel(booking_id=pending.pk, actor=me)
    answer = signed_in(me).get(f"/my/bookings/{pending.pk}/pay", follow=True)
    assert answer.redirect_chain == [(f"/my/bookings/{pending.pk}", 302)]
    assert "This booking is not waiting for a payment." in answer.content.decode()
    assert Payment.objects.count() == 0


def test_a_hold_that_ran_out_cannot_be_paid_and_says_so(fake, me, staff, service, at):
    booking = BookingFactory.create(
        customer=me, staff=staff, service=service, start=at("11:00"), status=Booking.Status.PENDING_PAYMENT,
        hold_expires_at=PINNED - timedelta(minutes=1),
    )  # fmt: skip
    browser = signed_in(me)
    answer = browser.get(f"/my/bookings/{booking.pk}/pay", follow=True)
    assert answer.redirect_chain == [(f"/my/bookings/{booking.pk}", 302)]
    body = answer.content.decode()
    assert 'data-testid="hold-over"' in body
    assert 'data-testid="pay-now"' not in body
    assert Payment.objects.count() == 0


# --- the booking's page and its calendar file -----------------------------------------------------------------


def test_the_booking_page_shows_everything_in_a_bounded_number_of_queries(
    fake, me, staff, service, at, django_assert_max_num_queries
):  # fmt: skip
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    browser = signed_in(me)
    with django_assert_max_num_queries(14):
        page = browser.get(f"/my/bookings/{booking.pk}")
    body = page.content.decode()
    assert page.status_code == 200
    for text in ["Haircut", staff.display_name, "Salon", "11:00", "11:30", "Confirmed", "150 SAR",
                 "https://maps.google.com/?q=24.713600,46.675300", f"/my/bookings/{booking.pk}/calendar.ics",
                 f"/my/bookings/{booking.pk}/receipt", "http://testserver/b/salon", "Move to another time",
                 "Cancel booking"]:  # fmt: skip
        assert text in body, text
    arabic = signed_in(me, "ar").get(f"/my/bookings/{booking.pk}").content.decode()
    assert 'dir="rtl"' in arabic
    assert "قص شعر" in arabic
    assert "إلغاء الحجز" in arabic


@pytest.mark.parametrize(
    ("method", "scheme", "english", "arabic"),
    [
        ("stcpay", "", "STC Pay", "STC Pay"),
        ("card", "mada", "mada card", "بطاقة مدى"),
        ("applepay", "visa", "Apple Pay · Visa", "Apple Pay · فيزا"),
        ("form", "", "Online payment", "دفع إلكتروني"),
    ],
)
def test_the_booking_page_shows_the_payment_method(fake, me, staff, service, at, method, scheme, english, arabic):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    Payment.objects.create(
        booking=booking, flow="client" if method == "form" else "token", method=method, card_scheme=scheme,
        status="captured", amount=15000, authorized_amount=15000, captured_amount=15000, is_booking_payment=True,
    )  # fmt: skip
    page = signed_in(me).get(f"/my/bookings/{booking.pk}").content.decode()
    assert f'data-method="{method}" data-scheme="{scheme}">{english}</dd>' in page
    assert "Payment method" in page
    page = signed_in(me, "ar").get(f"/my/bookings/{booking.pk}").content.decode()
    assert f'data-method="{method}" data-scheme="{scheme}">{arabic}</dd>' in page
    assert "طريقة الدفع" in page


def test_the_calendar_file(fake, me, staff, service, at):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    answer = signed_in(me).get(f"/my/bookings/{booking.pk}/calendar.ics")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in answer["Content-Disposition"]
    assert answer.content.startswith(b"BEGIN:VCALENDAR\r\n")
    calendar = Calendar.from_ical(answer.content)
    assert calendar["VERSION"] == "2.0"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.pk}@127.0.0.1"
    assert event.decoded("DTSTART") == at("11:00").astimezone(UTC)
    assert event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") == at("11:30").astimezone(UTC)
    assert b"DTSTART:20270115T080000Z" in answer.content
    assert str(event["SUMMARY"]) == "Haircut · Salon"
    assert "King Fahd Road" in str(event["LOCATION"])
    assert str(event["URL"]) == f"http://testserver/my/bookings/{booking.pk}"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert answer["Cache-Control"] == "private, no-cache"


def test_the_calendar_file_of_a_moved_then_cancelled_booking(fake, me, staff, service, at):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    bookings.booking_reschedule(booking_id=booking.pk, start=at("12:00"), actor=me)
    bookings.booking_cancel(booking_id=booking.pk, actor=me)
    answer = signed_in(me).get(f"/my/bookings/{booking.pk}/calendar.ics")
    calendar = Calendar.from_ical(answer.content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.pk}@127.0.0.1"
    assert (event["SEQUENCE"], str(event["STATUS"]), str(calendar["METHOD"])) == (2, "CANCELLED", "CANCEL")
    assert event.decoded("DTSTART") == at("12:00").astimezone(UTC)


# --- cancel ---------------------------------------------------------------------------------------------------


def test_cancel_before_the_cut_off_with_a_reason(fake, me, staff, service, at):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    browser = signed_in(me)
    answer = browser.post(f"/my/bookings/{booking.pk}/cancel", {"reason": "I am travelling"}, follow=True)
    assert answer.redirect_chain == [(f"/my/bookings/{booking.pk}", 302)]
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == (Booking.Status.CANCELLED, "I am travelling")
    body = answer.content.decode()
    assert "Your booking is cancelled." in body
    assert 'data-testid="cancel"' not in body  # nothing left to cancel
    assert browser.get(f"/my/bookings/{booking.pk}/cancel").status_code == 405


def test_cancel_after_the_cut_off_says_the_fee_first(fake, me, staff, service, business):
    tomorrow = PINNED + timedelta(hours=20)  # the salon's cut-off is 24 hours
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=tomorrow)
    Payment.objects.create(
        booking=booking,
        flow="token",
        status="authorized",
        amount=15000,
        authorized_amount=15000,
        is_booking_payment=True,
    )
    type(business).objects.filter(pk=business.pk).update(late_cancel_fee_amount=2500)
    browser = signed_in(me)
    page = browser.get(f"/my/bookings/{booking.pk}").content.decode()
    assert 'data-testid="late-fee"' in page
    assert "the business keeps 25 SAR as its late-cancellation fee and 125 SAR is released or refunded" in page
    assert "Cancel and pay the 25 SAR fee" in page
    too_long = browser.post(f"/my/bookings/{booking.pk}/cancel", {"reason": "x" * 501}, follow=True)
    assert "The reason is too long" in too_long.content.decode()
    answer = browser.post(f"/my/bookings/{booking.pk}/cancel", {"reason": "late"}, follow=True)
    assert answer.status_code == 200
    assert "The business keeps 25 SAR as its late-cancellation fee." in answer.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert Payment.objects.get(booking=booking).cancellation_fee == 2500


def test_cancel_once_it_started_is_refused_with_a_message(fake, me, staff, service):
    started = PINNED - timedelta(minutes=10)
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=started)
    browser = signed_in(me)
    page = browser.get(f"/my/bookings/{booking.pk}").content.decode()
    assert 'data-testid="cancel"' not in page
    answer = browser.post(f"/my/bookings/{booking.pk}/cancel", {"reason": "late"}, follow=True)
    assert answer.status_code == 200
    assert "It is too late to cancel this booking online." in answer.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancel_needs_the_csrf_token(fake, me, staff, service, at):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(me)
    assert strict.post(f"/my/bookings/{booking.pk}/cancel", {"reason": "csrf"}).status_code == 403
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


# --- reschedule -----------------------------------------------------------------------------------------------


def test_reschedule_to_a_free_time_and_to_a_taken_one(fake, me, stranger, staff, service, at, day):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=at("11:00"))
    browser = signed_in(me)
    page = browser.get(f"/my/bookings/{booking.pk}/reschedule", {"date": day.isoformat()})
    assert page.status_code == 200
    starts = re.findall(r'data-start="([^"]+)"', page.content.decode())
    assert "2027-01-15T09:00:00+03:00" in starts
    assert "2027-01-15T11:00:00+03:00" not in starts  # where it is now
    # a free time
    moved = browser.post(f"/my/bookings/{booking.pk}/reschedule", {"start": "2027-01-15T14:00:00+03:00"}, follow=True)
    assert moved.redirect_chain == [(f"/my/bookings/{booking.pk}", 302)]
    booking.refresh_from_db()
    assert booking.start == at("14:00")
    assert "Your booking is moved to" in moved.content.decode()
    # a time someone took meanwhile
    BookingFactory.create(customer=stranger, staff=staff, service=service, start=at("15:00"))
    taken = browser.post(f"/my/bookings/{booking.pk}/reschedule", {"start": "2027-01-15T15:00:00+03:00"}, follow=True)
    assert taken.redirect_chain == [(f"/my/bookings/{booking.pk}/reschedule?date=2027-01-15", 302)]
    body = taken.content.decode()
    assert "This time was just taken. Here are the free times now." in body
    assert "2027-01-15T15:00:00+03:00" not in re.findall(r'data-start="([^"]+)"', body)
    booking.refresh_from_db()
    assert booking.start == at("14:00")
    # nonsense is a message, not a 500
    for bad in ["", "tomorrow", "2027-01-15T15:00:00", "2027-02-30T10:00:00+03:00", "9" * 60]:
        answer = browser.post(f"/my/bookings/{booking.pk}/reschedule", {"start": bad}, follow=True)
        assert answer.status_code == 200, bad
    assert browser.get(f"/my/bookings/{booking.pk}/reschedule", {"date": "not-a-date"}).status_code == 200


def test_reschedule_after_the_cut_off_is_refused(fake, me, staff, service):
    booking = BookingFactory.create(customer=me, staff=staff, service=service, start=PINNED + timedelta(hours=20))
    browser = signed_in(me)
    page = browser.get(f"/my/bookings/{booking.pk}/reschedule", follow=True)
    assert "This booking cannot be moved online." in page.content.decode()
    answer = browser.post(
        f"/my/bookings/{booking.pk}/reschedule", {"start": (PINNED + timedelta(days=3)).isoformat()}, follow=True
    )
    assert answer.status_code == 200
    assert "It is too late to move this booking online." in answer.content.decode()
    booking.refresh_from_db()
    assert booking.start == PINNED + timedelta(hours=20)


def test_the_booking_pages_show_the_hijri_date_beside_the_gregorian_one(fake, me, staff, service):
    # Thursday 14 January 2027 is 6 Sha'ban 1448 (Umm al-Qura)
    booking = BookingFactory.create(
        customer=me, staff=staff, service=service, start=datetime(2027, 1, 14, 11, 0, tzinfo=RIYADH)
    )
    page = signed_in(me).get(f"/my/bookings/{booking.pk}").content.decode()
    assert 'data-testid="date">Thursday 14 January 2027</dd>' in page
    assert "<dt>Hijri date</dt>" in page
    assert 'data-testid="hijri">6 Sha&#x27;ban 1448 AH</dd>' in page
    arabic = signed_in(me, "ar").get(f"/my/bookings/{booking.pk}").content.decode()
    assert "<dt>التاريخ الهجري</dt>" in arabic
    assert 'data-testid="hijri">6 شعبان 1448 هـ</dd>' in arabic
    listed = signed_in(me).get("/my/bookings").content.decode()
    assert 'data-testid="hijri">6 Sha&#x27;ban 1448 AH</span>' in listed
    receipt = signed_in(me, "ar").get(f"/my/bookings/{booking.pk}/receipt").content.decode()
    assert 'data-testid="hijri">6 شعبان 1448 هـ</dd>' in receipt
