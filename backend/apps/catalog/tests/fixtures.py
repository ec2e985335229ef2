"""The salon every app's tests stand on, loaded for the whole suite by `backend/conftest.py` (`pytest_plugins`):
one business (Asia/Riyadh, payment required), a 30-minute haircut, a staff member offering it (09:00-17:00 every
day), another, and `at("10:00")` for a time on `day`, a few days ahead (inside the booking window, past minimum
notice).

An app's conftest changes the salon by overriding the small fixtures these read, never by copying them:
`business_settings` (payments: more unpaid bookings; notifications: confirmed without payment) and
`staff_details` (catalog: other hours; notifications: an English-speaking staff member with an email address).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.catalog.models import Branch, Business, Service, Staff
from apps.catalog.tests.factories import CURRENT, ServiceFactory, StaffFactory, default_business, main_branch

RIYADH = ZoneInfo("Asia/Riyadh")

SALON: dict[str, Any] = {
    "timezone": "Asia/Riyadh",
    "currency": "SAR",
    "slot_step_minutes": 15,
    "min_notice_minutes": 120,
    "max_advance_days": 60,
    "hold_minutes": 10,
    "cancellation_cutoff_hours": 24,
    "require_payment": True,
    "max_pending_per_customer": 3,
}


@pytest.fixture
def business_settings() -> dict[str, Any]:
    """Changes to the salon's settings (`SALON`); a conftest overrides this to change them for its tests."""
    return {}


@pytest.fixture
def business(db: None, business_settings: dict[str, Any]) -> Iterator[Business]:
    """The salon (the first business, so factories put their rows in it), with one branch in Riyadh."""
    salon = default_business()
    for name, value in {"slug": "salon", "name_en": "Salon", "name_ar": "صالون", **SALON, **business_settings}.items():
        setattr(salon, name, value)
    salon.save()
    CURRENT["business"] = salon
    yield salon
    CURRENT.pop("business", None)


@pytest.fixture
def branch(business: Business) -> Branch:
    return main_branch(business)


@pytest.fixture
def service(business: Business) -> Service:
    return ServiceFactory.create(name_en="Haircut", name_ar="قص شعر", duration_minutes=30, price_amount=15000)


@pytest.fixture
def staff_details() -> dict[str, Any]:
    """`StaffFactory` arguments for `staff`; a conftest overrides this to change the staff member."""
    return {}


@pytest.fixture
def staff(service: Service, staff_details: dict[str, Any]) -> Staff:
    return StaffFactory.create(services=[service], **staff_details)


@pytest.fixture
def other_staff(service: Service) -> Staff:
    return StaffFactory.create(services=[service])


@pytest.fixture
def day() -> date:
    return timezone.now().astimezone(RIYADH).date() + timedelta(days=3)


@pytest.fixture
def at(day: date) -> Callable[..., datetime]:
    """`at("10:00")` → that time on `day` in Riyadh; `at("10:00", days=1)` the day after."""

    def make(hhmm: str, *, days: int = 0) -> datetime:
        hours, minutes = map(int, hhmm.split(":"))
        return datetime.combine(day + timedelta(days=days), time(hours, minutes), tzinfo=RIYADH)

    return make
