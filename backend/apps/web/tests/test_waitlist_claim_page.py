"""`/waitlist/claim/<token>`: where the waitlist message's link leads. The customer the time is held for sees it
(Arabic first) and takes it or lets it go; after the claim window the page says so (410); anyone else: 404."""

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
from apps.waitlist.services import waitlist_join, waitlist_offer_free_slots

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 8, 0, tzinfo=RIYADH), tick=False)
    return time_machine


@pytest.fixture
def offer(business, service, staff, at, day):
    business.require_payment = False
    business.save()
    taken = booking_create(customer=UserFactory(), staff_id=staff.pk, service=service, start=at("10:00"))
    waitlist_join(customer=UserFactory(), service=service, staff_id=staff.pk, date_from=day, date_to=day,
                  time_from=time(10), time_to=time(10))  # fmt: skip
    booking_cancel(booking_id=taken.pk, actor=taken.customer)
    (made,) = waitlist_offer_free_slots(business_id=business.pk)
    return made


def signed_in(user, lang: str = "ar") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["mawid_lang"] = lang
    client.force_login(user)
    return client


def page_of(offer: WaitlistOffer) -> str:
    return f"/waitlist/claim/{offer_token(hold_id=offer.hold_id)}"


def post(client: Client, path: str, action: str):
    page = client.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None, page
    return client.post(path, {"action": action, "csrfmiddlewaretoken": token.group(1)})


def test_the_customer_sees_the_offer_in_arabic_and_takes_it(offer):
    client = signed_in(offer.entry.customer)
    shown = client.get(page_of(offer))
    assert shown.status_code == 200
    text = shown.content.decode()
    assert "توفر موعد لك" in text
    assert "احجز هذا الموعد" in text
    assert "08:15" in text
    held_day = hijri_of(offer.start.astimezone(offer.business.tz))
    assert held_day is not None
    assert f'data-testid="offer-hijri">{held_day.full("ar")}<' in text  # the Umm al-Qura day beside it
    assert "<script>" not in text
    assert 'style="' not in text

    taken = post(client, page_of(offer), "claim")
    assert taken.status_code == 302
    assert taken["Location"] == f"/my/bookings/{offer.hold_id}"
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CONFIRMED


def test_letting_it_go_and_a_late_visit(offer, clock):
    client = signed_in(offer.entry.customer, lang="en")
    gone = post(client, page_of(offer), "decline")
    assert gone.status_code == 302
    after = client.get(page_of(offer))
    assert after.status_code == 410
    assert 'data-testid="gone"' in after.content.decode()
    assert 'href="/my/waitlist"' in after.content.decode()  # the customer's other entries
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.CANCELLED


def test_after_the_window_the_claim_is_refused(offer, clock):
    client = signed_in(offer.entry.customer, lang="en")
    path = page_of(offer)
    page = client.get(path).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    clock.shift(timedelta(minutes=15))
    late = client.post(path, {"action": "claim", "csrfmiddlewaretoken": csrf})
    assert late.status_code == 200
    assert 'data-testid="error"' in late.content.decode()
    assert Booking.objects.get(pk=offer.hold_id).status == Booking.Status.PENDING_PAYMENT


def test_someone_else_and_a_made_up_link_get_404_and_strangers_sign_in(offer):
    assert signed_in(UserFactory()).get(page_of(offer)).status_code == 404
    assert signed_in(offer.entry.customer).get("/waitlist/claim/nope").status_code == 404
    anonymous = Client().get(page_of(offer))
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]


def test_a_day_without_free_times_offers_the_waitlist_and_joining_puts_the_customer_in_line(
    business, service, staff, clock
):
    clock.move_to(datetime(2026, 12, 1, 16, 30, tzinfo=RIYADH), tick=False)  # today: nothing left after notice
    customer = UserFactory()
    client = signed_in(customer, lang="en")
    fragment = client.get(f"/b/salon/book/times?service={service.pk}&staff={staff.pk}&date=2026-12-01")
    page = fragment.content.decode()
    assert 'data-testid="no-times"' in page
    assert 'data-testid="waitlist-join"' in page
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    back = re.search(r'name="back" value="([^"]+)"', page)
    assert csrf is not None
    assert back is not None
    body = {
        "csrfmiddlewaretoken": csrf.group(1),
        "service": service.pk,
        "staff": staff.pk,
        "date_from": "2026-12-01",
        "date_to": "2026-12-02",
        "time_from": "17:00",
        "time_to": "18:00",
        "back": back.group(1).replace("&amp;", "&"),
    }
    joined = client.post("/waitlist/join", body)
    assert joined.status_code == 302
    assert joined["Location"] == "/my/waitlist"  # where the customer sees the entry (and can leave it)
    (entry,) = WaitlistEntry.objects.filter(customer=customer)
    assert (entry.staff_id, str(entry.date_to), str(entry.time_from)) == (staff.pk, "2026-12-02", "17:00:00")

    again = client.post("/waitlist/join", body, follow=True)
    assert "already on the waitlist" in again.content.decode()
    refused = client.post("/waitlist/join", body | {"time_from": "19:00"})
    assert refused["Location"].startswith("/b/salon/book?")  # a refusal goes back to the page it came from
    reversed_ = client.post("/waitlist/join", body | {"time_from": "19:00"}, follow=True)
    assert "latest start is before the earliest" in reversed_.content.decode()
    assert WaitlistEntry.objects.filter(customer=customer).count() == 1

    stranger = Client(enforce_csrf_checks=False).post("/waitlist/join", body)
    assert stranger.status_code == 302
    assert "login" in stranger["Location"]
