"""Fixtures for bookings tests: the salon's customers and manager, and the events published. The salon itself (one
business in Asia/Riyadh, a service, a staff member working 09:00-17:00 daily, `at("10:00")` for a time on a day a
few days ahead) is `apps.catalog.tests.fixtures`, loaded for every test by `backend/conftest.py`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.bookings.tests.fixtures import customer, manager, other_customer  # noqa: F401 - fixtures
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
