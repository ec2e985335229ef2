"""factory_boy factories for the catalog."""

from __future__ import annotations

from datetime import time

import factory

from apps.accounts.models import User
from apps.catalog.models import Closure, ScheduleException, Service, Staff, WorkingHours


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    phone = factory.Sequence(lambda n: f"+9665{30000000 + n:08d}")
    name = factory.Sequence(lambda n: f"Staff user {n}")
    role = User.Role.STAFF


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name_en = factory.Sequence(lambda n: f"Service {n}")
    name_ar = factory.Sequence(lambda n: f"خدمة {n}")
    description_en = "A service"
    description_ar = "خدمة"
    duration_minutes = 30
    price_amount = 15000
    currency = "SAR"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff
        skip_postgeneration_save = True

    user = factory.SubFactory(StaffUserFactory)
    display_name = factory.Sequence(lambda n: f"Staff {n}")
    bio = "Ten years of experience."

    @factory.post_generation
    def services(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.services.add(*extracted)


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
