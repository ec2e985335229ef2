"""A booking moved and then cancelled before the "moved" notices went out: nobody is told it moved (only that it
is cancelled). Two layers keep that promise, each with its test: the cancellation withdraws the pending notices
(subscribers), and delivery re-checks the booking when a notice is about to go out, which covers a notice that
was not pending at the cancellation (here: failed, then retried by an operator afterwards)."""

from __future__ import annotations

import pytest

from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_reschedule
from apps.core.testing import job_rows, run_jobs
from apps.notifications.models import Notification
from apps.notifications.services import notification_retry

from .conftest import SEND

pytestmark = pytest.mark.django_db(transaction=True)
Q = ["notifications"]
MOVED = ("booking_rescheduled", "staff_booking_changed")


def texts(sms, *users) -> list[str]:
    return [m["text"] for user in users for m in sms.messages(str(user.phone))]


@pytest.fixture
def only_sms(settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]


def test_a_booking_cancelled_before_its_moved_notices_went_out_is_only_reported_cancelled(
    only_sms, book, customer_en, staff, sms, at, staff_told_at_once
):
    booking = book(customer_en, "10:00")
    booking_reschedule(booking_id=booking.pk, start=at("14:00"), actor=customer_en)
    notices = list(Notification.objects.filter(booking_id=booking.pk, template__in=MOVED))
    assert sorted(n.status for n in notices) == ["pending", "pending"]  # customer's and staff's; not run yet

    booking_cancel(booking_id=booking.pk, actor=customer_en, reason="Travelling")
    run_jobs(queues=Q)

    jobs = {job["id"]: job["status"] for job in job_rows(SEND)}
    for notice in notices:
        notice.refresh_from_db()
        assert notice.status == "cancelled"  # withdrawn by the cancellation, not merely skipped when sent
        assert jobs[notice.job_id] == "cancelled"
    sent = texts(sms, customer_en, staff.user)
    assert not [t for t in sent if "moved" in t], sent
    assert any("is cancelled" in t for t in texts(sms, customer_en))


def test_a_moved_notice_sent_again_by_hand_after_the_cancellation_is_skipped(
    only_sms, book, customer_en, staff, sms, at, settings
):
    booking = book(customer_en, "10:00")
    settings.AUTHENTICA_API_KEY = "a-revoked-key"  # every message fails for good: nothing is pending any more
    booking_reschedule(booking_id=booking.pk, start=at("14:00"), actor=customer_en)
    run_jobs(queues=Q)
    notice = Notification.objects.get(booking_id=booking.pk, template="booking_rescheduled")
    assert notice.status == "failed"
    booking_cancel(booking_id=booking.pk, actor=customer_en)
    settings.AUTHENTICA_API_KEY = sms.api_key  # the key is fixed; an operator retries the failed messages

    assert notification_retry(notification_id=notice.pk)
    run_jobs(queues=Q)

    notice.refresh_from_db()
    assert (notice.status, notice.last_error) == ("skipped", "the booking is cancelled")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert not [t for t in texts(sms, customer_en, staff.user) if "moved" in t]
