"""Bookings: one customer, one staff member, one service, one time.

Three layers keep a staff member from being booked twice (see `services.booking_create`): an early check when
the request is validated, a re-check under the staff row lock in the service, and, as the last word, the
exclusion constraint below over the time the booking holds (its slot widened by the service's buffers).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Branch, Business, BusinessOwned, PaymentPolicy, Service, Staff
from apps.core.money import Money
from apps.core.vat import VatSplit


class TsTzRange(Func):
    """`tstzrange(lower, upper, '[)')`: the half-open range the exclusion constraint compares."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()

    def __init__(self, lower: Any, upper: Any, bounds: str = "[)", **extra: Any) -> None:
        super().__init__(lower, upper, models.Value(bounds), **extra)


class Booking(BusinessOwned):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Pending payment")
        CONFIRMED = "confirmed", _("Confirmed")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("No-show")
        EXPIRED = "expired", _("Expired")

    business = models.ForeignKey(
        Business, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("business")
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("branch"), null=True, blank=True
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("customer")
    )
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("staff member"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("service"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # The time the booking keeps the staff member busy: [start - buffer before, end + buffer after), fixed when
    # the booking is made (or moved) so that later edits to the service's buffers never reopen or overlap it.
    busy_start = models.DateTimeField(_("busy from"))
    busy_end = models.DateTimeField(_("busy until"))
    # The price as the booking's invoice states it (apps/core/vat.py, docs/payments.md "VAT"): `price_amount` is
    # the VAT-inclusive total charged (the service's price, or the invoice total nearest to it), price_net +
    # price_vat = price_amount, at `vat_rate_bps` (0, and no VAT, when the business is not VAT-registered).
    price_amount = models.PositiveIntegerField(_("price (minor units)"))
    price_net = models.PositiveIntegerField(_("price before VAT (minor units)"))
    price_vat = models.PositiveIntegerField(_("VAT in the price (minor units)"))
    vat_rate_bps = models.PositiveIntegerField(_("VAT rate (basis points)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    # The payment terms when it was made (catalog.payment_terms): later edits of the policy never change them.
    payment_policy = models.CharField(
        _("payment policy"),
        max_length=8,
        choices=PaymentPolicy.choices,
        default=PaymentPolicy.FULL,
        db_default=PaymentPolicy.FULL,
    )
    deposit_amount = models.PositiveIntegerField(
        _("deposit (minor units)"),
        default=0,
        db_default=0,
        help_text=_("With the deposit policy: what is paid online."),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=1000)
    customer_address = models.CharField(
        _("customer's address"), max_length=500, blank=True, help_text=_("Where a home service is given.")
    )
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    # The customer said they will come (a WhatsApp "I'll be there" tap, `booking_customer_confirm`); None: not said.
    customer_confirmed_at = models.DateTimeField(_("customer confirmed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    business_parent = "staff"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            # The last line against double booking: two bookings that hold time never overlap for one staff
            # member, whatever code (or SQL) wrote them. Touching is fine ('[)' bounds). The business leads, so
            # the constraint is per business (and survives distribution by business on Citus: docs/scaling.md).
            ExclusionConstraint(
                name="booking_no_overlap",
                index_type="gist",
                expressions=[
                    (F("business"), RangeOperators.EQUAL),
                    (F("staff"), RangeOperators.EQUAL),
                    (TsTzRange(F("busy_start"), F("busy_end")), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["pending_payment", "confirmed"]),
                violation_error_code="slot_unavailable",
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="booking_end_after_start"),
            models.CheckConstraint(
                condition=Q(price_amount=F("price_net") + F("price_vat")), name="booking_price_net_plus_vat"
            ),
            models.CheckConstraint(
                condition=Q(price_vat=0) | Q(vat_rate_bps__gt=0, vat_rate_bps__lte=10_000), name="booking_vat_has_rate"
            ),
            models.CheckConstraint(
                condition=Q(busy_start__lte=F("start"), busy_end__gte=F("end")), name="booking_busy_covers_slot"
            ),
            models.CheckConstraint(
                condition=~Q(status="pending_payment") | Q(hold_expires_at__isnull=False),
                name="booking_pending_has_hold",
            ),
            models.CheckConstraint(
                condition=Q(deposit_amount__lte=F("price_amount"))
                & (~Q(payment_policy="deposit") | Q(deposit_amount__gt=0)),
                name="booking_deposit_within_price",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="booking_customer_created_idx"),
            models.Index(fields=["staff", "-created_at"], name="booking_staff_created_idx"),
            models.Index(fields=["staff", "start"], name="booking_staff_start_idx"),
            # The time bookings hold, for many staff at once (availability, discovery's next available): see
            # bookings.selectors.booking_busy_intervals.
            models.Index(
                fields=["staff", "busy_end"],
                name="booking_staff_holding_end_idx",
                condition=Q(status__in=["pending_payment", "confirmed"]),
            ),
            # A business's day (the manager API, the calendar) and its ledger.
            models.Index(fields=["business", "start"], name="booking_business_start_idx"),
            # The expiry job (holds that ran out) and the pending limit (a customer's live holds).
            models.Index(
                fields=["hold_expires_at"], name="booking_pending_hold_idx", condition=Q(status="pending_payment")
            ),
            models.Index(
                fields=["customer", "hold_expires_at"],
                name="booking_customer_pending_idx",
                condition=Q(status="pending_payment"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()} {self.start:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.price_net is None or self.price_vat is None:  # a writer that did not split the price (tests, admin)
            business_id = self.business_id if self.business_id is not None else self.staff.business_id
            self.set_price(self.price_amount, Business.objects.get(pk=business_id))  # as it is now
        super().save(*args, **kwargs)

    def set_price(self, price_amount: int, business: Business | None = None) -> None:
        """Take `price_amount` (a service's VAT-inclusive price) as its business's invoice would state it now:
        the charged `price_amount` is the invoice total (a halala off an unreachable price, see core.vat)."""
        split = (business or self.business).price_split(price_amount, self.created_at)
        self.price_amount, self.price_net, self.price_vat, self.vat_rate_bps = (
            split.gross,
            split.net,
            split.vat,
            split.rate_bps,
        )

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def price_split(self) -> VatSplit:
        return VatSplit(net=self.price_net, vat=self.price_vat, gross=self.price_amount, rate_bps=self.vat_rate_bps)

    @property
    def is_vat_invoiced(self) -> bool:
        """Whether its price includes VAT (its business was VAT-registered when it was booked)."""
        return self.vat_rate_bps > 0

    @property
    def online_amount(self) -> int:
        """What is paid online for it: the deposit, the whole price, or nothing (at the venue)."""
        if self.payment_policy == PaymentPolicy.DEPOSIT:
            return self.deposit_amount
        return 0 if self.payment_policy == PaymentPolicy.VENUE else self.price_amount

    @property
    def amount_due_online(self) -> Money:
        return Money(self.online_amount, self.currency)

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING_STATUSES


S = Booking.Status

# Statuses whose booking keeps its staff member busy (the exclusion constraint's condition says the same).
HOLDING_STATUSES: frozenset[str] = frozenset({S.PENDING_PAYMENT, S.CONFIRMED})

# Every legal status change, in one place. Anything else is a 409 `invalid_transition`.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.CANCELLED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.COMPLETED, S.CANCELLED, S.NO_SHOW}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.NO_SHOW: frozenset(),
    S.EXPIRED: frozenset(),
}

# A booking can be moved while it holds time; it keeps its status (and a pending one keeps its hold).
RESCHEDULABLE_STATUSES: frozenset[str] = HOLDING_STATUSES


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


class BookingStatusChange(BusinessOwned):
    """The audit trail: every status change and every reschedule, who did it, when and why."""

    business_parent = "booking"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="history", verbose_name=_("booking"))
    from_status = models.CharField(
        _("from"), max_length=20, choices=Booking.Status.choices, blank=True, help_text=_("Empty when created.")
    )
    to_status = models.CharField(_("to"), max_length=20, choices=Booking.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty for the system (jobs, payments)."),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    old_start = models.DateTimeField(_("moved from"), null=True, blank=True)
    old_end = models.DateTimeField(_("moved from (end)"), null=True, blank=True)
    new_start = models.DateTimeField(_("moved to"), null=True, blank=True)
    new_end = models.DateTimeField(_("moved to (end)"), null=True, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("booking history entry")
        verbose_name_plural = _("booking history")
        indexes = [models.Index(fields=["booking", "created_at"], name="booking_history_idx")]

    def __str__(self) -> str:
        if self.old_start is not None:
            return f"rescheduled {self.old_start:%Y-%m-%d %H:%M} → {self.new_start:%Y-%m-%d %H:%M}"
        return f"{self.from_status or '∅'} → {self.to_status}"


class CalendarFeedToken(BusinessOwned):
    """A staff member's private calendar feed (`/feeds/staff/<token>.ics`, apps/bookings/calendar_feed.py): only
    the SHA-256 of the secret token is kept, so the address is shown once, when it is made. Rotating replaces the
    hash (the old address stops working); revoking deletes the row."""

    business_parent = "staff"

    staff = models.OneToOneField(
        Staff, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name=_("staff member")
    )
    token_hash = models.CharField(_("token (SHA-256)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of staff #{self.staff_id}"
