"""Each domain event writes the right notification rows (template, recipient, channel, language, time) and
defers their jobs in the publisher's transaction; a rolled-back transaction leaves nothing behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.db import transaction

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_confirm, booking_create, booking_reschedule
from apps.catalog.models import Membership
from apps.catalog.tests.factories import MembershipFactory
from apps.core.events import publish
from apps.core.testing import job_rows, run_jobs
from apps.notifications import subscribers
from apps.notifications.models import Notification

from .conftest import SEND

pytestmark = pytest.mark.django_db
H24, H2 = timedelta(hours=24), timedelta(hours=2)


def rows(booking: Booking, *statuses: str) -> list[tuple]:
    qs = Notification.objects.filter(booking_id=booking.pk)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return sorted((n.template, n.recipient_id, n.channel, n.language, n.scheduled_for) for n in qs)


def both(template: str, user: User, language: str, when=None) -> list[tuple]:
    return [(template, user.pk, "email", language, when), (template, user.pk, "sms", language, when)]


def jobs_by_id() -> dict[int, dict]:
    return {job["id"]: job for job in job_rows(SEND)}


def test_a_confirmed_booking_tells_the_customer_and_schedules_two_reminders_and_staff_hear_in_their_agenda(
    book, customer_ar, staff, at
):
    booking = book(customer_ar, "10:00")  # three days ahead: no per-booking staff notice (the agenda lists it)

    assert rows(booking) == sorted(
        both("booking_confirmed", customer_ar, "ar")
        + both("reminder_24h", customer_ar, "ar", at("10:00") - H24)
        + both("reminder_2h", customer_ar, "ar", at("10:00") - H2)
    )
    assert not Notification.objects.filter(recipient=staff.user).exists()
    jobs = jobs_by_id()
    notifications = list(Notification.objects.all())
    assert {n.job_id for n in notifications} == set(jobs)
    for n in notifications:
        job = jobs[n.job_id]
        assert job["args"] == {"notification_id": n.pk}
        assert job["status"] == "todo"
        assert job["scheduled_at"] == n.scheduled_for  # reminders at their time, the rest at once (None)
        assert n.status == "pending"


def test_a_confirmed_booking_soon_tells_the_staff_member_at_once(book, customer_ar, staff, at, staff_told_at_once):
    booking = book(customer_ar, "10:00")  # "soon" for this test: within the (widened) urgency window

    assert rows(booking) == sorted(
        both("booking_confirmed", customer_ar, "ar")
        + both("staff_booking_new", staff.user, "en")
        + both("reminder_24h", customer_ar, "ar", at("10:00") - H24)
        + both("reminder_2h", customer_ar, "ar", at("10:00") - H2)
    )


def test_an_unpaid_booking_notifies_nobody_until_it_is_confirmed(
    business, customer_en, staff, service, at, staff_told_at_once
):
    business.require_payment = True
    business.save()
    booking = booking_create(customer=customer_en, staff_id=staff.pk, service=service, start=at("10:00"))
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert rows(booking) == []
    assert job_rows(SEND) == []

    booking_confirm(booking_id=booking.pk)

    assert [r[:4] for r in rows(booking)] == sorted(
        [r[:4] for r in both("booking_confirmed", customer_en, "en") + both("staff_booking_new", staff.user, "en")]
        + [r[:4] for r in both("reminder_24h", customer_en, "en") + both("reminder_2h", customer_en, "en")]
    )


def test_rescheduling_tells_both_and_moves_the_reminders(book, customer_ar, staff, at, staff_told_at_once):
    booking = book(customer_ar, "10:00")
    old_reminders = list(Notification.objects.filter(template__startswith="reminder_"))

    booking_reschedule(booking_id=booking.pk, start=at("14:00"), actor=customer_ar)

    jobs = jobs_by_id()
    for old in old_reminders:
        old.refresh_from_db()
        assert old.status == "cancelled"
        assert jobs[old.job_id]["status"] == "cancelled"  # the scheduled job row is cancelled too
    assert rows(booking, "pending") == sorted(
        both("booking_confirmed", customer_ar, "ar")
        + both("staff_booking_new", staff.user, "en")
        + both("booking_rescheduled", customer_ar, "ar")
        + both("staff_booking_changed", staff.user, "en")
        + both("reminder_24h", customer_ar, "ar", at("14:00") - H24)
        + both("reminder_2h", customer_ar, "ar", at("14:00") - H2)
    )
    for n in Notification.objects.filter(status="pending", template__startswith="reminder_"):
        assert jobs[n.job_id]["scheduled_at"] == n.scheduled_for
    notice = Notification.objects.get(template="booking_rescheduled", channel="sms")
    assert datetime.fromisoformat(notice.context["old_start"]) == at("10:00")


def test_moving_a_booking_away_and_back_brings_its_first_reminders_back(book, customer_ar, at):
    booking = book(customer_ar, "10:00")
    first = set(Notification.objects.filter(template__startswith="reminder_").values_list("pk", "job_id"))

    booking_reschedule(booking_id=booking.pk, start=at("14:00"), actor=customer_ar)
    booking_reschedule(booking_id=booking.pk, start=at("10:00"), actor=customer_ar)

    pending = Notification.objects.filter(template__startswith="reminder_", status="pending")
    assert {n.pk for n in pending} == {pk for pk, _ in first}  # the same rows, back again
    assert all(n.scheduled_for in (at("10:00") - H24, at("10:00") - H2) for n in pending)
    jobs = jobs_by_id()
    assert all(jobs[n.job_id]["status"] == "todo" and (n.pk, n.job_id) not in first for n in pending)
    assert Notification.objects.filter(template__startswith="reminder_", status="cancelled").count() == 4
    assert Notification.objects.filter(template="booking_rescheduled").count() == 4  # two notices, two channels


def test_cancelling_tells_both_and_drops_the_reminders(book, customer_en, staff, staff_told_at_once):
    booking = book(customer_en, "10:00")

    booking_cancel(booking_id=booking.pk, actor=customer_en, reason="Travelling")

    jobs = jobs_by_id()
    for n in Notification.objects.filter(template__startswith="reminder_"):
        assert n.status == "cancelled"
        assert jobs[n.job_id]["status"] == "cancelled"
    assert rows(booking, "pending") == sorted(
        both("booking_cancelled", customer_en, "en") + both("staff_booking_cancelled", staff.user, "en")
    )
    assert Notification.objects.filter(template="booking_cancelled").first().context["reason"] == "Travelling"


def test_an_unpaid_hold_cancelled_by_its_customer_needs_no_notice(business, customer_en, staff, service, at):
    business.require_payment = True
    business.save()
    booking = booking_create(customer=customer_en, staff_id=staff.pk, service=service, start=at("10:00"))

    booking_cancel(booking_id=booking.pk, actor=customer_en)

    assert rows(booking) == []


def test_an_unpaid_hold_cancelled_by_the_business_is_explained_to_the_customer(
    business, customer_en, staff, service, at
):
    business.require_payment = True
    business.save()
    booking = booking_create(customer=customer_en, staff_id=staff.pk, service=service, start=at("10:00"))
    manager = UserFactory(role=User.Role.MANAGER, name="Manager")
    MembershipFactory(business=business, user=manager, role=Membership.Role.MANAGER)

    booking_cancel(booking_id=booking.pk, actor=manager, reason="Staff member ill")

    assert rows(booking) == both("booking_cancelled_by_business", customer_en, "en")


def test_completion_and_no_show_drop_the_reminders_left(book, customer_ar):
    booking = book(customer_ar, "10:00")

    publish(booking_events.BookingCompleted(booking_id=booking.pk))

    assert set(Notification.objects.filter(template__startswith="reminder_").values_list("status", flat=True)) == {
        "cancelled"
    }


def test_each_person_gets_only_the_channels_they_chose(book, customer_en, staff, staff_told_at_once):
    customer_en.notify_email = False
    customer_en.save()
    staff.user.notify_sms = False
    staff.user.notify_whatsapp = True  # no WhatsApp carrier: nothing is sent that way
    staff.user.save()
    no_email = UserFactory(name="Ali", language="ar", email=None)
    whatsapp_only = UserFactory(
        name="Mona", notify_sms=False, notify_email=False, notify_whatsapp=True, email="mona@example.com"
    )

    first = book(customer_en, "10:00")
    second = book(no_email, "11:00")
    third = book(whatsapp_only, "12:00")

    assert {(n.template, n.channel) for n in Notification.objects.filter(booking_id=first.pk)} == {
        ("booking_confirmed", "sms"),
        ("reminder_24h", "sms"),
        ("reminder_2h", "sms"),
        ("staff_booking_new", "email"),
    }
    assert {n.channel for n in Notification.objects.filter(booking_id=second.pk, recipient=no_email)} == {"sms"}
    assert not Notification.objects.filter(recipient=whatsapp_only).exists()
    assert Notification.objects.filter(booking_id=third.pk).count() == 1  # the staff member's email


def test_a_fact_published_twice_notifies_once(book, customer_ar, staff_told_at_once):
    booking = book(customer_ar, "10:00")
    before = (Notification.objects.count(), len(job_rows(SEND)))

    publish(booking_events.BookingConfirmed(booking_id=booking.pk))
    publish(booking_events.BookingCancelled(booking_id=booking.pk, by_business=False, before_cutoff=True))
    publish(booking_events.BookingCancelled(booking_id=booking.pk, by_business=False, before_cutoff=True))

    assert before == (8, 8)
    cancelled = Notification.objects.filter(template__in=["booking_cancelled", "staff_booking_cancelled"])
    assert cancelled.count() == 4
    assert len(job_rows(SEND)) == 8 + 4


@dataclass(frozen=True)
class Captured:  # the shape of apps.payments.events.PaymentCaptured
    payment_id: int
    booking_id: int
    amount: int


@dataclass(frozen=True)
class Refunded:
    payment_id: int
    booking_id: int
    refund_id: int
    amount: int


def test_a_captured_payment_sends_a_receipt_and_a_refund_a_notice(book, customer_ar):
    booking = book(customer_ar, "10:00")

    subscribers.on_payment_captured(Captured(payment_id=7, booking_id=booking.pk, amount=15000))
    subscribers.on_payment_captured(Captured(payment_id=7, booking_id=booking.pk, amount=15000))  # replayed
    subscribers.on_payment_refunded(Refunded(payment_id=7, booking_id=booking.pk, refund_id=3, amount=5000))

    receipts = Notification.objects.filter(template="payment_receipt")
    assert sorted(receipts.values_list("channel", "language")) == [("email", "ar"), ("sms", "ar")]
    assert receipts.first().context["amount"] == {"amount": 15000, "currency": "SAR"}
    refunds = Notification.objects.filter(template="payment_refunded")
    assert refunds.count() == 2
    assert refunds.first().context["amount"] == {"amount": 5000, "currency": "SAR"}


def test_the_payments_events_are_wired_when_that_app_publishes_them(book, customer_en):
    payment_events = pytest.importorskip("apps.payments.events")
    assert {"PaymentCaptured", "PaymentRefunded"} <= set(subscribers.connect())
    booking = book(customer_en, "10:00")

    publish(payment_events.PaymentCaptured(payment_id=11, booking_id=booking.pk, amount=15000))
    publish(payment_events.PaymentRefunded(payment_id=11, booking_id=booking.pk, refund_id=1, amount=15000))

    assert Notification.objects.filter(template="payment_receipt", recipient=customer_en).count() == 2
    assert Notification.objects.filter(template="payment_refunded", recipient=customer_en).count() == 2


class Abort(Exception):
    pass


def test_a_booking_rolled_back_leaves_no_notification_and_no_job(book, customer_ar, staff_told_at_once):
    seen_inside = []

    @transaction.atomic
    def book_then_fail() -> None:
        book(customer_ar, "10:00")
        seen_inside.append((Notification.objects.count(), len(job_rows(SEND))))  # written in the transaction...
        raise Abort

    with pytest.raises(Abort):
        book_then_fail()

    assert seen_inside == [(8, 8)]
    assert Notification.objects.count() == 0  # ...and gone with it
    assert job_rows(SEND) == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_booking_never_reaches_anyone(book, customer_ar, sms, mailoutbox):
    @transaction.atomic
    def book_then_fail() -> None:
        book(customer_ar, "10:00")
        raise Abort

    with pytest.raises(Abort):
        book_then_fail()

    run_jobs(queues=["notifications"])
    assert Booking.objects.count() == 0
    assert Notification.objects.count() == 0
    assert job_rows(SEND) == []
    assert sms.messages() == []
    assert mailoutbox == []
