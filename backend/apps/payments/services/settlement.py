"""The booking's money policy: what a payment holding money means for its booking, and what must happen next.

Whether a payment pays for its booking (and confirms it), when the booking's payment is captured, what a
cancellation gives back (the late-cancellation fee), and how money that should not be held is returned (void an
authorization, refund a capture, never more than what pending refunds leave).

Above `state` and reading only down into it: `state` applies what Moyasar reports, this module decides what that
means (`apply_and_settle` is the two in a row, the way every fetched Moyasar payment lands). Everything here runs
inside the caller's transaction with the booking, then the payment, locked (`state.lock_payment`). Nothing here
calls Moyasar: a decision that needs a provider call defers a job in the same transaction (`deferrals`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.bookings.services import booking_confirm
from apps.catalog.payment_terms import late_cancel_fee
from apps.payments.models import MONEY_STATUSES, Payment, PaymentEvent, Refund
from apps.payments.providers.base import GatewayPayment
from apps.payments.selectors import venue_totals
from apps.payments.services import deferrals
from apps.payments.services.state import apply_gateway_payment, record
from apps.payments.vat import chosen_part

P = Payment.Status
B = Booking.Status
Source = PaymentEvent.Source


def apply_and_settle(
    *, booking: Booking, payment: Payment, gp: GatewayPayment, source: str, actor: User | None = None
) -> Payment:
    """Bring `payment` (locked, with its booking) forward to what Moyasar reports (`state.apply_gateway_payment`),
    then settle it with the booking. A Moyasar answer that was not applied (it does not match, an unexpected
    status, an old state) settles nothing."""
    now = timezone.now()
    if apply_gateway_payment(booking=booking, payment=payment, gp=gp, source=source, actor=actor, now=now):
        settle_with_booking(booking=booking, payment=payment, source=source, now=now)
    return payment


def _booking_payment_exists(booking: Booking, *, other_than: Payment) -> bool:
    return Payment.objects.filter(booking=booking, is_booking_payment=True).exclude(pk=other_than.pk).exists()


def _paid_at_venue(booking: Booking, payment: Payment) -> bool:
    """The business recorded payments at the venue that leave no room for this one (the customer paid at the
    counter, then an online payment still arrived): its money is given back."""
    venue = venue_totals([booking.pk]).get(booking.pk, 0)
    return venue > 0 and venue + payment.authorized_amount > booking.price_amount


def settle_with_booking(*, booking: Booking, payment: Payment, source: str, now: datetime | None = None) -> None:
    """Decide what a payment holding money means for its booking (locks held), and what must happen next.

    * The first payment holding money for a booking that wants one becomes the booking's payment: a pending
      booking is confirmed and the capture is scheduled.
    * Any other payment holding money (a second payment for one booking, one that arrived after the booking
      expired or was cancelled, or a refused client payment) gets its money back: voided if authorized,
      refunded if captured.
    * The booking's payment follows the booking: captured once it took place or was a no-show (a deposit is
      given back on a no-show when the business says so), voided or refunded (per the cancellation's terms) when
      it was cancelled; a late cancellation's fee is captured from an authorization (the rest released) or kept
      from the refund of a capture.
    """
    if payment.status not in MONEY_STATUSES:
        return
    now = now or timezone.now()
    if payment.mismatch:
        return_money(payment, kind=Refund.Kind.LATE, source=source, reason="refused client payment")
        return
    if not payment.is_booking_payment:
        wants_payment = booking.status in (B.PENDING_PAYMENT, B.CONFIRMED, B.COMPLETED, B.NO_SHOW)
        if (
            wants_payment
            and not _booking_payment_exists(booking, other_than=payment)
            and not _paid_at_venue(booking, payment)
        ):
            payment.is_booking_payment = True
            payment.save(update_fields=["is_booking_payment", "updated_at"])
            record(payment, "pays_for_booking", source=source)
            if booking.status == B.PENDING_PAYMENT:
                booking_confirm(booking_id=booking.pk, reason=f"payment #{payment.pk} authorized")
                booking.refresh_from_db(fields=["status", "hold_expires_at"])
        else:
            duplicate = wants_payment
            return_money(
                payment,
                kind=Refund.Kind.DUPLICATE if duplicate else Refund.Kind.LATE,
                source=source,
                reason="booking already paid" if duplicate else f"booking is {booking.status}",
            )
            return
    if booking.status in (B.CANCELLED, B.EXPIRED):
        return_money(
            payment,
            kind=Refund.Kind.CANCELLATION,
            source=source,
            reason=f"booking {booking.status}",
            with_fee=payment.on_cancel == Payment.OnCancel.FEE,
        )
    elif booking.status == B.NO_SHOW and not keeps_on_no_show(booking, payment):
        return_money(payment, kind=Refund.Kind.CANCELLATION, source=source, reason="no-show: the deposit is given back")
    elif payment.status == P.AUTHORIZED and booking.status in (B.COMPLETED, B.NO_SHOW):
        deferrals.capture(payment.pk, force=True)
    elif payment.status == P.AUTHORIZED and booking.status == B.CONFIRMED:
        schedule_capture(booking=booking, payment=payment, now=now, source=source)


def keeps_on_no_show(booking: Booking, payment: Payment) -> bool:
    """A no-show keeps the booking's payment, except a deposit when the business gives deposits back
    (`Business.keep_deposit_on_no_show` off)."""
    return payment.purpose != Payment.Purpose.DEPOSIT or booking.business.keep_deposit_on_no_show


def capture_after_days(payment: Payment) -> float:
    """How long after authorization a payment is captured at the latest: mada's window is longer (Moyasar: mada
    authorizations may be captured within 14 days, others are held about 7)."""
    if payment.card_scheme == Payment.CardScheme.MADA:
        return settings.PAYMENTS_MADA_CAPTURE_AFTER_DAYS
    return settings.PAYMENTS_CAPTURE_AFTER_DAYS


def capture_due_at(*, booking: Booking, payment: Payment, now: datetime) -> datetime:
    if settings.PAYMENTS_CAPTURE_IMMEDIATELY:
        return now
    authorized_at = payment.authorized_at or now
    return min(booking.start, authorized_at + timedelta(days=capture_after_days(payment)))


def schedule_capture(*, booking: Booking, payment: Payment, now: datetime, source: str = Source.JOB) -> None:
    """Capture at the appointment, or N days after authorization if sooner. The job re-checks when it runs."""
    due = capture_due_at(booking=booking, payment=payment, now=now)
    if payment.capture_due_at == due:
        return
    payment.capture_due_at = due
    payment.save(update_fields=["capture_due_at", "updated_at"])
    record(payment, "capture_scheduled", source=source, data={"due": due.isoformat()})
    deferrals.capture(payment.pk, at=due if due > now else None)


def cancellation_fee(booking: Booking, payment: Payment) -> int:
    """What a customer's cancellation after the cut-off keeps of `payment` (the booking's): the business's fee
    for the service, or the whole deposit (`catalog.payment_terms.late_cancel_fee`). Recorded on the payment when
    the booking is cancelled (`Payment.cancellation_fee`), so that the capture or refund that follows keeps what the
    customer was told then."""
    paid = payment.captured_amount or payment.authorized_amount
    return late_cancel_fee(
        price=booking.price_amount,
        paid=paid,
        is_deposit=payment.purpose == Payment.Purpose.DEPOSIT,
        service=booking.service,
        business=booking.business,
    )


def fee_to_capture(booking: Booking, payment: Payment) -> int:
    """An authorized booking payment whose booking the customer cancelled after the cut-off: the fee to capture
    (Moyasar releases the rest of the authorization). 0 when there is nothing to keep (then it is voided)."""
    if (
        payment.status != P.AUTHORIZED
        or not payment.is_booking_payment
        or payment.mismatch
        or booking.status != B.CANCELLED
        or payment.on_cancel != Payment.OnCancel.FEE
    ):
        return 0
    return min(payment.cancellation_fee, payment.authorized_amount)


def pending_refunds(payment: Payment) -> int:
    return sum(Refund.objects.filter(payment=payment, status=Refund.Status.PENDING).values_list("amount", flat=True))


def return_money(payment: Payment, *, kind: str, source: str, reason: str, with_fee: bool = False) -> None:
    """Give the customer their money back: void an authorization, refund a capture (minus the late-cancellation
    fee when `with_fee`). Safe to call again: a void is re-checked by its job, a cancellation refund is made once
    (a unique constraint says so) and other refunds only cover what no pending refund covers yet."""
    if payment.status == P.AUTHORIZED:
        if with_fee and payment.cancellation_fee > 0 and payment.is_booking_payment and not payment.mismatch:
            # Keep the fee: capture only it, and Moyasar releases the rest of the authorization.
            if deferrals.capture(payment.pk, force=True):
                record(
                    payment,
                    "fee_capture_requested",
                    source=source,
                    reason=reason,
                    data={"fee": payment.cancellation_fee},
                )
            return
        if deferrals.void(payment.pk):  # not again while a void is already waiting
            record(payment, "void_requested", source=source, reason=reason)
        return
    if payment.status not in (P.CAPTURED, P.PARTIALLY_REFUNDED):
        return
    if kind == Refund.Kind.CANCELLATION and Refund.objects.filter(payment=payment, kind=kind).exists():
        return
    fee = min(payment.cancellation_fee, payment.captured_amount) if with_fee else 0
    amount = payment.captured_amount - fee - payment.refunded_amount - pending_refunds(payment)
    if amount <= 0:
        return
    split = chosen_part(amount, payment.refund_whole())  # as its credit note states it (apps/payments/vat.py)
    amount = split.gross
    refund = Refund.objects.create(
        payment=payment, kind=kind, amount=amount, net=split.net, vat=split.vat, reason=reason[:500]
    )
    record(
        payment,
        "refund_requested",
        source=source,
        reason=reason,
        data={"refund_id": refund.pk, "amount": amount, "fee": fee, "kind": kind},
    )
    deferrals.refund(refund.pk)
