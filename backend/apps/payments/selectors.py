"""Reads about payments. Access follows the booking: whoever may see the booking may see its payments; anyone
else gets a 404. The settlement statement reads a business's ledger (its caller checks the manager)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.bookings.selectors import booking_get_for_user
from apps.catalog.errors import InvalidDateRange
from apps.catalog.models import Business
from apps.core.errors import NotFound
from apps.payments.models import LedgerEntry, Payment


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
        # STC Pay's URL takes the OTP (through `POST /payments/ID/stcpay-otp`): nothing for a client to open
        "transaction_url": (payment.transaction_url or None) if payment.method != Payment.Method.STCPAY else None,
        "method": payment.method,
        "card_scheme": payment.card_scheme,
        "otp_required": payment.method == Payment.Method.STCPAY
        and payment.status == Payment.Status.INITIATED
        and bool(payment.transaction_url),
    }


def payment_summaries(booking_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Registered in `apps.bookings.hooks.payment_summary_source`: booking JSON shows `"payment": {...}`."""
    return {booking_id: payment_summary(p) for booking_id, p in payment_for_bookings(list(booking_ids)).items()}


# --- the per-business ledger ----------------------------------------------------------------------------------

#: The longest settlement statement one request may ask for (local days, both ends included).
STATEMENT_MAX_DAYS = 366
# Dates outside this range are refused before any date arithmetic (or the database's) can overflow.
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(9000, 12, 31)


@dataclass(frozen=True, slots=True)
class SettlementStatement:
    """A business's ledger entries whose money moved in [start, end] (local dates in its time zone, both included),
    oldest first, and their totals in minor units: `captured` (captures), `refunded` (refunds and voids of captured
    money, as a positive amount), `commission` (the platform's, net of what refunds gave back), `net` (payable to
    the business = captured - refunded - commission) and `fees_kept` (late-cancellation fees, already in `captured`)."""

    business: Business
    start: date
    end: date
    entries: list[LedgerEntry]
    captured: int
    refunded: int
    commission: int
    net: int
    fees_kept: int

    @property
    def gross(self) -> int:
        return self.captured - self.refunded


def settlement_statement(*, business: Business, start: date, end: date) -> SettlementStatement:
    """The settlement statement of `business` for local dates `start`..`end`. One query (entries with their
    payments). `InvalidDateRange` when it ends before it starts or spans more than `STATEMENT_MAX_DAYS`."""
    for name, day in (("from", start), ("to", end)):
        if not _FIRST_DAY <= day <= _LAST_DAY:
            raise InvalidDateRange(fields={name: [f"A date from {_FIRST_DAY} to {_LAST_DAY}."]})
    if end < start:
        raise InvalidDateRange(fields={"to": ["The period ends before it starts."]})
    if (end - start).days + 1 > STATEMENT_MAX_DAYS:
        raise InvalidDateRange(
            _("A statement covers at most %(days)s days.") % {"days": STATEMENT_MAX_DAYS},
            fields={"to": [f"At most {STATEMENT_MAX_DAYS} days after `from`."]},
        )
    tz = business.tz
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    entries = list(
        LedgerEntry.objects.filter(business=business, occurred_at__gte=since, occurred_at__lt=until)
        .select_related("payment")
        .order_by("occurred_at", "pk")
    )
    captured = sum(e.gross for e in entries if e.kind == LedgerEntry.Kind.CAPTURE)
    return SettlementStatement(
        business=business,
        start=start,
        end=end,
        entries=entries,
        captured=captured,
        refunded=captured - sum(e.gross for e in entries),
        commission=sum(e.commission for e in entries),
        net=sum(e.net for e in entries),
        fees_kept=sum(e.fee_kept for e in entries),
    )
