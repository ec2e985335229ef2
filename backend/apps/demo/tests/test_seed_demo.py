"""`manage.py seed_demo`: a believable salon, loaded once, consistent with the booking rules."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatusChange
from apps.catalog.models import Closure, ScheduleException, Staff
from apps.demo.management.commands.seed_demo import CUSTOMERS, DEMO_MANAGER_PHONE, STAFF

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_loads_once_and_the_second_run_changes_nothing():
    started = time.monotonic()
    first = seed()
    elapsed = time.monotonic() - started
    snapshot = (Booking.objects.count(), User.objects.count(), BookingStatusChange.objects.count())

    second = seed()

    assert "demo data loaded" in first
    assert "already loaded" in second
    assert (Booking.objects.count(), User.objects.count(), BookingStatusChange.objects.count()) == snapshot
    assert elapsed < 10  # about a second; generous for a loaded machine


def test_seed_demo_has_bookings_in_every_status_and_a_live_hold():
    seed()

    statuses = set(Booking.objects.values_list("status", flat=True))
    now = timezone.now()

    assert statuses == set(Booking.Status.values)
    assert Booking.objects.filter(status="pending_payment", hold_expires_at__gt=now).exists()
    assert Booking.objects.filter(status="confirmed", start__gt=now).exists()
    assert not Booking.objects.filter(status__in=["completed", "no_show"], start__gt=now).exists()
    assert Booking.objects.filter(status="completed", end__lte=now).count() > 50
    assert not Booking.objects.filter(status="cancelled", cancel_reason="").exists()
    assert Booking.objects.filter(start__lt=now).exists()
    assert Booking.objects.filter(start__gt=now).exists()


def test_seed_demo_bookings_never_overlap_and_carry_the_service_fields():
    seed()

    by_staff: dict[int, list[Booking]] = {}
    for booking in Booking.objects.select_related("service").order_by("staff_id", "busy_start"):
        assert booking.end == booking.start + booking.service.duration
        assert booking.busy_start == booking.start - booking.service.buffer_before
        assert booking.busy_end == booking.end + booking.service.buffer_after
        assert booking.price_amount == booking.service.price_amount
        by_staff.setdefault(booking.staff_id, []).append(booking)
    for bookings in by_staff.values():  # whatever the status: one barber, one chair
        for before, after in zip(bookings, bookings[1:], strict=False):
            assert before.busy_end <= after.busy_start, (before.pk, after.pk)


def test_seed_demo_bookings_have_a_history_that_ends_in_their_status():
    seed()

    for booking in Booking.objects.prefetch_related("history"):
        history = list(booking.history.all())
        assert history[0].from_status == ""
        assert history[-1].to_status == booking.status
        assert history[0].created_at <= booking.start


def test_seed_demo_makes_closures_time_off_and_staff_with_admin_access():
    seed()

    staff_group = Group.objects.get(name="Staff")
    members = User.objects.filter(phone__in=[phone for phone, *_ in STAFF])

    assert Closure.objects.filter(name__contains="National Day").exists()
    assert Closure.objects.count() >= 3
    assert ScheduleException.objects.filter(kind="time_off").count() >= 2
    assert ScheduleException.objects.filter(kind="extra_hours").exists()
    assert Staff.objects.count() == len(STAFF)
    assert all(m.is_staff and m.role == "staff" and staff_group in m.groups.all() for m in members)
    assert all(m.has_usable_password() for m in members)
    assert User.objects.get(phone=DEMO_MANAGER_PHONE).is_superuser
    assert User.objects.get(phone="+966500000002").groups.filter(name="Managers").exists()
    assert User.objects.filter(phone__in=[phone for phone, *_ in CUSTOMERS], role="customer").count() == len(CUSTOMERS)


def test_seed_demo_force_loads_it_again():
    seed()
    first_ids = set(Booking.objects.values_list("pk", flat=True))

    out = seed("--force")

    assert "demo data loaded" in out
    assert first_ids.isdisjoint(Booking.objects.values_list("pk", flat=True))
    assert User.objects.filter(phone=DEMO_MANAGER_PHONE).count() == 1
    assert set(Booking.objects.values_list("status", flat=True)) == set(Booking.Status.values)
