"""`booking_create` at the service: the rules and the overlap guarantee, edge cases."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings import events
from apps.bookings.errors import SlotUnavailable, TooManyPendingBookings
from apps.bookings.models import Booking, BookingStatusChange
from apps.bookings.services import booking_create
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.busy import booked_time
from apps.catalog.errors import ServiceNotOffered
from apps.catalog.models import Closure, ScheduleException
from apps.catalog.tests.factories import ServiceFactory, StaffFactory
from apps.core.errors import NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


def test_booking_create_holds_the_slot_until_paid_with_price_and_end_from_the_service(
    staff, service, customer, at, business, published
):
    before = timezone.now()
    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert (booking.start, booking.end) == (at("10:00"), at("10:30"))
    assert (booking.price_amount, booking.currency) == (15000, "SAR")
    assert before + timedelta(minutes=10) <= booking.hold_expires_at <= timezone.now() + timedelta(minutes=10)
    assert published == [events.BookingCreated(booking_id=booking.pk)]
    history = BookingStatusChange.objects.get(booking=booking)
    assert (history.from_status, history.to_status, history.actor) == ("", "pending_payment", customer)


def test_booking_create_confirms_at_once_when_no_payment_is_needed(staff, service, customer, at, business, published):
    business.require_payment = False
    business.save()

    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    assert booking.status == Booking.Status.CONFIRMED
    assert booking.hold_expires_at is None
    assert published == [events.BookingCreated(booking_id=booking.pk), events.BookingConfirmed(booking_id=booking.pk)]


def test_booking_create_stores_the_time_widened_by_the_service_buffers(staff, customer, at, business):
    padded = ServiceFactory(duration_minutes=45, buffer_before_minutes=10, buffer_after_minutes=15)
    staff.services.add(padded)

    booking = booking_create(customer=customer, staff_id=staff.pk, service=padded, start=at("10:00"))

    assert (booking.end, booking.busy_start, booking.busy_end) == (at("10:45"), at("09:50"), at("11:00"))


def test_booking_create_refuses_an_overlapping_slot(staff, service, customer, at):
    # given
    BookingFactory(staff=staff, service=service, start=at("10:00"))
    # when / then
    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:15"))
    assert Booking.objects.filter(staff=staff).count() == 1


def test_booking_create_refuses_a_slot_whose_buffers_overlap_another_booking(staff, service, customer, at):
    padded = ServiceFactory(duration_minutes=30, buffer_after_minutes=15)
    staff.services.add(padded)
    BookingFactory(staff=staff, service=service, start=at("10:30"))

    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=padded, start=at("10:00"))


def test_booking_create_accepts_slots_that_only_touch(staff, service, customer, at):
    BookingFactory(staff=staff, service=service, start=at("10:00"))

    before = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("09:30"))
    after = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:30"))

    assert (before.end, after.start) == (at("10:00"), at("10:30"))


def test_booking_create_accepts_the_same_time_with_another_staff_member(staff, other_staff, service, customer, at):
    BookingFactory(staff=staff, service=service, start=at("10:00"))

    booking = booking_create(customer=customer, staff_id=other_staff.pk, service=service, start=at("10:00"))

    assert booking.staff == other_staff


@pytest.mark.parametrize("status", [Booking.Status.CANCELLED, Booking.Status.EXPIRED])
def test_booking_create_takes_a_slot_freed_by_a_cancelled_or_expired_booking(staff, service, customer, at, status):
    BookingFactory(staff=staff, service=service, start=at("10:00"), status=status)

    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    assert booking.status == Booking.Status.PENDING_PAYMENT


@pytest.mark.parametrize(
    "describe",
    [
        "before opening",
        "running past closing",
        "off the 15-minute step",
        "inside the minimum notice",
        "beyond the advance window",
        "in the past",
    ],
)
def test_booking_create_refuses_a_start_availability_does_not_offer(staff, service, customer, at, describe):
    now = timezone.now()
    start: datetime = {
        "before opening": at("08:45"),
        "running past closing": at("16:45"),
        "off the 15-minute step": at("10:05"),
        "inside the minimum notice": (now + timedelta(minutes=60)).replace(second=0, microsecond=0),
        "beyond the advance window": at("10:00", days=70),
        "in the past": at("10:00", days=-10),
    }[describe]

    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=start)
    assert not Booking.objects.exists()


def test_booking_create_refuses_time_off_and_closures(staff, service, customer, at, day):
    ScheduleException.objects.create(staff=staff, start=at("12:00"), end=at("13:00"))
    Closure.objects.create(
        business=staff.business, name="National Day", start_date=day + timedelta(days=1), end_date=day + timedelta(days=1)
    )

    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("12:30"))
    with pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00", days=1))
    assert booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("13:00"))


def test_booking_create_refuses_a_service_the_staff_member_does_not_offer(staff, customer, at):
    other = ServiceFactory()

    with pytest.raises(ServiceNotOffered):
        booking_create(customer=customer, staff_id=staff.pk, service=other, start=at("10:00"))


def test_booking_create_refuses_inactive_staff_or_service(staff, service, customer, at):
    service.is_active = False
    service.save()
    with pytest.raises(NotFound):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    service.is_active = True
    service.save()
    idle = StaffFactory(services=[service], is_active=False)
    with pytest.raises(NotFound):
        booking_create(customer=customer, staff_id=idle.pk, service=service, start=at("10:00"))
    with pytest.raises(NotFound):
        booking_create(customer=customer, staff_id=987654, service=service, start=at("10:00"))


def test_booking_create_refuses_a_naive_start(staff, service, customer, at):
    with pytest.raises(ValidationFailed):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00").replace(tzinfo=None))


def test_booking_create_limits_unpaid_bookings_per_customer(staff, service, customer, at, business):
    business.max_pending_per_customer = 2
    business.save()
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))

    with pytest.raises(TooManyPendingBookings):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("12:00"))
    # another customer is not affected, and a hold that ran out no longer counts
    assert booking_create(customer=UserFactory(), staff_id=staff.pk, service=service, start=at("12:00"))
    Booking.objects.filter(customer=customer, start=at("10:00")).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("13:00"))


def test_booking_create_does_not_count_confirmed_bookings_against_the_pending_limit(
    staff, service, customer, at, business
):
    business.max_pending_per_customer = 1
    business.save()
    BookingFactory(customer=customer, staff=staff, service=service, start=at("09:00"))

    assert booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))


def test_booking_create_still_refuses_an_overlap_when_availability_cannot_see_bookings(staff, service, customer, at):
    # given: availability with no busy source registered (blind to bookings)
    BookingFactory(staff=staff, service=service, start=at("10:00"))
    # when / then: the service's own overlap check, under the lock
    with booked_time.override(None), pytest.raises(SlotUnavailable):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:15"))
    assert Booking.objects.filter(staff=staff).count() == 1
