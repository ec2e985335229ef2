"""Invoices from payment events: a capture is a sale (an invoice for the captured amount), a refund a credit note
on that payment's invoice, a payment recorded at the venue a sale paid in cash or by card terminal.

The handlers run inside the payment's transaction (`apps.core.events.publish`), so an invoice commits with the
capture it documents and rolls back with it. The other way round is decided here: **an invoicing failure never
loses the capture record.** A handler issues in a savepoint; if invoicing raises (a broken tax profile, a bug),
the savepoint rolls back, the error is logged and a job (`invoice_issue_retry`, retried with backoff) is deferred
to issue the document later, and the payment's transaction goes on. The services are idempotent per payment,
refund and venue payment, so a replayed event or a retry never issues a second document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import translation
from procrastinate.contrib.django import app as procrastinate_app

from apps.core import events
from apps.invoicing import services
from apps.invoicing.models import Invoice
from apps.payments import events as payment_events
from apps.payments.models import Refund

logger = logging.getLogger("mawid.invoicing")
RETRY_TASK = "apps.invoicing.jobs.invoice_issue_retry"


def issue_for_capture(*, payment_id: int, booking_id: int, amount: int) -> Invoice | None:
    return services.invoice_issue(booking_id=booking_id, gross=amount, means="card", payment_id=payment_id)


def issue_for_venue_payment(*, venue_payment_id: int, booking_id: int, amount: int, method: str) -> Invoice | None:
    return services.invoice_issue(booking_id=booking_id, gross=amount, means=method, venue_payment_id=venue_payment_id)


def issue_for_refund(*, payment_id: int, refund_id: int, amount: int) -> Invoice | None:
    original = Invoice.objects.filter(payment_id=payment_id, kind=Invoice.Kind.INVOICE).first()
    if original is None:
        # Not VAT-registered when it was captured (or never invoiced): there is nothing to credit.
        logger.info("credit_note_without_invoice", extra={"payment_id": payment_id, "refund_id": refund_id})
        return None
    refund = Refund.objects.get(pk=refund_id)
    with translation.override("en"):
        reason = refund.reason or str(Refund.Kind(refund.kind).label)
    left = original.gross - services.credited_total(original)
    if amount > left:
        logger.warning(
            "credit_note_capped", extra={"invoice_id": original.pk, "refund_id": refund_id, "amount": amount}
        )
        amount = left
    if amount <= 0:
        return None
    return services.credit_note_issue(invoice=original, gross=amount, reason=reason, refund_id=refund_id)


HANDLERS: dict[str, Callable[..., Invoice | None]] = {
    "capture": issue_for_capture,
    "refund": issue_for_refund,
    "venue": issue_for_venue_payment,
}


def issue_or_defer(kind: str, **kwargs: Any) -> None:
    """Issue now in a savepoint; on failure log it and leave it to a retried job, never failing the caller."""
    try:
        with transaction.atomic():
            HANDLERS[kind](**kwargs)
    except Exception:
        logger.exception("invoice_issue_failed", extra={"kind": kind, **kwargs})
        try:
            with transaction.atomic():
                procrastinate_app.tasks[RETRY_TASK].defer(kind=kind, arguments=kwargs)
        except Exception:
            logger.exception("invoice_issue_retry_not_deferred", extra={"kind": kind, **kwargs})


def on_captured(event: payment_events.PaymentCaptured) -> None:
    issue_or_defer("capture", payment_id=event.payment_id, booking_id=event.booking_id, amount=event.amount)


def on_refunded(event: payment_events.PaymentRefunded) -> None:
    issue_or_defer("refund", payment_id=event.payment_id, refund_id=event.refund_id, amount=event.amount)


def on_venue_payment(event: payment_events.VenuePaymentRecorded) -> None:
    issue_or_defer(
        "venue",
        venue_payment_id=event.venue_payment_id,
        booking_id=event.booking_id,
        amount=event.amount,
        method=event.method,
    )


def subscribe() -> None:
    events.subscribe(payment_events.PaymentCaptured, on_captured)
    events.subscribe(payment_events.PaymentRefunded, on_refunded)
    events.subscribe(payment_events.VenuePaymentRecorded, on_venue_payment)
