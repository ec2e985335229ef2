"""factory_boy factories for the catalog: services, staff (working 09:00-17:00 every day unless `hours` says
otherwise) and their schedules. The apps above (bookings, payments, notifications) use these too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

import factory

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Closure, ScheduleException, Service, Staff, WorkingHours


def working_hours(
    staff: Staff,
    create: bool,
    extracted: Sequence[tuple[time, time]] | None,
    *,
    weekdays: Sequence[int] = range(7),
) -> None:
    """`StaffFactory(hours=...)`: these spans every day (09:00-17:00 when not given; none for `[]`), or on
    `hours__weekdays=(...)` only."""
    if not create:
        return
    spans = extracted if extracted is not None else [(time(9), time(17))]
    WorkingHours.objects.bulk_create(
        WorkingHours(staff=staff, weekday=day, start_time=start, end_time=end)
        for day in weekdays
        for start, end in spans
    )


class ServiceFactory(factory.django.DjangoModelFactory[Service]):
    class Meta:
        model = Service

    name_en = factory.Sequence(lambda n: f"Service {n}")
    name_ar = factory.Sequence(lambda n: f"خدمة {n}")
    description_en = "A service"
    description_ar = "خدمة"
    duration_minutes = 30
    price_amount = 15000
    currency = "SAR"


class StaffFactory(factory.django.DjangoModelFactory[Staff]):
    """A staff member offering `services`, working every day 09:00-17:00 (business time); `hours=[(time(9),
    time(12)), ...]` for other spans every day, `hours=[]` for none (then the test gives its own)."""

    class Meta:
        model = Staff
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=User.Role.STAFF, name=factory.Sequence(lambda n: f"Staff {n}"))
    display_name = factory.Sequence(lambda n: f"Staff {n}")
    bio = "Ten years of experience."

    @factory.post_generation
    def services(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.services.add(*extracted)

    hours = factory.PostGeneration(working_hours)


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    staff = factory.SubFactory(StaffFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)


class ScheduleExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleException

    staff = factory.SubFactory(StaffFactory)
    kind = ScheduleException.Kind.TIME_OFF


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    name = "Eid al-Fitr"
