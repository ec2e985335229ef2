"""Calendar files (apps/bookings/calendar_feed.py): one booking's `.ics` for its customer (the API download; the
web page's is in apps/web/tests/test_mybooking_pages.py) and a staff member's private, revocable feed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from apps.accounts.tests.factories import UserFactory
from apps.bookings import calendar_feed, services
from apps.bookings.models import Booking, CalendarFeedToken
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
S = Booking.Status
FEED = "/api/v1/manage/me/calendar-feed"


def _event(content: bytes):
    calendar = Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _ics(client, booking):
    response = client.get(f"/api/v1/bookings/{booking.pk}/ics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    return _event(response.content)


# --- one booking's file ---------------------------------------------------------------------------------------


def test_the_file_keeps_its_uid_across_a_reschedule_and_is_cancelled_on_cancellation(
    auth_client, customer, staff, service, at
):
    booking = BookingFactory.create(customer=customer, staff=staff, service=service, start=at("10:00"))
    client = auth_client(customer)

    calendar, event = _ics(client, booking)
    assert str(calendar["METHOD"]) == "PUBLISH"
    uid = str(event["UID"])
    assert uid == f"booking-{booking.pk}@127.0.0.1"
    assert (event["SEQUENCE"], str(event["STATUS"])) == (0, "CONFIRMED")
    assert event.decoded("DTSTART") == at("10:00")

    services.booking_reschedule(booking_id=booking.pk, start=at("11:00"), actor=customer)
    _calendar, event = _ics(client, booking)
    assert str(event["UID"]) == uid
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == at("11:00")
    assert event.decoded("DTEND") == at("11:30")

    services.booking_reschedule(booking_id=booking.pk, start=at("12:00"), actor=customer)
    assert _ics(client, booking)[1]["SEQUENCE"] == 2

    services.booking_cancel(booking_id=booking.pk, actor=customer, reason="travel")
    calendar, event = _ics(client, booking)
    assert str(event["UID"]) == uid
    assert event["SEQUENCE"] == 3
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(calendar["METHOD"]) == "CANCEL"


def test_a_pending_booking_is_tentative_and_its_confirmation_is_a_change(auth_client, customer, staff, service, at):
    booking = BookingFactory.create(
        customer=customer, staff=staff, service=service, start=at("10:00"), status=S.PENDING_PAYMENT
    )
    _calendar, event = _ics(auth_client(customer), booking)
    assert (event["SEQUENCE"], str(event["STATUS"])) == (0, "TENTATIVE")
    services.booking_confirm(booking_id=booking.pk)
    _calendar, event = _ics(auth_client(customer), booking)
    assert (event["SEQUENCE"], str(event["STATUS"])) == (1, "CONFIRMED")


def test_only_the_customer_downloads_the_file(auth_client, customer, other_customer, manager, staff, service, at):
    booking = BookingFactory.create(customer=customer, staff=staff, service=service, start=at("10:00"))
    url = f"/api/v1/bookings/{booking.pk}/ics"
    for someone in (other_customer, manager, staff.user):
        response = auth_client(someone).get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert auth_client(customer).get("/api/v1/bookings/999999/ics").status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().get(url).status_code == 401


# --- the staff member's feed ----------------------------------------------------------------------------------


@pytest.fixture
def noura():
    return UserFactory.create(name="Noura Al-Qahtani", phone="+966512345678", email="noura@example.com")


def _feed_url(auth_client, staff) -> str:
    response = auth_client(staff.user).post(FEED)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["active"] is True
    assert body["url"].startswith("http://127.0.0.1:8000/feeds/staff/")
    assert body["url"].endswith(".ics")
    return body["url"].removeprefix("http://127.0.0.1:8000")


def test_the_feed_shows_first_names_and_services_only(client, auth_client, noura, staff, other_staff, service, at):
    mine = BookingFactory.create(
        customer=noura, staff=staff, service=service, start=at("10:00"), notes="Allergic to henna",
        customer_address="12 Secret Street",
    )  # fmt: skip
    cancelled = BookingFactory.create(customer=noura, staff=staff, service=service, start=at("12:00"))
    services.booking_cancel(booking_id=cancelled.pk, actor=None)
    expired = BookingFactory.create(customer=noura, staff=staff, service=service, start=at("14:00"), status=S.EXPIRED)
    too_far = BookingFactory.create(customer=noura, staff=staff, service=service, start=at("10:00", days=200))
    theirs = BookingFactory.create(customer=noura, staff=other_staff, service=service, start=at("10:00"))
    url = _feed_url(auth_client, staff)

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    text = response.content.decode()
    for secret in ("Al-Qahtani", "Qahtani", "512345678", "noura@example.com", "henna", "Secret Street"):
        assert secret not in text
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"booking-{mine.pk}@127.0.0.1", f"booking-{cancelled.pk}@127.0.0.1"}
    for unseen in (expired, too_far, theirs):
        assert f"booking-{unseen.pk}@" not in text
    shown = events[f"booking-{mine.pk}@127.0.0.1"]
    assert str(shown["SUMMARY"]) == f"{service.name} · Noura"
    assert (str(shown["STATUS"]), shown["SEQUENCE"]) == ("CONFIRMED", 0)
    assert shown.decoded("DTSTART") == at("10:00")
    gone = events[f"booking-{cancelled.pk}@127.0.0.1"]
    assert (str(gone["STATUS"]), gone["SEQUENCE"]) == ("CANCELLED", 1)


def test_the_feed_window_is_30_days_back_and_180_ahead(client, auth_client, noura, staff, service, at):
    now = at("09:00")
    old = BookingFactory.create(customer=noura, staff=staff, service=service, start=at("10:00", days=-29))
    older = BookingFactory.create(customer=noura, staff=staff, service=service, start=at("10:00", days=-31))
    url = _feed_url(auth_client, staff)
    with time_machine.travel(now, tick=False):
        text = client.get(url).content.decode()
    assert f"booking-{old.pk}@" in text
    assert f"booking-{older.pk}@" not in text


def test_the_feed_is_one_query_for_its_bookings_however_many(client, auth_client, staff, service, at):
    url = _feed_url(auth_client, staff)
    BookingFactory.create(staff=staff, service=service, start=at("10:00"))
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for hour in ("11:00", "12:00", "13:00", "14:00"):
        booking = BookingFactory.create(staff=staff, service=service, start=at(hour))
        services.booking_reschedule(booking_id=booking.pk, start=at(hour) + timedelta(minutes=30), actor=None)
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)
    assert len(Calendar.from_ical(response.content).walk("VEVENT")) == 5
    assert len(five) == len(one) <= 3, [q["sql"] for q in five.captured_queries]


def test_a_rotated_or_revoked_token_is_not_found(client, auth_client, staff):
    first = _feed_url(auth_client, staff)
    assert client.get(first).status_code == 200
    second = _feed_url(auth_client, staff)
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert CalendarFeedToken.objects.count() == 1
    token = second.removeprefix("/feeds/staff/").removesuffix(".ics")
    assert token not in CalendarFeedToken.objects.get().token_hash  # only the hash is kept

    state = auth_client(staff.user).get(FEED).json()
    assert state["active"] is True
    assert state["url"] is None
    assert state["created_at"].endswith("+03:00")

    assert auth_client(staff.user).delete(FEED).status_code == 204
    assert client.get(second).status_code == 404
    assert auth_client(staff.user).get(FEED).json() == {"active": False, "created_at": None, "url": None}
    assert auth_client(staff.user).delete(FEED).status_code == 204  # already off: nothing changes


def test_unknown_tokens_are_not_found(client, auth_client, staff):
    _feed_url(auth_client, staff)
    for token in ("x", "A" * 43, "A" * 500):
        assert client.get(f"/feeds/staff/{token}.ics").status_code == 404
    assert calendar_feed.feed_staff_for_token("") is None


def test_each_staff_member_sees_only_their_own_feed(client, auth_client, staff, service, at):
    other = StaffFactory.create(services=[service])
    mine = BookingFactory.create(staff=staff, service=service, start=at("10:00"))
    theirs = BookingFactory.create(staff=other, service=service, start=at("10:00"))
    text = client.get(_feed_url(auth_client, other)).content.decode()
    assert f"booking-{theirs.pk}@" in text
    assert f"booking-{mine.pk}@" not in text
    assert client.get(_feed_url(auth_client, staff)).status_code == 200
    assert client.get(_feed_url(auth_client, other)).status_code == 200  # rotating one leaves the other's alone
    assert CalendarFeedToken.objects.count() == 2


def test_someone_without_a_staff_profile_has_no_feed(auth_client, manager, customer):
    for someone in (manager, customer):
        assert auth_client(someone).post(FEED).status_code in (403, 404)
    assert not CalendarFeedToken.objects.exists()
