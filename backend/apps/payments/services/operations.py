"""Capture, void and refund: Record, then call.

Each one (1) locks the payment in a short transaction, re-reads its state, returns early when the work is done
and otherwise marks the operation in progress (`Payment.operation`; a second caller meanwhile gets `PaymentBusy`
and its job retries later); (2) calls Moyasar outside any transaction, fetching the payment first and acting on
its current state (Moyasar has no idempotency key for these calls, so nothing is retried blindly); (3) records
the outcome in a second short transaction and clears the mark.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.core.events import publish
from apps.payments import events
from apps.payments.errors import (
    PaymentBusy,
    PaymentNotCapturable,
    PaymentNotRefundable,
    PaymentNotVoidable,
    RefundExceedsCaptured,
)
from apps.payments.gateway import close_gateway, get_gateway
from apps.payments.models import Payment, PaymentEvent, Refund
from apps.payments.providers import base as gw
from apps.payments.providers.base import (
    GatewayAuthError,
    GatewayError,
    GatewayInvalidRequest,
    GatewayNotFound,
    GatewayPayment,
    GatewayRateLimited,
    GatewayUnavailable,
)
from apps.payments.services import deferrals
from apps.payments.services.ledger import ledger_record
from apps.payments.services.settlement import (
    apply_and_settle,
    fee_to_capture,
    keeps_on_no_show,
    pending_refunds,
    settle_with_booking,
)
from apps.payments.services.state import (
    end_operation,
    flag,
    lock_payment,
    operation_is_stale,
    record,
    refunds_in_flight,
    start_operation,
)
from apps.payments.vat import chosen_part

logger = logging.getLogger("mawid.payments")
P = Payment.Status
B = Booking.Status
Source = PaymentEvent.Source


def _check_not_busy(payment: Payment, now: datetime) -> None:
    if payment.operation and not operation_is_stale(payment, now):
        raise PaymentBusy(f"payment {payment.pk}: {payment.operation} in progress")


def _reference(payment: Payment) -> str:
    return payment.provider_id or str(payment.given_id)


def _error_data(exc: GatewayError) -> dict[str, Any]:
    return {"error": type(exc).__name__, "message": exc.message, "status_code": exc.status_code}


@transaction.atomic
def _finish(
    *,
    payment_id: int,
    operation: str,
    gp: GatewayPayment | None,
    source: str,
    actor: User | None = None,
    error: GatewayError | None = None,
) -> Payment:
    """The second short transaction: clear the mark, record what happened, apply what Moyasar now reports."""
    booking, payment = lock_payment(payment_id)
    end_operation(payment)
    if error is not None:
        record(payment, f"{operation}_failed", source=source, actor=actor, data=_error_data(error))
        if not error.retryable:
            flag(payment, f"{operation} refused by Moyasar: {error.message}", source=source)
    if gp is not None:
        apply_and_settle(booking=booking, payment=payment, gp=gp, source=source, actor=actor)
    return payment


# --- capture --------------------------------------------------------------------------------------------------


def payment_capture(
    *,
    payment_id: int,
    force: bool = False,
    source: str = Source.JOB,
    actor: User | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Payment:
    """Capture the booking's authorized payment in full: when due (`capture_due_at`), or now with `force`
    (no-show, completed, a manager). A payment whose booking was cancelled or expired is voided instead."""
    now = now or timezone.now()
    with transaction.atomic():
        booking, payment = lock_payment(payment_id)
        if payment.status != P.AUTHORIZED:
            return payment
        _check_not_busy(payment, now)
        fee = fee_to_capture(booking, payment) or None
        if fee:
            # A late cancellation: capture the fee only; Moyasar releases the rest of the authorization.
            start_operation(payment, "capture", source=source, actor=actor, reason=reason, data={"amount": fee})
        else:
            if (
                payment.mismatch
                or not payment.is_booking_payment
                or booking.status in (B.CANCELLED, B.EXPIRED)
                or (booking.status == B.NO_SHOW and not keeps_on_no_show(booking, payment))
            ):
                settle_with_booking(booking=booking, payment=payment, source=source, now=now)
                return payment
            if not force and (payment.capture_due_at is None or payment.capture_due_at > now):
                return payment
            start_operation(payment, "capture", source=source, actor=actor, reason=reason)
    return _act_on_authorized(payment=payment, operation="capture", source=source, actor=actor, amount=fee)


def _act_on_authorized(
    *, payment: Payment, operation: str, source: str, actor: User | None, amount: int | None = None
) -> Payment:
    """Capture or void (`operation`) at Moyasar after `start_operation` committed; record the outcome.

    No blind call: fetch first and act only while Moyasar still says `authorized`. A refusal records Moyasar's
    current state; any other gateway error records what is known and propagates so the job retries.
    """
    gateway = get_gateway()
    try:
        current = gateway.fetch_payment(_reference(payment))
        if current.status == gw.AUTHORIZED:
            if operation == "capture":
                current = gateway.capture(payment_id=_reference(payment), amount=amount)
            else:
                current = gateway.void(payment_id=_reference(payment))
    except GatewayInvalidRequest as exc:
        # Refused (the authorization expired, or it is no longer authorized): record Moyasar's current state.
        return _finish(
            payment_id=payment.pk,
            operation=operation,
            gp=_fetch_quietly(gateway, payment),
            source=source,
            actor=actor,
            error=exc,
        )
    except GatewayError as exc:
        _finish(
            payment_id=payment.pk,
            operation=operation,
            gp=getattr(exc, "payment", None),
            source=source,
            actor=actor,
            error=exc,
        )
        raise
    finally:
        close_gateway(gateway)
    return _finish(payment_id=payment.pk, operation=operation, gp=current, source=source, actor=actor)


def _fetch_quietly(gateway: gw.PaymentGateway, payment: Payment) -> GatewayPayment | None:
    try:
        return gateway.fetch_payment(_reference(payment))
    except GatewayError:
        return None


# --- void -----------------------------------------------------------------------------------------------------


def payment_void(*, payment_id: int, source: str = Source.JOB, actor: User | None = None, reason: str = "") -> Payment:
    """Void an authorized payment (the customer is never charged). If it was captured meanwhile, the booking's
    rules decide instead (a cancelled booking's payment is then refunded)."""
    now = timezone.now()
    with transaction.atomic():
        booking, payment = lock_payment(payment_id)
        if payment.status != P.AUTHORIZED:
            settle_with_booking(booking=booking, payment=payment, source=source, now=now)
            return payment
        _check_not_busy(payment, now)
        start_operation(payment, "void", source=source, actor=actor, reason=reason)
    return _act_on_authorized(payment=payment, operation="void", source=source, actor=actor)


# --- refund ---------------------------------------------------------------------------------------------------


@transaction.atomic
def payment_refund(
    *,
    payment_id: int,
    amount: int | None = None,
    actor: User | None = None,
    reason: str = "",
    source: str = Source.ADMIN,
) -> Refund:
    """A manager's refund (full with `amount=None`, else partial): recorded now, sent to Moyasar by a job.

    `RefundExceedsCaptured` (409) when it is more than what is left once earlier and pending refunds are counted;
    `PaymentNotRefundable` (409) for a payment that was not captured (void it instead).
    """
    _booking, payment = lock_payment(payment_id)
    if payment.status not in (P.CAPTURED, P.PARTIALLY_REFUNDED):
        raise PaymentNotRefundable(extra={"current_status": payment.status})
    refundable = payment.captured_amount - payment.refunded_amount - pending_refunds(payment)
    amount = refundable if amount is None else amount
    if amount <= 0 or amount > refundable:
        raise RefundExceedsCaptured(refundable=max(0, refundable), currency=payment.currency)
    split = chosen_part(amount, payment.refund_whole())  # as its credit note states it (apps/payments/vat.py)
    amount = split.gross
    refund = Refund.objects.create(
        payment=payment,
        kind=Refund.Kind.MANUAL,
        amount=amount,
        net=split.net,
        vat=split.vat,
        reason=reason[:500],
        requested_by=actor,
    )
    record(
        payment,
        "refund_requested",
        source=source,
        actor=actor,
        reason=reason,
        data={"refund_id": refund.pk, "amount": amount, "kind": refund.kind},
    )
    deferrals.refund(refund.pk)
    return refund


def refund_execute(*, refund_id: int, source: str = Source.JOB) -> Refund:
    """Send one pending refund to Moyasar, so that it is made once whatever answers get lost.

    Moyasar has no idempotency key for refunds; its refunded total is what tells. Before the first send, Moyasar's
    total is recorded on the refund (`moyasar_refunded_before`, committed before the call). From then on the
    refund is *in flight* until its outcome is known: a webhook or sync meanwhile books none of Moyasar's total that
    it explains (`state.refunds_in_flight`), no other refund of the payment is sent, and a retry takes it as made
    once Moyasar's total reaches that baseline plus its amount. A send whose answer was lost is not repeated before
    `PAYMENTS_OPERATION_TIMEOUT_SECONDS` have passed (`PaymentBusy`: the job retries), since it may still land.
    """
    now = timezone.now()
    payment_id = Refund.objects.filter(pk=refund_id).values_list("payment_id", flat=True).get()
    with transaction.atomic():
        _booking, payment = lock_payment(payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return refund
        _check_not_busy(payment, now)
        if refunds_in_flight(payment, other_than=refund):
            raise PaymentBusy(f"payment {payment.pk}: another refund's outcome is not known yet")
        if payment.status not in (P.CAPTURED, P.PARTIALLY_REFUNDED) or refund.amount > payment.refundable_amount:
            return _fail_refund(
                payment, refund, f"payment is {payment.status}, {payment.refundable_amount} left", source=source
            )
        # Before the first send, our books are the baseline (a refund recorded by an older version has no other).
        baseline = payment.refunded_amount if refund.moyasar_refunded_before is None else refund.moyasar_refunded_before
        start_operation(
            payment,
            "refund",
            source=source,
            reason=refund.reason,
            data={"refund_id": refund.pk, "amount": refund.amount},
        )
    gateway = get_gateway()
    sent = False
    try:
        current = gateway.fetch_payment(_reference(payment))
        if current.refunded >= baseline + refund.amount:
            logger.info("refund_already_applied", extra={"refund_id": refund_id, "payment_id": payment_id})
        elif refund.sent_at is not None and refund.sent_at > now - _may_still_land():
            raise PaymentBusy(f"refund {refund.pk}: sent at {refund.sent_at.isoformat()}, its outcome may still land")
        elif current.refundable < refund.amount:
            raise GatewayInvalidRequest(f"Moyasar has only {current.refundable} left to refund", operation="refund")
        else:
            if refund.moyasar_refunded_before is None:
                baseline = current.refunded
            _refund_sending(refund_id, baseline=baseline)
            sent = True
            current = gateway.refund(payment_id=_reference(payment), amount=refund.amount)
    except PaymentBusy:
        _finish(payment_id=payment_id, operation="refund", gp=None, source=source)
        raise
    except (GatewayInvalidRequest, GatewayNotFound) as exc:
        with transaction.atomic():
            _booking, payment = lock_payment(payment_id)
            refund = Refund.objects.select_for_update().get(pk=refund_id)
            end_operation(payment)
            record(payment, "refund_failed", source=source, data={**_error_data(exc), "refund_id": refund.pk})
            return _fail_refund(payment, refund, exc.message, source=source)
    except GatewayError as exc:
        known = exc.payment if isinstance(exc, GatewayUnavailable) else None
        if known is not None and known.refunded >= baseline + refund.amount:
            current = known
        else:
            if sent and not _maybe_processed(exc):
                Refund.objects.filter(pk=refund_id).update(sent_at=None)  # certainly not made: a retry need not wait
            _finish(payment_id=payment_id, operation="refund", gp=None, source=source, error=exc)
            raise
    finally:
        close_gateway(gateway)
    return _refund_succeeded(refund_id=refund_id, gp=current, source=source)


def _may_still_land() -> timedelta:
    return timedelta(seconds=settings.PAYMENTS_OPERATION_TIMEOUT_SECONDS)


def _maybe_processed(exc: GatewayError) -> bool:
    if isinstance(exc, GatewayRateLimited | GatewayAuthError):
        return False
    return not isinstance(exc, GatewayUnavailable) or exc.maybe_processed


def _refund_sending(refund_id: int, *, baseline: int) -> None:
    """Committed before the refund call (autocommit): from now on the refund may be made at Moyasar."""
    Refund.objects.filter(pk=refund_id).update(moyasar_refunded_before=baseline, sent_at=timezone.now())


def _fail_refund(payment: Payment, refund: Refund, message: str, *, source: str) -> Refund:
    refund.status = Refund.Status.FAILED
    refund.failure_message = message[:500]
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "failure_message", "completed_at"])
    flag(payment, f"Refund #{refund.pk} of {refund.amount} failed: {message}", source=source)
    return refund


@transaction.atomic
def _refund_succeeded(*, refund_id: int, gp: GatewayPayment, source: str) -> Refund:
    booking, payment = lock_payment(Refund.objects.filter(pk=refund_id).values_list("payment_id", flat=True).get())
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    end_operation(payment)
    if refund.status != Refund.Status.PENDING:
        return refund
    now = timezone.now()
    refund.status = Refund.Status.SUCCEEDED
    refund.completed_at = now
    refund.save(update_fields=["status", "completed_at"])
    from_status = payment.status
    payment.refunded_amount += refund.amount
    payment.status = P.REFUNDED if payment.refunded_amount >= payment.captured_amount else P.PARTIALLY_REFUNDED
    payment.refunded_at = now
    payment.save(update_fields=["refunded_amount", "status", "refunded_at", "updated_at"])
    ledger_record(payment=payment, now=now)  # the ledger commits with the refunded total
    record(
        payment,
        "refunded",
        source=source,
        from_status=from_status,
        reason=refund.reason,
        data={"refund_id": refund.pk, "amount": refund.amount},
    )
    publish(
        events.PaymentRefunded(payment_id=payment.pk, booking_id=booking.pk, refund_id=refund.pk, amount=refund.amount)
    )
    # Anything else Moyasar reports (another refund made outside Mawid) is accounted for now.
    apply_and_settle(booking=booking, payment=payment, gp=gp, source=source)
    return refund


# --- managers (admin and API): checks now, the provider call in a job -------------------------------------------


@transaction.atomic
def payment_request_capture(
    *, payment_id: int, actor: User | None, reason: str = "", source: str = Source.ADMIN
) -> Payment:
    _booking, payment = lock_payment(payment_id)
    if payment.status != P.AUTHORIZED or not payment.is_booking_payment or payment.mismatch:
        raise PaymentNotCapturable(extra={"current_status": payment.status})
    record(payment, "capture_requested", source=source, actor=actor, reason=reason)
    deferrals.capture(payment.pk, force=True)
    return payment


@transaction.atomic
def payment_request_void(
    *, payment_id: int, actor: User | None, reason: str = "", source: str = Source.ADMIN
) -> Payment:
    _booking, payment = lock_payment(payment_id)
    if payment.status != P.AUTHORIZED:
        raise PaymentNotVoidable(extra={"current_status": payment.status})
    record(payment, "void_requested", source=source, actor=actor, reason=reason)
    deferrals.void(payment.pk)
    return payment
