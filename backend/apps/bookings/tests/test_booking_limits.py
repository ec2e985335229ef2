"""Per-customer limits: one customer (one phone number, one script) cannot hold every slot. When payment is not
required bookings are confirmed at once, so the unpaid-holds limit does not apply; the cap on upcoming bookings
and the hourly cap on bookings made do, under the customer's row lock, so that racing requests cannot pass the
count together. Time is pinned: `NOW` is a Tuesday morning in Riyadh, the bookings are three days later."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest
import time_machine

from apps.accounts.tests.factories import UserFactory
from apps.bookings.errors import BookingRateLimited, TooManyPendingBookings, TooManyUpcomingBookings
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_create
from apps.bookings.tests.factories import BookingFactory
from apps.bookings.tests.fixtures import RIYADH
from apps.catalog.tests.factories import StaffFactory
from apps.core.testing import run_together

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=RIYADH)  # a Tuesday
DAY = NOW.date() + timedelta(days=3)
URL = "/api/v1/bookings"


def at(hhmm: str, *, days: int = 0) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(DAY + timedelta(days=days), time(hours, minutes), tzinfo=RIYADH)


def whole_day() -> list[datetime]:
    """Every start of a 30-minute service in a 09:00-17:00 day: 16 of them."""
    return [at("09:00") + timedelta(minutes=30 * i) for i in range(16)]


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def no_payment(business):
    business.require_payment = False  # confirmed at once: the unpaid-holds limit is out of the picture
    business.save()
    return business


# --- the cap on upcoming bookings ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_script_cannot_book_a_staff_member_s_whole_day(clock, no_payment, auth_client, customer, staff, service):
    assert no_payment.max_upcoming_per_customer == 10  # the default
    client = auth_client(customer)

    responses = [
        client.post(URL, {"staff": staff.pk, "service": service.pk, "start": start.isoformat()}, format="json")
        for start in whole_day()
    ]

    assert Counter(r.status_code for r in responses) == {201: 10, 409: 6}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"too_many_upcoming_bookings"}
    assert Booking.objects.filter(customer=customer, status=Booking.Status.CONFIRMED).count() == 10
    # the rest of the day is still there for everyone else
    other = auth_client(UserFactory())
    free = other.post(URL, {"staff": staff.pk, "service": service.pk, "start": at("15:00").isoformat()}, format="json")
    assert free.status_code == 201


@pytest.mark.django_db
def test_only_bookings_still_ahead_and_holding_time_count(clock, no_payment, customer, staff, service):
    no_payment.max_upcoming_per_customer = 2
    no_payment.save()
    # none of these count: over, cancelled, expired, an unpaid hold that ran out
    BookingFactory(customer=customer, staff=staff, service=service, start=NOW - timedelta(days=1))
    for status in (Booking.Status.COMPLETED, Booking.Status.CANCELLED, Booking.Status.EXPIRED):
        BookingFactory(customer=customer, staff=staff, service=service, start=at("09:00", days=5), status=status)
    BookingFactory(
        customer=customer,
        staff=staff,
        service=service,
        start=at("10:00", days=6),
        status=Booking.Status.PENDING_PAYMENT,
        hold_expires_at=NOW - timedelta(seconds=1),
    )
    first = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("09:00"))
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    with pytest.raises(TooManyUpcomingBookings):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))
    booking_create(customer=UserFactory(), staff_id=staff.pk, service=service, start=at("11:00"))  # others may

    booking_cancel(booking_id=first.pk, actor=customer)  # cancelling one frees a place
    assert booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("12:00"))


@pytest.mark.django_db
def test_unpaid_holds_count_as_upcoming_too(clock, business, customer, staff, service):
    business.max_pending_per_customer = 5
    business.max_upcoming_per_customer = 2
    business.save()
    BookingFactory(customer=customer, staff=staff, service=service, start=at("09:00"))  # confirmed
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))  # held

    with pytest.raises(TooManyUpcomingBookings):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))


@pytest.mark.django_db
def test_the_pending_limit_still_answers_first(clock, business, customer, staff, service):
    business.max_pending_per_customer = 1
    business.max_upcoming_per_customer = 1
    business.save()
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))

    with pytest.raises(TooManyPendingBookings):
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("11:00"))


# --- the hourly cap on bookings made ------------------------------------------------------------------------


@pytest.mark.django_db
def test_booking_and_cancelling_in_a_loop_is_rate_limited_per_hour(
    clock, no_payment, settings, auth_client, customer, staff, service
):
    settings.BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR = 3

    def book(start: datetime):
        client = auth_client(customer)  # a token made now: the clock moves further than its lifetime
        return client.post(URL, {"staff": staff.pk, "service": service.pk, "start": start.isoformat()}, format="json")

    for i, start in enumerate(whole_day()[:3]):
        clock.move_to(NOW + timedelta(minutes=10 * i))
        made = book(start)
        assert made.status_code == 201, made.json()
        cancelled = auth_client(customer).post(f"{URL}/{made.json()['id']}/cancel", {}, format="json")
        assert cancelled.status_code == 200

    refused = book(at("12:00"))  # at NOW + 20 minutes: the first was made 20 minutes ago

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "booking_rate_limited"
    assert refused["Retry-After"] == str(40 * 60)
    assert Booking.objects.filter(customer=customer).count() == 3
    assert book(at("12:00")).status_code == 429  # a refusal is not a booking made, and changes nothing
    clock.move_to(NOW + timedelta(hours=1, seconds=1))  # the first is more than an hour old
    assert book(at("12:00")).status_code == 201
    assert auth_client(UserFactory()).post(
        URL, {"staff": staff.pk, "service": service.pk, "start": at("13:00").isoformat()}, format="json"
    ).status_code == 201  # another customer was never limited


@pytest.mark.django_db
def test_the_business_s_own_bulk_writes_may_skip_the_customer_limits(clock, no_payment, customer, staff, service):
    no_payment.max_upcoming_per_customer = 1
    no_payment.save()
    booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("09:00"))

    assert booking_create(
        customer=customer, staff_id=staff.pk, service=service, start=at("10:00"), enforce_customer_limits=False
    )


# --- under concurrency --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_upcoming_cap_holds_under_concurrency(clock, no_payment, service):
    no_payment.max_upcoming_per_customer = 2
    no_payment.save()
    customer = UserFactory()
    racers = 10
    staff = [StaffFactory(services=[service]) for _ in range(racers)]  # no slot conflict: only the cap decides

    for r in range(3):
        results = run_together(
            racers,
            lambda i, r=r: booking_create(
                customer=customer, staff_id=staff[i].pk, service=service, start=at("10:00", days=r)
            ),
        )

        made = sum(isinstance(result, Booking) for result in results)
        assert made == (2 if r == 0 else 0), results
        assert all(isinstance(result, Booking | TooManyUpcomingBookings) for result in results), results
    assert Booking.objects.filter(customer=customer).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_hourly_cap_holds_under_concurrency(clock, no_payment, settings, service):
    settings.BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR = 3
    customer = UserFactory()
    racers = 10
    staff = [StaffFactory(services=[service]) for _ in range(racers)]

    results = run_together(
        racers,
        lambda i: booking_create(customer=customer, staff_id=staff[i].pk, service=service, start=at("10:00")),
    )

    assert sum(isinstance(result, Booking) for result in results) == 3, results
    assert all(isinstance(result, Booking | BookingRateLimited) for result in results), results
    assert Booking.objects.filter(customer=customer).count() == 3
