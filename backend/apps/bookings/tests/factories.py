"""factory_boy factories for bookings and the catalog rows they need."""

from __future__ import annotations

from datetime import time, timedelta

import factory
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.catalog.models import Service, Staff, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"+9665{70000000 + n:08d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    role = User.Role.CUSTOMER


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name_en = factory.Sequence(lambda n: f"Haircut {n}")
    name_ar = factory.Sequence(lambda n: f"قص شعر {n}")
    duration_minutes = 30
    price_amount = 15000
    currency = "SAR"


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff member working every day 09:00-17:00 (business time), offering `services`."""

    class Meta:
        model = Staff
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=User.Role.STAFF, name=factory.Sequence(lambda n: f"Staff {n}"))
    display_name = factory.Sequence(lambda n: f"Staff {n}")

    @factory.post_generation
    def services(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.services.add(*extracted)

    @factory.post_generation
    def hours(self, create: bool, extracted, **kwargs) -> None:
        if not create:
            return
        spans = extracted if extracted is not None else [(time(9), time(17))]
        WorkingHours.objects.bulk_create(
            WorkingHours(staff=self, weekday=day, start_time=start, end_time=end)
            for day in range(7)
            for start, end in spans
        )


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
