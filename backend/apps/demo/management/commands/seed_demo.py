"""Load a believable demo marketplace once: `python manage.py seed_demo` (again: nothing happens; --force reloads).

What it makes: four businesses in three cities, each with Arabic and English names, a description, a category,
a placeholder logo, a contact phone and its own policies:

- `noor-salon`: a women's salon in Riyadh with two branches (Olaya and Al Malqa, with coordinates), its staff
  split between them and one service (bridal make-up) offered at Olaya only;
- `jeddah-barber`: a barber in Jeddah (the old single demo salon: six services, four barbers), whose customers
  get their booking messages by WhatsApp (its default channel);
- `dammam-dental`: a dental clinic in Dammam that confirms bookings without payment;
- `riyadh-home-care`: a home-service business (serves at the customer's address, a service area of cities),
  VAT-registered with its seller address, so its bookings carry VAT (`manage.py demo_sale` then gives one of them
  a paid card payment and its ZATCA tax invoice: `python3 dev.py run` does).

Each business has its services, staff (each at a branch) with weekly hours, closures (the national holidays, a
maintenance day last week, a training day next week), time off and extra hours, an owner (and the salon also a
manager) with a membership and admin access, and five weeks of bookings around today in every status, made by a
dozen customers shared by all of them. The platform's superuser (the demo operator) is made too.

The rules hold as they do for real bookings: start times come from the availability engine (working hours, time
off, closures, the slot step), no two bookings of one staff member overlap (buffers included), and bookings from
the minimum notice on are made through the bookings services (`booking_create`, `booking_confirm`,
`booking_cancel`, `booking_expire`), with their history, events and notifications. The services refuse a start
in the past, so past (and imminent) bookings are written directly with the fields `booking_create` computes
(business, branch, end, busy_start/busy_end from the service's buffers, price) and a believable history.

Deterministic (a seeded random generator), relative to today, one transaction, a few seconds. Platform code: it
reads and writes every demo business's rows (manage.py runs commands with scopes disabled; `platform()` here
says so for callers that do not, such as `call_command` in a job).
"""

from __future__ import annotations

import random
import time as clock
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import role_group_sync, roles_setup
from apps.bookings import services as bookings
from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking, BookingStatusChange
from apps.catalog.models import (
    Branch,
    Business,
    Closure,
    Membership,
    ScheduleException,
    Service,
    Staff,
    WorkingHours,
)
from apps.catalog.selectors import slot_list_available
from apps.catalog.services import time_off_create
from apps.core.scoping import platform
from apps.invoicing.models import TaxProfile

DEMO_MANAGER_PHONE = "+966500000001"  # the platform's superuser: the marker that the demo is loaded
DEMO_PASSWORD = "mawid-demo"  # noqa: S105 - demo data for local runs only
TZ = ZoneInfo("Asia/Riyadh")
S = Booking.Status
M = Membership.Role
C = Business.Category

SAT_TO_THU = (5, 6, 0, 1, 2, 3)  # Monday is 0: Saturday 5, Sunday 6, ..., Thursday 3; Friday is 4
SUN_TO_THU = (6, 0, 1, 2, 3)
FRIDAY, SATURDAY = 4, 5


@dataclass(frozen=True)
class BranchSpec:
    key: str
    name_en: str
    name_ar: str
    city: str
    district: str
    address: str
    latitude: float
    longitude: float
    phone: str


@dataclass(frozen=True)
class ServiceSpec:
    name_en: str
    name_ar: str
    minutes: int
    price: int  # halalas
    before: int = 0  # buffer before, minutes
    after: int = 0  # buffer after, minutes
    branches: tuple[str, ...] = ()  # branch keys; empty: every branch


@dataclass(frozen=True)
class StaffSpec:
    phone: str
    name: str
    bio: str
    branch: str  # branch key
    services: tuple[int, ...]  # indexes into the business's services


@dataclass(frozen=True)
class BusinessSpec:
    slug: str
    name_en: str
    name_ar: str
    category: str
    description_en: str
    description_ar: str
    phone: str
    branches: tuple[BranchSpec, ...]
    services: tuple[ServiceSpec, ...]
    staff: tuple[StaffSpec, ...]
    hours: tuple[tuple[tuple[int, ...], int, int], ...]  # (weekdays, from hour, to hour)
    managers: tuple[tuple[str, str, str], ...]  # (phone, name, membership role); the first is "the" demo manager
    slot_step: int = 15
    min_notice: int = 120
    require_payment: bool = True
    serves_at_home: bool = False
    service_area: tuple[str, ...] = ()
    load: float = 1.0  # how busy its staff are, relative to the barber's
    policies: dict[str, int] = field(default_factory=dict)
    # VAT-registered (docs/invoicing.md): the VAT number and the seller's national address its tax invoices print.
    vat_number: str = ""
    tax_address: dict[str, str] = field(default_factory=dict)
    # The channel its customers' booking messages take unless they chose otherwise (docs/notifications.md "WhatsApp").
    notify_channel: str = Business.NotifyChannel.SMS

    @property
    def logo_url(self) -> str:
        # Empty: the pages draw the business's initial. A demo must work offline (and the website's tests run with
        # no network), so it names no image on another site.
        return ""


BUSINESSES: tuple[BusinessSpec, ...] = (
    BusinessSpec(
        slug="noor-salon",
        name_en="Noor Beauty Salon",
        name_ar="صالون نور للتجميل",
        category=C.SALON,
        description_en="A women's salon in Riyadh: hair, nails and bridal make-up, in Olaya and Al Malqa.",
        description_ar="صالون نسائي في الرياض: الشعر والأظافر ومكياج العرائس، في العليا والملقا.",
        phone="+966112345670",
        branches=(
            BranchSpec(
                "olaya",
                "Olaya",
                "العليا",
                "Riyadh",
                "Al Olaya",
                "Olaya Street, near Kingdom Centre",
                24.6953,
                46.6850,
                "+966112345671",
            ),
            BranchSpec(
                "malqa",
                "Al Malqa",
                "الملقا",
                "Riyadh",
                "Al Malqa",
                "Anas Ibn Malik Road",
                24.8105,
                46.6118,
                "+966112345672",
            ),
        ),  # fmt: skip
        services=(
            ServiceSpec("Haircut and styling", "قص وتصفيف الشعر", 60, 15000, 0, 15),
            ServiceSpec("Blow-dry", "استشوار", 45, 9000, 0, 15),
            ServiceSpec("Manicure", "مناكير", 45, 8000, 0, 10),
            ServiceSpec("Pedicure", "باديكير", 60, 10000, 0, 10),
            ServiceSpec("Hair colouring", "صبغة الشعر", 120, 35000, 10, 15),
            ServiceSpec("Bridal make-up", "مكياج عروس", 120, 80000, 15, 15, branches=("olaya",)),
        ),
        staff=(
            StaffSpec("+966500000021", "Lama", "Cuts, colour and bridal looks.", "olaya", (0, 1, 4, 5)),
            StaffSpec("+966500000022", "Nouf", "Nails and pedicure.", "olaya", (2, 3)),
            StaffSpec("+966500000023", "Sara", "Blow-dry and styling.", "malqa", (0, 1)),
            StaffSpec("+966500000024", "Dana", "Colour and nails.", "malqa", (2, 3, 4)),
        ),
        hours=((SAT_TO_THU, 10, 22), ((FRIDAY,), 16, 22)),
        managers=(
            ("+966500000002", "Reem (Noor owner)", M.OWNER),
            ("+966500000003", "Hessa (Noor manager)", M.MANAGER),
        ),
        load=0.8,
    ),
    BusinessSpec(
        slug="jeddah-barber",
        notify_channel=Business.NotifyChannel.WHATSAPP,  # its messages go to the WhatsApp fake in `dev.py run`
        name_en="Al Balad Barber",
        name_ar="حلاق البلد",
        category=C.BARBER,
        description_en="Classic cuts, fades and beard care in Al Balad, Jeddah.",
        description_ar="قصات كلاسيكية وتدريج وعناية باللحية في البلد، جدة.",
        phone="+966122345670",
        branches=(
            BranchSpec(
                "balad",
                "Al Balad",
                "البلد",
                "Jeddah",
                "Al Balad",
                "King Abdulaziz Street",
                21.4858,
                39.1925,
                "+966122345671",
            ),
        ),  # fmt: skip
        services=(
            ServiceSpec("Haircut", "قص الشعر", 30, 8000, 0, 10),
            ServiceSpec("Beard trim", "تهذيب اللحية", 20, 5000, 0, 5),
            ServiceSpec("Haircut and beard", "قص الشعر واللحية", 45, 12000, 0, 10),
            ServiceSpec("Hair colouring", "صبغة الشعر", 90, 30000, 10, 15),
            ServiceSpec("Facial", "تنظيف البشرة", 60, 20000, 5, 10),
            ServiceSpec("Kids haircut", "قص شعر الأطفال", 20, 5000, 0, 5),
        ),
        staff=(
            StaffSpec(
                "+966500000011", "Khalid", "Classic cuts and fades; 10 years at the chair.", "balad", (0, 1, 2, 5)
            ),
            StaffSpec("+966500000012", "Omar", "Beard specialist.", "balad", (1, 2)),
            StaffSpec("+966500000013", "Faisal", "Colour and skin care.", "balad", (3, 4)),
            StaffSpec("+966500000014", "Yousef", "Everything, including kids.", "balad", (0, 1, 2, 3, 4, 5)),
        ),
        # Saturday to Thursday, 10:00-14:00 and 16:00-22:00; Friday afternoon only.
        hours=((SAT_TO_THU, 10, 14), ((*SAT_TO_THU, FRIDAY), 16, 22)),
        managers=(("+966500000004", "Majed (barber owner)", M.OWNER),),
    ),
    BusinessSpec(
        slug="dammam-dental",
        name_en="Gulf Smile Dental Clinic",
        name_ar="عيادة ابتسامة الخليج لطب الأسنان",
        category=C.DENTAL,
        description_en="Check-ups, cleaning, fillings and whitening in Al Faisaliyah, Dammam.",
        description_ar="فحص وتنظيف وحشوات وتبييض للأسنان في حي الفيصلية، الدمام.",
        phone="+966132345670",
        branches=(
            BranchSpec(
                "faisaliyah",
                "Al Faisaliyah",
                "الفيصلية",
                "Dammam",
                "Al Faisaliyah",
                "King Saud Street",
                26.4207,
                50.0888,
                "+966132345671",
            ),
        ),  # fmt: skip
        services=(
            ServiceSpec("Check-up and cleaning", "فحص وتنظيف", 45, 25000, 0, 15),
            ServiceSpec("Filling", "حشوة", 60, 40000, 0, 15),
            ServiceSpec("Tooth whitening", "تبييض الأسنان", 60, 90000, 0, 15),
            ServiceSpec("Children's check-up", "فحص الأطفال", 30, 15000, 0, 10),
        ),
        staff=(
            StaffSpec("+966500000031", "Dr. Huda", "General dentist; children welcome.", "faisaliyah", (0, 1, 3)),
            StaffSpec("+966500000032", "Dr. Ahmed", "Cosmetic dentistry.", "faisaliyah", (0, 1, 2)),
        ),
        hours=((SUN_TO_THU, 9, 13), (SUN_TO_THU, 16, 21), ((SATURDAY,), 10, 14)),
        managers=(("+966500000005", "Dr. Abdulaziz (clinic owner)", M.OWNER),),
        slot_step=15,
        min_notice=240,
        require_payment=False,  # the clinic confirms at once and is paid at the desk
        load=0.7,
    ),
    BusinessSpec(
        slug="riyadh-home-care",
        name_en="Raha Home Care",
        name_ar="راحة للخدمات المنزلية",
        category=C.HOME_SERVICES,
        description_en="Haircuts, massage and henna at your home, anywhere in Riyadh and Diriyah.",
        description_ar="حلاقة ومساج وحناء في منزلك، في أي مكان في الرياض والدرعية.",
        phone="+966112345680",
        vat_number="310122393500003",
        tax_address={
            "legal_name_ar": "شركة راحة للخدمات المنزلية",
            "legal_name_en": "Raha Home Care Co.",
            "cr_number": "1010123456",
            "street": "Al Yasmin Street",
            "building_number": "2345",
            "additional_number": "6789",
            "district": "Al Yasmin",
            "city": "Riyadh",
            "postal_code": "13325",
        },
        branches=(
            BranchSpec(
                "base",
                "Riyadh base",
                "مقر الرياض",
                "Riyadh",
                "Al Yasmin",
                "Dispatch office, Al Yasmin",
                24.8246,
                46.6396,
                "+966112345681",
            ),
        ),  # fmt: skip
        services=(
            ServiceSpec("Haircut at home", "حلاقة في المنزل", 45, 20000, 30, 30),
            ServiceSpec("Massage at home", "مساج في المنزل", 90, 45000, 30, 30),
            ServiceSpec("Henna at home", "حناء في المنزل", 120, 35000, 30, 30),
        ),
        staff=(
            StaffSpec("+966500000041", "Abu Fahd", "Barber on wheels.", "base", (0, 1)),
            StaffSpec("+966500000042", "Mona", "Henna artist and massage therapist.", "base", (1, 2)),
        ),
        hours=((SAT_TO_THU, 8, 12), (SAT_TO_THU, 15, 21)),
        managers=(("+966500000006", "Turki (home care owner)", M.OWNER),),
        slot_step=30,
        min_notice=180,
        serves_at_home=True,
        service_area=("Riyadh", "Diriyah"),
        load=0.6,
    ),
)
SLUGS = [b.slug for b in BUSINESSES]
PLATFORM_OPERATOR = (DEMO_MANAGER_PHONE, "Demo Operator")
STAFF = [s for b in BUSINESSES for s in b.staff]  # everyone's staff, in business order
MANAGERS = [m for b in BUSINESSES for m in b.managers]

CUSTOMERS = [
    # phone, name, language, email
    ("+966501234567", "عبدالله القحطاني", "ar", ""),
    ("+966550000101", "محمد العتيبي", "ar", "m.otaibi@example.com"),
    ("+966550000102", "Fahad Al-Harbi", "en", "fahad.harbi@example.com"),
    ("+966550000103", "سلمان الدوسري", "ar", ""),
    ("+966550000104", "Turki Al-Shehri", "en", ""),
    ("+966550000105", "نورة الغامدي", "ar", "noura@example.com"),
    ("+966550000106", "Saud Al-Mutairi", "en", "saud.m@example.com"),
    ("+966550000107", "بندر الزهراني", "ar", ""),
    ("+966550000108", "ريم السبيعي", "ar", ""),
    ("+966550000109", "Rayan Al-Shammari", "en", ""),
    ("+966550000110", "زياد العنزي", "ar", ""),
    ("+966550000111", "Hamad Al-Malki", "en", "hamad@example.com"),
]
HOME_ADDRESSES = [
    "Al Yasmin, Street 12, house 4, Riyadh",
    "Hittin, Prince Turki Road, villa 17, Riyadh",
    "Al Nakheel, Othman Ibn Affan Road, building 9 flat 3, Riyadh",
    "Al Bujairi, house 21, Diriyah",
]

NOTES = {
    "ar": ["أول زيارة", "أفضّل المقص بدل الماكينة", "موعد قبل حفل زواج", ""],
    "en": ["First visit", "Short on the sides, please", "Before a wedding", ""],
}
CUSTOMER_REASONS = {
    "ar": ["سفر مفاجئ", "اجتماع عمل في نفس الوقت", "ظرف عائلي", "حجزت الخدمة الخطأ"],
    "en": ["Travelling that week", "A work meeting came up", "Family matter", "Booked the wrong service"],
}
BUSINESS_REASONS = ["The specialist is unwell today; we are sorry", "Power outage at the branch"]

# Closures are whole local days. The two national holidays are put on their next occurrence, for every business;
# the maintenance day last week is one branch's at the salon (the whole business elsewhere).
HOLIDAYS = [("Founding Day — يوم التأسيس", 2, 22), ("Saudi National Day — اليوم الوطني", 9, 23)]
MAINTENANCE = ("Maintenance day — يوم صيانة", -12)
TRAINING = ("Team training day — يوم تدريب الفريق", 9)

DAYS_BACK, DAYS_AHEAD = 21, 13
# Weights of the fate of a booking whose appointment is over, and of one made through the services ahead; a
# business that confirms without payment has no unpaid holds, so nothing of its expires.
PAST_FATES = [(S.COMPLETED, 72), (S.NO_SHOW, 8), (S.CANCELLED, 12), (S.EXPIRED, 8)]
FUTURE_FATES = [(S.CONFIRMED, 78), (S.CANCELLED, 12), (S.EXPIRED, 10)]
LIVE_HOLDS = 3  # pending_payment bookings whose hold still runs (each for another customer)


@dataclass
class Planned:
    business: Business
    staff: Staff
    service: Service
    customer: User
    start: datetime
    address: str = ""

    @property
    def end(self) -> datetime:
        return self.start + self.service.duration

    @property
    def busy(self) -> tuple[datetime, datetime]:  # as `booking_create` computes busy_start / busy_end
        return self.start - self.service.buffer_before, self.end + self.service.buffer_after


@dataclass
class Loaded:
    """One business as loaded: its rows, for the booking planner."""

    spec: BusinessSpec
    business: Business
    branches: dict[str, Branch]
    services: list[Service]
    staff: list[Staff]
    managers: list[User]


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
    help = "Load the demo businesses (branches, services, staff, schedules, customers, bookings) unless they are there."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Delete the demo data and load it again.")

    def handle(self, *args, force: bool = False, **options):
        if settings.MAWID_ENV == "production":
            raise CommandError("seed_demo loads made-up people and bookings; it does not run in production.")
        with platform():
            if User.objects.filter(phone=DEMO_MANAGER_PHONE).exists() and not force:
                self.stdout.write("demo data already loaded (seed_demo --force loads it again)")
                return
            started = clock.monotonic()
            with transaction.atomic():
                if force:
                    self._wipe()
                counts = Seeder(random.Random(2026)).run()  # noqa: S311 - demo data, not security
        summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
        lines = [f"demo data loaded in {clock.monotonic() - started:.1f}s: bookings {summary}"]
        lines.append(f"platform operator (superuser): {DEMO_MANAGER_PHONE}")
        for spec in BUSINESSES:
            people = ", ".join(f"{phone} ({role})" for phone, _name, role in spec.managers)
            lines.append(f"{spec.slug}: {people}; staff {spec.staff[0].phone}..{spec.staff[-1].phone[-2:]}")
        lines.append(f"password for all of them: {DEMO_PASSWORD}")
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _wipe(self) -> None:
        """Remove what an earlier run made: the demo businesses' bookings, staff, memberships and closures, and
        the demo people with their bookings anywhere. Businesses, branches and services are kept and updated in
        place."""
        phones = [PLATFORM_OPERATOR[0]] + [p for p, *_ in MANAGERS] + [s.phone for s in STAFF]
        phones += [p for p, *_ in CUSTOMERS]
        demo = Business.objects.filter(slug__in=SLUGS)
        try:
            Booking.objects.filter(Q(business__in=demo) | Q(customer__phone__in=phones)).delete()
            Staff.objects.filter(Q(business__in=demo) | Q(user__phone__in=phones)).delete()
            Membership.objects.filter(Q(business__in=demo) | Q(user__phone__in=phones)).delete()
            Closure.objects.filter(business__in=demo).delete()
            User.objects.filter(phone__in=phones).delete()
        except ProtectedError as exc:
            kinds = sorted({type(obj).__name__ for obj in exc.protected_objects})
            raise CommandError(
                f"Other rows point at the demo data ({', '.join(kinds)}): remove them first, or reset the database."
            ) from exc


class Seeder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.now = timezone.now()
        self.tz = TZ
        self.today = self.now.astimezone(TZ).date()
        self.counts: Counter[str] = Counter()
        self.password = make_password(DEMO_PASSWORD)

    def run(self) -> Counter[str]:
        roles_setup()
        self._platform_operator()
        customers = self._customers()
        loaded = [self._load(spec) for spec in BUSINESSES]
        holds_left = LIVE_HOLDS
        for one in loaded:
            self._closures(one)
            self._exceptions(one)
            plan = self._plan(one, customers)
            soon = self.now + one.business.min_notice + timedelta(minutes=15)
            self._insert_direct(one, [p for p in plan if p.start < soon])
            holds_left = self._through_services(one, [p for p in plan if p.start >= soon], holds_left)
        roles_setup()  # again, now that the memberships exist: each person's group follows their memberships
        # Payments: give the confirmed, completed and no-show bookings of the paying businesses a captured payment
        # and the live holds an initiated one here once apps.payments can record one without calling Moyasar (and
        # delete them in Command._wipe before the bookings: Payment.booking is PROTECT).
        return self.counts

    # --- businesses, catalog and people -----------------------------------------------------------------------

    def _person(self, phone: str, name: str, *, role: str, language: str = "en", superuser: bool = False) -> User:
        user = User.objects.filter(phone=phone).first()
        fields = ["is_staff", "role"]
        if user is None:
            make = User.objects.create_superuser if superuser else User.objects.create_user
            user = make(phone=phone, password=None, name=name, language=language, role=role)
            # One password hash for all of them (each costs a quarter of a second with the production hasher).
            user.password = self.password
            fields.append("password")
        user.is_staff = True  # the admin: managers run their business there, staff see their own day
        user.role = role
        user.save(update_fields=fields)
        role_group_sync(user)
        return user

    def _platform_operator(self) -> None:
        phone, name = PLATFORM_OPERATOR
        self._person(phone, name, role=User.Role.MANAGER, superuser=True)

    def _customers(self) -> list[User]:
        customers = []
        for phone, name, language, email in CUSTOMERS:
            user = User.objects.filter(phone=phone).first() or User.objects.create_user(
                phone=phone, name=name, language=language, email=email or None, notify_email=bool(email)
            )
            customers.append(user)
        return customers

    def _load(self, spec: BusinessSpec) -> Loaded:
        business, _ = Business.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "name_en": spec.name_en,
                "name_ar": spec.name_ar,
                "description_en": spec.description_en,
                "description_ar": spec.description_ar,
                "category": spec.category,
                "contact_phone": spec.phone,
                "logo_url": spec.logo_url,
                "is_active": True,
                "is_listed": True,
                "serves_at_home": spec.serves_at_home,
                "service_area": list(spec.service_area),
                "timezone": "Asia/Riyadh",
                "currency": "SAR",
                "slot_step_minutes": spec.slot_step,
                "min_notice_minutes": spec.min_notice,
                "max_advance_days": 60,
                "hold_minutes": 10,
                "cancellation_cutoff_hours": 24,
                "require_payment": spec.require_payment,
                "max_pending_per_customer": 3,
                "vat_number": spec.vat_number,
                "default_notify_channel": spec.notify_channel,
            },
        )
        if spec.tax_address:
            TaxProfile.objects.update_or_create(business=business, defaults=spec.tax_address)
        branches: dict[str, Branch] = {}
        for order, b in enumerate(spec.branches):
            branches[b.key], _ = Branch.objects.update_or_create(
                business=business,
                name_en=b.name_en,
                defaults={
                    "name_ar": b.name_ar,
                    "city": b.city,
                    "district": b.district,
                    "address": b.address,
                    "latitude": b.latitude,
                    "longitude": b.longitude,
                    "contact_phone": b.phone,
                    "is_active": True,
                    "display_order": order,
                },
            )
        managers = []
        for phone, name, role in spec.managers:
            user = self._person(phone, name, role=User.Role.MANAGER)
            Membership.objects.update_or_create(business=business, user=user, defaults={"role": role})
            managers.append(user)
        services = []
        for order, s in enumerate(spec.services):
            service, _ = Service.objects.update_or_create(
                business=business,
                name_en=s.name_en,
                defaults={
                    "name_ar": s.name_ar,
                    "duration_minutes": s.minutes,
                    "price_amount": s.price,
                    "currency": "SAR",
                    "buffer_before_minutes": s.before,
                    "buffer_after_minutes": s.after,
                    "display_order": order,
                    "is_active": True,
                    "description_en": f"{s.name_en} at {spec.name_en}.",
                    "description_ar": f"{s.name_ar} في {spec.name_ar}.",
                },
            )
            service.branches.set([branches[key] for key in s.branches])
            services.append(service)
        staff = []
        hours: list[WorkingHours] = []
        for order, st in enumerate(spec.staff):
            user = self._person(st.phone, st.name, role=User.Role.STAFF, language="ar")
            member, _ = Staff.objects.update_or_create(
                user=user,
                defaults={
                    "business": business,
                    "branch": branches[st.branch],
                    "display_name": st.name,
                    "bio": st.bio,
                    "display_order": order,
                    "is_active": True,
                },
            )
            Membership.objects.update_or_create(business=business, user=user, defaults={"role": M.STAFF})
            member.services.set([services[i] for i in st.services])
            member.working_hours.all().delete()
            hours += [
                WorkingHours(business=business, staff=member, weekday=day, start_time=time(a), end_time=time(b))
                for days, a, b in spec.hours
                for day in days
            ]
            staff.append(member)
        WorkingHours.objects.bulk_create(hours)
        return Loaded(spec, business, branches, services, staff, managers)

    def _local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    def _closures(self, one: Loaded) -> None:
        business = one.business
        for name, month, day in HOLIDAYS:
            when = date(self.today.year, month, day)
            if when < self.today:
                when = date(self.today.year + 1, month, day)
            Closure.objects.get_or_create(business=business, branch=None, name=name, start_date=when, end_date=when)
        # The salon closed one branch for maintenance; elsewhere the business closed.
        name, offset = MAINTENANCE
        when = self.today + timedelta(days=offset)
        branch = one.branches.get("malqa")
        Closure.objects.get_or_create(business=business, branch=branch, name=name, start_date=when, end_date=when)
        name, offset = TRAINING
        when = self.today + timedelta(days=offset)
        Closure.objects.get_or_create(business=business, branch=None, name=name, start_date=when, end_date=when)

    def _exceptions(self, one: Loaded) -> None:
        """Time off through the locked service, like the admin (no booking exists yet, so none is refused), and
        an extra Friday morning for the first staff member."""
        first, *others = one.staff
        leave = others[0] if others else first
        time_off_create(
            staff_id=leave.pk,
            start=self._local(self.today + timedelta(days=4), 0),
            end=self._local(self.today + timedelta(days=7), 0),
            reason="Annual leave",
        )
        sick = others[-1] if others else first
        time_off_create(
            staff_id=sick.pk,
            start=self._local(self.today - timedelta(days=8), 0),
            end=self._local(self.today - timedelta(days=7), 0),
            reason="Sick day",
        )
        time_off_create(
            staff_id=first.pk,
            start=self._local(self.today + timedelta(days=2), 16),
            end=self._local(self.today + timedelta(days=2), 19),
            reason="Doctor's appointment",
        )
        friday = self.today + timedelta(days=(FRIDAY - self.today.weekday()) % 7 or 7)
        ScheduleException.objects.create(
            business=one.business,
            staff=first,
            kind=ScheduleException.Kind.EXTRA_HOURS,
            start=self._local(friday, 10),
            end=self._local(friday, 13),
            reason="Extra Friday morning before the holiday rush",
        )

    # --- bookings ---------------------------------------------------------------------------------------------

    def _plan(self, one: Loaded, customers: list[User]) -> list[Planned]:
        """Non-overlapping bookings (buffers included) at starts the availability engine offers."""
        first, last = self.today - timedelta(days=DAYS_BACK), self.today + timedelta(days=DAYS_AHEAD)
        # The engine only offers days from "today": ask it as of the day before the first one.
        as_of = self._local(first - timedelta(days=1), 0)
        plan: list[Planned] = []
        for member in one.staff:
            offered = list(member.services.order_by("display_order", "id"))
            starts: dict[tuple[int, date], list[datetime]] = defaultdict(list)
            for service in offered:
                result = slot_list_available(staff=member, service=service, date_from=first, date_to=last, now=as_of)
                for slot in result.slots:
                    starts[(service.pk, slot.start.astimezone(self.tz).date())].append(slot.start)
            day = first
            while day <= last:
                taken: list[tuple[datetime, datetime]] = []
                for _ in range(self._how_many(day, one.spec.load)):
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
                    booking = Planned(one.business, member, service, self.rng.choice(customers), self.rng.choice(free))
                    if one.business.serves_at_home:
                        booking.address = self.rng.choice(HOME_ADDRESSES)
                    taken.append(booking.busy)
                    plan.append(booking)
                day += timedelta(days=1)
        return sorted(plan, key=lambda p: (p.start, p.staff.pk))

    def _how_many(self, day: date, load: float) -> int:
        """Thursdays and Saturdays are the busiest; fewer bookings far ahead (people book a few days before)."""
        ahead = (day - self.today).days
        base = 5 if day.weekday() in (3, 5) else 4  # Thursday and Saturday
        if ahead > 0:
            base = max(1, base - ahead // 2)
        return round(self.rng.randint(max(0 if ahead > 0 else 2, base - 2), base) * load)

    def _fate(self, table: Sequence[tuple[str, int]], *, paying: bool) -> str:
        if not paying:  # nothing waits for a payment, so nothing expires
            table = [(status, weight) for status, weight in table if status != S.EXPIRED]
        statuses, weights = zip(*table, strict=True)
        return self.rng.choices(statuses, weights=weights)[0]

    def _insert_direct(self, one: Loaded, plan: list[Planned]) -> None:
        """Past and imminent bookings, written as booking_create would have, with their history."""
        business, manager = one.business, one.managers[0]
        paying = business.require_payment
        hold = business.hold_duration
        rows: list[Booking] = []
        histories: list[list[tuple[str, str, User | None, str, datetime]]] = []
        for p in plan:
            created = p.start - timedelta(hours=self.rng.randint(3, 24 * 10))
            fate = self._fate(PAST_FATES, paying=paying) if p.end <= self.now else S.CONFIRMED
            language = p.customer.language
            if paying:
                steps: list[tuple[str, str, User | None, str, datetime]] = [
                    ("", S.PENDING_PAYMENT, p.customer, "", created)
                ]
            else:
                steps = [("", S.CONFIRMED, p.customer, "", created)]
            reason = ""
            if fate == S.EXPIRED:
                steps.append((S.PENDING_PAYMENT, S.EXPIRED, None, "hold expired", created + hold))
            else:
                if paying:
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
                    business=business,
                    branch_id=p.staff.branch_id,
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
                    customer_address=p.address,
                    hold_expires_at=created + hold if fate == S.EXPIRED else None,
                    cancel_reason=reason[:500],
                )
            )
            rows[-1].set_price(p.service.price_amount, business)  # its VAT when the business is registered
            histories.append(steps)
            self.counts[fate] += 1
        Booking.objects.bulk_create(rows)
        entries, moments = [], []
        for booking, steps in zip(rows, histories, strict=True):
            for from_status, to_status, changed_by, reason, at in steps:
                entries.append(
                    BookingStatusChange(
                        business=business,
                        booking=booking,
                        from_status=from_status,
                        to_status=to_status,
                        actor=changed_by,
                        reason=reason,
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

    def _through_services(self, one: Loaded, plan: list[Planned], holds_left: int) -> int:
        """Bookings from the minimum notice on, made and moved through the bookings services. Returns how many
        live holds are still to be made (by the next businesses)."""
        business, manager = one.business, one.managers[0]
        paying = business.require_payment
        holding_customers: set[int] = set()
        for p in plan:
            fate = self._fate(FUTURE_FATES, paying=paying)
            if paying and holds_left and p.customer.pk not in holding_customers and self.rng.random() < 0.2:
                fate = S.PENDING_PAYMENT
            made_at = self.now - timedelta(minutes=30) if fate == S.EXPIRED else self.now
            try:
                booking = bookings.booking_create(
                    customer=p.customer,
                    staff_id=p.staff.pk,
                    service=p.service,
                    start=p.start,
                    notes=self.rng.choice(NOTES[p.customer.language]),
                    customer_address=p.address,
                    now=made_at,
                    business=business,
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
                if paying:
                    bookings.booking_confirm(booking_id=booking.pk, reason="paid")  # the payment hook would do this
                if fate == S.CANCELLED:
                    by_customer = p.start - self.now > business.cancellation_cutoff and self.rng.random() < 0.7
                    bookings.booking_cancel(
                        booking_id=booking.pk,
                        actor=p.customer if by_customer else manager,
                        reason=self.rng.choice(
                            CUSTOMER_REASONS[p.customer.language] if by_customer else BUSINESS_REASONS
                        ),
                    )
            self.counts[fate] += 1
        return holds_left
