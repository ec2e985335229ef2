"""What payments do when a booking changes. Subscribed in `PaymentsConfig.ready()`.

Each handler runs inside the bookings service's transaction, which already holds the booking row lock; it locks
the booking's payments (the project's lock order: booking, then payment), writes rows and defers jobs. It never
calls Moyasar.
"""

from __future__ import annotations

from django.utils import timezone

from apps.bookings import events as booking_events
from apps.bookings.models import Booking
from apps.core import events as core_events
from apps.payments.models import MONEY_STATUSES, UNSETTLED_STATUSES, Payment, PaymentEvent
from apps.payments.services import deferrals
from apps.payments.services.settlement import cancellation_fee, schedule_capture, settle_with_booking
from apps.payments.services.state import record

P = Payment.Status
Source = PaymentEvent.Source


def _locked(booking_id: int) -> tuple[Booking, list[Payment]]:
    booking = Booking.objects.select_for_update(of=("self",)).get(pk=booking_id)
    payments = list(Payment.objects.select_for_update().filter(booking_id=booking_id).order_by("pk"))
    return booking, payments


def on_booking_cancelled(event: booking_events.BookingCancelled) -> None:
    """The business cancelled, or the customer before the cut-off: nothing is kept (void an authorization, refund
    a capture in full). The customer after the cut-off: the late-cancellation fee is kept (recorded on the payment
    now: `settlement.cancellation_fee`): captured from an authorization (the rest released), or the capture
    refunded minus it. Attempts still open are settled when their outcome arrives."""
    booking, payments = _locked(event.booking_id)
    on_cancel = Payment.OnCancel.FULL if event.by_business or event.before_cutoff else Payment.OnCancel.FEE
    now = timezone.now()
    for payment in payments:
        fee = (
            cancellation_fee(booking, payment)
            if on_cancel == Payment.OnCancel.FEE and payment.is_booking_payment and payment.status in MONEY_STATUSES
            else 0
        )
        if payment.on_cancel != on_cancel or payment.cancellation_fee != fee:
            payment.on_cancel = on_cancel
            payment.cancellation_fee = fee
            payment.save(update_fields=["on_cancel", "cancellation_fee", "updated_at"])
        if payment.status in MONEY_STATUSES:
            record(
                payment,
                "booking_cancelled",
                source=Source.BOOKING,
                reason=event.reason,
                data={"by_business": event.by_business, "before_cutoff": event.before_cutoff},
            )
            settle_with_booking(booking=booking, payment=payment, source=Source.BOOKING, now=now)
        elif payment.status in UNSETTLED_STATUSES:
            deferrals.sync(payment.pk)


def on_booking_expired(event: booking_events.BookingExpired) -> None:
    """The hold ran out: any authorization is voided; open attempts are checked now, so that one completing
    late (3-D Secure finished after the hold) is found and voided."""
    booking, payments = _locked(event.booking_id)
    now = timezone.now()
    for payment in payments:
        if payment.status in MONEY_STATUSES:
            settle_with_booking(booking=booking, payment=payment, source=Source.BOOKING, now=now)
        elif payment.status in UNSETTLED_STATUSES:
            deferrals.sync(payment.pk)


def _capture_now(booking_id: int, what: str) -> None:
    _booking, payments = _locked(booking_id)
    for payment in payments:
        if payment.is_booking_payment and payment.status == P.AUTHORIZED:
            record(payment, f"booking_{what}", source=Source.BOOKING)
            deferrals.capture(payment.pk, force=True)


def on_booking_no_show(event: booking_events.BookingNoShow) -> None:
    """No-show keeps the payment: an authorization is captured now (the capture job gives a deposit back instead
    when the business does not keep deposits on a no-show, `settlement.keeps_on_no_show`; a captured one is then
    refunded)."""
    booking, payments = _locked(event.booking_id)
    now = timezone.now()
    for payment in payments:
        if payment.is_booking_payment and payment.status in MONEY_STATUSES:
            record(payment, "booking_no_show", source=Source.BOOKING)
            settle_with_booking(booking=booking, payment=payment, source=Source.BOOKING, now=now)


def on_booking_completed(event: booking_events.BookingCompleted) -> None:
    _capture_now(event.booking_id, "completed")


def on_booking_rescheduled(event: booking_events.BookingRescheduled) -> None:
    """The capture follows the appointment time (or stays N days after authorization, if sooner)."""
    booking, payments = _locked(event.booking_id)
    now = timezone.now()
    for payment in payments:
        if payment.is_booking_payment and payment.status == P.AUTHORIZED:
            schedule_capture(booking=booking, payment=payment, now=now, source=Source.BOOKING)


def subscribe() -> None:
    core_events.subscribe(booking_events.BookingCancelled, on_booking_cancelled)
    core_events.subscribe(booking_events.BookingExpired, on_booking_expired)
    core_events.subscribe(booking_events.BookingNoShow, on_booking_no_show)
    core_events.subscribe(booking_events.BookingCompleted, on_booking_completed)
    core_events.subscribe(booking_events.BookingRescheduled, on_booking_rescheduled)
