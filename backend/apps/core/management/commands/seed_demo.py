"""Load a believable demo salon once: `python manage.py seed_demo` (again: nothing happens; --force reloads)."""

from __future__ import annotations

from datetime import time

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.models import User
from apps.catalog.models import BusinessSettings, Service, Staff, WorkingHours

DEMO_MANAGER_PHONE = "+966500000001"
DEMO_PASSWORD = "mawid-demo"  # noqa: S105 - demo data for local runs only

SERVICES = [
    # name_en, name_ar, minutes, price (halalas), buffer before, buffer after
    ("Haircut", "قص الشعر", 30, 8000, 0, 10),
    ("Beard trim", "تهذيب اللحية", 20, 5000, 0, 5),
    ("Haircut and beard", "قص الشعر واللحية", 45, 12000, 0, 10),
    ("Hair colouring", "صبغة الشعر", 90, 30000, 10, 15),
    ("Facial", "تنظيف البشرة", 60, 20000, 5, 10),
    ("Kids haircut", "قص شعر الأطفال", 20, 5000, 0, 5),
]

STAFF = [
    # phone, display name, bio, services (indexes)
    ("+966500000011", "Khalid", "Classic cuts and fades; 10 years at the chair.", [0, 1, 2, 5]),
    ("+966500000012", "Omar", "Beard specialist.", [1, 2]),
    ("+966500000013", "Faisal", "Colour and skin care.", [3, 4]),
    ("+966500000014", "Yousef", "Everything, including kids.", [0, 1, 2, 3, 4, 5]),
]


class Command(BaseCommand):
    help = "Load the demo salon (services, staff, schedules, customers, bookings) unless it is already there."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even if demo data exists.")

    @transaction.atomic
    def handle(self, *args, force: bool = False, **options):
        if User.objects.filter(phone=DEMO_MANAGER_PHONE).exists() and not force:
            self.stdout.write("demo data already loaded")
            return
        business = BusinessSettings.load()
        business.name = "Mawid Demo Salon"
        business.save()
        User.objects.filter(phone=DEMO_MANAGER_PHONE).exists() or User.objects.create_superuser(
            phone=DEMO_MANAGER_PHONE, password=DEMO_PASSWORD, name="Demo Manager", language="en"
        )
        services = []
        for order, (name_en, name_ar, minutes, price, before, after) in enumerate(SERVICES):
            service, _ = Service.objects.update_or_create(
                name_en=name_en,
                defaults={
                    "name_ar": name_ar, "duration_minutes": minutes, "price_amount": price,
                    "buffer_before_minutes": before, "buffer_after_minutes": after, "display_order": order,
                    "description_en": f"{name_en} at the demo salon.", "description_ar": f"{name_ar} في صالون موعد.",
                },
            )
            services.append(service)
        for order, (phone, name, bio, offered) in enumerate(STAFF):
            user = User.objects.filter(phone=phone).first() or User.objects.create_user(
                phone=phone, name=name, role=User.Role.STAFF, language="ar"
            )
            staff, _ = Staff.objects.update_or_create(
                user=user, defaults={"display_name": name, "bio": bio, "display_order": order}
            )
            staff.services.set([services[i] for i in offered])
            staff.working_hours.all().delete()
            # Saturday to Thursday, 10:00-14:00 and 16:00-22:00; Friday afternoon only.
            for weekday in (0, 1, 2, 3, 5, 6):
                WorkingHours.objects.create(staff=staff, weekday=weekday, start_time=time(10), end_time=time(14))
                WorkingHours.objects.create(staff=staff, weekday=weekday, start_time=time(16), end_time=time(22))
            WorkingHours.objects.create(staff=staff, weekday=4, start_time=time(16), end_time=time(22))
        for i in range(1, 6):
            phone = f"+96655000010{i}"
            if not User.objects.filter(phone=phone).exists():
                User.objects.create_user(phone=phone, name=f"Demo Customer {i}", language="ar" if i % 2 else "en")
        self.stdout.write(self.style.SUCCESS(f"demo data loaded; admin: {DEMO_MANAGER_PHONE} / {DEMO_PASSWORD}"))
