"""What bookings holds about a person (docs/privacy.md): their bookings at every business, with their history.
On account deletion the future ones are cancelled as the business would cancel them (nothing kept: payments
voids or refunds in full, from jobs), and the bookings stay with the anonymous customer so that every total,
ledger and invoice still adds up; what the customer wrote (notes, address, reasons) is erased. Imported from
`BookingsConfig.ready()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apps.bookings.models import HOLDING_STATUSES, Booking, BookingStatusChange, CalendarFeedToken
from apps.bookings.services import booking_cancel
from apps.core.personal_data import deletion_steps, erase, keep, no_personal_data, register

DELETION_REASON = "account deleted"
LINKED = "kept with the anonymous customer: the business's records and the money trail (VAT law)"


def _name(row: Any) -> dict[str, str]:
    return {"ar": row.name_ar or row.name_en, "en": row.name_en}


def _history(booking: Booking) -> list[dict[str, Any]]:
    return [
        {
            "at": change.created_at,
            "from": change.from_status,
            "to": change.to_status,
            "by": "you" if change.actor_id == booking.customer_id else "business" if change.actor_id else "mawid",
            "reason": change.reason if change.actor_id == booking.customer_id else "",
            "moved_from": change.old_start,
            "moved_to": change.new_start,
        }
        for change in booking.history.order_by("created_at", "pk")
    ]


def _export(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.pk,
        "business": {"slug": booking.business.slug, "name": _name(booking.business)},
        "branch": _name(booking.branch) if booking.branch_id else None,
        "service": _name(booking.service),
        "staff": booking.staff.display_name,
        "status": booking.status,
        "start": booking.start,
        "end": booking.end,
        "price": {"amount": booking.price_amount, "vat": booking.price_vat, "currency": booking.currency},
        "notes": booking.notes,
        "customer_address": booking.customer_address,
        "cancel_reason": booking.cancel_reason,
        "created_at": booking.created_at,
        "history": _history(booking),
    }


def cancel_future_bookings(user: Any, now: datetime) -> None:
    """Each booking still to come is cancelled as its business would cancel it (money returned in full)."""
    future = Booking.objects.filter(customer_id=user.pk, status__in=HOLDING_STATUSES, start__gt=now).order_by("pk")
    for booking_id in future.values_list("pk", flat=True):
        booking_cancel(booking_id=booking_id, actor=None, reason=DELETION_REASON, now=now)


def declare() -> None:
    register(
        Booking,
        section="bookings",
        rows=lambda user: (
            Booking.objects.filter(customer_id=user.pk)
            .select_related("business", "branch", "service", "staff")
            .order_by("start", "pk")
        ),
        export=_export,
        fields={
            "customer": keep(LINKED),
            "notes customer_address cancel_reason": erase(""),
        },
    )
    register(
        BookingStatusChange,
        rows=lambda user: BookingStatusChange.objects.filter(booking__customer_id=user.pk),
        fields={"actor": keep("who changed a booking: the anonymous customer or the business"), "reason": erase("")},
    )
    no_personal_data(
        CalendarFeedToken,
        reason="a staff member's feed secret",
        not_personal={"token_hash": "a hash of a random secret"},
    )
    deletion_steps.register(cancel_future_bookings)
