# ruff: noqa: F811 - pytest fixtures are imported by name and then requested as same-named arguments
"""Fixtures for notification tests: one business in Riyadh, a service, a staff member (English), customers in
Arabic and English, bookings made through the bookings services, and the Authentica fake over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.accounts.tests.fakes import authentica_fake, authentica_fake_factory  # noqa: F401
from apps.bookings.models import Booking
from apps.bookings.services import booking_create
from apps.bookings.tests.factories import BookingFactory
from apps.notifications.models import Notification
from apps.notifications.services import Plan, notifications_create

RIYADH = ZoneInfo("Asia/Riyadh")
SEND = "apps.notifications.jobs.notification_send"


@pytest.fixture
def business_settings() -> dict[str, Any]:
    """The salon (`apps.catalog.tests.fixtures`), named, and confirming bookings when made (no payment)."""
    return {"name_en": "Salon Noor", "name_ar": "", "require_payment": False}


@pytest.fixture
def staff_details() -> dict[str, Any]:
    """The salon's staff member speaks English and has an email address."""
    return {
        "display_name": "Noura",
        "user__name": "Noura",
        "user__language": "en",
        "user__email": "noura@salon.example",
    }


@pytest.fixture
def customer_ar(business) -> User:
    return UserFactory(name="سارة", language="ar", email="sara@example.com", phone="+966501110001")


@pytest.fixture
def customer_en(business) -> User:
    return UserFactory(name="John", language="en", email="john@example.com", phone="+966501110002")


@pytest.fixture
def book(staff, service, at) -> Callable[..., Booking]:
    """`book(customer, "10:00")`: a booking made through `booking_create` (confirmed: no payment required)."""

    def make(customer: User, hhmm: str = "10:00") -> Booking:
        return booking_create(customer=customer, staff_id=staff.pk, service=service, start=at(hhmm))

    return make


@pytest.fixture
def sms(settings, authentica_fake):  # noqa: F811
    """Point the SMS channel at a running Authentica fake (real HTTP on loopback), with short timeouts."""
    settings.AUTHENTICA_BASE_URL = authentica_fake.base_url
    settings.AUTHENTICA_API_KEY = authentica_fake.api_key
    settings.AUTHENTICA_READ_TIMEOUT = 1.0
    settings.AUTHENTICA_CONNECT_TIMEOUT = 1.0
    settings.MAWID_JOB_RETRY_BASE_SECONDS = 0.02
    authentica_fake.configure(send_cap_per_window=None)
    return authentica_fake


@pytest.fixture
def staff_told_at_once(settings) -> None:
    """Every booking change is "soon" for the staff member (an urgency window of 30 days), each told in its own
    message (no coalescing): for tests about what
    an event plans for everyone. By default a booking days ahead is only in the staff member's agenda
    (`services.agenda.staff_change_is_urgent`; test_staff_agenda.py)."""
    settings.NOTIFICATIONS_STAFF_URGENT_HOURS = 24 * 30
    settings.NOTIFICATIONS_STAFF_COALESCE_MINUTES = 0  # and each on its own (test_staff_agenda.py: coalescing)


@pytest.fixture
def soon_booking(staff, service):
    """A confirmed booking starting `minutes` from now, written directly (the services refuse such short notice)."""

    def make(customer: User, *, start: datetime) -> Booking:
        return BookingFactory(customer=customer, staff=staff, service=service, start=start)

    return make


def plan_one(
    booking: Booking,
    *,
    template: str = "booking_confirmed",
    recipient: User | None = None,
    key: str | None = None,
    **extra,
) -> list[Notification]:
    """Write the rows (and jobs) of one message in a committed transaction, as a subscriber would."""
    recipient = recipient or booking.customer
    with transaction.atomic():
        ids = notifications_create(
            plans=[Plan(template, recipient, key or f"{template}:{booking.pk}", booking.pk, **extra)]
        )
    return list(Notification.objects.filter(pk__in=ids).order_by("pk"))


def kill_worker_during(job_id: int) -> None:
    """Leave job `job_id` `doing`, owned by a worker whose heartbeat stopped an hour ago (a killed worker)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        )
        worker_id = cursor.fetchone()[0]
        cursor.execute(
            "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s, attempts = 0 WHERE id = %s",
            [worker_id, job_id],
        )
