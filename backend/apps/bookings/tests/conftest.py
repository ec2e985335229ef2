"""Fixtures for bookings tests: one business (Asia/Riyadh), a service, a staff member working 09:00-17:00 daily,
and `at("10:00")` for a time on a day a few days ahead (well inside the booking window, past minimum notice)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.tests.factories import ServiceFactory, StaffFactory, UserFactory
from apps.catalog.models import BusinessSettings, Service, Staff
from apps.core import events as core_events

RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.fixture
def business(db) -> BusinessSettings:
    settings = BusinessSettings.load()
    settings.timezone = "Asia/Riyadh"
    settings.slot_step_minutes = 15
    settings.min_notice_minutes = 120
    settings.max_advance_days = 60
    settings.hold_minutes = 10
    settings.cancellation_cutoff_hours = 24
    settings.require_payment = True
    settings.max_pending_per_customer = 3
    settings.save()
    return settings


@pytest.fixture
def service(business) -> Service:
    return ServiceFactory(duration_minutes=30, price_amount=15000)


@pytest.fixture
def staff(service) -> Staff:
    return StaffFactory(services=[service])


@pytest.fixture
def other_staff(service) -> Staff:
    return StaffFactory(services=[service])


@pytest.fixture
def customer(business) -> User:
    return UserFactory(name="Customer")


@pytest.fixture
def other_customer(business) -> User:
    return UserFactory(name="Other customer")


@pytest.fixture
def manager(business) -> User:
    return UserFactory(role=User.Role.MANAGER, name="Manager", is_staff=True)


@pytest.fixture
def day() -> date:
    return timezone.now().astimezone(RIYADH).date() + timedelta(days=3)


@pytest.fixture
def at(day) -> Callable[..., datetime]:
    """`at("10:00")` → that time on `day` in Riyadh; `at("10:00", days=1)` the day after."""

    def make(hhmm: str, *, days: int = 0) -> datetime:
        hours, minutes = map(int, hhmm.split(":"))
        return datetime.combine(day + timedelta(days=days), time(hours, minutes), tzinfo=RIYADH)

    return make


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
