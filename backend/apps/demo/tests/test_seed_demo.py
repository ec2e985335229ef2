"""`manage.py seed_demo`: believable businesses in several cities, loaded once, consistent with the booking rules."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, BookingStatusChange
from apps.catalog.models import Branch, Business, Closure, Membership, ScheduleException, Service, Staff
from apps.demo.management.commands.seed_demo import BUSINESSES, CUSTOMERS, DEMO_MANAGER_PHONE, DEMO_PASSWORD, STAFF

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
    assert elapsed < 20  # 3-5 s for four businesses on a quiet machine; generous for one running other suites


def test_seed_demo_has_bookings_in_every_status_and_a_live_hold():
    seed()

    statuses = set(Booking.objects.values_list("status", flat=True))
    now = timezone.now()

    assert statuses == set(Booking.Status.values)
    assert Booking.objects.filter(status="pending_payment", hold_expires_at__gt=now).exists()
    assert Booking.objects.filter(status="confirmed", start__gt=now).exists()
    assert not Booking.objects.filter(status__in=["completed", "no_show"], start__gt=now).exists()
    assert Booking.objects.filter(status="completed", end__lte=now).count() > 50
    for business in Business.objects.all():  # every business has a past and a future
        assert Booking.objects.filter(business=business, status="completed").exists(), business.slug
        assert Booking.objects.filter(business=business, status="confirmed", start__gt=now).exists(), business.slug
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
    members = User.objects.filter(phone__in=[s.phone for s in STAFF])

    for business in Business.objects.all():
        closures = Closure.objects.filter(business=business)
        assert closures.filter(name__contains="National Day", branch=None).exists(), business.slug
        assert closures.count() >= 3
        assert ScheduleException.objects.filter(business=business, kind="time_off").count() >= 2
        assert ScheduleException.objects.filter(business=business, kind="extra_hours").exists()
    assert Staff.objects.count() == len(STAFF)
    assert members.count() == len(STAFF)
    assert all(m.is_staff and m.role == "staff" and staff_group in m.groups.all() for m in members)
    assert all(m.has_usable_password() for m in members)
    assert User.objects.get(phone=DEMO_MANAGER_PHONE).is_superuser
    assert not Membership.objects.filter(user__phone=DEMO_MANAGER_PHONE).exists()  # the platform, no business
    assert User.objects.filter(phone__in=[phone for phone, *_ in CUSTOMERS], role="customer").count() == len(CUSTOMERS)


def test_seed_demo_makes_the_businesses_in_their_cities_with_branches_and_services():
    seed()

    slugs = {spec.slug for spec in BUSINESSES}
    assert set(Business.objects.values_list("slug", flat=True)) == slugs
    for business in Business.objects.all():
        assert business.name_en
        assert business.name_ar
        assert business.description_en
        assert business.description_ar
        assert business.logo_url == ""  # offline: no image on another site; the pages draw the initial
        assert business.contact_phone.startswith("+966")
        assert business.is_active
        assert business.is_listed
        assert Service.objects.filter(business=business).count() >= 3
        staff = Staff.objects.filter(business=business).select_related("branch")
        assert staff.count() >= 2
        assert all(member.branch.business_id == business.pk for member in staff)
        assert all(member.working_hours.filter(business=business).exists() for member in staff)
        assert Booking.objects.filter(business=business).count() > 20
    cities = {
        b.slug: set(Branch.objects.filter(business=b).values_list("city", flat=True)) for b in Business.objects.all()
    }
    assert cities == {
        "noor-salon": {"Riyadh"},
        "jeddah-barber": {"Jeddah"},
        "dammam-dental": {"Dammam"},
        "riyadh-home-care": {"Riyadh"},
    }
    salon = Business.objects.get(slug="noor-salon")
    branches = list(Branch.objects.filter(business=salon).order_by("display_order"))
    assert [b.district for b in branches] == ["Al Olaya", "Al Malqa"]
    assert all(b.latitude and b.longitude and b.map_url for b in branches)
    assert {s.branch.district for s in Staff.objects.filter(business=salon)} == {"Al Olaya", "Al Malqa"}
    bridal = Service.objects.get(business=salon, name_en="Bridal make-up")
    assert list(bridal.branches.all()) == [branches[0]]  # Olaya only; the rest everywhere
    assert Closure.objects.filter(business=salon, branch=branches[1]).exists()  # a closure of one branch
    home = Business.objects.get(slug="riyadh-home-care")
    assert home.serves_at_home
    assert home.category == "home_services"
    assert "Riyadh" in home.service_area
    assert not Booking.objects.filter(business=home, customer_address="").exists()
    assert not Booking.objects.exclude(business=home).exclude(customer_address="").exists()
    assert Business.objects.get(slug="dammam-dental").category == "dental"
    channels = dict(Business.objects.values_list("slug", "default_notify_channel"))
    assert channels == {  # the barber's customers get WhatsApp (the fake in `dev.py run`), the rest SMS
        "noor-salon": "sms",
        "jeddah-barber": "whatsapp",
        "dammam-dental": "sms",
        "riyadh-home-care": "sms",
    }


def test_seed_demo_bookings_belong_to_their_staff_members_business_and_branch():
    seed()

    mismatched = Booking.objects.exclude(business_id=F("staff__business_id")) | Booking.objects.exclude(
        branch_id=F("staff__branch_id")
    )
    assert not mismatched.exists()
    assert not Booking.objects.exclude(service__business_id=F("business_id")).exists()
    assert not BookingStatusChange.objects.exclude(business_id=F("booking__business_id")).exists()
    # The clinic confirms without payment: nothing of it waited for one.
    dental = Business.objects.get(slug="dammam-dental")
    assert not dental.require_payment
    assert not BookingStatusChange.objects.filter(business=dental, to_status="pending_payment").exists()
    assert Booking.objects.filter(business=dental, status="confirmed", start__gt=timezone.now()).exists()


def test_seed_demo_gives_each_business_a_demo_manager_who_can_sign_in():
    seed()

    managers_group = Group.objects.get(name="Managers")
    for spec in BUSINESSES:
        phone, _name, role = spec.managers[0]
        manager = User.objects.get(phone=phone)
        membership = Membership.objects.get(user=manager)  # one business each
        assert membership.business.slug == spec.slug
        assert membership.role == role == "owner"
        assert manager.is_staff
        assert not manager.is_superuser
        assert managers_group in manager.groups.all()
        assert manager.check_password(DEMO_PASSWORD)
    assert Membership.objects.get(user__phone="+966500000003").role == "manager"  # the salon's second manager
    for member in Staff.objects.select_related("user"):
        assert Membership.objects.get(user=member.user).business_id == member.business_id
        assert Membership.objects.get(user=member.user).role == "staff"


def test_seed_demo_force_loads_it_again():
    seed()
    first_ids = set(Booking.objects.values_list("pk", flat=True))

    out = seed("--force")

    assert "demo data loaded" in out
    assert Business.objects.count() == len(BUSINESSES)  # updated in place, not made twice
    assert first_ids.isdisjoint(Booking.objects.values_list("pk", flat=True))
    assert User.objects.filter(phone=DEMO_MANAGER_PHONE).count() == 1
    assert set(Booking.objects.values_list("status", flat=True)) == set(Booking.Status.values)
