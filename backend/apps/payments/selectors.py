"""Reads about payments. Access follows the booking: whoever may see the booking may see its payments; anyone
else gets a 404."""

from __future__ import annotations

import uuid
from typing import Any

from apps.accounts.models import User
from apps.bookings.selectors import booking_get_for_user
from apps.core.errors import NotFound
from apps.payments.models import Payment


def payment_get_for_user(*, user: User, payment_id: int) -> Payment:
    """The payment when `user` may see its booking (the customer, the staff member, a manager); `NotFound` else."""
    payment = Payment.objects.select_related("booking").prefetch_related("refunds").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound()
    booking_get_for_user(user=user, booking_id=payment.booking_id)
    return payment


def payment_get_by_reference(*, reference: str) -> Payment | None:
    """Our payment named by an id Moyasar uses for it: its Moyasar id, or our given_id (the id Moyasar gives a
    payment created with it). None for anything else: nobody is asked about ids that are not ours."""
    payment = Payment.objects.select_related("booking").filter(provider_id=reference).first()
    if payment is None:
        try:
            given = uuid.UUID(reference)
        except ValueError:
            return None
        payment = Payment.objects.select_related("booking").filter(given_id=given).first()
    return payment


def payment_for_bookings(booking_ids: list[int]) -> dict[int, Payment]:
    """Per booking, the payment to show: the one that paid for it, else the latest attempt. One query."""
    rows = (
        Payment.objects.filter(booking_id__in=booking_ids)
        .order_by("booking_id", "-is_booking_payment", "-created_at", "-id")
        .distinct("booking_id")
    )
    return {payment.booking_id: payment for payment in rows}


def payment_summary(payment: Payment) -> dict[str, Any]:
    money = {"currency": payment.currency}
    return {
        "id": payment.pk,
        "status": payment.status,
        "amount": {"amount": payment.amount, **money},
        "captured": {"amount": payment.captured_amount, **money},
        "refunded": {"amount": payment.refunded_amount, **money},
        "transaction_url": payment.transaction_url or None,
    }


def payment_summaries(booking_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Registered in `apps.bookings.hooks.payment_summary_source`: booking JSON shows `"payment": {...}`."""
    return {booking_id: payment_summary(p) for booking_id, p in payment_for_bookings(list(booking_ids)).items()}
