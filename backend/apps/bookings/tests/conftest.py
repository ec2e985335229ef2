"""Fixtures for bookings tests: one business (Asia/Riyadh), a service, a staff member working 09:00-17:00 daily,
and `at("10:00")` for a time on a day a few days ahead (well inside the booking window, past minimum notice)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.bookings.tests.fixtures import (  # noqa: F401 - fixtures
    RIYADH,
    at,
    business,
    customer,
    day,
    manager,
    other_customer,
    other_staff,
    service,
    staff,
)
from apps.core import events as core_events


@pytest.fixture
def published() -> Iterator[list[object]]:
    """Every booking domain event published during the test, in order."""
    from apps.bookings import events

    seen: list[object] = []
    types = [
        events.BookingCreated,
        events.BookingConfirmed,
        events.BookingRescheduled,
        events.BookingCancelled,
        events.BookingExpired,
        events.BookingCompleted,
        events.BookingNoShow,
    ]
    for event_type in types:
        core_events.subscribe(event_type, seen.append)
    yield seen
    for event_type in types:
        core_events.unsubscribe(event_type, seen.append)
