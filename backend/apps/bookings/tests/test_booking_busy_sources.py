"""The overlap guarantee does not depend on which busy source is registered in `apps.catalog.busy`.

The services hand the slot engine their own selector (`booking_busy_intervals`) under the staff lock, so a test,
a tool or a benchmark that registers another source in `booked_time` (or empties it) changes what availability
lists, never what a booking may take; sources in `extra_busy` only add busy time, for both alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking
from apps.bookings.services import booking_create, booking_reschedule
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.availability import Interval
from apps.catalog.busy import BusySource, booked_time, extra_busy
from apps.catalog.selectors import slot_list_available

pytestmark = pytest.mark.django_db

TABLE = f'"{Booking._meta.db_table}"'


def nothing_busy(
    *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
) -> dict[int, list[Interval]]:
    return {}


PRODUCTION = "the bookings app's own"
# What a test, a tool or a benchmark may put in `booked_time` instead of the bookings app's selector.
OVERRIDES: dict[str, BusySource | None] = {"an empty source": nothing_busy, "nothing (an empty slot)": None}


@pytest.fixture(params=[PRODUCTION, *OVERRIDES])
def registered(request) -> Iterator[str]:
    """Runs the test with the bookings app's selector in `booked_time`, then with each of `OVERRIDES`."""
    if request.param == PRODUCTION:
        yield request.param
        return
    with booked_time.override(OVERRIDES[request.param]):
        yield request.param


def _refused(call: Callable[[], object]) -> tuple[SlotUnavailable, list[str]]:
    """Run `call`, which must raise SlotUnavailable; the exception and the SQL it ran."""
    with CaptureQueriesContext(connection) as ctx, pytest.raises(SlotUnavailable) as info:
        call()
    return info.value, [q["sql"] for q in ctx.captured_queries]


def _assert_refused_by_the_locked_check(exc: SlotUnavailable, sql: list[str]) -> None:
    # not by the exclusion constraint: nothing was written, no IntegrityError behind the 409
    assert exc.__cause__ is None
    assert not [s for s in sql if s.startswith(("INSERT", "UPDATE")) and TABLE in s], sql
    # one overlap read of the bookings table, and it is the bookings app's own busy query (merged ranges)
    overlap_reads = [s for s in sql if TABLE in s and ("&&" in s or "busy_end >" in s)]
    assert len(overlap_reads) == 1, sql
    assert "range_agg" in overlap_reads[0], sql


def test_booking_over_a_booking_is_refused_under_the_lock_whatever_busy_source_is_registered(
    registered, staff, service, customer, at
):
    # given: a booking 10:00-10:30
    BookingFactory(staff=staff, service=service, start=at("10:00"))

    # when: another customer asks for 10:15, whatever availability is told about busy time
    exc, sql = _refused(
        lambda: booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:15"))
    )

    # then
    _assert_refused_by_the_locked_check(exc, sql)
    assert Booking.objects.filter(staff=staff).count() == 1


def test_moving_a_booking_onto_another_is_refused_under_the_lock_whatever_busy_source_is_registered(
    registered, staff, service, customer, at
):
    BookingFactory(staff=staff, service=service, start=at("10:00"))
    mine = BookingFactory(staff=staff, service=service, customer=customer, start=at("11:00"))

    exc, sql = _refused(lambda: booking_reschedule(booking_id=mine.pk, start=at("10:15"), actor=customer))

    _assert_refused_by_the_locked_check(exc, sql)
    mine.refresh_from_db()
    assert mine.start == at("11:00")


def test_a_refused_booking_costs_the_same_statements_whatever_busy_source_is_registered(
    staff, service, customer, at
):
    BookingFactory(staff=staff, service=service, start=at("10:00"))

    def attempt() -> list[str]:
        return _refused(
            lambda: booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:15"))
        )[1]

    production = attempt()
    with booked_time.override(nothing_busy):
        assert len(attempt()) == len(production)
    with booked_time.override(None):
        assert len(attempt()) == len(production)


def test_an_extra_busy_source_adds_time_that_booking_and_availability_both_respect(staff, service, customer, at):
    def elsewhere(
        *, staff_ids: Sequence[int], start: datetime, end: datetime, exclude_booking_id: int | None = None
    ) -> dict[int, list[Interval]]:
        return {staff.pk: [Interval(at("10:00"), at("10:30"))]}

    day = at("10:00").date()
    with extra_busy.override(elsewhere):
        listed = {s.start for s in slot_list_available(staff=staff, service=service, date_from=day, date_to=day).slots}
        with pytest.raises(SlotUnavailable):
            booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:15"))
        booked = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:30"))

    assert at("10:15") not in listed
    assert at("10:30") in listed
    assert booked.start == at("10:30")
    # and without it, 10:00 is free again
    assert booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
