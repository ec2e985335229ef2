"""Invoicing: ZATCA simplified tax invoices (388) and credit notes (381), one chain per business (docs/invoicing.md).

- `TaxProfile`: the seller data an invoice prints and its XML carries (the VAT number itself is
  `catalog.Business.vat_number`; a business with one is VAT-registered).
- `InvoiceSeries`: the business's EGS state: the next invoice and credit-note numbers, the last ICV and the last
  document's hash (the next PIH). Taken with `select_for_update` by the issue services, so that numbers are
  gap-free and the chain is unbroken whatever runs concurrently.
- `Invoice`: one issued document, immutable once issued. Only the reporting fields change afterwards
  (`Invoice.REPORT_FIELDS`); `save()`, `QuerySet.update()`/`delete()` and a database trigger refuse anything else.

Amounts are integer halalas, VAT-inclusive gross = net + vat (a database check).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.bookings.models import Booking
from apps.catalog.models import Business, BusinessOwned
from apps.core.money import Money
from apps.core.scoping import BusinessScopedManager
from apps.invoicing.constants import FIRST_PIH
from apps.payments.models import Payment, Refund


class InvoiceImmutable(Exception):
    """An issued invoice was about to change (only its reporting fields may)."""


class TaxProfile(BusinessOwned):
    """The seller's legal name and Saudi national address, as ZATCA's simplified invoice needs them."""

    business = models.OneToOneField(
        Business, on_delete=models.CASCADE, related_name="tax_profile", verbose_name=_("business")
    )
    legal_name_ar = models.CharField(
        _("legal name (Arabic)"),
        max_length=63,
        help_text=_("As registered; printed on invoices and in the QR code (at most 63 characters)."),
    )
    legal_name_en = models.CharField(_("legal name (English)"), max_length=100, blank=True)
    cr_number = models.CharField(
        _("commercial registration number"),
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{10}$", _("A commercial registration number is 10 digits."))],
    )
    street = models.CharField(_("street"), max_length=100)
    building_number = models.CharField(
        _("building number"),
        max_length=4,
        validators=[RegexValidator(r"^\d{4}$", _("A building number is 4 digits."))],
    )
    additional_number = models.CharField(
        _("additional number"),
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^\d{4}$", _("An additional number is 4 digits."))],
    )
    district = models.CharField(_("district"), max_length=100)
    city = models.CharField(_("city"), max_length=100)
    postal_code = models.CharField(
        _("postal code"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("A postal code is 5 digits."))],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tax profile")
        verbose_name_plural = _("tax profiles")
        constraints = [
            models.CheckConstraint(condition=Q(building_number__regex=r"^\d{4}$"), name="taxprofile_building_4"),
            models.CheckConstraint(condition=Q(postal_code__regex=r"^\d{5}$"), name="taxprofile_postal_5"),
        ]

    def __str__(self) -> str:
        return self.legal_name_ar

    def validate_unique(self, exclude: Any = None) -> None:
        """One profile per business, checked even where a form does not show the business (the admin sets it)."""
        super().validate_unique(exclude)
        if self.business_id and exclude and "business" in exclude:
            others = type(self)._base_manager.filter(business_id=self.business_id).exclude(pk=self.pk)
            if others.exists():
                raise ValidationError(_("This business already has a tax profile."))


class InvoiceSeries(BusinessOwned):
    """The business's EGS state: numbers and the hash chain. One row per business, locked to issue."""

    business = models.OneToOneField(
        Business, on_delete=models.PROTECT, related_name="invoice_series", verbose_name=_("business")
    )
    next_invoice_number = models.PositiveIntegerField(_("next invoice number"), default=1)
    next_credit_number = models.PositiveIntegerField(_("next credit note number"), default=1)
    last_icv = models.PositiveIntegerField(
        _("last invoice counter (ICV)"), default=0, help_text=_("Invoices and credit notes share it.")
    )
    last_hash = models.TextField(_("last document's hash"), default=FIRST_PIH, help_text=_("The next document's PIH."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("invoice series")
        verbose_name_plural = _("invoice series")
        constraints = [
            models.CheckConstraint(condition=Q(next_invoice_number__gte=1), name="invoiceseries_invoice_from_1"),
            models.CheckConstraint(condition=Q(next_credit_number__gte=1), name="invoiceseries_credit_from_1"),
        ]

    def __str__(self) -> str:
        return f"series of business {self.business_id} (ICV {self.last_icv})"


class InvoiceQuerySet(models.QuerySet["Invoice"]):
    def update(self, **kwargs: Any) -> int:
        changed = set(kwargs) - Invoice.REPORT_FIELDS
        if changed:
            raise InvoiceImmutable(f"an issued invoice cannot change: {sorted(changed)}")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise InvoiceImmutable("an issued invoice is never deleted")


class InvoiceManager(BusinessScopedManager["Invoice"]):
    """Scoped like every business-owned model; its querysets refuse to change issued invoices."""

    _queryset_class = InvoiceQuerySet


class Invoice(BusinessOwned):
    """An issued simplified tax invoice or credit note: its numbers, chain, XML, QR and amounts, frozen."""

    business_parent = "booking"

    REPORT_FIELDS = frozenset({"report_status", "report_messages", "report_attempts", "reported_at"})

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Simplified tax invoice")
        CREDIT = "credit", _("Simplified credit note")

    class Means(models.TextChoices):
        CARD = "48", _("Card")
        CASH = "10", _("Cash")

    class ReportStatus(models.TextChoices):
        PENDING = "pending", _("Waiting to be reported")
        REPORTED = "reported", _("Reported")
        WARNING = "warning", _("Reported with warnings")
        REJECTED = "rejected", _("Rejected")
        NOT_REQUIRED = "not_required", _("Not reported (no ZATCA credential)")

    uuid = models.UUIDField(_("UUID"), unique=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=7, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=20, help_text=_("INV-000123 or CRN-000045, gap-free."))
    icv = models.PositiveIntegerField(_("invoice counter (ICV)"))
    previous_hash = models.TextField(_("previous document's hash (PIH)"))
    invoice_hash = models.TextField(_("invoice hash"))
    xml = models.TextField(_("UBL XML"), help_text=_("The exact document (UTF-8) reported to ZATCA."))
    qr = models.TextField(_("QR code (base64 TLV)"))
    stamped = models.BooleanField(_("cryptographically stamped"), default=False)
    issued_at = models.DateTimeField(_("issued at"))

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="+", verbose_name=_("booking"))
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("payment")
    )
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("refund")
    )
    venue_payment_id = models.PositiveBigIntegerField(
        _("payment at the venue"), null=True, blank=True, help_text=_("The VenuePayment it invoices.")
    )
    original = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("original invoice"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True, help_text=_("Credit notes: why."))

    currency = models.CharField(_("currency"), max_length=3, default="SAR")
    net = models.PositiveIntegerField(_("net (halalas)"))
    vat = models.PositiveIntegerField(_("VAT (halalas)"))
    gross = models.PositiveIntegerField(_("total with VAT (halalas)"))
    rate_bps = models.PositiveIntegerField(_("VAT rate (basis points)"))
    means = models.CharField(_("payment means"), max_length=2, choices=Means.choices)
    lines = models.JSONField(_("lines"), default=list)
    seller = models.JSONField(_("seller (as issued)"), default=dict)

    report_status = models.CharField(
        _("reporting"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    report_messages = models.JSONField(_("ZATCA's messages"), default=list, blank=True)
    report_attempts = models.PositiveIntegerField(_("reporting attempts"), default=0)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = InvoiceManager()  # type: ignore[misc]  # a ClassVar on the base (django-stubs); same manager family

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.CheckConstraint(condition=Q(net__gte=0) & Q(vat__gte=0), name="invoice_amounts_not_negative"),
            models.CheckConstraint(condition=Q(gross__gt=0), name="invoice_gross_positive"),
            models.CheckConstraint(condition=Q(gross=F("net") + F("vat")), name="invoice_net_plus_vat_is_gross"),
            models.CheckConstraint(
                condition=(Q(kind="invoice") & Q(original__isnull=True) & Q(refund__isnull=True))
                | (Q(kind="credit") & Q(original__isnull=False)),
                name="invoice_credit_note_has_original",
            ),
            models.UniqueConstraint(fields=["business", "number"], name="invoice_unique_number"),
            models.UniqueConstraint(fields=["business", "icv"], name="invoice_unique_icv"),
            # Replayed events never issue a second document for the same money.
            models.UniqueConstraint(
                fields=["payment"], condition=Q(kind="invoice"), name="invoice_one_per_payment_capture"
            ),
            models.UniqueConstraint(fields=["refund"], name="invoice_one_credit_note_per_refund"),
            models.UniqueConstraint(fields=["venue_payment_id"], name="invoice_one_per_venue_payment"),
        ]
        indexes = [
            models.Index(fields=["business", "issued_at"], name="invoice_business_issued"),
            models.Index(fields=["booking"], name="invoice_booking"),
            models.Index(fields=["report_status"], name="invoice_report_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {Money(self.gross, self.currency).format()}"

    @property
    def type_code(self) -> str:
        return "381" if self.kind == self.Kind.CREDIT else "388"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) - self.REPORT_FIELDS:
                raise InvoiceImmutable("an issued invoice cannot change; only its reporting fields may")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise InvoiceImmutable("an issued invoice is never deleted")


# ZATCA Phase 2 (apps.invoicing.zatca): the business's EGS credential. Imported here so that Django registers it.
from apps.invoicing.zatca.models import ZatcaCredential  # noqa: E402

__all__ = ["Invoice", "InvoiceImmutable", "InvoiceSeries", "TaxProfile", "ZatcaCredential"]
