"""factory_boy factories for the catalog: services, staff (working 09:00-17:00 every day unless `hours` says
otherwise) and their schedules. The apps above (bookings, payments, notifications) use these too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

import factory

from apps.accounts.models import User
from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Branch, Business, Closure, Membership, ScheduleException, Service, Staff, WorkingHours


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
        WorkingHours(business_id=staff.business_id, staff=staff, weekday=day, start_time=start, end_time=end)
        for day in weekdays
        for start, end in spans
    )


class BusinessFactory(factory.django.DjangoModelFactory[Business]):
    """A business with one branch (Riyadh) unless `branch=None`."""

    class Meta:
        model = Business
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"business-{n}")
    name_en = factory.Sequence(lambda n: f"Business {n}")
    name_ar = factory.Sequence(lambda n: f"نشاط {n}")
    category = Business.Category.SALON

    @factory.post_generation
    def branch(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted is not False:
            BranchFactory.create(business=self, **kwargs)


class BranchFactory(factory.django.DjangoModelFactory[Branch]):
    class Meta:
        model = Branch

    business = factory.LazyFunction(lambda: default_business())
    name_en = factory.Sequence(lambda n: f"Branch {n}")
    name_ar = factory.Sequence(lambda n: f"فرع {n}")
    city = "Riyadh"
    district = "Al Olaya"
    address = "King Fahd Road"
    latitude = 24.7136
    longitude = 46.6753


# The `business` fixture's object, so that rows made by factories share it (a test that changes the salon's
# policies sees them in `service.business`). Set and cleared by that fixture.
CURRENT: dict[str, Business] = {}


def default_business() -> Business:
    """The business a factory row belongs to when the test names none: the `business` fixture's salon when the
    test uses it, else the first business, created when there is none."""
    if "business" in CURRENT:
        return CURRENT["business"]
    return Business.objects.order_by("pk").first() or BusinessFactory.create(slug="salon", name_en="Salon")


def main_branch(business: Business) -> Branch:
    return Branch.objects.filter(business=business).order_by("display_order", "pk").first() or BranchFactory.create(
        business=business
    )


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    business = factory.LazyFunction(lambda: default_business())
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MANAGER


class ServiceFactory(factory.django.DjangoModelFactory[Service]):
    class Meta:
        model = Service

    business = factory.LazyFunction(lambda: default_business())

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
    business = factory.LazyAttribute(lambda o: o.branch.business if o.branch is not None else default_business())
    branch = factory.LazyAttribute(lambda o: None)
    display_name = factory.Sequence(lambda n: f"Staff {n}")
    bio = "Ten years of experience."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("branch") is None:
            kwargs["branch"] = main_branch(kwargs["business"])
        staff = super()._create(model_class, *args, **kwargs)
        Membership.objects.get_or_create(
            business_id=staff.business_id, user_id=staff.user_id, defaults={"role": Membership.Role.STAFF}
        )
        return staff

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

    business = factory.LazyFunction(lambda: default_business())

    name = "Eid al-Fitr"
