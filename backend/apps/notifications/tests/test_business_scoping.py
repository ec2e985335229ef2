"""Business scoping across the whole stack (apps/core/scoping.py; this app is the top layer, so its tests may
import every model): a query on a business-owned model outside a scope fails loudly, a scope shows its
businesses' rows only, and each surface of the product starts in its own state."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from apps.bookings.models import Booking
from apps.bookings.tests.factories import BookingFactory
from apps.catalog.models import Branch, Closure, Service, Staff
from apps.catalog.tests.factories import BusinessFactory, ServiceFactory, StaffFactory
from apps.core.scoping import ScopeError, current_businesses, enforced, for_businesses, platform, surface_for
from apps.notifications.models import Notification
from apps.payments.models import Payment


@pytest.fixture
def two_businesses(db):
    a = BusinessFactory(slug="a")
    b = BusinessFactory(slug="b")
    service_a = ServiceFactory(business=a)
    service_b = ServiceFactory(business=b)
    staff_a = StaffFactory(business=a, services=[service_a])
    staff_b = StaffFactory(business=b, services=[service_b])
    BookingFactory(staff=staff_a, service=service_a)
    BookingFactory(staff=staff_b, service=service_b)
    return a, b


@pytest.mark.parametrize("model", [Service, Staff, Branch, Closure, Booking, Payment, Notification])
def test_an_unscoped_query_on_a_business_owned_model_fails_loudly(model, two_businesses):
    with enforced(), pytest.raises(ScopeError):
        list(model.objects.all())
    with enforced(), pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_a_scope_shows_its_businesses_rows_and_nothing_else(two_businesses):
    a, b = two_businesses
    with for_businesses(a.pk):
        assert set(Booking.objects.values_list("business_id", flat=True)) == {a.pk}
        assert set(Staff.objects.values_list("business_id", flat=True)) == {a.pk}
        assert not Booking.objects.filter(business=b).exists()  # asking for B's rows by name finds nothing
        assert current_businesses() == [a.pk]
    with for_businesses([a.pk, b.pk]):
        assert set(Booking.objects.values_list("business_id", flat=True)) == {a.pk, b.pk}
    with for_businesses([]):
        assert not Booking.objects.exists()
    with platform():
        assert Booking.objects.count() == 2
        assert current_businesses() is None


def test_related_managers_are_scoped_too(two_businesses):
    a, b = two_businesses
    staff_b = Staff.objects.get(business=b)
    with for_businesses(a.pk):
        assert list(staff_b.bookings.all()) == []  # B's staff member's bookings, asked for in A's scope


def test_a_new_thread_starts_with_no_scope(two_businesses):
    """A thread (a server's request thread, a job's executor) does not inherit platform rights."""
    errors: list[BaseException] = []

    def query() -> None:
        try:
            list(Booking.objects.all())
        except ScopeError as exc:
            errors.append(exc)

    with platform():
        thread = threading.Thread(target=query)
        thread.start()
        thread.join()
    assert len(errors) == 1


@pytest.mark.parametrize(
    ("path", "surface"),
    [
        ("/api/v1/bookings", "platform"),
        ("/api/v1/services", "platform"),
        ("/api/v1/manage/businesses/a/bookings", "business"),
        ("/admin/bookings/booking/", "business"),
        ("/healthz", "platform"),
    ],
)
def test_each_surface_starts_in_its_own_state(path, surface):
    assert surface_for(path) == surface


def test_the_admin_of_a_manager_is_scoped_to_their_business(two_businesses, make_user):
    """Through the real middleware: A's manager lists A's bookings only (B's booking is not in the changelist)."""
    from apps.catalog.models import Membership

    a, b = two_businesses
    manager = make_user(role="manager", is_staff=True, name="A's manager")
    Membership.objects.filter(user=manager).delete()
    Membership.objects.create(business=a, user=manager, role=Membership.Role.MANAGER)
    client = Client()
    client.force_login(manager)
    booking_a = Booking.objects.get(business=a)
    booking_b = Booking.objects.get(business=b)

    page = client.get("/admin/bookings/booking/")

    assert page.status_code == 200
    ids = {obj.pk for obj in page.context["cl"].result_list}
    assert booking_a.pk in ids
    assert booking_b.pk not in ids
    assert client.get(f"/admin/bookings/booking/{booking_b.pk}/change/").status_code in (302, 404)
