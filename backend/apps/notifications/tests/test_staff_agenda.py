"""Staff are told without being flooded: one agenda a morning (07:00 in the business's time zone) listing the day's
bookings, and a message per booking only for changes soon (NOTIFICATIONS_STAFF_URGENT_HOURS, or later today once
the agenda time has passed). Time is pinned (`time_machine`), the SMS go through the Authentica fake over real
HTTP, and the real worker runs the `staff_agendas` and `notification_send` jobs.

The salon: Noura (English, SMS and email) and a second staff member (Arabic, SMS), both working 09:00-17:00.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from procrastinate.contrib.django import app as procrastinate_app

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_create, booking_reschedule
from apps.catalog.models import Staff
from apps.catalog.tests.factories import BusinessFactory, ServiceFactory, StaffFactory
from apps.core.scoping import platform
from apps.core.testing import run_jobs
from apps.notifications.checks import notification_settings
from apps.notifications.jobs import notifications_sweep, staff_agendas
from apps.notifications.models import Notification
from apps.notifications.services import notification_deliver, staff_agendas_create, staff_change_is_urgent

from .conftest import RIYADH

pytestmark = pytest.mark.django_db(transaction=True)
Q = ["notifications"]
DAY = date(2026, 12, 7)  # a Monday; 27 Jumada al-Akhirah 1448
STAFF_TEMPLATES = ("staff_booking_new", "staff_booking_changed", "staff_booking_cancelled")


def on(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=RIYADH)


@pytest.fixture
def clock() -> Iterator[Callable[[datetime], None]]:
    """`clock(when)`: from now on the time is `when` (ticking, so the worker's loop runs)."""
    travellers: list[time_machine.travel] = []

    def to(when: datetime) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(when, tick=True)
        traveller.start()
        travellers.append(traveller)

    yield to
    for traveller in travellers:
        traveller.stop()


@pytest.fixture
def salon(business, sms, settings):
    """Bookings up to 30 minutes ahead are allowed (a walk-in style salon), so "10:00 for 11:00" can be booked."""
    business.min_notice_minutes = 30
    business.save()
    settings.NOTIFICATIONS_STAFF_AGENDA_TIME = "07:00"
    settings.NOTIFICATIONS_STAFF_URGENT_HOURS = 3
    settings.NOTIFICATIONS_STAFF_AGENDA_MAX_ITEMS = 10
    return business


@pytest.fixture
def arabic_staff(service) -> Staff:
    return StaffFactory.create(services=[service], display_name="Huda", user__name="هدى", user__language="ar")


def guest(n: int) -> User:
    return UserFactory.create(name=f"Guest{n:02d} Alharbi", language="ar", phone=f"+9665012{n:05d}")


_guests = itertools.count(500)


def book(staff: Staff, service, start: datetime) -> Booking:
    """A booking for a new guest (a customer is in one place at a time)."""
    return booking_create(customer=guest(next(_guests)), staff_id=staff.pk, service=service, start=start)


def staff_rows(staff: Staff, *templates: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=staff.user, template__in=templates or STAFF_TEMPLATES))


def texts(sms, user: User) -> list[str]:
    return [m["text"] for m in reversed(sms.messages(str(user.phone)))]


def run_agenda_job():
    staff_agendas.defer(timestamp=0)
    run_jobs(queues=Q, timeout=20)


def test_a_busy_day_booked_the_day_before_sends_no_message_per_booking_and_one_agenda_at_seven(
    salon, clock, staff, arabic_staff, service, sms, mailoutbox
):
    sms.configure(send_cap_per_window=10)  # the provider's per-recipient limit (429, an hour's Retry-After)
    clock(on(DAY - timedelta(days=1), "15:00"))
    slots = [on(DAY, "09:00") + timedelta(minutes=30 * i) for i in range(15)]  # 09:00 ... 16:00
    for i, start in enumerate(slots):
        booking_create(customer=guest(i), staff_id=staff.pk, service=service, start=start)
        booking_create(customer=guest(100 + i), staff_id=arabic_staff.pk, service=service, start=start)
    assert Booking.objects.filter(status="confirmed").count() == 30

    run_jobs(queues=Q, timeout=20)
    assert staff_rows(staff) == []
    assert staff_rows(arabic_staff) == []
    assert texts(sms, staff.user) == []
    assert texts(sms, arabic_staff.user) == []
    assert Notification.objects.filter(template="booking_confirmed", channel="sms", status="sent").count() == 30

    clock(on(DAY, "06:50"))
    run_agenda_job()
    assert staff_rows(staff, "staff_agenda") == []  # not yet 07:00

    clock(on(DAY, "07:00"))
    run_agenda_job()

    link = f"{django_settings.PUBLIC_BASE_URL}/calendar/salon/day?date=2026-12-07"
    english = [f"{h} Haircut (Guest{i:02d})" for i, h in enumerate(["9:00 AM", "9:30 AM", "10:00 AM", "10:30 AM"])]
    english += [f"{h} Haircut (Guest{i + 4:02d})" for i, h in enumerate(["11:00 AM", "11:30 AM", "12:00 PM"])]
    english += [f"{h} Haircut (Guest{i + 7:02d})" for i, h in enumerate(["12:30 PM", "1:00 PM", "1:30 PM"])]
    assert texts(sms, staff.user) == [
        f"Your bookings today, Mon 7 Dec 2026 (27 Jumada al-Akhirah) (15): {'; '.join(english)} and 5 more."
        f" Calendar: {link}"
    ]
    arabic = [f"{h} قص شعر (Guest{100 + i})" for i, h in enumerate(["9:00 ص", "9:30 ص", "10:00 ص", "10:30 ص"])]
    arabic += [f"{h} قص شعر (Guest{104 + i})" for i, h in enumerate(["11:00 ص", "11:30 ص", "12:00 م"])]
    arabic += [f"{h} قص شعر (Guest{107 + i})" for i, h in enumerate(["12:30 م", "1:00 م", "1:30 م"])]
    assert texts(sms, arabic_staff.user) == [
        f"حجوزاتك اليوم، الاثنين 7 ديسمبر 2026 (27 جمادى الآخرة) (15): {'؛ '.join(arabic)} و5 غيرها. التقويم: {link}"
    ]
    assert [m.subject for m in mailoutbox if m.to == [staff.user.email]] == ["Your bookings today, Mon 7 Dec 2026"]
    agendas = Notification.objects.filter(template="staff_agenda")
    assert sorted((n.event_key, n.channel, n.status, n.business_id) for n in agendas) == [
        (f"staff_agenda:{staff.pk}:2026-12-07", "email", "sent", salon.pk),
        (f"staff_agenda:{staff.pk}:2026-12-07", "sms", "sent", salon.pk),
        (f"staff_agenda:{arabic_staff.pk}:2026-12-07", "sms", "sent", salon.pk),
    ]
    assert "Alharbi" not in "".join(texts(sms, staff.user))  # the customer's first name only


def test_the_agenda_job_run_twice_makes_one_agenda_and_none_for_staff_without_bookings(
    salon, clock, staff, arabic_staff, service, sms
):
    idle = StaffFactory.create(services=[service], display_name="Reem")  # works today, nothing booked
    clock(on(DAY - timedelta(days=1), "12:00"))
    book(staff, service, on(DAY, "10:00"))
    cancelled = book(arabic_staff, service, on(DAY, "11:00"))
    booking_cancel(booking_id=cancelled.pk, actor=cancelled.customer)  # a cancelled booking is no booking

    clock(on(DAY, "07:00"))
    run_agenda_job()
    run_agenda_job()
    assert staff_agendas_create(now=on(DAY, "07:20")) == 0

    assert Notification.objects.filter(template="staff_agenda", recipient=staff.user).count() == 2  # sms, email
    assert len(texts(sms, staff.user)) == 1
    assert staff_rows(arabic_staff, "staff_agenda") == []
    assert texts(sms, arabic_staff.user) == []
    assert staff_rows(idle, "staff_agenda") == []
    assert texts(sms, idle.user) == []


def test_a_business_with_its_own_agenda_time_gets_the_agenda_then_and_changes_before_it_wait_for_it(
    salon, clock, staff, service, sms
):
    """A business that sets 14:00: nothing at 07:00, the agenda at 14:00; at 10:00 a booking for 16:00 is not told
    at once (it will be in the 14:00 agenda), and after 14:00 anything today is. A business without its own time
    keeps the platform's 07:00."""
    salon.staff_agenda_time = time(14, 0)
    salon.save()
    elsewhere = ServiceFactory.create(business=BusinessFactory.create(require_payment=False))  # the platform's time
    other = StaffFactory.create(business=elsewhere.business, services=[elsewhere])
    clock(on(DAY - timedelta(days=1), "12:00"))
    book(staff, service, on(DAY, "15:00"))
    book(other, elsewhere, on(DAY, "15:00"))

    clock(on(DAY, "07:00"))
    run_agenda_job()
    assert staff_rows(staff, "staff_agenda") == []
    assert len(staff_rows(other, "staff_agenda")) >= 1  # the platform's time (by SMS, and email if it has one)

    clock(on(DAY, "10:00"))
    early = book(staff, service, on(DAY, "16:00"))  # 6 hours ahead, before the business's agenda time
    assert early.pk not in {n.booking_id for n in staff_rows(staff)}
    assert not staff_change_is_urgent(business=salon, starts=[on(DAY, "16:00")], now=on(DAY, "10:00"))

    clock(on(DAY, "14:00"))
    run_agenda_job()
    assert len(staff_rows(staff, "staff_agenda")) == 2
    (agenda,) = texts(sms, staff.user)
    assert "3:00 PM" in agenda, agenda
    assert "4:00 PM" in agenda, agenda  # the one made at 10:00 too
    assert staff_change_is_urgent(business=salon, starts=[on(DAY, "21:30")], now=on(DAY, "14:05"))


def test_a_booking_made_at_ten_for_eleven_the_same_day_is_told_at_once(salon, clock, staff, service, sms):
    clock(on(DAY, "10:00"))
    booking = book(staff, service, on(DAY, "11:00"))

    assert {n.template for n in staff_rows(staff)} == {"staff_booking_new"}
    run_agenda_job()  # nothing was booked at 07:00, and this booking is told on its own: no agenda besides
    assert staff_rows(staff, "staff_agenda") == []
    (text,) = texts(sms, staff.user)
    assert text.startswith(
        f"New booking #{booking.pk}: Haircut for {booking.customer.name} on Mon 7 Dec 2026, 11:00 AM"
    )


def test_which_changes_are_told_at_once(salon, clock, staff, service):
    clock(on(DAY, "05:00"))  # before the agenda: only what starts within 3 hours
    assert staff_rows(staff) == []
    soon = book(staff, service, on(DAY, "09:00"))  # 4 hours ahead, and in the 07:00 agenda
    assert staff_rows(staff) == []
    clock(on(DAY, "06:45"))
    soon2 = book(staff, service, on(DAY, "09:30"))  # within 3 hours: can't wait for the agenda
    assert [n.booking_id for n in staff_rows(staff)] == [soon2.pk] * 2
    clock(on(DAY, "10:00"))  # after the agenda: anything today, not tomorrow
    later_today = book(staff, service, on(DAY, "16:30"))
    tomorrow = book(staff, service, on(DAY + timedelta(days=1), "10:00"))
    told = {n.booking_id for n in staff_rows(staff)}
    assert later_today.pk in told
    assert tomorrow.pk not in told
    assert soon.pk not in told

    business = salon
    late_evening = on(DAY, "23:00")  # overnight: the next day's early hours are soon too
    assert staff_change_is_urgent(business=business, starts=[on(DAY + timedelta(days=1), "01:30")], now=late_evening)
    assert not staff_change_is_urgent(
        business=business, starts=[on(DAY + timedelta(days=1), "09:00")], now=late_evening
    )
    assert not staff_change_is_urgent(
        business=business, starts=[on(DAY - timedelta(days=1), "16:00")], now=late_evening
    )


def test_a_reschedule_into_the_next_hours_is_told_and_one_between_later_days_is_not(salon, clock, staff, service, sms):
    clock(on(DAY - timedelta(days=3), "12:00"))
    moved_soon = book(staff, service, on(DAY + timedelta(days=2), "10:00"))
    moved_later = book(staff, service, on(DAY + timedelta(days=2), "11:00"))

    clock(on(DAY, "10:00"))
    booking_reschedule(booking_id=moved_soon.pk, start=on(DAY, "12:00"), actor=moved_soon.customer)
    booking_reschedule(
        booking_id=moved_later.pk, start=on(DAY + timedelta(days=3), "11:00"), actor=moved_later.customer
    )

    assert {(n.template, n.booking_id) for n in staff_rows(staff)} == {("staff_booking_changed", moved_soon.pk)}
    run_jobs(queues=Q, timeout=20)
    (text,) = texts(sms, staff.user)
    assert text.startswith(f"Booking #{moved_soon.pk} (Haircut, Guest")
    assert text.endswith("to Mon 7 Dec 2026, 12:00 PM.")

    clock(on(DAY, "10:30"))  # moved away from the next hours: the old time was soon, so the staff member hears
    booking_reschedule(booking_id=moved_soon.pk, start=on(DAY + timedelta(days=4), "12:00"), actor=None)  # the salon
    assert Notification.objects.filter(template="staff_booking_changed", booking_id=moved_soon.pk).count() == 4


def test_a_cancellation_of_a_booking_tomorrow_says_nothing_now_and_it_is_absent_from_tomorrow_s_agenda(
    salon, clock, staff, service, sms
):
    tomorrow = DAY + timedelta(days=1)
    clock(on(DAY - timedelta(days=2), "12:00"))
    gone = book(staff, service, on(tomorrow, "10:00"))
    kept = book(staff, service, on(tomorrow, "11:00"))
    today = book(staff, service, on(DAY, "15:00"))

    clock(on(DAY, "08:00"))
    booking_cancel(booking_id=gone.pk, actor=gone.customer, reason="Travelling")
    assert staff_rows(staff) == []  # tomorrow: nothing now
    booking_cancel(booking_id=today.pk, actor=today.customer)
    assert {(n.template, n.booking_id) for n in staff_rows(staff)} == {("staff_booking_cancelled", today.pk)}

    clock(on(tomorrow, "07:00"))
    run_agenda_job()
    agendas = [t for t in texts(sms, staff.user) if t.startswith("Your bookings today")]
    assert agendas == [
        f"Your bookings today, Tue 8 Dec 2026 (28 Jumada al-Akhirah) (1): 11:00 AM Haircut"
        f" ({kept.customer.name.split()[0]}). Calendar: {django_settings.PUBLIC_BASE_URL}/calendar/salon/day?date=2026-12-08"
    ]


def test_after_downtime_the_agenda_is_caught_up_the_same_morning_and_never_sent_for_a_past_day(
    salon, clock, staff, arabic_staff, service, sms
):
    clock(on(DAY - timedelta(days=1), "12:00"))
    book(staff, service, on(DAY, "09:00"))  # over by the time the worker is back
    book(staff, service, on(DAY, "10:00"))
    book(staff, service, on(DAY, "11:30"))
    book(arabic_staff, service, on(DAY, "09:00"))  # only this one, over by then: nothing left to tell
    book(staff, service, on(DAY + timedelta(days=1), "10:00"))

    clock(on(DAY, "09:40"))  # the worker was down at 07:00
    run_agenda_job()
    (text,) = texts(sms, staff.user)
    assert text.startswith("Your bookings today, Mon 7 Dec 2026 (27 Jumada al-Akhirah) (2): 10:00 AM Haircut")
    assert "9:00 AM" not in text
    assert "11:30 AM Haircut" in text
    assert texts(sms, arabic_staff.user) == []

    # Past the catch-up window (5 hours after 07:00) nothing new is made for the day...
    Notification.objects.filter(template="staff_agenda").delete()
    assert staff_agendas_create(now=on(DAY, "12:00")) == 0
    # ...and an agenda whose job only runs the next day is skipped, not sent for a day that is over.
    assert staff_agendas_create(now=on(DAY, "11:00")) == 2
    clock(on(DAY + timedelta(days=1), "06:00"))
    run_jobs(queues=Q, timeout=20)
    assert set(Notification.objects.filter(template="staff_agenda").values_list("status", "last_error")) == {
        ("skipped", "the day is over")
    }
    assert len(texts(sms, staff.user)) == 1


def test_an_agenda_whose_job_was_lost_is_sent_by_the_sweep_the_same_day(salon, clock, staff, service, sms):
    clock(on(DAY - timedelta(days=1), "12:00"))
    book(staff, service, on(DAY, "10:00"))
    clock(on(DAY, "07:00"))
    assert staff_agendas_create(now=on(DAY, "07:00")) == 2
    sms_row = Notification.objects.get(template="staff_agenda", channel="sms")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [sms_row.job_id])

    notifications_sweep.defer(timestamp=0)
    run_jobs(queues=Q, timeout=20)

    sms_row.refresh_from_db()
    assert sms_row.status == "sent"
    assert [t[:41] for t in texts(sms, staff.user)] == ["Your bookings today, Mon 7 Dec 2026 (27 J"]


def test_the_agenda_job_is_periodic_every_quarter_hour_and_a_bad_agenda_time_is_a_check_error(settings):
    periodic = {t.periodic_id: t for t in procrastinate_app.periodic_registry.periodic_tasks.values()}
    assert periodic["staff_agendas"].cron == "*/15 * * * *"
    assert periodic["staff_agendas"].task.queueing_lock == "staff_agendas"
    assert [p.id for p in notification_settings()] == []
    settings.NOTIFICATIONS_STAFF_AGENDA_TIME = "7 am"
    assert [p.id for p in notification_settings()] == ["notifications.E003"]


def test_changes_within_five_minutes_of_a_notice_go_out_together_at_the_end_of_the_window(
    salon, clock, staff, service, sms
):
    clock(on(DAY, "10:00"))
    first = book(staff, service, on(DAY, "11:00"))  # told at once, on its own
    run_jobs(queues=Q, timeout=20)
    clock(on(DAY, "10:01"))
    second = book(staff, service, on(DAY, "11:30"))
    clock(on(DAY, "10:02"))
    booking_reschedule(booking_id=first.pk, start=on(DAY, "12:30"), actor=None)

    assert sorted(n.template for n in staff_rows(staff, *STAFF_TEMPLATES, "staff_changes")) == [
        "staff_booking_new",
        "staff_booking_new",
        "staff_changes",
        "staff_changes",
    ]  # the first booking's notice (sms, email), and one summary (sms, email) of the two changes since
    summary = Notification.objects.get(template="staff_changes", channel="sms")
    assert on(DAY, "10:05") <= summary.scheduled_for < on(DAY, "10:05:01")  # five minutes after the last notice
    assert [(c["kind"], c["ref"]) for c in summary.context["changes"]] == [("new", second.pk), ("moved", first.pk)]

    assert notification_deliver(notification_id=summary.pk) == "pending"  # not before the end of the window
    clock(on(DAY, "10:05"))
    assert notification_deliver(notification_id=summary.pk) == "sent"
    staff_texts = texts(sms, staff.user)
    assert len(staff_texts) == 2
    assert staff_texts[0].startswith(f"New booking #{first.pk}")
    assert staff_texts[1] == (
        f"Changes to your bookings (2): new #{second.pk} Haircut ({second.customer.name.split()[0]}) Mon 11:30 AM;"
        f" #{first.pk} Haircut ({first.customer.name.split()[0]}) moved Mon 11:00 AM → Mon 12:30 PM."
    )

    clock(on(DAY, "10:06"))  # the summary has gone out: a change now opens the next one, five minutes after it
    booking_cancel(booking_id=second.pk, actor=second.customer)
    following = Notification.objects.filter(template="staff_changes", channel="sms").exclude(pk=summary.pk).get()
    assert on(DAY, "10:10") <= following.scheduled_for < on(DAY, "10:10:01")
    assert [(c["kind"], c["ref"]) for c in following.context["changes"]] == [("cancelled", second.pk)]
    summary.refresh_from_db()
    assert len(summary.context["changes"]) == 2  # the one sent is left as it was

    clock(on(DAY, "10:10"))
    assert notification_deliver(notification_id=following.pk) == "sent"
    assert len(texts(sms, staff.user)) == 3
    clock(on(DAY, "10:30"))  # long after: on its own again
    booking_cancel(booking_id=first.pk, actor=first.customer)
    assert Notification.objects.filter(template="staff_booking_cancelled", booking_id=first.pk).count() == 2


def test_a_summary_renders_in_arabic(salon, clock, arabic_staff, service, sms):
    clock(on(DAY, "10:00"))
    first = book(arabic_staff, service, on(DAY, "11:00"))
    run_jobs(queues=Q, timeout=20)  # (a notice still pending when its booking is cancelled is withdrawn instead)
    clock(on(DAY, "10:01"))
    booking_cancel(booking_id=first.pk, actor=first.customer)
    summary = Notification.objects.get(template="staff_changes")
    clock(on(DAY, "10:05"))
    assert notification_deliver(notification_id=summary.pk) == "sent"
    assert texts(sms, arabic_staff.user)[-1] == (
        f"تغييرات على حجوزاتك (1): #{first.pk} قص شعر ({first.customer.name.split()[0]}) الاثنين 11:00 ص أُلغي."
    )


def test_changes_at_the_same_moment_make_one_summary_with_all_of_them(salon, clock, staff, service, sms):
    """Cancellations lock only their booking: the summary is serialised per staff member (an advisory lock), or
    two of them would open the same summary and one change would be lost to ON CONFLICT."""
    clock(on(DAY - timedelta(days=1), "12:00"))
    racing = [book(staff, service, on(DAY, f"{h}:00")) for h in (12, 13, 14, 15)]  # in the agenda, no notice
    clock(on(DAY, "10:00"))
    book(staff, service, on(DAY, "11:00"))  # told at once
    run_jobs(queues=Q, timeout=20)
    clock(on(DAY, "10:01"))
    barrier = threading.Barrier(len(racing))

    def cancel(booking: Booking) -> None:
        try:
            barrier.wait(timeout=30)
            with platform():
                booking_cancel(booking_id=booking.pk, actor=None)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(b,)) for b in racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    summaries = Notification.objects.filter(template="staff_changes")
    assert summaries.count() == 2  # one summary, over sms and email
    for summary in summaries:
        assert sorted(c["ref"] for c in summary.context["changes"]) == sorted(b.pk for b in racing)
    assert not Notification.objects.filter(template="staff_booking_cancelled").exists()
