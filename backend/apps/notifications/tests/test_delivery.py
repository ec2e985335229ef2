"""Delivery through the real worker and real HTTP to the Authentica fake: sent once, retried with backoff,
given up visibly, and never sent twice blindly after a crash."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.providers.authentica import AuthenticaClient
from apps.core.jobs import retry_stalled_jobs
from apps.core.testing import job_rows, run_jobs
from apps.notifications.jobs import notification_send
from apps.notifications.models import Notification, NotificationAttempt
from apps.notifications.rendering import format_datetime, format_hijri
from apps.notifications.services import notifications_sweep

from .conftest import RIYADH, SEND, kill_worker_during, plan_one

pytestmark = pytest.mark.django_db(transaction=True)
Q = ["notifications"]


def outcomes(n: Notification) -> list[str]:
    return list(NotificationAttempt.objects.filter(notification=n).order_by("number").values_list("outcome", flat=True))


def only_sms(settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms"]


def test_the_confirmation_reaches_the_customer_in_arabic_and_the_staff_member_in_english(
    book, customer_ar, staff, branch, sms, mailoutbox, at, staff_told_at_once
):
    booking = book(customer_ar, "10:00")

    run_jobs(queues=Q)

    when_ar = format_datetime(at("10:00"), language="ar", tz=RIYADH)
    when_ar += format_hijri(at("10:00"), language="ar", tz=RIYADH)  # " (21 جمادى الآخرة)": customers see the Hijri day
    when_en = format_datetime(at("10:00"), language="en", tz=RIYADH)
    assert [m["text"] for m in sms.messages(str(customer_ar.phone))] == [
        f"مرحباً سارة، تم تأكيد حجزك رقم {booking.pk}: قص شعر مع Noura يوم {when_ar}."
        f" Salon Noor – {branch.name_ar}: King Fahd Road، Al Olaya، Riyadh. الخريطة: {branch.map_url}"
    ]
    assert branch.map_url.startswith("https://maps.google.com/?q=")
    assert [m["text"] for m in sms.messages(str(staff.user.phone))] == [
        f"New booking #{booking.pk}: Haircut for سارة on {when_en}."
    ]
    assert "10:00 ص (" in when_ar
    assert when_en.endswith("10:00 AM")
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("noura@salon.example", f"New booking #{booking.pk}"),
        ("sara@example.com", f"تأكيد الحجز رقم {booking.pk}"),
    ]
    arabic = next(m for m in mailoutbox if m.to == ["sara@example.com"])
    sent = Notification.objects.get(recipient=customer_ar, channel="email", template="booking_confirmed")
    assert arabic.extra_headers["Message-ID"] == f"<notification.{sent.pk}@mawid.localhost>"
    assert arabic.extra_headers["Content-Language"] == "ar"
    assert 'dir="rtl"' in arabic.alternatives[0][0]
    immediate = Notification.objects.filter(scheduled_for__isnull=True)
    assert {(n.status, n.attempts) for n in immediate} == {("sent", 1)}
    assert all(outcomes(n) == ["sent"] for n in immediate)
    assert set(Notification.objects.filter(scheduled_for__isnull=False).values_list("status", flat=True)) == {"pending"}


def test_every_message_and_attempt_carries_the_booking_s_business(book, customer_ar, staff, sms, mailoutbox):
    """Notifications are written in raw SQL (planning) and their attempts by the worker: both carry the tenant
    key, so a manager sees their business's messages and nobody else's."""
    booking = book(customer_ar, "10:00")

    run_jobs(queues=Q)

    assert Notification.objects.count() > 0
    assert set(Notification.objects.values_list("business_id", flat=True)) == {booking.business_id}
    assert NotificationAttempt.objects.count() > 0
    assert set(NotificationAttempt.objects.values_list("business_id", flat=True)) == {booking.business_id}


@pytest.mark.parametrize(
    ("sender_name", "registered", "seen", "sends"),
    [
        ("", ["Mawid"], "Mawid", [None]),  # none chosen: the platform's (the account's default)
        ("SalonNoor", ["Mawid", "SalonNoor"], "SalonNoor", ["SalonNoor"]),
        # chosen but not registered with Authentica (422, nothing sent): sent again under the platform's
        ("Unlisted", ["Mawid"], "Mawid", ["Unlisted", None]),
    ],
)
def test_the_sms_goes_out_under_the_businesss_sender_name(
    business, soon_booking, customer_en, sms, settings, sender_name, registered, seen, sends
):
    only_sms(settings)
    settings.AUTHENTICA_SENDER_NAME = ""  # the account's default sender, as when the setting is left empty
    business.sender_name = sender_name
    business.save()
    sms.configure(sender_names=registered)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)

    run_jobs(queues=Q)

    n.refresh_from_db()
    assert n.status == "sent"
    assert [c["body"].get("sender_name") for c in sms.calls_to("send-sms")] == sends
    (message,) = sms.messages(str(customer_en.phone))
    assert message["sender_name"] == seen
    assert message["text"].startswith("Hello John, your booking")
    assert "Salon Noor" in message["text"]


def test_provider_down_then_up_delivers_once_after_retries(soon_booking, customer_en, sms, settings):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    sms.set_faults("error_503", count=2, endpoint="send-sms")
    sms.set_faults("reset", count=1, endpoint="send-sms")  # dropped connection: may have been delivered
    sms.set_faults("error_429", count=1, endpoint="send-sms", retry_after=0)
    (n,) = plan_one(booking)

    run_jobs(queues=Q, timeout=20)

    n.refresh_from_db()
    assert n.status == "sent"
    assert n.attempts == 5
    assert outcomes(n) == ["error", "error", "uncertain", "error", "sent"]
    assert len(sms.messages(str(customer_en.phone))) == 1
    assert len(sms.calls_to("send-sms")) == 5
    (job,) = job_rows(SEND)
    assert (job["status"], job["attempts"]) == ("succeeded", 5)  # five runs of one job


def test_a_permanent_error_fails_at_once_and_an_admin_can_send_it_again(
    soon_booking, customer_en, sms, settings, client
):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    settings.AUTHENTICA_API_KEY = "a-revoked-key"
    (n,) = plan_one(booking)

    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.status, n.attempts) == ("failed", 1)
    assert n.last_error.startswith("ProviderConfigurationError (401)")
    assert [j["status"] for j in job_rows(SEND)] == ["failed"]
    assert sms.messages() == []

    settings.AUTHENTICA_API_KEY = sms.api_key  # someone fixed the key
    admin = User.objects.create_superuser(phone="+966500000099", password="pw-for-tests")
    client.force_login(admin)
    response = client.post(
        "/admin/notifications/notification/", {"action": "retry", "_selected_action": [n.pk]}, follow=True
    )
    assert response.status_code == 200
    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.status, n.attempts) == ("sent", 1)
    assert outcomes(n) == ["rejected", "sent"]
    assert len(sms.messages(str(customer_en.phone))) == 1


def test_too_many_attempts_end_in_failed(soon_booking, customer_en, sms, settings):
    only_sms(settings)
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    sms.set_faults("error_503", count=None, endpoint="send-sms")
    (n,) = plan_one(booking)

    run_jobs(queues=Q, timeout=20)

    n.refresh_from_db()
    assert (n.status, n.attempts) == ("failed", 3)
    assert outcomes(n) == ["error", "error", "error"]
    assert [j["status"] for j in job_rows(SEND)] == ["failed"]
    assert sms.messages() == []


def test_a_slow_provider_gets_one_more_copy_at_most_then_the_outcome_is_unknown(
    soon_booking, customer_en, sms, settings
):
    only_sms(settings)
    settings.AUTHENTICA_READ_TIMEOUT = 0.3
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    sms.set_faults("timeout", count=None, endpoint="send-sms", delay=0.6)  # answers late, but does send
    (n,) = plan_one(booking)

    run_jobs(queues=Q, timeout=20)
    time.sleep(0.8)  # let the fake finish the second (late) send

    n.refresh_from_db()
    assert (n.status, n.attempts) == ("unknown", 2)
    assert outcomes(n) == ["uncertain", "uncertain"]
    assert len(sms.messages(str(customer_en.phone))) == 2  # not 10: the retries stop after one uncertain copy


def test_a_worker_killed_during_an_sms_is_recovered_and_the_sms_is_not_sent_twice(
    soon_booking, customer_en, sms, settings
):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    # The worker marked the row `sending`, Authentica accepted the SMS, and the worker died before recording it.
    crashed_at = timezone.now() - timedelta(minutes=30)
    Notification.objects.filter(pk=n.pk).update(status="sending", sending_started_at=crashed_at, attempts=1)
    NotificationAttempt.objects.create(notification=n, number=1, job_id=n.job_id, started_at=crashed_at)
    with AuthenticaClient(base_url=sms.base_url, api_key=sms.api_key) as client:
        client.send_sms(phone=str(customer_en.phone), message="the message of the attempt that crashed")
    kill_worker_during(n.job_id)

    retry_stalled_jobs.defer(timestamp=0)
    run_jobs(queues=["maintenance"])
    assert [j["status"] for j in job_rows(SEND)] == ["todo"]  # the stalled job is back in the queue
    run_jobs(queues=Q)

    n.refresh_from_db()
    assert [j["status"] for j in job_rows(SEND)] == ["succeeded"]
    assert n.status == "unknown"  # for a person to decide, in the admin
    assert "may have been delivered" in n.last_error
    assert outcomes(n) == ["interrupted"]
    assert len(sms.messages(str(customer_en.phone))) == 1
    assert sms.calls_to("send-sms")[-1]["body"]["message"] == "the message of the attempt that crashed"


def test_a_worker_killed_during_an_email_is_recovered_and_the_same_email_is_sent_again(
    soon_booking, customer_en, settings, mailoutbox
):
    settings.NOTIFICATIONS_CHANNELS = ["email"]
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    crashed_at = timezone.now() - timedelta(minutes=30)
    Notification.objects.filter(pk=n.pk).update(status="sending", sending_started_at=crashed_at, attempts=1)
    NotificationAttempt.objects.create(notification=n, number=1, job_id=n.job_id, started_at=crashed_at)
    kill_worker_during(n.job_id)

    retry_stalled_jobs.defer(timestamp=0)
    run_jobs(queues=["maintenance"])
    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.status, n.attempts) == ("sent", 2)
    assert outcomes(n) == ["interrupted", "sent"]
    (mail,) = mailoutbox
    # Same Message-ID as the interrupted attempt would have used: a copy is the same message to mail software.
    assert mail.extra_headers["Message-ID"] == f"<notification.{n.pk}@mawid.localhost>"


def test_a_job_that_runs_twice_sends_once(soon_booking, customer_en, sms, settings):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    notification_send.defer(notification_id=n.pk)  # duplicates: a replayed defer, a sweep racing the worker
    notification_send.defer(notification_id=n.pk)

    run_jobs(queues=Q, concurrency=3)

    n.refresh_from_db()
    assert (n.status, n.attempts) == ("sent", 1)
    assert len(sms.messages(str(customer_en.phone))) == 1
    assert {j["status"] for j in job_rows(SEND)} == {"succeeded"}


def test_a_recipient_who_turns_a_channel_off_before_the_send_is_skipped(soon_booking, customer_en, sms, settings):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    User.objects.filter(pk=customer_en.pk).update(notify_sms=False)

    run_jobs(queues=Q)

    n.refresh_from_db()
    assert n.status == "skipped"
    assert "turned sms notifications off" in n.last_error
    assert sms.messages() == []


def test_a_confirmation_for_a_booking_cancelled_meanwhile_is_not_sent(soon_booking, customer_en, sms, settings):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    type(booking).objects.filter(pk=booking.pk).update(status="cancelled")

    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.status, n.last_error) == ("skipped", "the booking is cancelled")
    assert sms.messages() == []


def test_logs_carry_booking_and_job_ids_never_the_text_or_the_full_phone(
    soon_booking, customer_en, sms, settings, caplog
):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    sms.set_faults("error_503", count=1, endpoint="send-sms")
    (n,) = plan_one(booking)
    caplog.set_level(logging.INFO)

    run_jobs(queues=Q)

    phone = str(customer_en.phone)
    (text,) = [m["text"] for m in sms.messages(phone)]
    for record in caplog.records:
        dumped = record.getMessage() + " " + " ".join(str(v) for v in record.__dict__.values())
        assert phone not in dumped
        assert text not in dumped
    sent = [r for r in caplog.records if r.getMessage() == "notification_sent"]
    assert len(sent) == 1
    assert (sent[0].booking_id, sent[0].job_id, sent[0].notification_id) == (booking.pk, n.job_id, n.pk)
    assert sent[0].to == "+96650*****02"
    failed = [r for r in caplog.records if r.getMessage() == "notification_attempt_failed"]
    assert [(r.booking_id, r.job_id) for r in failed] == [(booking.pk, n.job_id)]


def test_a_message_about_a_deleted_booking_is_skipped(soon_booking, customer_en, sms, settings):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    type(booking).objects.filter(pk=booking.pk).delete()

    run_jobs(queues=Q)

    n.refresh_from_db()
    assert (n.status, n.booking_id, n.last_error) == ("skipped", None, "the booking no longer exists")
    assert sms.messages() == []


def test_an_sms_left_sending_whose_job_vanished_is_found_by_the_sweep_and_not_resent(
    soon_booking, customer_en, sms, settings
):
    only_sms(settings)
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    (n,) = plan_one(booking)
    Notification.objects.filter(pk=n.pk).update(
        status="sending", sending_started_at=timezone.now() - timedelta(minutes=30), attempts=1
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [n.job_id])

    assert notifications_sweep() == {"reminders_created": 0, "jobs_redeferred": 1}
    run_jobs(queues=Q)

    n.refresh_from_db()
    assert n.status == "unknown"
    assert sms.messages() == []
