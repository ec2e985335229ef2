"""Issuing simplified tax invoices and credit notes (docs/invoicing.md).

Both entry points run in the caller's transaction (a capture, a refund, a payment at the venue): they lock the
business's `InvoiceSeries` row (`select_for_update`), take the next number and ICV and the last hash (the PIH),
build the UBL XML, hash it, build the QR, store the invoice and move the series on, all before the lock is
released by the caller's commit. A rollback of the caller rolls all of it back, so a number is never used twice
and never skipped. The reporting job is deferred in the same transaction (its row commits with the invoice) under
a procrastinate lock per business, so one business's documents are reported one at a time, in ICV order.

With a production ZATCA credential (helper "zatca": `apps.invoicing.zatca.stamp`), the document is stamped and its
hash and QR (tags 1-9) are the stamp's; without one it carries the hash of the spec's recipe and QR tags 1-6, and
is never reported (`not_required`).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from procrastinate.contrib.django import app as procrastinate_app

from apps.bookings.models import Booking
from apps.catalog.models import Business
from apps.core.vat import VatSplit, rate_on, split_gross, split_part
from apps.invoicing import qr as qr_codes
from apps.invoicing import ubl
from apps.invoicing.constants import MEANS_CARD, MEANS_CASH
from apps.invoicing.hashing import invoice_hash
from apps.invoicing.models import Invoice, InvoiceSeries, TaxProfile

logger = logging.getLogger("mawid.invoicing")

REPORT_TASK = "apps.invoicing.jobs.invoice_report"
STAMP_MODULE = "apps.invoicing.zatca.stamp"

# What the payments app and the venue record call a means of payment, as UNTDID 4461 codes.
MEANS = {
    "card": MEANS_CARD,
    "terminal": MEANS_CARD,
    "applepay": MEANS_CARD,
    "stcpay": MEANS_CARD,
    "form": MEANS_CARD,
    "cash": MEANS_CASH,
    MEANS_CARD: MEANS_CARD,
    MEANS_CASH: MEANS_CASH,
}


class InvoicingError(Exception):
    """An invoice could not be issued (bad input or a broken chain); the caller decides what to do."""


@dataclass(frozen=True, slots=True)
class _Issue:
    business: Business
    booking: Booking
    kind: str
    split: VatSplit
    means: str
    line_name_ar: str
    line_name_en: str
    payment_id: int | None = None
    refund_id: int | None = None
    venue_payment_id: int | None = None
    original: Invoice | None = None
    reason: str = ""


def is_vat_registered(business: Business) -> bool:
    return bool(business.vat_number)


def seller_snapshot(business: Business) -> dict[str, str]:
    """The seller as the invoice states it (frozen into the invoice). A VAT-registered business without a tax
    profile still gets invoices (the law wants one for every sale; money is never blocked): its trading name and
    no address. `_issue` logs each such document (`invoice_without_tax_profile`)."""
    return _snapshot_of(business, TaxProfile.objects.filter(business=business).first())


def _snapshot_of(business: Business, profile: TaxProfile | None) -> dict[str, str]:
    if profile is None:
        return {
            "name_ar": (business.name_ar or business.name_en)[: qr_codes.SELLER_NAME_MAX_CHARS],
            "name_en": business.name_en,
            "vat_number": business.vat_number,
            "cr_number": "",
            "street": "",
            "building_number": "",
            "additional_number": "",
            "district": "",
            "city": "",
            "postal_code": "",
            "country": "SA",
        }
    return {
        "name_ar": profile.legal_name_ar[: qr_codes.SELLER_NAME_MAX_CHARS],
        "name_en": profile.legal_name_en,
        "vat_number": business.vat_number,
        "cr_number": profile.cr_number,
        "street": profile.street,
        "building_number": profile.building_number,
        "additional_number": profile.additional_number,
        "district": profile.district,
        "city": profile.city,
        "postal_code": profile.postal_code,
        "country": "SA",
    }


def _series_locked(business: Business) -> InvoiceSeries:
    InvoiceSeries.objects.get_or_create(business=business)
    return InvoiceSeries.objects.select_for_update().get(business=business)


def _stamper(business: Business) -> tuple[Any, Any] | None:
    """(stamp_document, credential) when zatca's code is here and the business has a production credential."""
    try:
        module = importlib.import_module(STAMP_MODULE)
    except ModuleNotFoundError as missing:
        if missing.name not in (STAMP_MODULE, STAMP_MODULE.rpartition(".")[0]):
            raise  # zatca's code is here but broken: never issue unstamped by accident
        return None
    find = getattr(module, "production_credential", None)
    stamp = getattr(module, "stamp_document", None)
    if find is None or stamp is None:
        return None
    credential = find(business.pk)
    return (stamp, credential) if credential is not None else None


def _seller(snapshot: dict[str, str]) -> ubl.Seller:
    return ubl.Seller(
        name=snapshot["name_ar"],
        vat_number=snapshot["vat_number"],
        cr_number=snapshot["cr_number"],
        street=snapshot["street"],
        building_number=snapshot["building_number"],
        additional_number=snapshot["additional_number"],
        district=snapshot["district"],
        city=snapshot["city"],
        postal_code=snapshot["postal_code"],
        country=snapshot["country"],
    )


def _defer_report(invoice: Invoice) -> None:
    task = procrastinate_app.tasks[REPORT_TASK]
    with transaction.atomic():  # a savepoint: the job row commits with the invoice
        task.configure(lock=f"invoicing-report-{invoice.business_id}").defer(invoice_id=invoice.pk)


def _issue(spec: _Issue, *, now: datetime) -> Invoice:
    business = spec.business
    series = _series_locked(business)
    credit = spec.kind == Invoice.Kind.CREDIT
    sequence = series.next_credit_number if credit else series.next_invoice_number
    number = f"{'CRN' if credit else 'INV'}-{sequence:06d}"
    icv = series.last_icv + 1
    profile = TaxProfile.objects.filter(business=business).first()
    snapshot = _snapshot_of(business, profile)
    if profile is None:
        # Issued all the same (docs/invoicing.md): the manager API's tax-profile and policies answers say it is
        # missing; the document states no seller address, which ZATCA's address rules would reject once reported.
        logger.warning(
            "invoice_without_tax_profile",
            extra={"business_id": business.pk, "invoice_number": number, "invoice_kind": spec.kind},
        )
    seller = _seller(snapshot)
    line = ubl.Line(name=spec.line_name_ar or spec.line_name_en, net=spec.split.net, vat=spec.split.vat)
    invoice = Invoice(
        business=business,
        booking=spec.booking,
        kind=spec.kind,
        number=number,
        icv=icv,
        previous_hash=series.last_hash,
        issued_at=now,
        payment_id=spec.payment_id,
        refund_id=spec.refund_id,
        venue_payment_id=spec.venue_payment_id,
        original=spec.original,
        reason=spec.reason,
        net=spec.split.net,
        vat=spec.split.vat,
        gross=spec.split.gross,
        rate_bps=spec.split.rate_bps,
        means=spec.means,
        seller=snapshot,
        lines=[
            {
                "name_ar": spec.line_name_ar,
                "name_en": spec.line_name_en,
                "quantity": 1,
                "net": spec.split.net,
                "vat": spec.split.vat,
                "gross": spec.split.gross,
            }
        ],
    )
    document = ubl.Document(
        number=number,
        uuid=str(invoice.uuid),
        issued_at=now,
        type_code=invoice.type_code,
        icv=icv,
        previous_hash=series.last_hash,
        seller=seller,
        means_code=spec.means,
        net=spec.split.net,
        vat=spec.split.vat,
        rate_bps=spec.split.rate_bps,
        lines=[line],
        original_number=spec.original.number if spec.original else "",
        reason=spec.reason,
    )
    unsigned_hash = invoice_hash(ubl.build(document))  # the QR reference is not hashed: build, hash, add the QR
    fields = qr_codes.QrFields(
        seller_name=seller.name,
        vat_number=seller.vat_number,
        timestamp=document.timestamp,
        total_with_vat=document.gross,
        vat_total=document.vat,
        invoice_hash=unsigned_hash,
    )
    qr = qr_codes.qr_base64(fields)
    xml = ubl.build(document, qr=qr)
    digest = invoice_hash(xml)
    if digest != unsigned_hash:
        raise InvoicingError("the QR changed the invoice hash")
    stamper = _stamper(business)
    if stamper is not None:
        stamp_document, credential = stamper
        stamped = stamp_document(xml, credential=credential)
        xml, digest, qr = stamped.xml, stamped.invoice_hash, stamped.qr
        invoice.stamped = True
    invoice.xml = xml.decode("utf-8")
    invoice.invoice_hash = digest
    invoice.qr = qr
    invoice.save()
    if credit:
        series.next_credit_number += 1
    else:
        series.next_invoice_number += 1
    series.last_icv = icv
    series.last_hash = digest
    series.save(update_fields=["next_credit_number", "next_invoice_number", "last_icv", "last_hash", "updated_at"])
    _defer_report(invoice)
    logger.info(
        "invoice_issued",
        extra={
            "invoice_id": invoice.pk,
            "business_id": business.pk,
            "number": number,
            "icv": icv,
            "kind": spec.kind,
            "gross": invoice.gross,
            "stamped": invoice.stamped,
        },
    )
    return invoice


def _sale_split(gross: int, *, now: datetime, business_id: int) -> VatSplit:
    rate = rate_on(timezone.localtime(now, ubl.RIYADH).date())
    split = split_gross(gross, rate)
    if split.gross != gross:
        # Money captured for a VAT-registered business is a reachable total (apps.core.vat); an older price may
        # not be. The invoice states the nearest reachable total: logged, so that the halala is visible.
        logger.warning(
            "invoice_total_differs_from_amount",
            extra={"business_id": business_id, "amount": gross, "invoice_total": split.gross},
        )
    return split


@transaction.atomic
def invoice_issue(
    *,
    booking_id: int,
    gross: int,
    means: str,
    payment_id: int | None = None,
    venue_payment_id: int | None = None,
) -> Invoice | None:
    """A simplified tax invoice for `gross` halalas (VAT-inclusive) received for a booking: captured by card
    (`payment_id`) or recorded at the venue (`venue_payment_id`). None when the business is not VAT-registered.
    Idempotent per payment and per venue payment (a replayed event returns the invoice already issued)."""
    if gross <= 0:
        raise InvoicingError("an invoice is for a positive amount")
    if means not in MEANS:
        raise InvoicingError(f"unknown means of payment {means!r}")
    booking = Booking.objects.select_related("business", "service").get(pk=booking_id)
    business = booking.business
    if not is_vat_registered(business):
        return None
    _series_locked(business)  # taken first: the duplicate check below then sees every committed invoice
    existing = None
    if payment_id is not None:
        existing = Invoice.objects.filter(payment_id=payment_id, kind=Invoice.Kind.INVOICE).first()
    elif venue_payment_id is not None:
        existing = Invoice.objects.filter(venue_payment_id=venue_payment_id).first()
    if existing is not None:
        return existing
    now = timezone.now()
    spec = _Issue(
        business=business,
        booking=booking,
        kind=Invoice.Kind.INVOICE,
        split=_sale_split(gross, now=now, business_id=business.pk),
        means=MEANS[means],
        line_name_ar=booking.service.name_ar,
        line_name_en=booking.service.name_en,
        payment_id=payment_id,
        venue_payment_id=venue_payment_id,
    )
    return _issue(spec, now=now)


def credited_total(invoice: Invoice) -> int:
    total = Invoice.objects.filter(original=invoice, kind=Invoice.Kind.CREDIT).aggregate(total=Sum("gross"))["total"]
    return int(total or 0)


@transaction.atomic
def credit_note_issue(*, invoice: Invoice, gross: int, reason: str, refund_id: int | None = None) -> Invoice:
    """A simplified credit note for `gross` halalas of `invoice` returned to the customer (positive amounts; the
    refunded part of the sale at the invoice's rate, `split_part`). Idempotent per refund. Never more than what is
    left of the invoice."""
    if invoice.kind != Invoice.Kind.INVOICE:
        raise InvoicingError("a credit note credits an invoice")
    if gross <= 0:
        raise InvoicingError("a credit note is for a positive amount")
    reason = (reason or "").strip()[:200] or "Refund"
    business = Business.objects.get(pk=invoice.business_id)
    _series_locked(business)
    if refund_id is not None:
        existing = Invoice.objects.filter(refund_id=refund_id).first()
        if existing is not None:
            return existing
    left = invoice.gross - credited_total(invoice)
    if gross > left:
        raise InvoicingError(f"only {left} of invoice {invoice.number} is left to credit, not {gross}")
    whole = VatSplit(net=invoice.net, vat=invoice.vat, gross=invoice.gross, rate_bps=invoice.rate_bps)
    split = split_part(gross, whole)
    if split.gross != gross:
        logger.warning(
            "credit_note_total_differs_from_amount",
            extra={"invoice_id": invoice.pk, "amount": gross, "credit_total": split.gross},
        )
        if split.gross > left:
            split = split_part(left, whole)
    booking = Booking.objects.select_related("service").get(pk=invoice.booking_id)
    line = invoice.lines[0] if invoice.lines else {}
    spec = _Issue(
        business=business,
        booking=booking,
        kind=Invoice.Kind.CREDIT,
        split=split,
        means=invoice.means,
        line_name_ar=str(line.get("name_ar", booking.service.name_ar)),
        line_name_en=str(line.get("name_en", booking.service.name_en)),
        payment_id=invoice.payment_id,
        refund_id=refund_id,
        original=invoice,
        reason=reason,
    )
    return _issue(spec, now=timezone.now())


def invoice_report_status_set(
    *, invoice_id: int, status: str, messages: list[Any] | None = None, attempted: bool = False
) -> Invoice:
    """Record a reporting outcome (the only change an issued invoice accepts)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        invoice.report_status = status
        fields = ["report_status"]
        if messages is not None:
            invoice.report_messages = messages
            fields.append("report_messages")
        if attempted:
            invoice.report_attempts += 1
            fields.append("report_attempts")
        if status in (Invoice.ReportStatus.REPORTED, Invoice.ReportStatus.WARNING):
            invoice.reported_at = timezone.now()
            fields.append("reported_at")
        invoice.save(update_fields=fields)
        return invoice
