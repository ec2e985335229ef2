from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.timezone import now
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.catalog.search import city_key, city_names, normalize
from apps.core import vat
from apps.core.money import Money
from apps.core.scoping import BusinessScopedManager, platform

# An alphanumeric SMS sender ID (GSM): at most 11 characters, Latin letters and digits with single separators
# between them, at least one letter (an all-digit sender would read as a phone number). Authentica takes only
# sender names registered for the account (shared/specs/authentica.md, send-sms).
SENDER_NAME_PATTERN = r"^(?=.{1,11}$)(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9]+(?:[ ._&-][A-Za-z0-9]+)*$"


def _validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("Unknown time zone."))


class PaymentPolicy(models.TextChoices):
    """How a booking is paid for (docs/payments.md, "Deposits and paying at the venue")."""

    FULL = "full", _("Pay the whole price online")
    DEPOSIT = "deposit", _("Pay a deposit online, the rest at the venue")
    VENUE = "venue", _("Pay at the venue")


class Business(models.Model):
    """A business on the platform (a salon, a barber, a clinic ...): its public profile and its own booking
    policies. Everything it owns (branches, services, staff, bookings, payments, messages) carries its id."""

    class Category(models.TextChoices):
        SALON = "salon", _("Salon")
        BARBER = "barber", _("Barber")
        SPA = "spa", _("Spa")
        CLINIC = "clinic", _("Clinic")
        DENTAL = "dental", _("Dental")
        HOME_SERVICES = "home_services", _("Home services")
        FITNESS = "fitness", _("Fitness")
        OTHER = "other", _("Other")

    slug = models.SlugField(_("address (slug)"), max_length=60, unique=True, help_text=_("Its page: /b/SLUG"))
    name_en = models.CharField(_("name (English)"), max_length=200, default="Mawid")
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.SALON)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    logo_url = models.URLField(_("logo URL"), blank=True)
    vat_number = models.CharField(
        _("VAT registration number"),
        max_length=15,
        blank=True,
        validators=[
            RegexValidator(r"^3[0-9]{13}3$", _("A Saudi VAT number is 15 digits, starting and ending with 3."))
        ],
        help_text=_(
            "Set: the business is VAT-registered (prices include 15% VAT, shown on receipts and invoices; a price "
            "must be one an invoice can total). Its 11th digit is 1 for a VAT group."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Off: nobody can book it."))
    is_listed = models.BooleanField(_("listed"), default=True, help_text=_("Shown in search results."))

    class NotifyChannel(models.TextChoices):
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")

    default_notify_channel = models.CharField(
        _("default channel for customer messages"),
        max_length=16,
        choices=NotifyChannel.choices,
        default=NotifyChannel.SMS,
        help_text=_(
            "WhatsApp: booking confirmations, reminders, changes and cancellations go to customers by WhatsApp "
            "(SMS if it fails), unless they stopped WhatsApp messages. A customer who chose WhatsApp gets it either way."
        ),
    )
    staff_agenda_time = models.TimeField(
        _("staff agenda time"),
        null=True,
        blank=True,
        help_text=_(
            "When each staff member gets the day's agenda, in the business's time zone. Empty: the platform's "
            "(07:00). Changes to today's bookings after it are told at once."
        ),
    )
    sender_name = models.CharField(
        _("message sender name"),
        max_length=11,
        blank=True,
        validators=[
            RegexValidator(
                SENDER_NAME_PATTERN,
                _(
                    "An SMS sender name is up to 11 Latin letters, digits and single spaces, dots, dashes, underscores "
                    "or ampersands between them, with at least one letter."
                ),
            )
        ],
        help_text=_(
            "The SMS sender customers see (blank: Mawid's). It must be registered with Authentica for the platform's "
            "account (a Saudi sender ID needs the business's commercial registration); until it is, messages go out "
            "under Mawid's."
        ),
    )
    commission_bps = models.PositiveIntegerField(
        _("platform commission (basis points)"),
        default=0,
        validators=[MaxValueValidator(10_000)],
        help_text=_("250 = 2.5% of each payment."),
    )
    serves_at_home = models.BooleanField(
        _("serves at the customer's address"), default=False, help_text=_("Bookings record the customer's address.")
    )
    service_area = models.JSONField(_("service area (cities)"), default=list, blank=True)
    # Normalized names and cities (catalog.search.normalize), kept by save(): what `q` matches. It ends with
    # `catalog_text`: the names of its services and its branches' names, cities and districts, which
    # `business_search_refresh` keeps when a branch or a service is saved or deleted.
    search_text = models.TextField(editable=False, default="")
    catalog_text = models.TextField(editable=False, default="")
    # The keys (catalog.search.city_key) of the cities of its active branches and, for a home-service business,
    # of its service area: what `city=` matches. Kept with `catalog_text`.
    city_keys = ArrayField(models.CharField(max_length=100), editable=False, default=list, blank=True)

    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Riyadh", validators=[_validate_timezone])
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("slot step (minutes)"), default=15, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=120)
    max_advance_days = models.PositiveSmallIntegerField(
        _("book up to (days ahead)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    hold_minutes = models.PositiveSmallIntegerField(
        _("hold for unpaid bookings (minutes)"), default=10, validators=[MinValueValidator(1)]
    )
    cancellation_cutoff_hours = models.PositiveSmallIntegerField(_("cancellation cut-off (hours)"), default=24)
    require_payment = models.BooleanField(
        _("require payment"),
        default=True,
        help_text=_("When off, new bookings are confirmed at once; when on, they wait for payment."),
    )
    payment_policy = models.CharField(
        _("payment policy"),
        max_length=8,
        choices=PaymentPolicy.choices,
        default=PaymentPolicy.FULL,
        db_default=PaymentPolicy.FULL,
        help_text=_("The default of every service: the whole price online, a deposit online, or at the venue."),
    )
    deposit_amount = models.PositiveIntegerField(
        _("deposit (minor units)"), default=0, db_default=0, help_text=_("A fixed deposit (5000 = 50.00 SAR); 0: none.")
    )
    deposit_percent = models.PositiveSmallIntegerField(
        _("deposit (% of the price)"),
        default=0,
        db_default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("0: none."),
    )
    late_cancel_fee_amount = models.PositiveIntegerField(
        _("late-cancellation fee (minor units)"),
        null=True,
        blank=True,
        help_text=_("Kept when the customer cancels after the cut-off; empty with the percentage: the platform's."),
    )
    late_cancel_fee_percent = models.PositiveSmallIntegerField(
        _("late-cancellation fee (% of the price)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("The larger of the fixed fee and this percentage is kept."),
    )
    keep_deposit_on_no_show = models.BooleanField(
        _("keep the deposit on a no-show"),
        default=True,
        db_default=True,
        help_text=_("Off: a no-show's deposit is given back."),
    )
    keep_deposit_on_late_cancel = models.BooleanField(
        _("keep the deposit on a late cancellation"),
        default=True,
        db_default=True,
        help_text=_("On: a deposit booking cancelled after the cut-off keeps the whole deposit; off: the fee only."),
    )
    max_pending_per_customer = models.PositiveSmallIntegerField(
        _("max unpaid bookings per customer"), default=3, validators=[MinValueValidator(1)]
    )
    max_upcoming_per_customer = models.PositiveSmallIntegerField(
        _("max upcoming bookings per customer"),
        default=10,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Bookings still ahead (confirmed, or unpaid and held) one customer may have at once, so that nobody "
            "can take a whole day of slots."
        ),
    )
    staff_see_all_bookings = models.BooleanField(
        _("staff see every column"),
        default=False,
        help_text=_(
            "On: in the calendar, staff see every colleague's column (times and services, not the customers); "
            "off: only their own."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=now)

    class Meta:
        ordering = ["name_en", "id"]
        verbose_name = _("business")
        verbose_name_plural = _("businesses")
        indexes = [
            # Discovery (catalog.discovery): `q` is a substring match of the folded text (trigrams), `city` an
            # array containment, the default order the name among the listed ones.
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="business_search_trgm"),
            GinIndex(fields=["city_keys"], name="business_city_keys"),
            models.Index(
                fields=["name_en", "id"], name="business_listed_name_idx", condition=Q(is_active=True, is_listed=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:

        self.search_text = _business_text(self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)
        if kwargs.get("update_fields") is None or _SEARCHED & set(kwargs["update_fields"]):
            business_search_refresh(self.pk)  # from the rows as they are now (this copy's catalog_text may be old)

    def clean(self) -> None:
        super().clean()
        payment_policy_check(self, price=None)

    @property
    def name(self) -> str:
        return _localized(self.name_ar, self.name_en)

    @property
    def description(self) -> str:
        return _localized(self.description_ar, self.description_en)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slot_step(self) -> timedelta:
        return timedelta(minutes=self.slot_step_minutes)

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def hold_duration(self) -> timedelta:
        return timedelta(minutes=self.hold_minutes)

    @property
    def cancellation_cutoff(self) -> timedelta:
        return timedelta(hours=self.cancellation_cutoff_hours)

    @property
    def is_vat_registered(self) -> bool:
        return bool(self.vat_number)

    def vat_rate_bps(self, at: datetime | None = None) -> int:
        """The VAT rate (basis points) of its sales made at `at` (now by default), on the business's local day:
        0 when it is not VAT-registered (apps/core/vat.py)."""
        if not self.is_vat_registered:
            return 0
        return vat.rate_on((at or now()).astimezone(self.tz).date())

    def price_split(self, gross: int, at: datetime | None = None) -> vat.VatSplit:
        """A VAT-inclusive price of its as an invoice states it (`gross` may differ by a halala: see core.vat)."""
        return vat.split_gross(gross, self.vat_rate_bps(at))


_SEARCHED = {"name_ar", "name_en", "slug", "service_area", "serves_at_home"}


def _business_text(business: Business) -> str:
    names = normalize(" ".join([business.name_ar, business.name_en, business.slug]))
    return f"{names} {business.catalog_text}".strip()


def business_search_refresh(business_id: int | None) -> None:
    """Recompute what discovery matches a business by (`catalog_text`, `search_text`, `city_keys`) from its
    active branches and services: 3 queries. Branch and Service saves and deletes call it; code that writes them
    in bulk (`bulk_create`, `update()`) calls it itself, once per business (or `manage.py refresh_search`)."""
    if business_id is None:
        return
    with platform():  # one business's rows, named by id: safe from any surface, even before its scope is set
        _refresh(business_id)


def _refresh(business_id: int) -> None:
    business = Business.objects.filter(pk=business_id).first()
    if business is None:
        return
    branches = list(
        Branch.objects.filter(business_id=business_id, is_active=True).values_list(
            "name_ar", "name_en", "city", "district"
        )
    )
    services = list(Service.objects.filter(business_id=business_id, is_active=True).values_list("name_ar", "name_en"))
    words: list[str] = []
    for name_ar, name_en, city, district in branches:
        words += [normalize(name_ar), normalize(name_en), city_names(city), normalize(district)]
    area = [str(c) for c in business.service_area if isinstance(c, str)] if business.serves_at_home else []
    words += [city_names(c) for c in area]
    for name_ar, name_en in services:
        words += [normalize(name_ar), normalize(name_en)]
    catalog_text = " ".join(dict.fromkeys(w for w in words if w))
    keys = sorted({city_key(c) for c in [*(b[2] for b in branches), *area] if city_key(c)})
    business.catalog_text = catalog_text
    Business.objects.filter(pk=business_id).update(
        catalog_text=catalog_text, search_text=_business_text(business), city_keys=keys
    )


def _localized(arabic: str, english: str) -> str:
    return arabic if (get_language() or "en").startswith("ar") and arabic else english


class BusinessOwned(models.Model):
    """A row that belongs to one business: `business_id` on the row itself (the tenant key, and the distribution
    key on Citus: docs/scaling.md), queries scoped to it (`apps.core.scoping`). `business_parent` names the field
    whose business a new row takes when none is given."""

    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="+", verbose_name=_("business"))

    objects = BusinessScopedManager()
    business_parent: str | None = None

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.business_id is None and self.business_parent:
            parent = getattr(self, self.business_parent, None)
            if parent is not None and parent.business_id is not None:
                self.business_id = parent.business_id
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "business"}
        super().save(*args, **kwargs)


class Branch(BusinessOwned):
    """A location of a business: where its staff work and its walk-in customers come."""

    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="branches", verbose_name=_("business")
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.FloatField(
        _("latitude"), null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        indexes = [
            models.Index(fields=["business", "display_order"], name="branch_business_idx"),
            # Discovery's `near`: the branches inside a bounding box, found by latitude then longitude.
            models.Index(fields=["latitude", "longitude"], name="branch_location_idx", condition=Q(is_active=True)),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        business_search_refresh(self.business_id)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        business_search_refresh(self.business_id)
        return result

    @property
    def name(self) -> str:
        return _localized(self.name_ar, self.name_en)

    @property
    def map_url(self) -> str:
        if self.latitude is None or self.longitude is None:
            return ""
        return f"https://maps.google.com/?q={self.latitude:.6f},{self.longitude:.6f}"


class Membership(BusinessOwned):
    """A person's role at one business: owner, manager or staff. The same person is a customer everywhere."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")
        STAFF = "staff", _("Staff")

    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("business")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(_("since"), default=now)

    class Meta:
        ordering = ["business", "role", "id"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["business", "user"], name="membership_unique_business_user")]
        indexes = [models.Index(fields=["user"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.business_id}"

    @property
    def manages(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.MANAGER)


class Service(BusinessOwned):
    business = models.ForeignKey(
        Business, on_delete=models.PROTECT, related_name="services", verbose_name=_("business")
    )
    branches = models.ManyToManyField(
        Branch,
        related_name="services",
        blank=True,
        verbose_name=_("branches"),
        help_text=_("Where it is offered; none chosen: at every branch."),
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    price_amount = models.PositiveIntegerField(_("price (minor units)"), help_text=_("15000 = 150.00 SAR"))
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    payment_policy = models.CharField(
        _("payment policy"),
        max_length=8,
        choices=PaymentPolicy.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("Empty: the business's."),
    )
    deposit_amount = models.PositiveIntegerField(
        _("deposit (minor units)"), null=True, blank=True, help_text=_("Empty with the percentage: the business's.")
    )
    deposit_percent = models.PositiveSmallIntegerField(
        _("deposit (% of the price)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    late_cancel_fee_amount = models.PositiveIntegerField(
        _("late-cancellation fee (minor units)"),
        null=True,
        blank=True,
        help_text=_("Empty with the percentage: the business's."),
    )
    late_cancel_fee_percent = models.PositiveSmallIntegerField(
        _("late-cancellation fee (% of the price)"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(_("buffer before (minutes)"), default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(_("buffer after (minutes)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)
    # Both names, normalized (catalog.search.normalize), kept by save(): what discovery's `service=` matches.
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [
            models.Index(fields=["business", "display_order"], name="service_business_idx"),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="service_search_trgm"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = normalize(f"{self.name_ar} {self.name_en}")
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)
        business_search_refresh(self.business_id)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        result = super().delete(*args, **kwargs)
        business_search_refresh(self.business_id)
        return result

    @property
    def name(self) -> str:
        return self.name_ar if (get_language() or "en").startswith("ar") and self.name_ar else self.name_en

    @property
    def description(self) -> str:
        lang = get_language() or "en"
        return self.description_ar if lang.startswith("ar") and self.description_ar else self.description_en

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    def clean(self) -> None:
        super().clean()
        if self.price_amount is not None and self.business_id is not None:
            problem = price_problem(self.business, self.price_amount)
            if problem is not None:
                raise ValidationError({"price_amount": ValidationError(problem.message, code="price_not_reachable")})
        payment_policy_check(self, price=self.price_amount)


@dataclass(frozen=True, slots=True)
class PriceProblem:
    """A VAT-registered business's price that no invoice can total (core.vat), with the two nearest that can."""

    lower: int
    upper: int
    currency: str

    @property
    def message(self) -> str:
        return str(
            _(
                "No tax invoice can total this VAT-inclusive price. The nearest prices that can: %(lower)s and %(upper)s."
            )
            % {"lower": Money(self.lower, self.currency).format(), "upper": Money(self.upper, self.currency).format()}
        )


def price_problem(business: Business, price_amount: int, at: datetime | None = None) -> PriceProblem | None:
    """None when `business` may ask `price_amount`: it is not VAT-registered, or an invoice can total the price."""
    rate = business.vat_rate_bps(at)
    if price_amount < 0 or vat.reachable(price_amount, rate):
        return None
    lower, upper = vat.nearest_reachable(price_amount, rate)
    return PriceProblem(lower=lower, upper=upper, currency=business.currency)


def payment_policy_check(obj: Business | Service, *, price: int | None) -> None:
    """The deposit and fee fields of a business (`price=None`) or a service make sense: a deposit is a fixed
    amount or a percentage from 1 to 100, not both; a fixed deposit is no more than the price; a deposit policy
    has a deposit (its own, or for a service, the business's). `ValidationError` with stable codes per field."""
    errors: dict[str, ValidationError] = {}
    amount, percent = obj.deposit_amount or 0, obj.deposit_percent or 0
    if amount and percent:
        errors["deposit_percent"] = ValidationError(
            _("Give a fixed deposit or a percentage, not both."), code="deposit_amount_and_percent"
        )
    if obj.deposit_percent is not None and obj.deposit_percent != 0 and not 1 <= obj.deposit_percent <= 100:
        errors["deposit_percent"] = ValidationError(_("A percentage from 1 to 100."), code="deposit_percent_range")
    if price is not None and amount > price:
        errors["deposit_amount"] = ValidationError(
            _("The deposit cannot be more than the price (%(price)s).") % {"price": price},
            code="deposit_exceeds_price",
        )
    if obj.late_cancel_fee_percent is not None and obj.late_cancel_fee_percent > 100:
        errors["late_cancel_fee_percent"] = ValidationError(_("A percentage from 0 to 100."), code="fee_percent_range")
    if obj.payment_policy == PaymentPolicy.DEPOSIT and not (amount or percent):
        inherited = isinstance(obj, Service) and obj.business_id is not None and _business_has_deposit(obj.business)
        if not inherited:
            errors.setdefault(
                "deposit_amount",
                ValidationError(_("A deposit policy needs a fixed deposit or a percentage."), code="deposit_missing"),
            )
    if errors:
        raise ValidationError(errors)


def _business_has_deposit(business: Business) -> bool:
    return bool(business.deposit_amount or business.deposit_percent)


class Staff(BusinessOwned):
    """A staff member's public profile at one branch of a business; the person behind it has a staff membership
    of that business."""

    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="staff", verbose_name=_("business"))
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="staff", verbose_name=_("branch"))
    business_parent = "branch"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_profile", verbose_name=_("user")
    )
    display_name = models.CharField(_("display name"), max_length=150)
    bio = models.TextField(_("bio"), blank=True)
    photo_url = models.URLField(_("photo URL"), blank=True)
    services = models.ManyToManyField(Service, related_name="staff", blank=True, verbose_name=_("services"))
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        indexes = [models.Index(fields=["business", "display_order"], name="staff_business_idx")]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(BusinessOwned):
    """One weekly working interval in local wall-clock time. Several per day: a lunch break is a gap."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="working_hours")
    business_parent = "staff"
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))

    class Meta:
        ordering = ["staff", "weekday", "start_time"]
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="working_hours_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class ScheduleException(BusinessOwned):
    """A dated change to one staff member's schedule: time off, or extra working hours."""

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", _("Time off")
        EXTRA_HOURS = "extra_hours", _("Extra working hours")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="exceptions")
    business_parent = "staff"
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.TIME_OFF)
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("schedule exception")
        verbose_name_plural = _("schedule exceptions")
        indexes = [models.Index(fields=["staff", "start", "end"], name="exception_staff_range_idx")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="exception_end_after_start")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.start:%Y-%m-%d %H:%M}"


class Closure(BusinessOwned):
    """The business (or one branch of it) is closed for everyone (Eid, national day), whole local days from
    `start_date` to `end_date`. A closure with no branch applies to every branch."""

    branch = models.ForeignKey(
        Branch,
        on_delete=models.CASCADE,
        related_name="closures",
        null=True,
        blank=True,
        verbose_name=_("branch"),
        help_text=_("Empty: the whole business."),
    )
    business_parent = "branch"

    name = models.CharField(_("name"), max_length=200)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        indexes = [models.Index(fields=["business", "end_date"], name="closure_business_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="closure_end_not_before_start")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date} – {self.end_date})"


class TimeOffRequest(BusinessOwned):
    """A staff member asks for time off (the manager API's `me/time-off`); a manager approves or declines it.

    Only approval writes time off (a `ScheduleException`, through `catalog.services.time_off_create` under the
    staff lock): the availability engine reads exceptions only, so a request that is not approved blocks
    nothing."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="time_off_requests")
    business_parent = "staff"
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("to"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    time_off = models.OneToOneField(
        ScheduleException, on_delete=models.SET_NULL, null=True, blank=True, related_name="request"
    )
    created_at = models.DateTimeField(_("asked at"), default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("time off request")
        verbose_name_plural = _("time off requests")
        indexes = [models.Index(fields=["business", "status"], name="timeoffrequest_business_idx")]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="timeoffrequest_end_after_start")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.start:%Y-%m-%d %H:%M} ({self.status})"


class Season(BusinessOwned):
    """Seasonal hours (Ramadan, summer): on the local dates `start_date`..`end_date` (both inclusive) the staff of
    the business (or of one branch) work its `SeasonalHours` INSTEAD of their weekly `WorkingHours`; a weekday
    without seasonal hours is a day off. Time off, closures, bookings and buffers apply on
    top as usual. Seasons whose staff overlap (the same branch, or either for the whole business) never share a
    date: `services.season_save` refuses it under the business row lock."""

    branch = models.ForeignKey(
        Branch,
        on_delete=models.CASCADE,
        related_name="seasons",
        null=True,
        blank=True,
        verbose_name=_("branch"),
        help_text=_("Empty: the whole business."),
    )
    business_parent = "branch"

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    created_at = models.DateTimeField(_("created at"), default=now)

    class Meta:
        ordering = ["start_date", "id"]
        verbose_name = _("seasonal hours")
        verbose_name_plural = _("seasonal hours")
        indexes = [models.Index(fields=["business", "end_date"], name="season_business_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="season_end_not_before_start")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date} – {self.end_date})"

    @property
    def name(self) -> str:
        return _localized(self.name_ar, self.name_en)


class SeasonalHours(BusinessOwned):
    """One weekly working interval during a `Season`, like `WorkingHours` (local wall-clock time, no overnight
    spans; several a day: a break is a gap), of one staff member or (no staff) of everyone the season covers. A
    staff member with spans of their own in a season works those; everyone else the season's general ones, so that
    staff added during a season get them too."""

    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="hours", verbose_name=_("season"))
    staff = models.ForeignKey(
        Staff,
        on_delete=models.CASCADE,
        related_name="seasonal_hours",
        null=True,
        blank=True,
        help_text=_("Empty: everyone the season covers who has no hours of their own in it."),
    )
    business_parent = "season"
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WorkingHours.Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("to"))

    class Meta:
        ordering = ["season", "staff", "weekday", "start_time"]
        verbose_name = _("seasonal working hours")
        verbose_name_plural = _("seasonal working hours")
        indexes = [models.Index(fields=["staff", "season"], name="seasonal_hours_staff_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=F("start_time")), name="seasonal_hours_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"
