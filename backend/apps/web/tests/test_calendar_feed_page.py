"""`/calendar/feed`: a staff member turns their private calendar feed on, makes a new address and turns it off;
the address is shown once and works at /feeds/staff/<token>.ics; nobody without a staff profile has the page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from icalendar import Calendar

from apps.bookings.models import CalendarFeedToken
from apps.bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db
PAGE = "/calendar/feed"


def signed_in(user, lang: str = "en") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["mawid_lang"] = lang
    client.force_login(user)
    return client


def post(client: Client, action: str, **extra):
    page = client.get(PAGE).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    return client.post(PAGE, {"action": action, "csrfmiddlewaretoken": token.group(1)}, **extra)


def feed_path(answer) -> str:
    page = answer.content.decode()
    url = re.search(
        r'value="(http://127\.0\.0\.1:8000/feeds/staff/[^"]+\.ics)" [^>]*data-testid="calendar-feed-url"', page
    )
    assert url, page
    return url.group(1).removeprefix("http://127.0.0.1:8000")


def test_a_staff_member_turns_the_feed_on_renews_it_and_turns_it_off(staff, service, at):
    booking = BookingFactory.create(staff=staff, service=service, start=at("10:00"))
    me = signed_in(staff.user)
    page = me.get(PAGE)
    assert page.status_code == 200
    assert 'data-active="0"' in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"

    first = post(me, "new")
    assert first.status_code == 200
    body = first.content.decode()
    assert 'data-active="1"' in body
    assert 'href="webcal://127.0.0.1:8000/feeds/staff/' in body
    first_path = feed_path(first)
    feed = Client().get(first_path)
    assert feed.status_code == 200
    (event,) = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["UID"]).startswith(f"booking-{booking.pk}@")

    again = me.get(PAGE).content.decode()
    assert 'data-active="1"' in again
    assert first_path not in again  # shown once only

    second_path = feed_path(post(me, "new"))
    assert Client().get(first_path).status_code == 404
    assert Client().get(second_path).status_code == 200

    off = post(me, "off", follow=True)
    assert off.redirect_chain == [(PAGE, 302)]
    assert "Your calendar feed is off" in off.content.decode()
    assert Client().get(second_path).status_code == 404
    assert not CalendarFeedToken.objects.exists()
    assert post(me, "nonsense").status_code == 400


def test_the_calendar_home_links_the_feed_for_staff_only(staff, manager):
    assert 'data-testid="calendar-feed-link"' in signed_in(staff.user).get("/calendar/").content.decode()
    assert 'data-testid="calendar-feed-link"' not in signed_in(manager).get("/calendar/").content.decode()


def test_nobody_without_a_staff_profile_has_the_page(manager, customer):
    for someone in (manager, customer):
        assert signed_in(someone).get(PAGE).status_code == 404
    assert Client().get(PAGE)["Location"].startswith("/login")


def test_the_page_in_arabic(staff):
    page = signed_in(staff.user, "ar").get(PAGE).content.decode()
    assert "رابط التقويم" in page
    assert "تشغيل" in page
