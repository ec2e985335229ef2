"""The waitlist's message: a freed time held for a waiting customer sends them the claim link (Arabic first, the
claim window's end), and nothing else; the hold, until claimed, is not announced as a booking."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.services import booking_cancel, booking_create
from apps.notifications.models import Notification
from apps.notifications.services import notification_deliver
from apps.waitlist.selectors import offer_claim_url, offer_token
from apps.waitlist.services import waitlist_join, waitlist_offer_claim, waitlist_offer_free_slots

from .conftest import RIYADH

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_only(settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 8, 0, tzinfo=RIYADH), tick=False)  # `day`: Friday 4 December
    return time_machine


@pytest.fixture
def offer(business, service, staff, at, day, customer_ar):
    taken = booking_create(customer=UserFactory(), staff_id=staff.pk, service=service, start=at("10:00"))
    waitlist_join(customer=customer_ar, service=service, staff_id=staff.pk, date_from=day, date_to=day,
                  time_from=time(10), time_to=time(10))  # fmt: skip
    booking_cancel(booking_id=taken.pk, actor=taken.customer)
    (made,) = waitlist_offer_free_slots(business_id=business.pk)
    return made


def test_the_offer_sends_the_claim_link_and_its_end_in_arabic(offer, customer_ar, settings, sms):
    rows = list(Notification.objects.filter(booking_id=offer.hold_id))
    assert [(n.template, n.recipient_id, n.event_key) for n in rows] == [
        ("waitlist_offer", customer_ar.pk, f"waitlist_offer:{offer.pk}")
    ]  # the hold itself is not a booking confirmation

    n = Notification.objects.get(template="waitlist_offer")
    assert notification_deliver(notification_id=n.pk) == "sent"
    (message,) = sms.messages(str(customer_ar.phone))
    link = offer_claim_url(hold_id=offer.hold_id)
    assert link == f"{settings.PUBLIC_BASE_URL}/waitlist/claim/{offer_token(hold_id=offer.hold_id)}"
    assert link in message["text"]
    assert "قص شعر" in message["text"]
    assert "8:15 ص" in message["text"]  # held until 08:15, Riyadh time
    assert offer_token(hold_id=offer.hold_id) not in str(n.context)  # never stored


def test_a_claimed_offer_is_confirmed_like_any_booking_and_its_unsent_offer_is_dropped(offer, customer_ar, settings):
    waitlist_offer_claim(token=offer_token(hold_id=offer.hold_id), customer=customer_ar)
    templates = set(Notification.objects.filter(booking_id=offer.hold_id).values_list("template", flat=True))
    assert {"waitlist_offer", "booking_confirmed"} <= templates  # the staff member: in the agenda (not soon)

    n = Notification.objects.get(template="waitlist_offer")
    assert notification_deliver(notification_id=n.pk) == "skipped"  # the booking is confirmed: no offer to send
    n.refresh_from_db()
    assert n.last_error == "the booking is confirmed"


def test_an_offer_whose_window_ended_is_not_sent(offer, settings, clock):
    clock.shift(timedelta(minutes=15))
    n = Notification.objects.get(template="waitlist_offer")
    assert notification_deliver(notification_id=n.pk) == "skipped"
    n.refresh_from_db()
    assert n.last_error == "the offer's claim window has ended"
