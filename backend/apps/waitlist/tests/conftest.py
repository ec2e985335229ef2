"""The waitlist's tests: the salon (apps.catalog.tests.fixtures) on a pinned clock, its customers, and helpers to
put people in line and free a slot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_create
from apps.bookings.tests.fixtures import customer, manager, other_customer  # noqa: F401 - fixtures
from apps.catalog.tests.fixtures import RIYADH
from apps.waitlist.models import WaitlistEntry
from apps.waitlist.services import waitlist_join

# Tuesday 1 December 2026, 08:00 in Riyadh: `day` (three days ahead) is Friday 4 December.
PINNED = datetime(2026, 12, 1, 8, 0, tzinfo=RIYADH)


@pytest.fixture(autouse=True)
def clock(time_machine: Any) -> Any:
    """The pinned clock (autouse, so it is set before `day` reads it); `clock.shift(timedelta(...))` moves it."""
    time_machine.move_to(PINNED, tick=False)
    return time_machine


@pytest.fixture
def line(service, staff, day) -> Callable[..., list[WaitlistEntry]]:
    """`line(n, at="10:00")`: n new customers waiting, in order, for `service` with `staff` at that time on `day`."""

    def make(n: int, *, at: str = "10:00", staff_id: int | None | str = "staff", until: str | None = None):
        t_from = time.fromisoformat(at.zfill(5))
        t_to = time.fromisoformat(until.zfill(5)) if until else t_from
        entries = []
        for _ in range(n):
            entries.append(
                waitlist_join(
                    customer=UserFactory.create(),
                    service=service,
                    staff_id=staff.pk if staff_id == "staff" else staff_id,  # type: ignore[arg-type]
                    date_from=day,
                    date_to=day,
                    time_from=t_from,
                    time_to=t_to,
                )
            )
        return entries

    return make


@pytest.fixture
def blocker(service, staff) -> Callable[[datetime], Booking]:
    """`blocker(start)`: someone else's booking of `staff` at `start` (the slot the line waits for)."""

    def make(start: datetime, *, staff_id: int | None = None) -> Booking:
        return booking_create(
            customer=UserFactory.create(), staff_id=staff_id or staff.pk, service=service, start=start
        )

    return make


def free(booking: Booking, who: User | None = None) -> None:
    """Cancel `booking` (by its customer unless `who` is given): its slot is free."""
    booking_cancel(booking_id=booking.pk, actor=who or booking.customer, reason="plans changed")


def later(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
