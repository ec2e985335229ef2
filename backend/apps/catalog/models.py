from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.core.money import Money


def _validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("Unknown time zone."))


class BusinessSettings(models.Model):
    """The one business of this deployment. Use `BusinessSettings.load()`."""

    name = models.CharField(_("business name"), max_length=200, default="Mawid")
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

    class Meta:
        verbose_name = _("business settings")
        verbose_name_plural = _("business settings")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> BusinessSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

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


class Service(models.Model):
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    price_amount = models.PositiveIntegerField(_("price (minor units)"), help_text=_("15000 = 150.00 SAR"))
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    buffer_before_minutes = models.PositiveSmallIntegerField(_("buffer before (minutes)"), default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(_("buffer after (minutes)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["display_order", "id"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_ar if (get_language() or "en").startswith("ar") and self.name_ar else self.name_en

    @property
    def description(self) -> str:
        lang = (get_language() or "en")
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


class Staff(models.Model):
    """A staff member's public profile; the person behind it is a user with the `staff` role."""

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

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
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


class ScheduleException(models.Model):
    """A dated change to one staff member's schedule: time off, or extra working hours."""

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", _("Time off")
        EXTRA_HOURS = "extra_hours", _("Extra working hours")

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="exceptions")
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


class Closure(models.Model):
    """The business is closed for everyone (Eid, national day), whole local days from `start_date` to `end_date`."""

    name = models.CharField(_("name"), max_length=200)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="closure_end_not_before_start")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date} – {self.end_date})"
