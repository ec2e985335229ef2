"""A booking as the customer's pages show it (my bookings, the receipt), and the printable receipt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get_for_user
from apps.catalog.models import Branch
from apps.core.errors import NotFound
from apps.payments.models import Payment
from apps.payments.selectors import payment_for_bookings
from apps.web.templatetags.web_home import money_text
from apps.web.views.common import hijri_label

S = Booking.Status
P = Payment.Status
BADGE: dict[str, str] = {
    S.CONFIRMED: "",
    S.COMPLETED: "",
    S.PENDING_PAYMENT: "warn",
    S.CANCELLED: "bad",
    S.NO_SHOW: "bad",
    S.EXPIRED: "bad",
}


@dataclass(frozen=True, slots=True)
class BookingView:
    booking: Booking
    branch: Branch | None
    date: str  # local, in the business's time zone, in the active language
    hijri: str  # the same day in the Umm al-Qura calendar, in the active language ("" outside its range)
    time: str
    status: str
    badge: str  # "", "warn", "bad": the badge's colour
    payment: Payment | None
    payment_text: str  # one line: "Paid 150 SAR", "Refunded 150 SAR", "Pay at the business" ...
    card: str  # brand and last four digits only
    reference: str

    @property
    def detail_path(self) -> str:
        return reverse("web:booking", args=[self.booking.pk])


def masked_card(card: str) -> str:
    """ "visa 4111-11XX-XXXX-1111" -> "VISA •••• 1111": the brand and the last four digits, nothing else."""
    if not card:
        return ""
    brand = card.split()[0].upper() if card.split() and not card.split()[0][:1].isdigit() else ""
    last = "".join(re.findall(r"\d", card))[-4:]
    return f"{brand} •••• {last}".strip() if last else brand


def payment_line(payment: Payment | None, booking: Booking) -> str:
    if payment is None:
        return _("Pay at the business") if booking.status != S.CANCELLED else _("Not paid")
    amount = payment.currency
    if payment.refunded_amount and payment.refunded_amount >= payment.captured_amount:
        return _("Refunded %(amount)s") % {"amount": money_text(payment.refunded_amount, amount)}
    if payment.refunded_amount:
        return _("Paid %(paid)s, refunded %(refunded)s") % {
            "paid": money_text(payment.captured_amount, amount),
            "refunded": money_text(payment.refunded_amount, amount),
        }
    if payment.captured_amount:
        return _("Paid %(amount)s") % {"amount": money_text(payment.captured_amount, amount)}
    if payment.status == P.AUTHORIZED:
        return _("Card authorized for %(amount)s") % {"amount": money_text(payment.authorized_amount, amount)}
    if payment.status == P.VOIDED:
        return _("Payment released (not charged)")
    if payment.status in {P.AWAITING_CLIENT, P.INITIATED}:
        return _("Awaiting payment")
    return _("Not paid")


@dataclass(frozen=True, slots=True)
class VatLine:
    """One amount as the tax documents state it: net + vat = gross (halalas)."""

    net: int
    vat: int
    gross: int


@dataclass(frozen=True, slots=True)
class ReceiptVat:
    """The receipt's VAT lines, where the booking's business was VAT-registered: the price (the invoice), what was
    paid, what was refunded (the credit notes) and what was kept; each line adds up, and kept = paid - refunded."""

    rate_bps: int
    price: VatLine
    paid: VatLine | None
    refunded: VatLine | None
    kept: VatLine | None


def receipt_vat(booking: Booking, payment: Payment | None) -> ReceiptVat | None:
    if not booking.is_vat_invoiced:
        return None
    price = VatLine(net=booking.price_net, vat=booking.price_vat, gross=booking.price_amount)
    paid = refunded = kept = None
    if payment is not None and payment.captured_amount:
        split = payment.captured_split
        paid = VatLine(net=split.net, vat=split.vat, gross=split.gross)
        done = [r for r in payment.refunds.all() if r.status == r.Status.SUCCEEDED]
        if done:
            r_net, r_vat = sum(r.net for r in done), sum(r.vat for r in done)
            refunded = VatLine(net=r_net, vat=r_vat, gross=r_net + r_vat)
            kept = VatLine(net=paid.net - r_net, vat=paid.vat - r_vat, gross=paid.gross - r_net - r_vat)
    return ReceiptVat(rate_bps=booking.vat_rate_bps, price=price, paid=paid, refunded=refunded, kept=kept)


def booking_reference(booking: Booking) -> str:
    return f"MW-{booking.pk:06d}"


def booking_view(booking: Booking, payment: Payment | None, *, now: datetime | None = None) -> BookingView:
    local = booking.start.astimezone(booking.business.tz)
    return BookingView(
        booking=booking,
        branch=booking.branch or booking.staff.branch,
        date=date_format(local, "l j F Y"),
        hijri=hijri_label(local),
        time=local.strftime("%H:%M"),
        status=booking.get_status_display(),
        badge=BADGE.get(booking.status, ""),
        payment=payment,
        payment_text=payment_line(payment, booking),
        card=masked_card(payment.card) if payment else "",
        reference=booking_reference(booking),
    )


@require_GET
@login_required
def booking_receipt(request: HttpRequest, booking_id: int) -> HttpResponse:
    """The printable receipt of one of the customer's own bookings; 404 for anyone else's (even a manager's)."""
    try:
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)  # type: ignore[arg-type]
    except NotFound as missing:
        raise Http404 from missing
    if booking.customer_id != request.user.pk:
        raise Http404
    payment = payment_for_bookings([booking.pk]).get(booking.pk)
    view = booking_view(booking, payment, now=timezone.now())
    issued = date_format(timezone.now().astimezone(booking.business.tz), "j F Y")
    context = {"b": view, "booking": booking, "issued": issued, "vat": receipt_vat(booking, payment)}
    return render(request, "web/receipt.html", context)


urlpatterns = [
    path("my/bookings/<int:booking_id>/receipt", booking_receipt, name="booking_receipt"),
]
