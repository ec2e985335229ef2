"""Reminders are scheduled jobs: they go out at their time, follow the booking when it moves, die with it when it
is cancelled, re-check the booking when they run, and the sweep repairs the ones whose job was lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.bookings.events import BookingConfirmed
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_reschedule
from apps.core.events import publish
from apps.core.testing import job_rows, run_jobs
from apps.notifications.jobs import notification_send, notifications_sweep
from apps.notifications.models import Notification
from apps.notifications.services import notifications_sweep as sweep_now

from .conftest import SEND

pytestmark = pytest.mark.django_db(transaction=True)
Q = ["notifications"]


def confirm(booking: Booking) -> None:
    with transaction.atomic():
        publish(BookingConfirmed(booking_id=booking.pk))


def reminders(booking: Booking, template: str = "reminder_2h") -> list[Notification]:
    return list(Notification.objects.filter(booking_id=booking.pk, template=template).order_by("pk"))


def test_a_reminder_goes_out_at_its_time(soon_booking, customer_en, sms, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=2, seconds=3))
    confirm(booking)
    (reminder,) = reminders(booking)
    assert reminders(booking, "reminder_24h") == []  # its time has passed already
    assert 0 < (reminder.scheduled_for - timezone.now()).total_seconds() <= 3

    run_jobs(queues=Q, timeout=15)

    reminder.refresh_from_db()
    assert reminder.status == "sent"
    assert reminder.sent_at >= reminder.scheduled_for
    texts = [m["text"] for m in sms.messages(str(customer_en.phone))]
    assert any(t.startswith(f"Reminder: your booking #{booking.pk} for Haircut with Noura starts at") for t in texts)


def test_a_cancelled_booking_s_reminders_never_go_out(book, customer_en, sms):
    booking = book(customer_en, "10:00")
    scheduled = Notification.objects.filter(template__startswith="reminder_")
    job_ids = set(scheduled.values_list("job_id", flat=True))

    booking_cancel(booking_id=booking.pk, actor=customer_en)

    assert {j["status"] for j in job_rows(SEND) if j["id"] in job_ids} == {"cancelled"}
    assert set(scheduled.values_list("status", flat=True)) == {"cancelled"}


def test_a_due_reminder_re_checks_its_booking_and_skips_a_cancelled_one(soon_booking, customer_en, sms, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=2, seconds=2))
    confirm(booking)
    # Cancelled behind the notifications' back (no event): the job still runs, and finds out.
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)

    run_jobs(queues=Q, timeout=15)

    (reminder,) = reminders(booking)
    assert (reminder.status, reminder.last_error) == ("skipped", "the booking is cancelled")
    assert sms.messages() == []


def test_a_due_reminder_for_a_booking_that_moved_is_skipped(soon_booking, customer_en, sms, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=2, seconds=2))
    confirm(booking)
    later = booking.start + timedelta(days=1)
    Booking.objects.filter(pk=booking.pk).update(
        start=later, end=later + timedelta(minutes=30), busy_start=later, busy_end=later + timedelta(minutes=30)
    )

    run_jobs(queues=Q, timeout=15)

    (reminder,) = reminders(booking)
    assert (reminder.status, reminder.last_error) == ("skipped", "the booking has moved")


def test_rescheduled_reminders_are_scheduled_at_the_new_time(book, customer_en, at):
    booking = book(customer_en, "10:00")

    booking_reschedule(booking_id=booking.pk, start=at("15:00", days=1), actor=customer_en)

    pending = Notification.objects.filter(template__startswith="reminder_", status="pending")
    jobs = {j["id"]: j for j in job_rows(SEND)}
    assert sorted((n.template, jobs[n.job_id]["scheduled_at"]) for n in pending) == sorted(
        [
            (t, at("15:00", days=1) - lead)
            for t, lead in (("reminder_24h", timedelta(hours=24)), ("reminder_2h", timedelta(hours=2)))
        ]
        * 2
    )


def test_the_sweep_sends_a_reminder_whose_job_was_lost(soon_booking, customer_en, sms, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=2, seconds=2))
    confirm(booking)
    (reminder,) = reminders(booking)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [reminder.job_id])

    notifications_sweep.defer(timestamp=0)
    run_jobs(queues=Q, timeout=15)

    reminder.refresh_from_db()
    assert reminder.status == "sent"
    texts = [m["text"] for m in sms.messages(str(customer_en.phone))]
    assert sum(t.startswith("Reminder:") for t in texts) == 1


def test_the_sweep_creates_reminders_the_event_path_missed(soon_booking, customer_en, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=5))  # confirmed, never announced

    assert sweep_now() == {"reminders_created": 1, "jobs_redeferred": 0}

    (reminder,) = reminders(booking)
    assert reminder.scheduled_for == booking.start - timedelta(hours=2)
    (job,) = job_rows(SEND)
    assert (job["id"], job["scheduled_at"]) == (reminder.job_id, reminder.scheduled_for)
    assert sweep_now() == {"reminders_created": 0, "jobs_redeferred": 0}


def test_the_sweep_leaves_healthy_notifications_alone(book, customer_en):
    book(customer_en, "10:00")
    before = job_rows(SEND)

    assert sweep_now() == {"reminders_created": 0, "jobs_redeferred": 0}

    assert job_rows(SEND) == before


def test_the_sweep_gives_up_on_a_message_out_of_attempts(soon_booking, customer_en, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    confirm(booking)
    (confirmation,) = Notification.objects.filter(template="booking_confirmed")
    Notification.objects.filter(pk=confirmation.pk).update(attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [confirmation.job_id])

    sweep_now()

    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.last_error) == ("failed", "too many attempts")


def test_a_reminder_too_late_to_be_useful_is_skipped(soon_booking, customer_en, sms, settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(hours=2, seconds=2))
    confirm(booking)
    # The worker was down: the 2-hour reminder is run only 50 minutes before the booking.
    start = timezone.now() + timedelta(minutes=50)
    Booking.objects.filter(pk=booking.pk).update(
        start=start, end=start + timedelta(minutes=30), busy_start=start, busy_end=start + timedelta(minutes=30)
    )
    Notification.objects.filter(template="reminder_2h").update(context={"start": start.isoformat()})

    run_jobs(queues=Q, timeout=15)

    (reminder,) = reminders(booking)
    assert (reminder.status, reminder.last_error) == ("skipped", "too late for this reminder")


def test_a_stray_early_job_does_not_send_a_reminder_before_its_time(book, customer_en, sms):
    book(customer_en, "10:00")
    reminder = Notification.objects.filter(template="reminder_24h", channel="sms").get()
    notification_send.defer(notification_id=reminder.pk)  # runs now, a day early

    run_jobs(queues=Q)

    reminder.refresh_from_db()
    assert reminder.status == "pending"
    assert not any(m["text"].startswith("Reminder:") for m in sms.messages())
