"""The admin: find bookings, see their history, change status only through the services."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(manager) -> Client:
    manager.is_superuser = True
    manager.save()
    client = Client()
    client.force_login(manager)
    return client


def test_admin_lists_filters_and_finds_bookings_by_customer_phone(admin_client, staff, service, at):
    customer = UserFactory(phone="+966501112233")
    mine = BookingFactory(customer=customer, staff=staff, service=service, start=at("10:00"))
    other = BookingFactory(staff=staff, service=service, start=at("11:00"), status=Booking.Status.CANCELLED)

    found = admin_client.get("/admin/bookings/booking/", {"q": "0501112233"})
    by_status = admin_client.get(
        "/admin/bookings/booking/", {"status__exact": "cancelled", "staff__id__exact": staff.pk}
    )

    assert found.status_code == 200
    assert [b.pk for b in found.context["cl"].result_list] == [mine.pk]
    assert [b.pk for b in by_status.context["cl"].result_list] == [other.pk]


def test_admin_shows_the_history_read_only(admin_client, staff, service, at, customer):
    from apps.bookings.services import booking_cancel, booking_create

    booking = booking_create(customer=customer, staff_id=staff.pk, service=service, start=at("10:00"))
    booking_cancel(booking_id=booking.pk, actor=customer, reason="plans changed")

    page = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/")

    assert page.status_code == 200
    assert b"plans changed" in page.content
    assert b'name="status"' not in page.content  # status changes only through actions


def test_admin_action_cancels_through_the_service(admin_client, staff, service, at, manager):
    booking = BookingFactory(staff=staff, service=service, start=at("10:00"))

    response = admin_client.post(
        "/admin/bookings/booking/", {"action": "cancel_bookings", "_selected_action": [booking.pk]}, follow=True
    )

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.history.get().actor == manager
