"""The bottom of payments' services: apply what Moyasar reports to a payment, and nothing more.

Locks (`lock_payment`), records (`PaymentEvent` rows, flags), operation marks, and the application of Moyasar's
state (`apply_gateway_payment`: checks, forward-only transitions, totals, events, refunds made outside Mawid,
refunds in flight, and the ledger entries of the money that moved: `ledger`). What that state means for the booking (confirm it, schedule the capture, give money back)
is `settlement`'s, which sits above this module: nothing here imports another payments service, decides about
money or defers a job.

Everything here runs inside a transaction that holds the booking row lock, then the payment row lock (always in
that order: bookings' own services lock the booking first and call our event handlers, which lock payments).
Nothing here calls Moyasar.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.core.errors import NotFound
from apps.core.events import publish
from apps.payments import events
from apps.payments.models import Payment, PaymentEvent, Refund, can_transition
from apps.payments.providers import base as gw
from apps.payments.providers.base import GatewayPayment, redact_card_data, without_cardholder_name
from apps.payments.services.ledger import ledger_record
from apps.payments.vat import reported_part

logger = logging.getLogger("mawid.payments")
P = Payment.Status


# --- locks and records ----------------------------------------------------------------------------------------


def lock_payment(payment_id: int, *, booking_id: int | None = None) -> tuple[Booking, Payment]:
    """Lock the payment's booking, then the payment (the one lock order of the whole project)."""
    if booking_id is None:
        booking_id = Payment.objects.filter(pk=payment_id).values_list("booking_id", flat=True).first()
    if booking_id is None:
        raise NotFound()
    booking = Booking.objects.select_for_update(of=("self",)).select_related("service").get(pk=booking_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    return booking, payment


def record(
    payment: Payment,
    kind: str,
    *,
    source: str,
    from_status: str | None = None,
    actor: User | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> PaymentEvent:
    return PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        from_status=payment.status if from_status is None else from_status,
        to_status=payment.status,
        source=source,
        actor=actor,
        reason=reason[:500],
        data=without_cardholder_name(redact_card_data(data or {})),
    )


def flag(payment: Payment, reason: str, *, source: str, data: dict[str, Any] | None = None) -> None:
    """Mark the payment for a manager's attention (shown in the admin); the reasons accumulate."""
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M")
    line = f"[{stamp}] {reason}"
    payment.needs_attention = True
    payment.attention_reason = f"{payment.attention_reason}\n{line}".strip()[-4000:]
    payment.save(update_fields=["needs_attention", "attention_reason", "updated_at"])
    record(payment, "flagged", source=source, reason=reason, data=data)
    logger.warning("payment_flagged", extra={"payment_id": payment.pk, "reason": reason})


def operation_is_stale(payment: Payment, now: datetime) -> bool:
    started = payment.operation_started_at
    return started is None or started < now - timedelta(seconds=settings.PAYMENTS_OPERATION_TIMEOUT_SECONDS)


def start_operation(
    payment: Payment,
    operation: str,
    *,
    source: str,
    actor: User | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    payment.operation = operation
    payment.operation_started_at = timezone.now()
    payment.save(update_fields=["operation", "operation_started_at", "updated_at"])
    record(payment, f"{operation}_started", source=source, actor=actor, reason=reason, data=data)


def end_operation(payment: Payment) -> None:
    if payment.operation:
        payment.operation = ""
        payment.operation_started_at = None
        payment.save(update_fields=["operation", "operation_started_at", "updated_at"])


# --- what Moyasar says -> our status ----------------------------------------------------------------------------


def _card_summary(gp: GatewayPayment) -> str:
    source = gp.raw.get("source")
    if not isinstance(source, dict) or source.get("type") == "stcpay":
        source = {}  # no card: STC Pay's source names a mobile, which is not shown as a card
    company, number = source.get("company") or source.get("type") or "", source.get("number") or ""
    return f"{company} {number}".strip()[:60]


def _target(payment: Payment, gp: GatewayPayment) -> tuple[str | None, int, int, int]:
    """Our status and (authorized, captured, refunded) totals for what Moyasar reports. Totals never shrink."""
    authorized, captured, refunded = payment.authorized_amount, payment.captured_amount, payment.refunded_amount
    status = gp.status
    if status == gw.INITIATED:
        return P.INITIATED, authorized, captured, refunded
    if status == gw.FAILED:
        return P.FAILED, authorized, captured, refunded
    authorized = max(authorized, gp.amount)
    if status == gw.AUTHORIZED:
        return P.AUTHORIZED, authorized, captured, refunded
    if status in (gw.PAID, gw.CAPTURED):
        return P.CAPTURED, authorized, max(captured, gp.captured or gp.amount), refunded
    if status == gw.REFUNDED:
        captured = max(captured, gp.captured or gp.amount)
        refunded = max(refunded, min(gp.refunded, captured))
        return (P.REFUNDED if refunded >= captured else P.PARTIALLY_REFUNDED), authorized, captured, refunded
    if status == gw.VOIDED:
        return P.VOIDED, authorized, max(captured, min(gp.captured, authorized)), refunded
    return None, authorized, captured, refunded


def matches(payment: Payment, gp: GatewayPayment) -> str:
    """Why `gp` is not the payment we asked for ("" when it is): amount, currency and our metadata."""
    if gp.amount != payment.amount:
        return f"amount {gp.amount} != {payment.amount}"
    if gp.currency.upper() != payment.currency.upper():
        return f"currency {gp.currency} != {payment.currency}"
    booking_ref = gp.metadata.get("booking_id")
    if payment.flow == Payment.Flow.CLIENT or booking_ref is not None:
        if booking_ref != str(payment.booking_id):
            return f"metadata booking_id {booking_ref!r} != {payment.booking_id}"
        payment_ref = gp.metadata.get("payment_ref")
        if payment_ref is not None and payment_ref != str(payment.given_id):
            return f"metadata payment_ref {payment_ref!r} != {payment.given_id}"
    return ""


def apply_gateway_payment(
    *,
    booking: Booking,
    payment: Payment,
    gp: GatewayPayment,
    source: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> bool:
    """Bring `payment` (locked, with its booking) forward to what Moyasar reports. True when it was applied (the
    payment now is what Moyasar says; `settlement.apply_and_settle` then settles it with the booking), False when
    Moyasar's answer was not taken.

    Moyasar's answer is checked against ours first (amount, currency, booking): a payment that does not match
    changes nothing and is flagged. An unexpected status is flagged. A status that would move backwards (an old
    event) is ignored. Refunds of ours are booked by their job only: while one is being sent, or was sent and its
    outcome is not known yet (`refunds_in_flight`), the part of Moyasar's refunded total it can explain is left to
    that job (which compares totals), so a webhook or a sync landing meanwhile cannot book it as a refund made
    outside Mawid.
    """
    now = now or timezone.now()
    if not payment.mismatch:
        problem = matches(payment, gp)
        if problem:
            flag(payment, f"Moyasar payment {gp.id} does not match: {problem}", source=source, data=gp.raw)
            return False
    payment.provider_raw = without_cardholder_name(gp.raw)
    payment.provider_status = gp.status
    payment.last_synced_at = now
    if payment.provider_id is None:
        payment.provider_id = gp.id
    payment.card = _card_summary(gp) or payment.card
    payment.card_scheme = gp.card_scheme or payment.card_scheme  # known once, never unlearnt
    payment.message = (gp.source_message or "")[:255]
    payment.response_code = (gp.response_code or "")[:16]
    target, authorized, captured, refunded = _target(payment, gp)
    if target is None:
        payment.save()
        flag(payment, f"Moyasar reports an unexpected status {gp.status!r}", source=source)
        return False
    if refunded > payment.refunded_amount:
        # A refund job talking to Moyasar right now books what it made; so will the job of a refund in flight.
        running = payment.operation == "refund"
        explained = refunded - payment.refunded_amount if running else refunds_in_flight(payment)
        refunded = max(payment.refunded_amount, refunded - explained)
    if target in (P.REFUNDED, P.PARTIALLY_REFUNDED):
        target = P.CAPTURED if refunded == 0 else P.REFUNDED if refunded >= captured else P.PARTIALLY_REFUNDED
    from_status = payment.status
    moved = target != from_status and can_transition(from_status, target)
    if target != from_status and not moved:
        logger.info(
            "payment_backward_change_ignored",
            extra={"payment_id": payment.pk, "from": from_status, "reported": gp.status, "source": source},
        )
        payment.save()
        return False
    external_refund = refunded - payment.refunded_amount
    money_moved = captured > payment.captured_amount or external_refund > 0 or (moved and target == P.VOIDED)
    first_authorization = payment.authorized_amount == 0 and authorized > 0
    first_capture = payment.captured_amount == 0 and captured > 0
    payment.authorized_amount, payment.captured_amount = authorized, captured
    payment.refunded_amount = refunded
    payment.transaction_url = (gp.transaction_url or "") if target == P.INITIATED else ""
    if moved:
        payment.status = target
        stamps: dict[str, str] = {
            P.AUTHORIZED: "authorized_at",
            P.CAPTURED: "captured_at",
            P.VOIDED: "voided_at",
            P.FAILED: "failed_at",
            P.REFUNDED: "refunded_at",
            P.PARTIALLY_REFUNDED: "refunded_at",
        }
        stamp = stamps.get(target)
        if stamp:
            setattr(payment, stamp, now)
    if first_authorization and payment.authorized_at is None:
        payment.authorized_at = now
    if first_capture and payment.captured_at is None:
        payment.captured_at = now
    payment.save()
    if moved:
        record(
            payment,
            "status_changed",
            source=source,
            from_status=from_status,
            actor=actor,
            data={"moyasar_status": gp.status, "message": gp.source_message},
        )
        logger.info(
            "payment_status_changed",
            extra={"payment_id": payment.pk, "from": from_status, "to": target, "source": source},
        )
    if first_authorization:
        publish(events.PaymentAuthorized(payment_id=payment.pk, booking_id=booking.pk, amount=authorized))
    if first_capture:
        publish(events.PaymentCaptured(payment_id=payment.pk, booking_id=booking.pk, amount=captured))
    if moved and target == P.VOIDED:
        publish(events.PaymentVoided(payment_id=payment.pk, booking_id=booking.pk))
    if moved and target == P.FAILED:
        publish(events.PaymentFailed(payment_id=payment.pk, booking_id=booking.pk, reason=payment.message))
    if external_refund > 0:
        split = reported_part(external_refund, payment.refund_whole())
        refund = Refund.objects.create(
            payment=payment,
            kind=Refund.Kind.EXTERNAL,
            status=Refund.Status.SUCCEEDED,
            amount=external_refund,
            net=split.net,
            vat=split.vat,
            reason="Seen at Moyasar; not requested through Mawid",
            completed_at=now,
        )
        flag(payment, f"A refund of {external_refund} was made outside Mawid", source=source)
        publish(
            events.PaymentRefunded(
                payment_id=payment.pk, booking_id=booking.pk, refund_id=refund.pk, amount=external_refund
            )
        )
    if money_moved:
        ledger_record(payment=payment, now=now)  # the ledger commits with the totals
    return True


def refunds_in_flight(payment: Payment, *, other_than: Refund | None = None) -> int:
    """What the pending refunds already sent to Moyasar add up to: their outcome is not known yet, so Moyasar's
    refunded total may include them (see `Refund.moyasar_refunded_before`)."""
    sent = Refund.objects.filter(payment=payment, status=Refund.Status.PENDING, moyasar_refunded_before__isnull=False)
    if other_than is not None:
        sent = sent.exclude(pk=other_than.pk)
    return sum(sent.values_list("amount", flat=True))
