"""What invoicing holds about a person (docs/privacy.md): the tax invoices and credit notes of their bookings.
A simplified (B2C) invoice names no buyer (its customer party is empty, `ubl.py`), so it holds nothing that
identifies the person but its link to the booking; it is kept as issued (VAT law and ZATCA: six years at least;
a database trigger forbids changing it). Imported from `InvoicingConfig.ready()`."""

from __future__ import annotations

from typing import Any

from apps.core.personal_data import keep, no_personal_data, register
from apps.invoicing.models import Invoice, InvoiceSeries, TaxProfile, ZatcaCredential

LEGAL = "kept as issued: a tax document (VAT law, ZATCA: 6 years at least); it names no buyer"


def _invoice(invoice: Invoice) -> dict[str, Any]:
    base = f"/api/v1/bookings/{invoice.booking_id}/invoices/{invoice.pk}"
    return {
        "id": invoice.pk,
        "kind": invoice.kind,
        "number": invoice.number,
        "booking": invoice.booking_id,
        "issued_at": invoice.issued_at,
        "currency": invoice.currency,
        "gross": invoice.gross,
        "vat": invoice.vat,
        "html": f"{base}.html",
        "xml": f"{base}.xml",
    }


def declare() -> None:
    register(
        Invoice,
        section="invoices",
        rows=lambda user: Invoice.objects.filter(booking__customer_id=user.pk).order_by("business_id", "icv"),
        export=_invoice,
        fields={"booking reason xml qr": keep(LEGAL)},
        not_personal={
            "number previous_hash invoice_hash lines seller report_messages": "the document's own data and the "
            "seller's (the business)"
        },
    )
    no_personal_data(
        TaxProfile,
        reason="the seller's legal name and address (a business)",
        not_personal={
            "legal_name_ar legal_name_en cr_number street building_number additional_number district city "
            "postal_code": "the seller's (a business)"
        },
    )
    no_personal_data(InvoiceSeries, reason="numbering", not_personal={"last_hash": "a hash"})
    no_personal_data(
        ZatcaCredential,
        reason="a business's ZATCA keys and certificates",
        not_personal={
            "private_key_pem csr_pem compliance_token production_token compliance_secret production_secret "
            "request_id compliance_request_id egs_serial": "the business's credential"
        },
    )
