"""Reads about payments. Access follows the booking: whoever may see the booking may see its payments; anyone
else gets a 404. The settlement statement reads a business's ledger (its caller checks the manager)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get_for_user
from apps.catalog.errors import InvalidDateRange
from apps.catalog.models import Business
from apps.catalog.payment_terms import late_cancel_fee
from apps.core.errors import NotFound
from apps.core.money import vat_line
from apps.payments.models import MONEY_STATUSES, LedgerEntry, Payment, VenuePayment


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
        .select_related("booking")
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
        "amount_vat": vat_line(
            net=payment.amount_net,
            vat=payment.amount_vat,
            rate_bps=payment.booking.vat_rate_bps,
            currency=payment.currency,
        ),
        "captured": {"amount": payment.captured_amount, **money},
        "refunded": {"amount": payment.refunded_amount, **money},
        # STC Pay's URL takes the OTP (through `POST /payments/ID/stcpay-otp`): nothing for a client to open
        "transaction_url": (payment.transaction_url or None) if payment.method != Payment.Method.STCPAY else None,
        "method": payment.method,
        "card_scheme": payment.card_scheme,
        "otp_required": payment.method == Payment.Method.STCPAY
        and payment.status == Payment.Status.INITIATED
        and bool(payment.transaction_url),
        "purpose": payment.purpose,
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
    the business = captured - refunded - commission) and `fees_kept` (late-cancellation fees, already in `captured`).

    VAT (docs/payments.md, "VAT"): each entry states its gross as the invoices and credit notes do (`sale_net` +
    `sale_vat`), so `sales_net` + `vat` = `gross` to the halala; `captured_vat` and `refunded_vat` (positive) are
    the VAT of the captures and of what refunds and voids gave back, `fees_kept_vat` the VAT in the fees kept."""

    business: Business
    start: date
    end: date
    entries: list[LedgerEntry]
    captured: int
    refunded: int
    commission: int
    net: int
    fees_kept: int
    sales_net: int = 0
    vat: int = 0
    captured_vat: int = 0
    refunded_vat: int = 0
    fees_kept_vat: int = 0

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
        sales_net=sum(e.sale_net for e in entries),
        vat=sum(e.sale_vat for e in entries),
        captured_vat=sum(e.sale_vat for e in entries if e.kind == LedgerEntry.Kind.CAPTURE),
        refunded_vat=-sum(e.sale_vat for e in entries if e.kind != LedgerEntry.Kind.CAPTURE),
        fees_kept_vat=sum(e.fee_kept_vat for e in entries),
    )


# --- what a booking has paid and what is due ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingBalance:
    """What a booking has paid and still owes, in minor units of its currency.

    `paid_online`: what its payment holds (authorized or captured) less refunds; `paid_at_venue`: the payments the
    business recorded at the venue; `due`: what is still to pay at the venue (0 once cancelled, expired or a
    no-show); `cancellation_fee`: what the customer's cancellation now would keep (0 before the cut-off)."""

    policy: str
    due_online: int
    paid_online: int
    paid_at_venue: int
    due: int
    cancellation_fee: int
    late_cancellation: bool
    currency: str

    def as_dict(self) -> dict[str, Any]:
        def money(amount: int) -> dict[str, Any]:
            return {"amount": amount, "currency": self.currency}

        return {
            "payment_policy": self.policy,
            "due_online": money(self.due_online),
            "paid_online": money(self.paid_online),
            "paid_at_venue": money(self.paid_at_venue),
            "due": money(self.due),
            "cancellation_fee": money(self.cancellation_fee),
            "late_cancellation": self.late_cancellation,
        }


def paid_online(payment: Payment | None) -> int:
    if payment is None or payment.status not in MONEY_STATUSES:
        return 0
    return (payment.captured_amount or payment.authorized_amount) - payment.refunded_amount


def venue_totals(booking_ids: list[int]) -> dict[int, int]:
    rows = VenuePayment.objects.filter(booking_id__in=booking_ids).values("booking_id").annotate(total=Sum("amount"))
    return {row["booking_id"]: row["total"] or 0 for row in rows}


def _booking_payments(booking_ids: list[int]) -> dict[int, Payment]:
    rows = Payment.objects.filter(booking_id__in=booking_ids, is_booking_payment=True)
    return {payment.booking_id: payment for payment in rows}


def booking_balance(
    booking: Booking, *, payment: Payment | None, venue_total: int, now: datetime | None = None
) -> BookingBalance:
    """The balance of `booking` (with its service and business loaded) from its payment and venue total."""
    now = now or timezone.now()
    online = paid_online(payment)
    S = Booking.Status
    owing = booking.status in (S.PENDING_PAYMENT, S.CONFIRMED, S.COMPLETED)
    late = booking.status == S.CONFIRMED and booking.start - booking.business.cancellation_cutoff <= now < booking.start
    fee = 0
    if late and payment is not None and online > 0:
        fee = late_cancel_fee(
            price=booking.price_amount,
            paid=online,
            is_deposit=payment.purpose == Payment.Purpose.DEPOSIT,
            service=booking.service,
            business=booking.business,
        )
    return BookingBalance(
        policy=booking.payment_policy,
        due_online=booking.online_amount,
        paid_online=online,
        paid_at_venue=venue_total,
        due=max(0, booking.price_amount - online - venue_total) if owing else 0,
        cancellation_fee=fee,
        late_cancellation=late,
        currency=booking.currency,
    )


def booking_balances(booking_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Registered in `apps.bookings.hooks.booking_balance_source`: booking JSON shows `"balance": {...}`. One
    query for a page of bookings (the payment's totals and the venue total as subqueries)."""
    ids = list(booking_ids)
    if not ids:
        return {}
    paying = Payment.objects.filter(booking_id=OuterRef("pk"), is_booking_payment=True)
    venue = (
        VenuePayment.objects.filter(booking_id=OuterRef("pk"))
        .order_by()
        .values("booking_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    bookings = (
        Booking.objects.filter(pk__in=ids)
        .select_related("service", "business")
        .annotate(
            venue_total=Subquery(venue),
            **{f"p_{name}": Subquery(paying.values(name)[:1]) for name in _PAYMENT_FIELDS},
        )
    )
    now = timezone.now()
    out = {}
    for b in bookings:
        payment = None
        if b.p_id is not None:  # type: ignore[attr-defined]
            payment = Payment(booking_id=b.pk, **{name: getattr(b, f"p_{name}") for name in _PAYMENT_FIELDS})
        balance = booking_balance(b, payment=payment, venue_total=b.venue_total or 0, now=now)
        out[b.pk] = balance.as_dict()
    return out


#: What the balance reads of a booking's payment (one query for a page: `booking_balances`).
_PAYMENT_FIELDS = ("id", "status", "purpose", "authorized_amount", "captured_amount", "refunded_amount")


def booking_balance_for(booking_id: int) -> BookingBalance:
    booking = Booking.objects.select_related("service", "business").get(pk=booking_id)
    payment = _booking_payments([booking_id]).get(booking_id)
    return booking_balance(booking, payment=payment, venue_total=venue_totals([booking_id]).get(booking_id, 0))


def venue_payments_of(booking_id: int) -> list[VenuePayment]:
    return list(VenuePayment.objects.filter(booking_id=booking_id).select_related("recorded_by").order_by("created_at"))
