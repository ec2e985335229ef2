"""Hostile input on the bookings API: dates and times at the ends of the calendar are a 400 naming the field,
never a 500 (Python's dates end at 9999-12-31, and the API adds days and durations to what it is given)."""

from __future__ import annotations

import pytest

from apps.bookings.models import Booking
from apps.bookings.services import booking_create, booking_reschedule
from apps.bookings.tests.factories import BookingFactory
from apps.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db
URL = "/api/v1/bookings"

FAR_DATES = ["9999-12-31", "9999-12-30", "0001-01-01", "0001-01-02", "9001-01-01", "1969-12-31"]
FAR_STARTS = [
    "9999-12-31T23:45:00+03:00",  # the review's case: the early check added the duration and overflowed
    "9999-12-31T23:59:59Z",
    "9999-12-31T20:00:00-12:00",
    "0001-01-01T00:00:00+03:00",
    "0001-01-01T00:00:00Z",
    "0001-01-01T02:00:00+14:00",
    "9001-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
]


@pytest.fixture
def client(auth_client, customer, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False  # a crash comes back as the 500 a client would see
    return auth_client(customer)


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [field], error


@pytest.mark.parametrize("param", ["date_from", "date_to"])
@pytest.mark.parametrize("value", FAR_DATES)
def test_list_refuses_a_date_filter_outside_the_calendar_it_can_compute_with(client, param, value):
    assert_field_error(client.get(URL, {param: value}), param)


def test_list_accepts_the_ends_of_the_allowed_range(client, customer, staff, service, at):
    BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))

    response = client.get(URL, {"date_from": "1970-01-01", "date_to": "9000-12-31"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("start", FAR_STARTS)
def test_create_refuses_a_start_outside_the_calendar_before_any_arithmetic(client, staff, service, start):
    # A real staff member and service: the early check runs (and used to add the duration to 9999-12-31).
    response = client.post(URL, {"staff": staff.pk, "service": service.pk, "start": start}, format="json")

    assert_field_error(response, "start")
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("start", FAR_STARTS)
def test_reschedule_refuses_a_start_outside_the_calendar(client, customer, staff, service, at, start):
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))

    response = client.post(f"{URL}/{booking.pk}/reschedule", {"start": start}, format="json")

    assert_field_error(response, "start")
    booking.refresh_from_db()
    assert booking.start == at("10:00")


def test_the_services_refuse_such_a_start_too(customer, staff, service, at):
    from datetime import datetime

    from apps.bookings.tests.fixtures import RIYADH

    far = datetime(9999, 12, 31, 23, 45, tzinfo=RIYADH)
    booking = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))

    with pytest.raises(ValidationFailed) as created:
        booking_create(customer=customer, staff_id=staff.pk, service=service, start=far)
    with pytest.raises(ValidationFailed) as moved:
        booking_reschedule(booking_id=booking.pk, start=far, actor=customer)

    assert list(created.value.fields) == list(moved.value.fields) == ["start"]
    assert Booking.objects.count() == 1
