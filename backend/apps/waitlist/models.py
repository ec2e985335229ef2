"""The waitlist: a customer waiting for a time with a service (a staff member, or anyone) within dates and a daily
window, and the offers made to them when such a time frees.

An offer holds its slot with a real booking (`hold`): an unconfirmed `pending_payment` booking made through
`bookings.services.booking_create` for the customer, so the three layers against double booking (the early check,
the re-check under the staff lock, the exclusion constraint) protect it exactly as every booking. Claiming the
offer confirms that booking (after payment when the service is paid online); an unclaimed one expires with its
hold and the slot goes to the next customer in line (docs/notifications.md "Waitlist").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.bookings.models import Booking
from apps.catalog.models import BusinessOwned, Service, Staff


class WaitlistEntry(BusinessOwned):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a time")
        BOOKED = "booked", _("Booked")
        EXPIRED = "expired", _("Expired")  # its dates have passed
        LEFT = "left", _("Left the waitlist")

    business_parent = "service"

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("customer")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="waitlist_entries", verbose_name=_("service")
    )
    staff = models.ForeignKey(
        Staff,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        help_text=_("Empty: anyone who offers the service."),
    )
    date_from = models.DateField(_("from date"))
    date_to = models.DateField(_("to date"))
    time_from = models.TimeField(_("from time"), help_text=_("Local time in the business's time zone."))
    time_to = models.TimeField(_("to time"), help_text=_("The latest start time, local."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(_("joined at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")), name="waitlist_dates_ordered"),
            models.CheckConstraint(condition=Q(time_to__gte=F("time_from")), name="waitlist_times_ordered"),
            # One live entry per customer for the same service, staff member (or anyone) and window.
            models.UniqueConstraint(
                "customer",
                "service",
                "staff",
                "date_from",
                "date_to",
                "time_from",
                "time_to",
                name="waitlist_one_live_entry",
                condition=Q(status__in=["waiting", "offered"]),
                nulls_distinct=False,
            ),
        ]
        indexes = [
            # The line of one business: the offer job reads the waiting entries in order.
            models.Index(
                fields=["business", "created_at"],
                name="waitlist_business_line_idx",
                condition=Q(status="waiting"),
            ),
            models.Index(fields=["customer", "-created_at"], name="waitlist_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"waitlist #{self.pk} {self.status} {self.date_from}..{self.date_to} {self.time_from}-{self.time_to}"


class WaitlistOffer(BusinessOwned):
    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        CLAIMED = "claimed", _("Claimed")
        PASSED = "passed", _("Passed on (not claimed in time)")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")  # the hold was cancelled or the customer left the waitlist

    business_parent = "entry"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers", verbose_name=_("entry"))
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff member"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    hold = models.OneToOneField(
        Booking, on_delete=models.PROTECT, related_name="waitlist_offer", verbose_name=_("held booking")
    )
    expires_at = models.DateTimeField(_("claim by"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OFFERED)
    # The claim link's secret: only its SHA-256 is kept; the token itself is derived (selectors.offer_token).
    token_hash = models.CharField(_("token (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("offered at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        constraints = [
            # An entry has at most one live offer at a time.
            models.UniqueConstraint("entry", name="waitlist_one_live_offer_per_entry", condition=Q(status="offered")),
        ]
        indexes = [models.Index(fields=["entry", "staff", "start"], name="waitlist_offer_slot_idx")]

    def __str__(self) -> str:
        return f"offer #{self.pk} {self.status} {self.start:%Y-%m-%d %H:%M}"
