"""What each domain event means for notifications. Handlers run inside the publisher's transaction
(`apps.core.events.publish`): they only write Notification rows and defer jobs, never call a provider, so a
booking that rolls back notifies nobody and one that commits always does.

| event                | customer                          | staff member (booking.staff.user) ** | reminders       |
|----------------------|-----------------------------------|--------------------------------------|-----------------|
| BookingConfirmed     | booking_confirmed                 | staff_booking_new (if soon)          | scheduled 24h, 2h |
| BookingRescheduled   | booking_rescheduled (confirmed)   | staff_booking_changed (confirmed, if soon) | moved     |
| BookingCancelled     | booking_cancelled[_by_business] * | staff_booking_cancelled (if it was confirmed, if soon) | dropped |
| BookingExpired / Completed / NoShow | —                  | —                                    | dropped         |
| PaymentCaptured      | payment_receipt                   | —                                    | —               |
| PaymentRefunded      | payment_refunded                  | —                                    | —               |
| (the staff_agendas job, every 15 min) | —                | staff_agenda: the day's bookings, once a day at 07:00 local | — |
| WaitlistOfferMade    | waitlist_offer (the claim link)   | —                                    | —               |

* the customer hears about a cancellation when the booking had been confirmed, or when the business cancelled
  it. BookingCreated says nothing by itself: an unpaid hold is not a booking yet (BookingConfirmed follows).
** "if soon" (`services.agenda.staff_change_is_urgent`): the booking starts (or, moved, started) within
  NOTIFICATIONS_STAFF_URGENT_HOURS (3), or later today once today's agenda time has passed. Anything else is in
  the agenda of its day and the calendar: a busy day no longer sends the staff member one SMS per booking. A
  change within NOTIFICATIONS_STAFF_COALESCE_MINUTES (5) of the staff member's last notice joins one
  `staff_changes` summary sent at the end of that window.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from typing import Any

from django.utils import timezone

from apps.bookings import events as booking_events
from apps.bookings.models import Booking, BookingStatusChange
from apps.core import events
from apps.core.money import Money
from apps.notifications.services import (
    Plan,
    notifications_cancel,
    notifications_create,
    reminder_plans,
    staff_change_is_urgent,
    staff_notice_plans,
)
from apps.notifications.templates import REMINDERS
from apps.waitlist import events as waitlist_events

logger = logging.getLogger("mawid.notifications")
PAYMENT_EVENTS_MODULE = "apps.payments.events"
# Messages about a booking that is still on; one that is cancelled before they go out has no use for them.
NEWS_OF_A_LIVE_BOOKING = ("booking_confirmed", "staff_booking_new", "booking_rescheduled", "staff_booking_changed")


def _booking(booking_id: int) -> Booking | None:
    return (
        Booking.objects.select_related("customer", "staff__user", "business", "service").filter(pk=booking_id).first()
    )


def _staff_plan(booking: Booking, template: str, key: str, context: dict[str, Any], *starts: Any) -> list[Plan]:
    """The staff member's notice of a change, when it is soon enough to be told now (else: the agenda); within a
    few minutes of their last one, it joins a summary (`services.coalesce`)."""
    now = timezone.now()
    if not staff_change_is_urgent(business=booking.business, starts=starts, now=now):
        return []
    return staff_notice_plans(booking=booking, template=template, key=key, context=context, now=now)


def _stamp(booking: Booking) -> int:
    """Tells one change of a booking from the next (each save moves `updated_at`)."""
    return int(booking.updated_at.timestamp() * 1_000_000)


def _planned(booking_id: int, event: str, plans: list[Plan]) -> None:
    ids = notifications_create(plans=plans)
    logger.info("notifications_planned", extra={"booking_id": booking_id, "event": event, "count": len(ids)})


def on_booking_confirmed(event: booking_events.BookingConfirmed) -> None:
    booking = _booking(event.booking_id)
    if booking is None or booking.status != Booking.Status.CONFIRMED:
        return
    plans = [
        Plan("booking_confirmed", booking.customer, f"booking_confirmed:{booking.pk}", booking.pk),
        *_staff_plan(booking, "staff_booking_new", f"staff_booking_new:{booking.pk}", {}, booking.start),
        *reminder_plans(booking, now=timezone.now()),
    ]
    _planned(booking.pk, "BookingConfirmed", plans)


def on_booking_rescheduled(event: booking_events.BookingRescheduled) -> None:
    booking = _booking(event.booking_id)
    if booking is None:
        return
    now = timezone.now()
    new_reminders = reminder_plans(booking, now=now) if booking.status == Booking.Status.CONFIRMED else []
    notifications_cancel(
        booking_id=booking.pk,
        templates=REMINDERS,
        reason="the booking was rescheduled",
        keep_event_keys=[p.event_key for p in new_reminders],
    )
    if booking.status != Booking.Status.CONFIRMED:
        return  # an unpaid hold moved: nobody has been told about it yet
    stamp = _stamp(booking)
    context = {"old_start": event.old_start, "new_start": booking.start}
    plans = [
        Plan("booking_rescheduled", booking.customer, f"booking_rescheduled:{booking.pk}:{stamp}", booking.pk, context),
        *_staff_plan(
            booking,
            "staff_booking_changed",
            f"staff_booking_changed:{booking.pk}:{stamp}",
            context,
            event.old_start,
            booking.start,
        ),
        *new_reminders,
    ]
    _planned(booking.pk, "BookingRescheduled", plans)


def on_booking_cancelled(event: booking_events.BookingCancelled) -> None:
    booking = _booking(event.booking_id)
    if booking is None:
        return
    notifications_cancel(
        booking_id=booking.pk, templates=[*REMINDERS, *NEWS_OF_A_LIVE_BOOKING], reason="the booking was cancelled"
    )
    was = (
        BookingStatusChange.objects.filter(booking_id=booking.pk, to_status=Booking.Status.CANCELLED)
        .order_by("-id")
        .values_list("from_status", flat=True)
        .first()
    )
    was_confirmed = was in (None, Booking.Status.CONFIRMED)
    context = {"reason": (event.reason or "")[:120], "by_business": event.by_business}
    plans = []
    if was_confirmed or event.by_business:
        template = "booking_cancelled_by_business" if event.by_business else "booking_cancelled"
        plans.append(Plan(template, booking.customer, f"booking_cancelled:{booking.pk}", booking.pk, context))
    if was_confirmed:
        key = f"staff_booking_cancelled:{booking.pk}"
        plans += _staff_plan(booking, "staff_booking_cancelled", key, context, booking.start)
    _planned(booking.pk, "BookingCancelled", plans)


def on_booking_finished(event: Any) -> None:
    """Expired, completed, no-show: nothing to say, but no reminder may go out any more."""
    notifications_cancel(
        booking_id=event.booking_id, templates=REMINDERS, reason=f"{type(event).__name__} (no reminder needed)"
    )


def _money(amount: Any, booking: Booking) -> dict[str, Any]:
    if isinstance(amount, Money):
        return amount.as_dict()
    if isinstance(amount, dict):
        return {"amount": int(amount["amount"]), "currency": amount.get("currency", booking.currency)}
    return {"amount": int(amount), "currency": booking.currency}


def _vat(amount: int, booking: Booking) -> dict[str, Any]:
    """The VAT an amount of the booking includes (its business is VAT-registered): the message's {vat}."""
    return {"amount": amount, "currency": booking.currency, "rate_bps": booking.vat_rate_bps}


def on_payment_captured(event: Any) -> None:
    """PaymentCaptured(payment_id, booking_id, amount): a receipt for the customer."""
    booking = _booking(event.booking_id)
    if booking is None:
        return
    context = {"amount": _money(event.amount, booking), "payment_id": event.payment_id}
    payment = booking.payments.filter(pk=event.payment_id).first()
    if payment is not None and booking.is_vat_invoiced and payment.captured_amount == context["amount"]["amount"]:
        context["vat"] = _vat(payment.captured_split.vat, booking)
    plans = [Plan("payment_receipt", booking.customer, f"payment_receipt:{event.payment_id}", booking.pk, context)]
    _planned(booking.pk, "PaymentCaptured", plans)


def on_payment_refunded(event: Any) -> None:
    """PaymentRefunded(payment_id, booking_id, refund_id, amount): a refund notice for the customer."""
    booking = _booking(event.booking_id)
    if booking is None:
        return
    context = {"amount": _money(event.amount, booking), "payment_id": event.payment_id, "refund_id": event.refund_id}
    payment = booking.payments.filter(pk=event.payment_id).first()
    refund = payment.refunds.filter(pk=event.refund_id).first() if payment is not None else None
    if refund is not None and booking.is_vat_invoiced and refund.amount == context["amount"]["amount"]:
        context["vat"] = _vat(refund.vat, booking)
    key = f"payment_refunded:{event.payment_id}:{event.refund_id}"
    _planned(booking.pk, "PaymentRefunded", [Plan("payment_refunded", booking.customer, key, booking.pk, context)])


def on_waitlist_offer_made(event: Any) -> None:
    """WaitlistOfferMade(offer_id, booking_id): the claim link for the customer the freed time is held for. The
    hold itself said nothing (`BookingCreated`); its confirmation, when claimed, is a `BookingConfirmed`."""
    booking = _booking(event.booking_id)
    if booking is None or booking.hold_expires_at is None:
        return
    context = {"waitlist_offer": event.offer_id, "expires_at": booking.hold_expires_at.isoformat()}
    plans = [Plan("waitlist_offer", booking.customer, f"waitlist_offer:{event.offer_id}", booking.pk, context)]
    _planned(booking.pk, "WaitlistOfferMade", plans)


def payment_event_types() -> dict[str, type]:
    """The payments app's event classes we react to, when that app publishes them (it may not exist)."""
    if importlib.util.find_spec(PAYMENT_EVENTS_MODULE) is None:
        return {}
    module = importlib.import_module(PAYMENT_EVENTS_MODULE)
    return {name: cls for name in ("PaymentCaptured", "PaymentRefunded") if (cls := getattr(module, name, None))}


def connect() -> list[str]:
    """Subscribe every handler (idempotent). Returns the names of the events wired, for logs and tests."""
    wiring: list[tuple[type, Any]] = [
        (booking_events.BookingConfirmed, on_booking_confirmed),
        (booking_events.BookingRescheduled, on_booking_rescheduled),
        (booking_events.BookingCancelled, on_booking_cancelled),
        (booking_events.BookingExpired, on_booking_finished),
        (booking_events.BookingCompleted, on_booking_finished),
        (booking_events.BookingNoShow, on_booking_finished),
    ]
    payments = payment_event_types()
    if "PaymentCaptured" in payments:
        wiring.append((payments["PaymentCaptured"], on_payment_captured))
    if "PaymentRefunded" in payments:
        wiring.append((payments["PaymentRefunded"], on_payment_refunded))
    wiring.append((waitlist_events.WaitlistOfferMade, on_waitlist_offer_made))
    for event_type, handler in wiring:
        events.subscribe(event_type, handler)
    return [event_type.__name__ for event_type, _ in wiring]
