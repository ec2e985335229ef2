"""Load a believable demo salon once: `python manage.py seed_demo` (again: nothing happens; --force reloads).

What it makes: the business settings, six services, four barbers with weekly hours (Saturday to Thursday
10:00-14:00 and 16:00-22:00, Friday afternoon), two managers, a dozen customers, closures (Founding Day and
National Day, a maintenance day last week, a training day next week), time off and extra hours, and five weeks
of bookings around today in every status.

The rules hold as they do for real bookings: start times come from the availability engine (working hours, time
off, closures, the slot step), no two bookings of one barber overlap (buffers included), and bookings from
the minimum notice on are made through the bookings services (`booking_create`, `booking_confirm`,
`booking_cancel`, `booking_expire`), with their history, events and notifications. The services refuse a start
in the past, so past (and imminent) bookings are written directly with the fields `booking_create` computes
(end, busy_start/busy_end from the service's buffers, price) and a believable history.

Deterministic (a seeded random generator), relative to today, one transaction, about a second.
"""

from __future__ import annotations

import random
import time as clock
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import role_group_sync, roles_setup
from apps.bookings import services as bookings
from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking, BookingStatusChange
from apps.catalog.models import Business, Closure, ScheduleException, Service, Staff, WorkingHours
from apps.catalog.selectors import slot_list_available
from apps.catalog.services import time_off_create

DEMO_MANAGER_PHONE = "+966500000001"  # a superuser: the marker that the demo is loaded
DEMO_PASSWORD = "mawid-demo"  # noqa: S105 - demo data for local runs only
S = Booking.Status

MANAGERS = [
    # phone, name, superuser
    (DEMO_MANAGER_PHONE, "Demo Manager", True),
    ("+966500000002", "Reem (manager)", False),
]

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

CUSTOMERS = [
    # phone, name, language, email
    ("+966501234567", "عبدالله القحطاني", "ar", ""),
    ("+966550000101", "محمد العتيبي", "ar", "m.otaibi@example.com"),
    ("+966550000102", "Fahad Al-Harbi", "en", "fahad.harbi@example.com"),
    ("+966550000103", "سلمان الدوسري", "ar", ""),
    ("+966550000104", "Turki Al-Shehri", "en", ""),
    ("+966550000105", "ناصر الغامدي", "ar", "nasser@example.com"),
    ("+966550000106", "Saud Al-Mutairi", "en", "saud.m@example.com"),
    ("+966550000107", "بندر الزهراني", "ar", ""),
    ("+966550000108", "ماجد السبيعي", "ar", ""),
    ("+966550000109", "Rayan Al-Shammari", "en", ""),
    ("+966550000110", "زياد العنزي", "ar", ""),
    ("+966550000111", "Hamad Al-Malki", "en", "hamad@example.com"),
]

NOTES = {
    "ar": ["أول زيارة", "أفضّل المقص بدل الماكينة", "موعد قبل حفل زواج", ""],
    "en": ["First visit", "Short on the sides, please", "Before a wedding", ""],
}
CUSTOMER_REASONS = {
    "ar": ["سفر مفاجئ", "اجتماع عمل في نفس الوقت", "ظرف عائلي", "حجزت الخدمة الخطأ"],
    "en": ["Travelling that week", "A work meeting came up", "Family matter", "Booked the wrong service"],
}
BUSINESS_REASONS = ["The barber is unwell today; we are sorry", "Power outage at the salon"]

# Closures are whole local days for everyone. The two national holidays are put on their next occurrence.
HOLIDAYS = [("Founding Day — يوم التأسيس", 2, 22), ("Saudi National Day — اليوم الوطني", 9, 23)]
CLOSURES_AROUND_TODAY = [("Maintenance day — يوم صيانة", -12), ("Team training day — يوم تدريب الفريق", 9)]

DAYS_BACK, DAYS_AHEAD = 21, 13
# Weights of the fate of a booking whose appointment is over, and of one made through the services ahead.
PAST_FATES = [(S.COMPLETED, 72), (S.NO_SHOW, 8), (S.CANCELLED, 12), (S.EXPIRED, 8)]
FUTURE_FATES = [(S.CONFIRMED, 78), (S.CANCELLED, 12), (S.EXPIRED, 10)]
LIVE_HOLDS = 3  # pending_payment bookings whose hold still runs (each for another customer)


@dataclass
class Planned:
    staff: Staff
    service: Service
    customer: User
    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + self.service.duration

    @property
    def busy(self) -> tuple[datetime, datetime]:  # as `booking_create` computes busy_start / busy_end
        return self.start - self.service.buffer_before, self.end + self.service.buffer_after


def _restamp(model, ids: list[int], *, created: list[datetime], updated: list[datetime] | None = None) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if updated is None:
            cursor.execute(
                f"UPDATE {table} t SET created_at = v.created FROM unnest(%s::bigint[], %s::timestamptz[])"  # noqa: S608
                " AS v(id, created) WHERE t.id = v.id",
                [ids, created],
            )
        else:
            cursor.execute(
                f"UPDATE {table} t SET created_at = v.created, updated_at = v.updated"  # noqa: S608
                " FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, created, updated)"
                " WHERE t.id = v.id",
                [ids, created, updated],
            )


class Command(BaseCommand):
    help = "Load the demo salon (services, staff, schedules, customers, bookings) unless it is already there."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Delete the demo data and load it again.")

    def handle(self, *args, force: bool = False, **options):
        if settings.MAWID_ENV == "production":
            raise CommandError("seed_demo loads made-up people and bookings; it does not run in production.")
        if User.objects.filter(phone=DEMO_MANAGER_PHONE).exists() and not force:
            self.stdout.write("demo data already loaded (seed_demo --force loads it again)")
            return
        started = clock.monotonic()
        with transaction.atomic():
            if force:
                self._wipe()
            counts = Seeder(random.Random(2026)).run()  # noqa: S311 - demo data, not security
        summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"demo data loaded in {clock.monotonic() - started:.1f}s: bookings {summary}\n"
                f"admin: manager {DEMO_MANAGER_PHONE} (superuser), {MANAGERS[1][0]} (manager role), "
                f"staff {STAFF[0][0]}..{STAFF[-1][0][-2:]}; password {DEMO_PASSWORD}"
            )
        )

    def _wipe(self) -> None:
        """Remove what an earlier run made (people, their bookings, staff profiles, closures). Services are
        kept and updated in place: bookings of anyone may use them."""
        phones = [p for p, *_ in MANAGERS] + [p for p, *_ in STAFF] + [p for p, *_ in CUSTOMERS]
        try:
            Booking.objects.filter(Q(staff__user__phone__in=phones) | Q(customer__phone__in=phones)).delete()
            Staff.objects.filter(user__phone__in=phones).delete()
            User.objects.filter(phone__in=phones).delete()
        except ProtectedError as exc:
            kinds = sorted({type(obj).__name__ for obj in exc.protected_objects})
            raise CommandError(
                f"Other rows point at the demo data ({', '.join(kinds)}): remove them first, or reset the database."
            ) from exc
        names = [name for name, *_ in HOLIDAYS] + [name for name, _ in CLOSURES_AROUND_TODAY]
        Closure.objects.filter(name__in=names).delete()


class Seeder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = timezone.now()
        self.business = Business.objects.order_by("pk").first() or Business.objects.create(slug="mawid", name_en="Mawid")
        self.tz = self.business.tz
        self.today = self.now.astimezone(self.tz).date()
        self.counts: Counter[str] = Counter()

    def run(self) -> Counter[str]:
        self._business()
        roles_setup()
        managers = self._managers()
        services = self._services()
        staff = self._staff(services)
        customers = self._customers()
        self._closures()
        self._exceptions(staff)
        plan = self._plan(staff, customers)
        soon = self.now + self.business.min_notice + timedelta(minutes=15)
        self._insert_direct([p for p in plan if p.start < soon], manager=managers[0])
        self._through_services([p for p in plan if p.start >= soon], manager=managers[0])
        # Payments: apps.payments is being built. Once it can record a payment without calling Moyasar, give the
        # confirmed, completed and no-show bookings a captured payment and the live holds an initiated one here
        # (and delete them in Command._wipe before the bookings: Payment.booking is PROTECT).
        return self.counts

    # --- catalog and people -----------------------------------------------------------------------------------

    def _business(self) -> None:
        b = self.business
        b.name_en = "Mawid Demo Salon"
        b.timezone = "Asia/Riyadh"
        b.currency = "SAR"
        b.slot_step_minutes = 15
        b.min_notice_minutes = 120
        b.max_advance_days = 60
        b.hold_minutes = 10
        b.cancellation_cutoff_hours = 24
        b.require_payment = True
        b.max_pending_per_customer = 3
        b.save()
        self.tz = b.tz
        self.today = self.now.astimezone(self.tz).date()

    def _managers(self) -> list[User]:
        users = []
        for phone, name, superuser in MANAGERS:
            user = User.objects.filter(phone=phone).first()
            if user is None:
                make = User.objects.create_superuser if superuser else User.objects.create_user
                user = make(phone=phone, password=DEMO_PASSWORD, name=name, language="en", role=User.Role.MANAGER)
            user.is_staff = True
            user.save(update_fields=["is_staff"])
            role_group_sync(user)
            users.append(user)
        return users

    def _services(self) -> list[Service]:
        services = []
        for order, (name_en, name_ar, minutes, price, before, after) in enumerate(SERVICES):
            service, _ = Service.objects.update_or_create(
                name_en=name_en,
                defaults={
                    "name_ar": name_ar,
                    "duration_minutes": minutes,
                    "price_amount": price,
                    "currency": "SAR",
                    "buffer_before_minutes": before,
                    "buffer_after_minutes": after,
                    "display_order": order,
                    "is_active": True,
                    "description_en": f"{name_en} at the demo salon.",
                    "description_ar": f"{name_ar} في صالون موعد.",
                },
            )
            services.append(service)
        return services

    def _staff(self, services: list[Service]) -> list[Staff]:
        members = []
        for order, (phone, name, bio, offered) in enumerate(STAFF):
            user = User.objects.filter(phone=phone).first() or User.objects.create_user(
                phone=phone, password=DEMO_PASSWORD, name=name, role=User.Role.STAFF, language="ar"
            )
            user.is_staff = True  # the admin, limited to their own bookings and schedule (the Staff group)
            user.role = User.Role.STAFF
            user.save(update_fields=["is_staff", "role"])
            role_group_sync(user)
            staff, _ = Staff.objects.update_or_create(
                user=user, defaults={"display_name": name, "bio": bio, "display_order": order, "is_active": True}
            )
            staff.services.set([services[i] for i in offered])
            staff.working_hours.all().delete()
            # Saturday to Thursday, 10:00-14:00 and 16:00-22:00; Friday afternoon only.
            hours = [(day, time(10), time(14)) for day in (0, 1, 2, 3, 5, 6)]
            hours += [(day, time(16), time(22)) for day in (0, 1, 2, 3, 4, 5, 6)]
            WorkingHours.objects.bulk_create(
                WorkingHours(staff=staff, weekday=day, start_time=a, end_time=b) for day, a, b in hours
            )
            members.append(staff)
        return members

    def _customers(self) -> list[User]:
        customers = []
        for phone, name, language, email in CUSTOMERS:
            user = User.objects.filter(phone=phone).first() or User.objects.create_user(
                phone=phone, name=name, language=language, email=email or None, notify_email=bool(email)
            )
            customers.append(user)
        return customers

    def _local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def _closures(self) -> None:
        for name, month, day in HOLIDAYS:
            when = date(self.today.year, month, day)
            if when < self.today:
                when = date(self.today.year + 1, month, day)
            Closure.objects.get_or_create(name=name, start_date=when, end_date=when)
        for name, offset in CLOSURES_AROUND_TODAY:
            when = self.today + timedelta(days=offset)
            Closure.objects.get_or_create(name=name, start_date=when, end_date=when)

    def _exceptions(self, staff: list[Staff]) -> None:
        khalid, omar, faisal, _yousef = staff
        # Through the locked service, like the admin: no booking exists yet, so none is refused.
        time_off_create(
            staff_id=omar.pk,
            start=self._local(self.today + timedelta(days=4), 0),
            end=self._local(self.today + timedelta(days=7), 0),
            reason="Annual leave",
        )
        time_off_create(
            staff_id=faisal.pk,
            start=self._local(self.today - timedelta(days=8), 0),
            end=self._local(self.today - timedelta(days=7), 0),
            reason="Sick day",
        )
        time_off_create(
            staff_id=khalid.pk,
            start=self._local(self.today + timedelta(days=2), 16),
            end=self._local(self.today + timedelta(days=2), 19),
            reason="Dentist appointment",
        )
        friday = self.today + timedelta(days=(4 - self.today.weekday()) % 7 or 7)
        ScheduleException.objects.create(
            staff=khalid,
            kind=ScheduleException.Kind.EXTRA_HOURS,
            start=self._local(friday, 10),
            end=self._local(friday, 13),
            reason="Extra Friday morning before the holiday rush",
        )

    # --- bookings ---------------------------------------------------------------------------------------------

    def _plan(self, staff: list[Staff], customers: list[User]) -> list[Planned]:
        """Non-overlapping bookings (buffers included) at starts the availability engine offers."""
        first, last = self.today - timedelta(days=DAYS_BACK), self.today + timedelta(days=DAYS_AHEAD)
        # The engine only offers days from "today": ask it as of the day before the first one.
        as_of = self._local(first - timedelta(days=1), 0)
        plan: list[Planned] = []
        for member in staff:
            offered = list(member.services.order_by("display_order", "id"))
            starts: dict[tuple[int, date], list[datetime]] = defaultdict(list)
            for service in offered:
                result = slot_list_available(staff=member, service=service, date_from=first, date_to=last, now=as_of)
                for slot in result.slots:
                    starts[(service.pk, slot.start.astimezone(self.tz).date())].append(slot.start)
            day = first
            while day <= last:
                taken: list[tuple[datetime, datetime]] = []
                for _ in range(self._how_many(day)):
                    service = self.rng.choice(offered)
                    free = [
                        s
                        for s in starts.get((service.pk, day), [])
                        if not any(
                            a < s + service.duration + service.buffer_after and s - service.buffer_before < b
                            for a, b in taken
                        )
                    ]
                    if not free:
                        continue
                    booking = Planned(member, service, self.rng.choice(customers), self.rng.choice(free))
                    taken.append(booking.busy)
                    plan.append(booking)
                day += timedelta(days=1)
        return sorted(plan, key=lambda p: (p.start, p.staff.pk))

    def _how_many(self, day: date) -> int:
        """Thursdays and Saturdays are the busiest; fewer bookings far ahead (people book a few days before)."""
        ahead = (day - self.today).days
        base = 5 if day.weekday() in (3, 5) else 4  # Thursday and Saturday
        if ahead > 0:
            base = max(1, base - ahead // 2)
        return self.rng.randint(max(0 if ahead > 0 else 2, base - 2), base)

    def _fate(self, table: Sequence[tuple[str, int]]) -> str:
        statuses, weights = zip(*table, strict=True)
        return self.rng.choices(statuses, weights=weights)[0]

    def _insert_direct(self, plan: list[Planned], *, manager: User) -> None:
        """Past and imminent bookings, written as booking_create would have, with their history."""
        hold = self.business.hold_duration
        rows: list[Booking] = []
        histories: list[list[tuple[str, str, User | None, str, datetime]]] = []
        for p in plan:
            created = p.start - timedelta(hours=self.rng.randint(3, 24 * 10))
            fate = self._fate(PAST_FATES) if p.end <= self.now else S.CONFIRMED
            language = p.customer.language
            steps: list[tuple[str, str, User | None, str, datetime]] = [
                ("", S.PENDING_PAYMENT, p.customer, "", created)
            ]
            reason = ""
            if fate == S.EXPIRED:
                steps.append((S.PENDING_PAYMENT, S.EXPIRED, None, "hold expired", created + hold))
            else:
                steps.append((S.PENDING_PAYMENT, S.CONFIRMED, None, "paid", created + timedelta(minutes=2)))
                if fate == S.COMPLETED:
                    steps.append((S.CONFIRMED, S.COMPLETED, p.staff.user, "", p.end + timedelta(minutes=5)))
                elif fate == S.NO_SHOW:
                    steps.append((S.CONFIRMED, S.NO_SHOW, p.staff.user, "", p.start + timedelta(minutes=20)))
                elif fate == S.CANCELLED:
                    if self.rng.random() < 0.75:
                        actor, reason = p.customer, self.rng.choice(CUSTOMER_REASONS[language])
                        at = created + (p.start - created) / 3
                    else:
                        actor, reason = manager, self.rng.choice(BUSINESS_REASONS)
                        at = p.start - timedelta(hours=2)
                    steps.append((S.CONFIRMED, S.CANCELLED, actor, reason, at))
            busy_start, busy_end = p.busy
            rows.append(
                Booking(
                    customer=p.customer,
                    staff=p.staff,
                    service=p.service,
                    status=fate,
                    start=p.start,
                    end=p.end,
                    busy_start=busy_start,
                    busy_end=busy_end,
                    price_amount=p.service.price_amount,
                    currency=p.service.currency,
                    notes=self.rng.choice(NOTES[language]),
                    hold_expires_at=created + hold if fate == S.EXPIRED else None,
                    cancel_reason=reason[:500],
                )
            )
            histories.append(steps)
            self.counts[fate] += 1
        Booking.objects.bulk_create(rows)
        entries, moments = [], []
        for booking, steps in zip(rows, histories, strict=True):
            for from_status, to_status, changed_by, reason, at in steps:
                entries.append(
                    BookingStatusChange(
                        booking=booking, from_status=from_status, to_status=to_status, actor=changed_by, reason=reason
                    )
                )
                moments.append(at)
        BookingStatusChange.objects.bulk_create(entries)
        # auto_now_add / auto_now stamped every row "now" on insert; put the real moments back (one query each:
        # bulk_update's CASE over a thousand rows costs more than the whole insert).
        _restamp(
            Booking, [b.pk for b in rows], created=[h[0][4] for h in histories], updated=[h[-1][4] for h in histories]
        )
        _restamp(BookingStatusChange, [e.pk for e in entries], created=moments)

    def _through_services(self, plan: list[Planned], *, manager: User) -> None:
        """Bookings from the minimum notice on, made and moved through the bookings services."""
        holds_left = LIVE_HOLDS
        holding_customers: set[int] = set()
        for p in plan:
            fate = self._fate(FUTURE_FATES)
            if holds_left and p.customer.pk not in holding_customers and self.rng.random() < 0.2:
                fate = S.PENDING_PAYMENT
            made_at = self.now - timedelta(minutes=30) if fate == S.EXPIRED else self.now
            try:
                booking = bookings.booking_create(
                    customer=p.customer,
                    staff_id=p.staff.pk,
                    service=p.service,
                    start=p.start,
                    notes=self.rng.choice(NOTES[p.customer.language]),
                    now=made_at,
                    business=self.business,
                    # Weeks of a dozen customers' bookings are made in one go: the per-customer caps are for
                    # requests (a script taking every slot), not for the business writing its own history.
                    enforce_customer_limits=False,
                )
            except SlotUnavailable:
                continue  # someone else's booking (not demo data) holds this time
            if fate == S.PENDING_PAYMENT:
                holds_left -= 1
                holding_customers.add(p.customer.pk)
            elif fate == S.EXPIRED:
                bookings.booking_expire(booking_id=booking.pk, now=self.now)
            else:
                bookings.booking_confirm(booking_id=booking.pk, reason="paid")  # the payment hook would do this
                if fate == S.CANCELLED:
                    by_customer = p.start - self.now > self.business.cancellation_cutoff and self.rng.random() < 0.7
                    bookings.booking_cancel(
                        booking_id=booking.pk,
                        actor=p.customer if by_customer else manager,
                        reason=self.rng.choice(
                            CUSTOMER_REASONS[p.customer.language] if by_customer else BUSINESS_REASONS
                        ),
                    )
            self.counts[fate] += 1
