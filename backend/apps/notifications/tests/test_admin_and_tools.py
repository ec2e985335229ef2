"""The admin shows notifications with their attempts and retries only failed or unknown ones; the mailbox
command reads the development email catcher; the system checks catch a channel with no implementation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.accounts.models import User
from apps.core.testing import job_rows
from apps.notifications import channels
from apps.notifications.channels import Message
from apps.notifications.checks import notification_settings
from apps.notifications.models import Notification, NotificationAttempt

from .conftest import SEND, plan_one

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser(phone="+966500000098", password="pw-for-tests")
    client.force_login(admin)
    return client


def test_the_admin_lists_a_notification_and_shows_its_attempts(admin_client, soon_booking, customer_en):
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    n = plan_one(booking)[0]
    NotificationAttempt.objects.create(notification=n, number=1, outcome="error", error="ProviderUnavailable (503)")

    listing = admin_client.get("/admin/notifications/notification/?status=pending")
    detail = admin_client.get(f"/admin/notifications/notification/{n.pk}/change/")

    assert listing.status_code == 200
    assert "booking_confirmed" in listing.content.decode()
    assert detail.status_code == 200
    assert "ProviderUnavailable (503)" in detail.content.decode()


def test_the_retry_action_only_touches_failed_or_unknown_notifications(admin_client, soon_booking, customer_en):
    booking = soon_booking(customer_en, start=timezone.now() + timedelta(days=2))
    failed, sent = plan_one(booking)[0], plan_one(booking, template="payment_receipt", key="payment_receipt:1")[0]
    Notification.objects.filter(pk=failed.pk).update(status="failed", attempts=10, last_error="boom")
    Notification.objects.filter(pk=sent.pk).update(status="sent", attempts=1)
    jobs_before = len(job_rows(SEND))

    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "retry", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert response.status_code == 200
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")
    assert sent.status == "sent"
    assert len(job_rows(SEND)) == jobs_before + 1
    assert "1 notification will be sent again." in response.content.decode()


def test_the_booking_page_shows_the_bookings_notifications_to_a_manager(client, manager, book, customer_en):
    booking = book(customer_en)  # confirmed when made: the subscriber plans the confirmation messages
    client.force_login(manager)  # a manager by role: no superuser flag, no group

    page = client.get(f"/admin/bookings/booking/{booking.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert Notification.objects.filter(booking=booking, template="booking_confirmed").exists()
    assert "notifications-TOTAL_FORMS" in body  # the inline this app adds to the bookings admin
    assert "booking_confirmed" in body


def test_the_mailbox_command_reads_what_the_file_catcher_wrote(settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    email = channels.get("email")
    email.send(to="sara@example.com", message=Message("تأكيد الحجز رقم 7", "تم تأكيد حجزك", "ar", "notification.7"))
    email.send(
        to="john@example.com",
        message=Message("Booking #8 confirmed", "Your booking is confirmed", "en", "notification.8"),
    )

    call_command("mailbox")
    listing = capsys.readouterr().out
    call_command("mailbox", "--to", "sara@example.com", "--show", "1")
    shown = capsys.readouterr().out

    assert "2 email(s)" in listing
    assert "Booking #8 confirmed" in listing
    assert "john@example.com" in listing
    assert "Message-ID: <notification.7@mawid.localhost>" in shown
    assert "تم تأكيد حجزك" in shown
    assert "Content-Language: ar" in shown


def test_the_mailbox_command_needs_the_file_catcher(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with pytest.raises(CommandError):
        call_command("mailbox")


def test_an_enabled_channel_with_no_implementation_is_an_error(settings):
    settings.NOTIFICATIONS_CHANNELS = ["sms", "pigeon"]
    assert [p.id for p in notification_settings()] == ["notifications.E001"]
    assert channels.get("pigeon") is None
    assert [c.name for c in channels.enabled()] == ["sms"]


def test_email_notifications_in_production_need_a_real_mail_server(settings):
    settings.MAWID_ENV = "production"
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    assert [p.id for p in notification_settings()] == ["notifications.W001"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert notification_settings() == []
