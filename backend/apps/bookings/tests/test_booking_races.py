"""Races on PostgreSQL with real parallel connections: threads released together by a barrier, each with its own
Django connection (closed at the end). Each race is repeated for several rounds in one run."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.errors import SlotUnavailable, TooManyPendingBookings
from apps.bookings.models import HOLDING_STATUSES, Booking
from apps.bookings.services import booking_create, booking_reschedule
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import ScheduleException
from apps.catalog.services import TimeOffConflictsWithBookings, time_off_create
from apps.catalog.tests.factories import StaffFactory
from apps.core.testing import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def assert_no_overlaps(staff_id: int) -> None:
    rows = list(
        Booking.objects.filter(staff_id=staff_id, status__in=HOLDING_STATUSES)
        .order_by("busy_start")
        .values_list("busy_start", "busy_end")
    )
    for (_, end), (start, _) in zip(rows, rows[1:], strict=False):
        assert end <= start, rows


def test_fifty_requests_for_one_slot_make_one_booking_and_49_conflicts(staff, service, at, auth_client, business):
    racers = 50
    rounds = 6
    for r in range(rounds):
        # New customers each round: a customer who won earlier rounds could otherwise meet the pending-booking
        # limit before the slot, and this test is about the slot.
        clients = [auth_client(UserFactory()) for _ in range(racers)]
        start = at("09:00") + timedelta(minutes=60 * r)
        body = {"staff": staff.pk, "service": service.pk, "start": start.isoformat()}

        responses = run_together(
            racers, lambda i, body=body, clients=clients: clients[i].post("/api/v1/bookings", body, format="json")
        )

        codes = Counter(getattr(response, "status_code", repr(response)) for response in responses)
        assert codes == {201: 1, 409: racers - 1}, (r, codes)
        assert {response.json()["error"]["code"] for response in responses if response.status_code == 409} == {
            "slot_unavailable"
        }
        assert Booking.objects.filter(staff=staff, start=start).count() == 1
    assert_no_overlaps(staff.pk)


def test_overlapping_but_different_slots_never_double_book(staff, other_staff, service, at, business):
    business.require_payment = False  # confirmed at once; the pending limit stays out of the way
    business.save()
    racers = 24
    customers = [UserFactory() for _ in range(racers)]
    for r in range(8):
        base = at("09:00", days=r)
        # 30-minute service, starts every 15 minutes over an hour: each start overlaps its neighbours.
        starts = [base + timedelta(minutes=15 * (i % 5)) for i in range(racers)]
        staff_ids = [staff.pk if i % 3 else other_staff.pk for i in range(racers)]

        results = run_together(
            racers,
            lambda i, starts=starts, staff_ids=staff_ids: booking_create(
                customer=customers[i], staff_id=staff_ids[i], service=service, start=starts[i]
            ),
        )

        made = [result for result in results if isinstance(result, Booking)]
        refused = [result for result in results if isinstance(result, SlotUnavailable)]
        assert len(made) + len(refused) == racers, [r for r in results if not isinstance(r, Booking | SlotUnavailable)]
        for staff_id in (staff.pk, other_staff.pk):
            mine = [b for b in made if b.staff_id == staff_id]
            assert 1 <= len(mine) <= 3  # at most 09:00, 09:30, 10:00 fit in 09:00-10:30
            assert Booking.objects.filter(
                staff_id=staff_id, start__gte=base, start__lt=base + timedelta(hours=2)
            ).count() == len(mine)
        assert_no_overlaps(staff.pk)
        assert_no_overlaps(other_staff.pk)


def test_reschedules_into_the_same_free_slot_leave_one_winner(staff, service, at, business):
    movers = 10
    bookings = [
        BookingFactory(staff=staff, service=service, start=at("09:00") + timedelta(minutes=30 * i))
        for i in range(movers)
    ]
    for r in range(6):
        target = at("09:00", days=1 + r)

        results = run_together(
            movers,
            lambda i, target=target: booking_reschedule(booking_id=bookings[i].pk, start=target, actor=None),
        )

        winners = [result for result in results if isinstance(result, Booking)]
        assert len(winners) == 1, results
        assert all(isinstance(result, SlotUnavailable) for result in results if not isinstance(result, Booking))
        assert Booking.objects.filter(staff=staff, start=target).count() == 1
        assert_no_overlaps(staff.pk)


def test_a_booking_racing_time_off_never_ends_up_inside_it(staff, service, customer, at, business, settings):
    business.require_payment = False
    business.max_upcoming_per_customer = 100  # one customer books up to 12 times: the per-customer caps stay out
    business.save()
    settings.BOOKINGS_MAX_PER_CUSTOMER_PER_HOUR = 100
    for r in range(12):
        start = at("10:00", days=r)

        def act(i: int, start=start) -> Any:
            if i == 0:
                return booking_create(customer=customer, staff_id=staff.pk, service=service, start=start)
            return time_off_create(staff_id=staff.pk, start=start - timedelta(hours=1), end=start + timedelta(hours=2))

        booking, time_off = run_together(2, act)

        if isinstance(booking, Booking):
            assert isinstance(time_off, TimeOffConflictsWithBookings), time_off
        else:
            assert isinstance(booking, SlotUnavailable), booking
            assert isinstance(time_off, ScheduleException), time_off
        holding = Booking.objects.filter(staff=staff, start=start, status__in=HOLDING_STATUSES).exists()
        off = ScheduleException.objects.filter(staff=staff, start=start - timedelta(hours=1)).exists()
        assert holding != off


def test_the_pending_limit_holds_under_concurrency(service, at, business):
    business.max_pending_per_customer = 1
    business.save()
    customer = UserFactory()
    racers = 10
    staff = [StaffFactory(services=[service]) for _ in range(racers)]
    for r in range(3):
        start = at("10:00", days=r)

        results = run_together(
            racers,
            lambda i, start=start: booking_create(
                customer=customer, staff_id=staff[i].pk, service=service, start=start
            ),
        )

        assert sum(isinstance(result, Booking) for result in results) == (1 if r == 0 else 0), results
        assert all(isinstance(result, Booking | TooManyPendingBookings) for result in results), results
    assert Booking.objects.filter(customer=customer).count() == 1
