"""The salon most booking-related tests stand on: one business (Asia/Riyadh, payment required), a 30-minute
service, staff members working as their tests set up, customers, a manager, and `at("10:00")` for a time on a day
a few days ahead (well inside the booking window, past minimum notice).

Conftests import what they use by name (`from apps.bookings.tests.fixtures import at, business, ...`) and may
override any of them (payments, for instance, allows more unpaid bookings per customer).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import BusinessSettings, Service, Staff
from apps.catalog.tests.factories import ServiceFactory, StaffFactory

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
