"""factory_boy factories for bookings (users are in `apps.accounts.tests.factories`, services and staff in
`apps.catalog.tests.factories`)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.catalog.tests.factories import ServiceFactory, StaffFactory


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking written straight to the database (no service rules): end and busy bounds from the service."""

    class Meta:
        model = Booking

    customer = factory.SubFactory(UserFactory)
    service = factory.SubFactory(ServiceFactory)
    staff = factory.SubFactory(StaffFactory)
    status = Booking.Status.CONFIRMED
    # A distinct hour for each booking, so that defaults never collide on one staff member.
    start = factory.Sequence(
        lambda n: timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3, hours=n)
    )
    end = factory.LazyAttribute(lambda o: o.start + o.service.duration)
    busy_start = factory.LazyAttribute(lambda o: o.start - o.service.buffer_before)
    busy_end = factory.LazyAttribute(lambda o: o.end + o.service.buffer_after)
    price_amount = factory.LazyAttribute(lambda o: o.service.price_amount)
    currency = factory.LazyAttribute(lambda o: o.service.currency)
    hold_expires_at = factory.LazyAttribute(
        lambda o: timezone.now() + timedelta(minutes=10) if o.status == Booking.Status.PENDING_PAYMENT else None
    )
