"""Payments: one row per attempt to pay for a booking, its refunds, its audit trail and Moyasar's webhooks.

Amounts are integer minor units (halalas for SAR). Four totals describe where the money is, and check
constraints keep them consistent whatever code (or SQL) writes them:

    refunded_amount <= captured_amount <= authorized_amount <= amount

`amount` is what we asked for (the booking's price when the attempt started). The totals mirror what Moyasar
reports; they only grow. The status follows `TRANSITIONS`, forward only (see docs/payments.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.bookings.models import Booking
from apps.catalog.models import Business, BusinessOwned
from apps.core.money import Money
from apps.core.vat import VatSplit
from apps.payments import vat as payment_vat


class Payment(BusinessOwned):
    business_parent = "booking"

    class Status(models.TextChoices):
        AWAITING_CLIENT = "awaiting_client", _("Awaiting the client (Moyasar form or SDK)")
        INITIATED = "initiated", _("Initiated (3-D Secure pending or outcome unknown)")
        ABANDONED = "abandoned", _("Abandoned")
        FAILED = "failed", _("Failed")
        AUTHORIZED = "authorized", _("Authorized")
        CAPTURED = "captured", _("Captured")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")
        VOIDED = "voided", _("Voided")

    class Flow(models.TextChoices):
        TOKEN = "token", _("Server-created from a Moyasar token")
        CLIENT = "client", _("Client-created (Moyasar form or SDK)")

    class Purpose(models.TextChoices):
        FULL = "full", _("The whole price")
        DEPOSIT = "deposit", _("A deposit (the rest at the venue)")

    class Method(models.TextChoices):
        CARD = "card", _("Card (Moyasar token)")
        APPLEPAY = "applepay", _("Apple Pay")
        STCPAY = "stcpay", _("STC Pay")
        FORM = "form", _("Moyasar form or SDK")

    class CardScheme(models.TextChoices):
        NONE = "", _("Unknown or not a card")
        MADA = "mada", _("mada")
        VISA = "visa", _("Visa")
        MASTERCARD = "mastercard", _("Mastercard")
        AMEX = "amex", _("American Express")

    class OnCancel(models.TextChoices):
        NONE = "", _("Not cancelled")
        FULL = "full", _("Full refund")
        FEE = "fee", _("Refund minus the late-cancellation fee")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments", verbose_name=_("booking"))
    flow = models.CharField(_("flow"), max_length=10, choices=Flow.choices)
    method = models.CharField(
        _("payment method"),
        max_length=10,
        choices=Method.choices,
        default=Method.CARD,
        help_text=_("How the customer pays: a card token, Apple Pay, STC Pay, or Moyasar's form or SDK."),
    )
    card_scheme = models.CharField(
        _("card scheme"),
        max_length=10,
        choices=CardScheme.choices,
        blank=True,
        default="",
        help_text=_("From Moyasar's source.company (or the card's BIN for mada); empty for STC Pay or while unknown."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    given_id = models.UUIDField(
        _("given id"),
        unique=True,
        default=uuid.uuid4,
        editable=False,
        help_text=_("Our idempotency key at Moyasar (UUIDv4), stored before any call."),
    )
    provider_id = models.CharField(
        _("Moyasar id"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Equals the given id when Moyasar honoured it."),
    )
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    # `amount` as an invoice states it: the booking's price split (apps/payments/vat.py), 0 VAT when the business
    # is not VAT-registered. net + VAT = amount (a check constraint).
    amount_net = models.PositiveIntegerField(_("amount before VAT (minor units)"))
    amount_vat = models.PositiveIntegerField(_("VAT in the amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    authorized_amount = models.PositiveIntegerField(_("authorized (minor units)"), default=0)
    captured_amount = models.PositiveIntegerField(_("captured (minor units)"), default=0)
    refunded_amount = models.PositiveIntegerField(_("refunded (minor units)"), default=0)
    provider_status = models.CharField(_("Moyasar status"), max_length=20, blank=True)
    transaction_url = models.URLField(_("3-D Secure URL"), max_length=2000, blank=True)
    message = models.CharField(_("provider message"), max_length=255, blank=True)
    response_code = models.CharField(_("response code"), max_length=16, blank=True)
    card = models.CharField(_("card"), max_length=60, blank=True, help_text=_("Brand and masked number only."))
    provider_raw = models.JSONField(
        _("last Moyasar response"), default=dict, blank=True, help_text=_("Card data removed.")
    )
    authorized_at = models.DateTimeField(_("authorized at"), null=True, blank=True)
    captured_at = models.DateTimeField(_("captured at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("last refund at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    capture_due_at = models.DateTimeField(_("capture due at"), null=True, blank=True)
    on_cancel = models.CharField(
        _("on cancellation"),
        max_length=4,
        choices=OnCancel.choices,
        blank=True,
        default="",
        help_text=_("What the booking's cancellation entitles the customer to, recorded when it was cancelled."),
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=8,
        choices=Purpose.choices,
        default=Purpose.FULL,
        db_default=Purpose.FULL,
        help_text=_("What it pays for."),
    )
    cancellation_fee = models.PositiveIntegerField(
        _("late-cancellation fee (minor units)"),
        default=0,
        db_default=0,
        help_text=_("Recorded when the customer cancelled after the cut-off: what is kept of this payment."),
    )
    operation = models.CharField(
        _("operation in progress"),
        max_length=10,
        blank=True,
        help_text=_("create, capture, void or refund while a Moyasar call runs; empty otherwise."),
    )
    operation_started_at = models.DateTimeField(_("operation started at"), null=True, blank=True)
    is_booking_payment = models.BooleanField(
        _("pays for the booking"),
        default=False,
        help_text=_("The one payment that paid for the booking. Any other payment holding money is returned."),
    )
    mismatch = models.BooleanField(
        _("refused"),
        default=False,
        help_text=_("A client-created payment whose amount, currency or booking did not match: its money is returned."),
    )
    needs_attention = models.BooleanField(_("needs attention"), default=False)
    attention_reason = models.TextField(_("why it needs attention"), blank=True)
    last_synced_at = models.DateTimeField(_("last read from Moyasar"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount=F("amount_net") + F("amount_vat")), name="payment_amount_net_plus_vat"
            ),
            models.CheckConstraint(
                condition=Q(authorized_amount__lte=F("amount")), name="payment_authorized_lte_amount"
            ),
            models.CheckConstraint(
                condition=Q(captured_amount__lte=F("authorized_amount")), name="payment_captured_lte_authorized"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")), name="payment_refunded_lte_captured"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["authorized", "captured", "partially_refunded", "refunded"])
                | Q(authorized_amount__gt=0),
                name="payment_success_has_authorized_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["captured", "partially_refunded", "refunded"]) | Q(captured_amount__gt=0),
                name="payment_captured_has_captured_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["partially_refunded", "refunded"]) | Q(refunded_amount__gt=0),
                name="payment_refunded_has_refunded_amount",
            ),
            # One booking, one payment that pays for it: a second payment can never count for the same booking.
            models.UniqueConstraint(
                fields=["booking"], condition=Q(is_booking_payment=True), name="payment_one_per_booking"
            ),
        ]
        indexes = [
            models.Index(fields=["booking", "-created_at"], name="payment_booking_idx"),
            models.Index(
                fields=["updated_at"],
                name="payment_unsettled_idx",
                condition=Q(status__in=["awaiting_client", "initiated"]),
            ),
            models.Index(fields=["capture_due_at"], name="payment_capture_due_idx", condition=Q(status="authorized")),
            models.Index(fields=["updated_at"], name="payment_attention_idx", condition=Q(needs_attention=True)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()} {self.price.format()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.amount_net is None or self.amount_vat is None:  # a writer that did not split it (tests, admin)
            split = payment_vat.reported_part(self.amount, self.booking.price_split)
            self.amount_net, self.amount_vat = split.net, split.vat
        super().save(*args, **kwargs)

    @property
    def price(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def vat_split(self) -> VatSplit:
        """`amount` as its invoice states it, at its booking's rate."""
        return VatSplit(net=self.amount_net, vat=self.amount_vat, gross=self.amount, rate_bps=self.booking.vat_rate_bps)

    @property
    def captured_split(self) -> VatSplit:
        """What it captured, as its invoice states it: its amount's split when it captured all of it (or nothing
        yet), else that part of it (a partial capture: `vat.reported_part`)."""
        whole = self.vat_split
        if self.captured_amount in (0, self.amount):
            return whole
        return payment_vat.reported_part(self.captured_amount, whole)

    def refund_whole(self, *, other_than: int | None = None) -> VatSplit:
        """What is left to refund of its capture as invoices state it: the captured split less its refunds that did
        not fail (a refund is a part of this: `vat.chosen_part(amount, refund_whole())`)."""
        refunds = Refund.objects.filter(payment=self).exclude(status=Refund.Status.FAILED)
        if other_than is not None:
            refunds = refunds.exclude(pk=other_than)
        return payment_vat.remaining(self.captured_split, refunds.values_list("net", "vat"))

    @property
    def refundable_amount(self) -> int:
        return self.captured_amount - self.refunded_amount

    @property
    def create_outcome_unknown(self) -> bool:
        """We asked Moyasar to create it and do not know whether it did (no answer yet): it is recovered through
        its given_id (a job, the reconciliation, or the next `POST /pay` for the booking)."""
        return self.flow == self.Flow.TOKEN and self.status == self.Status.INITIATED and not self.provider_status

    @property
    def holds_money(self) -> bool:
        """Money is held or taken and not (fully) given back."""
        return self.status in MONEY_STATUSES


S = Payment.Status

#: Statuses in which the customer's money is held (authorized) or taken (captured) and not all returned.
MONEY_STATUSES: frozenset[str] = frozenset({S.AUTHORIZED, S.CAPTURED, S.PARTIALLY_REFUNDED})
#: Statuses whose outcome is not known yet: reconciliation keeps asking Moyasar about them.
UNSETTLED_STATUSES: frozenset[str] = frozenset({S.AWAITING_CLIENT, S.INITIATED})
_BEFORE_MONEY = frozenset({S.AUTHORIZED, S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.VOIDED, S.FAILED})

# Every legal status change, forward only: a late or replayed event can never move a payment back.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_CLIENT: _BEFORE_MONEY | {S.INITIATED, S.ABANDONED},
    S.INITIATED: _BEFORE_MONEY | {S.ABANDONED},
    S.ABANDONED: _BEFORE_MONEY,
    S.AUTHORIZED: frozenset({S.CAPTURED, S.PARTIALLY_REFUNDED, S.REFUNDED, S.VOIDED}),
    S.CAPTURED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.VOIDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.REFUNDED}),
    S.FAILED: frozenset(),
    S.REFUNDED: frozenset(),
    S.VOIDED: frozenset(),
}


def can_transition(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, frozenset())


class Refund(BusinessOwned):
    business_parent = "payment"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Kind(models.TextChoices):
        CANCELLATION = "cancellation", _("Booking cancelled")
        MANUAL = "manual", _("By a manager")
        DUPLICATE = "duplicate", _("Second payment for one booking")
        LATE = "late", _("Paid after the booking was gone")
        EXTERNAL = "external", _("Made outside Mawid (seen at Moyasar)")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    # `amount` as its credit note states it (a part of the payment's split: apps/payments/vat.py).
    net = models.PositiveIntegerField(_("amount before VAT (minor units)"))
    vat = models.PositiveIntegerField(_("VAT in the amount (minor units)"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
        help_text=_("Empty for the system."),
    )
    failure_message = models.CharField(_("failure"), max_length=500, blank=True)
    # Moyasar has no idempotency key for refunds: its refunded total is what says whether a refund went through.
    moyasar_refunded_before = models.PositiveIntegerField(
        _("Moyasar's refunded total before it was sent"),
        null=True,
        blank=True,
        help_text=_(
            "Recorded (and committed) before the refund is first sent. From then on, while pending, it may have been "
            "made at Moyasar: it is made when Moyasar's refunded total reaches this plus its amount."
        ),
    )
    sent_at = models.DateTimeField(
        _("last sent at"),
        null=True,
        blank=True,
        help_text=_("While pending: when it was last sent and the answer did not say it failed (it may still land)."),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(amount=F("net") + F("vat")), name="refund_amount_net_plus_vat"),
            # A cancellation entitles the customer to one refund; replays of the event never make a second.
            models.UniqueConstraint(
                fields=["payment"], condition=Q(kind="cancellation"), name="refund_one_cancellation_per_payment"
            ),
        ]

    def __str__(self) -> str:
        return f"refund #{self.pk} {Money(self.amount, self.payment.currency).format()} {self.status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.net is None or self.vat is None:  # a writer that did not split it (an amount Moyasar reported)
            split = payment_vat.reported_part(self.amount, self.payment.refund_whole(other_than=self.pk))
            self.net, self.vat = split.net, split.vat
        super().save(*args, **kwargs)


class VenuePayment(BusinessOwned):
    """Money the business took at the venue (cash or its card terminal) for a booking, recorded by its staff or a
    manager. Never more than what is still due on the booking (`services.venue.venue_payment_record`)."""

    business_parent = "booking"

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        TERMINAL = "terminal", _("Card terminal")

    booking = models.ForeignKey(
        Booking, on_delete=models.PROTECT, related_name="venue_payments", verbose_name=_("booking")
    )
    amount = models.PositiveIntegerField(_("amount (minor units)"), help_text=_("VAT included."))
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("payment at the venue")
        verbose_name_plural = _("payments at the venue")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="venue_payment_amount_positive"),
            models.CheckConstraint(condition=Q(method__in=["cash", "terminal"]), name="venue_payment_method_known"),
        ]
        indexes = [models.Index(fields=["booking", "created_at"], name="venue_payment_booking_idx")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.money.format()}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class PaymentEvent(BusinessOwned):
    """The audit trail: every status change, operation, refund and flag, with who or what caused it."""

    business_parent = "payment"

    class Source(models.TextChoices):
        API = "api", _("API")
        RETURN = "return", _("3-D Secure return")
        WEBHOOK = "webhook", _("Webhook")
        JOB = "job", _("Job")
        RECONCILE = "reconcile", _("Reconciliation")
        ADMIN = "admin", _("Admin")
        BOOKING = "booking", _("Booking change")

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events", verbose_name=_("payment"))
    kind = models.CharField(_("what"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True, help_text=_("Card data removed."))
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        indexes = [models.Index(fields=["payment", "created_at"], name="payment_event_idx")]

    def __str__(self) -> str:
        if self.to_status and self.to_status != self.from_status:
            return f"{self.kind}: {self.from_status or '∅'} → {self.to_status}"
        return self.kind


class WebhookEvent(BusinessOwned):
    """One Moyasar webhook event, stored once per event id (deliveries are at-least-once). Its business is its
    payment's, once the payment is known (none for an event about a payment that is not ours)."""

    business = models.ForeignKey(  # type: ignore[assignment] # nullable here
        Business, on_delete=models.PROTECT, related_name="+", verbose_name=_("business"), null=True, blank=True
    )
    business_parent = "payment"

    class Outcome(models.TextChoices):
        PENDING = "", _("Not processed yet")
        APPLIED = "applied", _("Applied")
        UNKNOWN_PAYMENT = "unknown_payment", _("Not one of our payments")
        MISMATCH = "mismatch", _("Does not match our payment")
        FAILED = "failed", _("Processing failed")

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=40)
    provider_payment_id = models.CharField(_("Moyasar payment id"), max_length=64, blank=True)
    live = models.BooleanField(_("live"))
    payload = models.JSONField(_("payload"), help_text=_("Without the secret token and card data."))
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhooks", verbose_name=_("payment")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True, default="")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("Moyasar webhook")
        verbose_name_plural = _("Moyasar webhooks")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class LedgerEntry(BusinessOwned):
    """One movement of a business's money through the platform's Moyasar account: a capture credits the business
    (gross) and the platform's commission is taken from it; a refund or a void of captured money debits it and
    gives back the commission on what was given back. Written in the transaction that changes the payment's
    totals, so that money and ledger commit together; a replay finds its entry already there (`key`).

    Signs: a capture is positive, a refund or void negative, in all three amounts. The commission of a payment is
    always `round_half_up(kept * bps / 10000)` for what the business keeps of it (captured - refunded), at the rate
    of its first capture; each entry carries the change of that figure (docs/payments.md, "Ledger and settlement").
    """

    business_parent = "payment"

    class Kind(models.TextChoices):
        CAPTURE = "capture", _("Capture")
        REFUND = "refund", _("Refund")
        VOID = "void", _("Captured money voided")

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("payment")
    )
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("refund")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    key = models.CharField(
        _("source key"),
        max_length=40,
        help_text=_("What caused it (capture:<captured total>, refund:<refund id>, void): written once."),
    )
    gross = models.IntegerField(_("gross (minor units)"))
    # `gross` as the sale's documents state it (the invoice for a capture, the credit note for a refund): before
    # VAT and the VAT (the business's output tax), same sign as `gross`; 0 VAT when it is not VAT-registered.
    sale_net = models.IntegerField(_("gross before VAT (minor units)"))
    sale_vat = models.IntegerField(_("VAT in the gross (minor units)"))
    commission = models.IntegerField(_("platform commission (minor units)"))
    net = models.IntegerField(_("net to the business (minor units)"))
    commission_bps = models.PositiveIntegerField(_("commission rate (basis points)"))
    fee_kept = models.PositiveIntegerField(
        _("late-cancellation fee kept (minor units)"),
        default=0,
        help_text=_(
            "On a cancellation refund that kept the late-cancellation fee: what was kept (part of the capture)."
        ),
    )
    fee_kept_vat = models.PositiveIntegerField(
        _("VAT in the fee kept (minor units)"), default=0, help_text=_("The part of the fee kept that is VAT.")
    )
    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    occurred_at = models.DateTimeField(_("at"), help_text=_("When the money moved (as recorded by Mawid)."))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=Q(net=F("gross") - F("commission")), name="ledger_net_is_gross_less_fee"),
            models.CheckConstraint(condition=Q(gross=F("sale_net") + F("sale_vat")), name="ledger_gross_net_plus_vat"),
            models.CheckConstraint(
                condition=Q(kind="capture", sale_net__gte=0, sale_vat__gte=0)
                | Q(kind__in=["refund", "void"], sale_net__lte=0, sale_vat__lte=0),
                name="ledger_vat_signs_follow_kind",
            ),
            models.CheckConstraint(condition=Q(fee_kept_vat__lte=F("fee_kept")), name="ledger_fee_vat_within_fee"),
            models.CheckConstraint(
                condition=Q(kind="capture", gross__gt=0, commission__gte=0, commission__lte=F("gross"))
                | Q(kind__in=["refund", "void"], gross__lt=0, commission__lte=0, commission__gte=F("gross")),
                name="ledger_signs_follow_kind",
            ),
            models.CheckConstraint(condition=Q(commission_bps__lte=10_000), name="ledger_rate_at_most_100_percent"),
            # A replayed webhook, a retried job or a second sync never books the same movement twice.
            models.UniqueConstraint(fields=["payment", "kind", "key"], name="ledger_one_entry_per_cause"),
            models.UniqueConstraint(fields=["refund"], condition=Q(refund__isnull=False), name="ledger_one_per_refund"),
        ]
        indexes = [models.Index(fields=["business", "occurred_at"], name="ledger_business_time_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.gross} {self.currency} (payment #{self.payment_id})"
