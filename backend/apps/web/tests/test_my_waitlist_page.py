"""`/my/waitlist`: the signed-in customer's waitlist entries (Arabic first, English), a live offer's held time with
the link to its claim page, leaving an entry (a POST with its CSRF token, through `waitlist_leave`), and nobody
else's entries: another customer's entry id is 404."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_create
from apps.catalog.tests.fixtures import RIYADH
from apps.core.hijri import hijri_of
from apps.waitlist.models import WaitlistEntry, WaitlistOffer
from apps.waitlist.selectors import offer_token
from apps.waitlist.services import waitlist_join, waitlist_leave, waitlist_offer_free_slots

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 8, 0, tzinfo=RIYADH), tick=False)
    return time_machine


@pytest.fixture
def customer():
    return UserFactory(name="Sara")


def join(customer, service, staff, day, *, start: int = 10, end: int = 12, days: int = 0) -> WaitlistEntry:
    return waitlist_join(customer=customer, service=service, staff_id=staff.pk if staff else None, date_from=day,
                         date_to=day + timedelta(days=days), time_from=time(start), time_to=time(end))  # fmt: skip


@pytest.fixture
def offer(business, service, staff, at, day, customer) -> WaitlistOffer:
    """A time freed at 10:00 on `day` and held for `customer` (the salon paid at the venue)."""
    business.require_payment = False
    business.save()
    taken = booking_create(customer=UserFactory.create(), staff_id=staff.pk, service=service, start=at("10:00"))
    join(customer, service, staff, day, start=10, end=10)
    booking_cancel(booking_id=taken.pk, actor=taken.customer)
    (made,) = waitlist_offer_free_slots(business_id=business.pk)
    return made


def signed_in(user, lang: str = "ar") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["mawid_lang"] = lang
    client.force_login(user)
    return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def cards(page: str) -> list[str]:
    return re.findall(r'data-testid="waitlist-entry" data-entry="(\d+)"', page)


def test_the_list_in_arabic_shows_each_entry_with_its_status_and_nothing_of_anyone_elses(
    service, staff, day, customer, django_assert_max_num_queries
):
    with_staff = join(customer, service, staff, day, days=2)
    anyone = join(customer, service, None, day, start=16, end=17)
    left = join(customer, service, staff, day, start=13, end=14)
    waitlist_leave(entry_id=left.pk, customer=customer)
    someone_elses = join(UserFactory(), service, staff, day, start=9, end=9)
    client = signed_in(customer)

    with django_assert_max_num_queries(8):
        response = client.get("/my/waitlist")

    assert response.status_code == 200
    page = response.content.decode()
    assert "قائمة انتظاري" in page
    assert cards(page) == [str(with_staff.pk), str(anyone.pk), str(left.pk)]  # in line by date and time, then earlier
    assert str(someone_elses.pk) not in cards(page)
    assert page.count("بانتظار موعد") == 2
    assert "غادرت قائمة الانتظار" in page
    assert "مع <bdi>أي موظف متاح</bdi>" in page
    assert f"مع <bdi>{staff.display_name}</bdi>" in page
    assert "قص شعر" in page
    assert "10:00–12:00" in page
    assert page.count('data-testid="leave"') == 2  # the entries still in line only
    assert "<script>" not in page
    assert 'style="' not in page


def test_a_live_offer_shows_the_held_time_until_when_and_the_claim_link_in_english(offer, customer):
    page = signed_in(customer, lang="en").get("/my/waitlist").content.decode()

    assert "My waitlist" in page
    assert "Time held for you" in page
    assert "10:00" in page
    assert "Held for you until 08:15" in page  # the claim window: 15 minutes from the pinned 08:00
    held_day = hijri_of(offer.start.astimezone(offer.business.tz))
    assert held_day is not None
    assert f'data-testid="offer-hijri">{held_day.full("en")}<' in page  # "24 Jumada al-Akhirah 1448 AH"
    assert f'href="/waitlist/claim/{offer_token(hold_id=offer.hold_id)}"' in page


def test_an_offer_whose_window_ended_is_not_offered_on_the_page(offer, customer, clock):
    clock.shift(timedelta(minutes=16))  # the hold's expiry job has not run yet
    page = signed_in(customer, lang="en").get("/my/waitlist").content.decode()
    assert 'data-testid="claim-link"' not in page
    assert "Waiting for a time" in page


def test_leaving_takes_the_entry_out_of_line_and_passes_its_held_time_on(offer, customer):
    client = signed_in(customer, lang="en")
    csrf = csrf_of(client.get("/my/waitlist").content.decode())

    refused = client.post(f"/my/waitlist/{offer.entry_id}/leave")  # no CSRF token
    assert refused.status_code == 403
    left = client.post(f"/my/waitlist/{offer.entry_id}/leave", {"csrfmiddlewaretoken": csrf})

    assert left.status_code == 302
    assert left["Location"] == "/my/waitlist"
    assert WaitlistEntry.objects.get(pk=offer.entry_id).status == WaitlistEntry.Status.LEFT
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.WITHDRAWN
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CANCELLED
    page = client.get("/my/waitlist").content.decode()
    assert "You left the waitlist." in page
    assert 'data-testid="leave"' not in page
    again = client.post(f"/my/waitlist/{offer.entry_id}/leave", {"csrfmiddlewaretoken": csrf})
    assert again.status_code == 302  # leaving twice changes nothing


def test_someone_elses_entry_is_404_and_stays_in_line(service, staff, day, customer):
    theirs = join(UserFactory(), service, staff, day)
    client = signed_in(customer)
    csrf = csrf_of(client.get("/my/waitlist").content.decode())

    assert client.post(f"/my/waitlist/{theirs.pk}/leave", {"csrfmiddlewaretoken": csrf}).status_code == 404
    assert client.post("/my/waitlist/999999/leave", {"csrfmiddlewaretoken": csrf}).status_code == 404
    assert client.get(f"/my/waitlist/{theirs.pk}/leave").status_code == 405
    assert WaitlistEntry.objects.get(pk=theirs.pk).status == WaitlistEntry.Status.WAITING


def test_signed_out_visitors_sign_in_first_and_my_bookings_links_here(customer):
    anonymous = Client().get("/my/waitlist")
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
    bookings = signed_in(customer).get("/my/bookings").content.decode()
    assert 'href="/my/waitlist"' in bookings
