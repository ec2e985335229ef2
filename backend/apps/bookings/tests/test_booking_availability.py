"""Booking and availability agree: every listed start can be booked, nothing else can."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import ScheduleException
from apps.catalog.tests.factories import ServiceFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def padded():
    return ServiceFactory(duration_minutes=45, buffer_before_minutes=10, buffer_after_minutes=15)


@pytest.fixture
def busy_staff(padded, service, at):
    """Works 09:00-12:00 and 13:00-17:30, has an hour off at 15:00 and one booking (another service) at 10:30."""
    staff = StaffFactory(services=[padded, service], hours=[(time(9), time(12)), (time(13), time(17, 30))])
    ScheduleException.objects.create(staff=staff, start=at("15:00"), end=at("16:00"))
    BookingFactory(staff=staff, service=service, start=at("10:30"))
    return staff


def _listed(api_client, staff, service, day) -> list[str]:
    response = api_client.get(
        f"/api/v1/staff/{staff.pk}/availability", {"service": service.pk, "date_from": day, "date_to": day}
    )
    assert response.status_code == 200, response.json()
    return [slot["start"] for slot in response.json()["slots"]]


def _book(auth_client, staff, service, start: str):
    return auth_client(UserFactory()).post(
        "/api/v1/bookings", {"staff": staff.pk, "service": service.pk, "start": start}, format="json"
    )


def test_every_listed_slot_can_be_booked_until_none_is_left(api_client, auth_client, busy_staff, padded, day):
    booked: list[str] = []
    listed = _listed(api_client, busy_staff, padded, day)
    assert listed, "the day should offer slots"

    while listed:
        response = _book(auth_client, busy_staff, padded, listed[0])
        assert response.status_code == 201, (listed[0], response.json())
        booked.append(listed[0])
        after = _listed(api_client, busy_staff, padded, day)
        assert listed[0] not in after
        listed = after

    assert len(booked) >= 3
    assert Booking.objects.filter(staff=busy_staff, service=padded).count() == len(booked)


def test_a_start_availability_does_not_list_is_refused(api_client, auth_client, busy_staff, padded, day, at):
    listed = set(_listed(api_client, busy_staff, padded, day))
    every_quarter = [at("00:00") + timedelta(minutes=15 * i) for i in range(96)]
    unlisted = [start for start in every_quarter if start.isoformat() not in listed]
    assert len(unlisted) > 60

    for start in unlisted + [at("09:05"), at("13:20")]:
        response = _book(auth_client, busy_staff, padded, start.isoformat())
        assert response.status_code == 409, (start, response.json())
        assert response.json()["error"]["code"] == "slot_unavailable"
    assert not Booking.objects.filter(service=padded).exists()
    # and what is listed is accepted, in UTC as well as in local time
    first = datetime.fromisoformat(sorted(listed)[0])
    assert _book(auth_client, busy_staff, padded, first.astimezone(UTC).isoformat()).status_code == 201
