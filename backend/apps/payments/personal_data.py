"""What payments holds about a person (docs/privacy.md): the payments and refunds of their bookings. Payment
records are the money trail (VAT law: kept for years) and stay with the anonymous customer; the payer's identity
in Moyasar's JSON (the name typed on the card, STC Pay's mobile) is dropped when stored and scrubbed again on
deletion. Card data is never held (a masked number at most); the export shows the last four digits only.
Imported from `PaymentsConfig.ready()`."""

from __future__ import annotations

import re
from typing import Any

from apps.core.personal_data import erase, keep, no_personal_data, pseudonymise, register, scrub_field
from apps.payments.models import LedgerEntry, Payment, PaymentEvent, Refund, VenuePayment, WebhookEvent

TRAIL = "the money trail: kept for years (VAT law), with the anonymous customer"


def _last4(card: str) -> str | None:
    digits = re.sub(r"\D", "", card or "")
    return digits[-4:] if len(digits) >= 4 else None


def _payment(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "booking": p.booking_id,
        "status": p.status,
        "method": p.method,
        "card_scheme": p.card_scheme,
        "card_last4": _last4(p.card),
        "purpose": p.purpose,
        "currency": p.currency,
        "amount": p.amount,
        "vat": p.amount_vat,
        "authorized": p.authorized_amount,
        "captured": p.captured_amount,
        "refunded": p.refunded_amount,
        "created_at": p.created_at,
        "authorized_at": p.authorized_at,
        "captured_at": p.captured_at,
        "voided_at": p.voided_at,
        "refunded_at": p.refunded_at,
    }


def _refund(r: Refund) -> dict[str, Any]:
    return {
        "id": r.pk,
        "payment": r.payment_id,
        "booking": r.payment.booking_id,
        "kind": r.kind,
        "status": r.status,
        "amount": r.amount,
        "vat": r.vat,
        "created_at": r.created_at,
        "completed_at": r.completed_at,
    }


def _venue(v: VenuePayment) -> dict[str, Any]:
    return {"booking": v.booking_id, "amount": v.amount, "currency": v.currency, "method": v.method, "at": v.created_at}


def declare() -> None:
    register(
        Payment,
        section="payments",
        rows=lambda user: Payment.objects.filter(booking__customer_id=user.pk).order_by("pk"),
        export=_payment,
        fields={
            "provider_raw": pseudonymise(scrub_field("provider_raw"), "Moyasar's record without the payer's name"),
            "card": keep(f"brand and masked number only; {TRAIL}"),
            "booking": keep(TRAIL),
        },
        not_personal={
            "message response_code provider_status attention_reason transaction_url": "the provider's answer "
            "and the operators' notes on the payment"
        },
    )
    register(
        Refund,
        section="refunds",
        rows=lambda user: (
            Refund.objects.filter(payment__booking__customer_id=user.pk).select_related("payment").order_by("pk")
        ),
        export=_refund,
        fields={"reason": erase(""), "requested_by": keep("who asked: the anonymous customer or the business")},
        not_personal={"failure_message": "the provider's answer"},
    )
    register(
        VenuePayment,
        section="venue_payments",
        rows=lambda user: VenuePayment.objects.filter(booking__customer_id=user.pk).order_by("pk"),
        export=_venue,
        fields={"note": erase("", "staff's note: may name the customer"), "recorded_by": keep(TRAIL)},
    )
    register(
        PaymentEvent,
        rows=lambda user: PaymentEvent.objects.filter(payment__booking__customer_id=user.pk),
        fields={
            "data": pseudonymise(scrub_field("data"), "the audit trail without the payer's identity"),
            "reason": erase(""),
            "actor": keep("who acted: the anonymous customer or the business"),
        },
    )
    register(
        WebhookEvent,
        rows=lambda user: WebhookEvent.objects.filter(payment__booking__customer_id=user.pk),
        fields={"payload": pseudonymise(scrub_field("payload"), "Moyasar's notice without the payer's identity")},
        not_personal={"event_id type provider_payment_id": "Moyasar's ids"},
    )
    no_personal_data(
        LedgerEntry, reason="amounts per payment: the business's books", not_personal={"key": "an idempotency key"}
    )
