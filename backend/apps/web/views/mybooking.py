"""One of the customer's own bookings, from the payment on: pay with Moyasar's form (`/my/bookings/ID/pay`), come
back from it (`/paid`, verified with Moyasar on the server), the booking's page (`/my/bookings/ID`) with its
calendar file, share link and receipt, and cancel or move it within the business's rules.

Every address answers 404 for a booking that is not the signed-in customer's own (even for its business's
managers: they have the calendar). The services decide every rule (`apps.bookings.services`,
`apps.payments.services`); the pages only show what the customer may try and explain a refusal.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.bookings import calendar_feed
from apps.bookings import services as bookings
from apps.bookings.errors import SlotUnavailable
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get_for_user
from apps.catalog.selectors import slot_list_available
from apps.core.errors import DomainError, NotFound
from apps.invoicing.selectors import invoice_label, invoices_for_booking
from apps.payments import services as payments
from apps.payments.errors import BookingAlreadyPaid, BookingNotPayable
from apps.payments.models import Payment, PaymentEvent
from apps.payments.providers.base import GatewayError
from apps.payments.selectors import booking_balance_for, payment_for_bookings, payment_get_by_reference
from apps.web.payment_form import moyasar_form_urls
from apps.web.templatetags.web_home import money_text
from apps.web.throttling import check_throttle
from apps.web.views.common import error_text
from apps.web.views.receipt import booking_view

S = Booking.Status
P = Payment.Status
HELD = (S.PENDING_PAYMENT, S.CONFIRMED)  # the statuses a customer may still cancel or move
PAID = (P.AUTHORIZED, P.CAPTURED)
RESCHEDULE_DAYS = 14  # the date strip of the reschedule page (cut to the business's booking window)
REASON_MAX = 500


def _own_booking(request: HttpRequest, booking_id: int) -> Booking:
    """The signed-in customer's own booking; 404 for anyone else's (a manager's or a staff member's view of it
    included: this is the customer's page)."""
    try:
        booking = booking_get_for_user(user=request.user, booking_id=booking_id)  # type: ignore[arg-type]
    except NotFound as missing:
        raise Http404 from missing
    if booking.customer_id != request.user.pk:
        raise Http404
    return booking


def _detail(booking: Booking, query: str = "") -> str:
    return reverse("web:booking", args=[booking.pk]) + (f"?{query}" if query else "")


def _local(moment: datetime, booking: Booking, fmt: str = "l j F Y") -> str:
    return date_format(moment.astimezone(booking.business.tz), fmt)


def _hhmm(moment: datetime, booking: Booking) -> str:
    return moment.astimezone(booking.business.tz).strftime("%H:%M")


def _changeable_online(booking: Booking, now: datetime) -> bool:
    """Whether the page offers cancel and move (the services decide again): an unpaid hold at any time, a
    confirmed booking until the business's cut-off before it starts."""
    if booking.status == S.PENDING_PAYMENT:
        return True
    return booking.status == S.CONFIRMED and now < booking.start - booking.business.cancellation_cutoff


# --- the booking's page ---------------------------------------------------------------------------------------


@require_GET
@login_required
def booking_detail(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    now = timezone.now()
    payment = payment_for_bookings([booking.pk]).get(booking.pk)
    view = booking_view(booking, payment, now=now)
    paid = payment is not None and payment.status in PAID and not payment.mismatch
    payable = booking.status == S.PENDING_PAYMENT and (booking.hold_expires_at is None or booking.hold_expires_at > now)
    changeable = _changeable_online(booking, now)
    cutoff = booking.start - booking.business.cancellation_cutoff
    balance = booking_balance_for(booking.pk)
    late_cancel = booking.status == S.CONFIRMED and cutoff <= now < booking.start
    fee_text = money_text(balance.cancellation_fee, booking.currency)
    returned = max(0, balance.paid_online - balance.cancellation_fee)
    business_url = request.build_absolute_uri(reverse("web:business", args=[booking.business.slug]))
    context: dict[str, Any] = {
        "b": view,
        "booking": booking,
        "business": booking.business,
        "branch": view.branch,
        "payment": payment,
        "end_time": _hhmm(booking.end, booking),
        # the banners: what the return from Moyasar said, shown only when the booking's state agrees
        "just_paid": request.GET.get("paid") == "1" and booking.status == S.CONFIRMED and paid,
        "payment_failed": request.GET.get("paid") == "0" and payable,
        "failure_reason": payment.message if payment is not None and payment.status == P.FAILED else "",
        "payable": payable,
        "hold_over": booking.status == S.EXPIRED or (booking.status == S.PENDING_PAYMENT and not payable),
        "hold_until": _hhmm(booking.hold_expires_at, booking) if payable and booking.hold_expires_at else "",
        "can_change": changeable,
        "too_late": booking.status == S.CONFIRMED and not changeable and not late_cancel and booking.start > now,
        # R10: after the cut-off the customer may still cancel; the page says what the business keeps first
        "late_cancel": late_cancel,
        "cancellation_fee": balance.cancellation_fee,
        "fee_text": fee_text,
        "returned_text": money_text(returned, booking.currency),
        "late_confirm": (
            _("Cancel this booking? %(fee)s will be kept as the late-cancellation fee.") % {"fee": fee_text}
            if balance.cancellation_fee
            else _("Cancel this booking?")
        ),
        "balance": balance,
        "show_balance": booking.payment_policy != "full" or balance.paid_at_venue > 0,
        "paid_online_text": money_text(balance.paid_online, booking.currency),
        "paid_at_venue_text": money_text(balance.paid_at_venue, booking.currency),
        "due_text": money_text(balance.due, booking.currency),
        "cutoff": f"{_local(cutoff, booking)} {_hhmm(cutoff, booking)}" if booking.status == S.CONFIRMED else "",
        "calendar": booking.status in HELD,
        "share_url": business_url,
        "share_text": _("Book at %(business)s on Mawid") % {"business": booking.business.name},
        "reason_max": REASON_MAX,
        # ZATCA simplified tax invoices and credit notes (apps.invoicing): a link to each one's page
        "invoices": [
            (reverse("invoice_page", args=[booking.pk, i.pk]), invoice_label(i, translation.get_language() or "ar"))
            for i in invoices_for_booking(booking)
        ],
    }
    return render(request, "web/booking_detail.html", context)


# --- paying ---------------------------------------------------------------------------------------------------


def _sync_handed_out(booking: Booking) -> None:
    """Parameters handed out before may have been used already: the payer went back from the 3-D Secure page, or
    reloads. Ask Moyasar about them (the payments service; nothing is asked when none were handed out), so that a
    used set gives way to a fresh one instead of a form that Moyasar refuses (`used_given_id`)."""
    earlier = payment_for_bookings([booking.pk]).get(booking.pk)
    if earlier is None or earlier.flow != Payment.Flow.CLIENT or earlier.status != P.AWAITING_CLIENT:
        return
    if earlier.provider_id is not None:
        return
    with contextlib.suppress(GatewayError):  # Moyasar unreachable: the form says so if the set was used
        payments.payment_sync(payment_id=earlier.pk, source=PaymentEvent.Source.API)


@require_GET
@login_required
def booking_pay(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Moyasar's payment form, configured as `POST /api/v1/bookings/ID/pay` with `{}` configures a client (the
    same service), except that Moyasar sends the browser back to this booking's own `/paid` address."""
    booking = _own_booking(request, booking_id)
    try:
        check_throttle(request)
        _sync_handed_out(booking)
        payment = payments.payment_start(user=request.user, booking_id=booking.pk, token=None)  # type: ignore[arg-type]
    except (BookingAlreadyPaid, BookingNotPayable) as refused:
        messages.info(request, error_text(refused))
        return redirect(_detail(booking))
    except DomainError as error:
        messages.error(request, error_text(error))
        return redirect(_detail(booking))
    callback = request.build_absolute_uri(reverse("web:booking_paid", args=[booking.pk]))
    params = dataclasses.replace(payments.client_parameters(payment), callback_url=callback)
    config = {
        "element": ".mysr-form",
        "amount": params.amount,
        "currency": params.currency,
        "description": params.description,
        "publishable_api_key": params.publishable_key,
        "callback_url": params.callback_url,
        "methods": ["creditcard"],
        "supported_networks": ["mada", "visa", "mastercard", "amex"],
        "metadata": params.metadata,
        "given_id": params.given_id,
        "manual": params.manual,
        "language": "ar" if (request.LANGUAGE_CODE or "ar").startswith("ar") else "en",
    }
    script_url, style_url = moyasar_form_urls()
    payment_row = payment_for_bookings([booking.pk]).get(booking.pk)
    context = {
        "b": booking_view(booking, payment_row, now=timezone.now()),
        "booking": booking,
        "config": config,
        "form_script": script_url,
        "form_style": style_url,
        "hold_until": _hhmm(booking.hold_expires_at, booking) if booking.hold_expires_at else "",
        "end_time": _hhmm(booking.end, booking),
    }
    response = render(request, "web/booking_pay.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def booking_paid(request: HttpRequest, booking_id: int) -> HttpResponse:
    """Where Moyasar sends the browser after the form (and 3-D Secure): `?id=...&status=...&message=...`. Only the
    id is read, and only when it names a payment of this booking; the payment is then fetched from Moyasar and
    applied by the service of `GET /payments/return` (`payment_sync_on_return`). The status in the address is
    never believed."""
    booking = _own_booking(request, booking_id)
    reference = request.GET.get("id", "").strip()
    valid = bool(reference) and len(reference) <= 64
    if valid:
        try:
            check_throttle(request)  # what follows may ask Moyasar
        except DomainError as error:
            messages.error(request, error_text(error))
            return redirect(_detail(booking))
    ours = payment_get_by_reference(reference=reference) if valid else None
    if ours is None and valid:
        # A form that did not use our given_id: Moyasar named the payment itself. Ask about the parameters this
        # booking was handed (found by their metadata), never about the id typed in the address.
        _sync_handed_out(booking)
        ours = payment_get_by_reference(reference=reference)
    if ours is None or ours.booking_id != booking.pk:
        messages.error(request, _("We could not find this payment for your booking. You have not been charged."))
        return redirect(_detail(booking, "paid=0"))
    returned = payments.payment_sync_on_return(reference=reference)
    if returned is None:
        messages.error(request, _("We could not find this payment for your booking. You have not been charged."))
        return redirect(_detail(booking, "paid=0"))
    payment = returned.payment
    if not returned.confirmed or payment.status in (P.INITIATED, P.AWAITING_CLIENT):
        messages.info(request, _("Your payment is still being processed. This page will show it when it is done."))
        return redirect(_detail(booking))
    if payment.status in PAID and not payment.mismatch and returned.booking_status == S.CONFIRMED:
        return redirect(_detail(booking, "paid=1"))  # the page's banner says it
    if payment.status in PAID or payment.mismatch:
        messages.error(request, _("This payment could not be used for the booking. It will be returned to your card."))
        return redirect(_detail(booking))
    return redirect(_detail(booking, "paid=0"))  # the page's banner explains it, with the way to try again


# --- the calendar file ----------------------------------------------------------------------------------------


@require_GET
@login_required
def booking_ics(request: HttpRequest, booking_id: int) -> HttpResponse:
    """An iCalendar file (RFC 5545) of the booking, in UTC, for "Add to calendar" (apps/bookings/calendar_feed.py:
    the same UID for the booking's life, SEQUENCE growing with each change, cancelled once cancelled)."""
    booking = calendar_feed.booking_ics_for_customer(booking_id=booking_id, customer_id=request.user.pk or 0)
    if booking is None:
        raise Http404
    body = calendar_feed.booking_ics(booking, url=request.build_absolute_uri(_detail(booking)))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mawid-booking-{booking.pk}.ics"'
    response["Cache-Control"] = "private, no-cache"
    return response


# --- cancel and move ------------------------------------------------------------------------------------------


@require_POST
@login_required
def booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    booking = _own_booking(request, booking_id)
    reason = request.POST.get("reason", "").strip()
    if len(reason) > REASON_MAX:
        messages.error(request, _("The reason is too long (at most %(n)d characters).") % {"n": REASON_MAX})
        return redirect(_detail(booking))
    try:
        check_throttle(request)
        was = booking.status
        fee = booking_balance_for(booking.pk).cancellation_fee
        bookings.booking_cancel(booking_id=booking.pk, actor=request.user, reason=reason)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error_text(error))
        return redirect(_detail(booking))
    if was == S.CONFIRMED:
        messages.success(request, _("Your booking is cancelled. Your payment will be released or refunded."))
        if fee:
            messages.info(
                request,
                _("The business keeps %(fee)s as its late-cancellation fee.")
                % {"fee": money_text(fee, booking.currency)},
            )
    else:
        messages.success(request, _("Your booking is cancelled."))
    return redirect(_detail(booking))


def _reschedule_days(booking: Booking, now: datetime) -> list[date]:
    today = now.astimezone(booking.business.tz).date()
    last = today + timedelta(days=min(RESCHEDULE_DAYS, booking.business.max_advance_days) - 1)
    return [today + timedelta(days=n) for n in range((last - today).days + 1)]


@login_required
def booking_reschedule(request: HttpRequest, booking_id: int) -> HttpResponse:
    """GET: the free times of a day (`?date=`) with the same staff member and service, from the availability the
    API lists; POST `start`: move the booking there (`booking_reschedule`). A time taken meanwhile explains itself
    and shows the day's fresh times."""
    booking = _own_booking(request, booking_id)
    now = timezone.now()
    if request.method == "POST":
        return _reschedule_post(request, booking)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if not _changeable_online(booking, now):
        messages.error(request, _("This booking cannot be moved online. Please contact the business."))
        return redirect(_detail(booking))
    days = _reschedule_days(booking, now)
    chosen = parse_date(request.GET.get("date", "") or "") if len(request.GET.get("date", "")) == 10 else None
    if chosen is None or chosen not in days:
        chosen = max(days[0], min(booking.start.astimezone(booking.business.tz).date(), days[-1]))
    times: list[dict[str, str]] = []
    try:
        result = slot_list_available(staff=booking.staff, service=booking.service, date_from=chosen, date_to=chosen)
        times = [
            {"value": slot.start.astimezone(booking.business.tz).isoformat(), "label": _hhmm(slot.start, booking)}
            for slot in result.slots
            if slot.start != booking.start
        ]
    except DomainError as error:  # the staff member or the service is no longer offered
        messages.error(request, error_text(error))
    strip = [
        {
            "date": day.isoformat(),
            "weekday": date_format(day, "D"),
            "day": str(day.day),
            "month": date_format(day, "M"),
            "current": day == chosen,
        }
        for day in days
    ]
    context = {
        "b": booking_view(booking, None, now=now),
        "booking": booking,
        "days": strip,
        "chosen": date_format(chosen, "l j F"),
        "times": times,
    }
    return render(request, "web/booking_reschedule.html", context)


def _reschedule_post(request: HttpRequest, booking: Booking) -> HttpResponse:
    raw = request.POST.get("start", "")
    try:
        start = parse_datetime(raw) if len(raw) <= 40 else None
    except ValueError:
        start = None
    here = reverse("web:booking_reschedule", args=[booking.pk])
    if start is None or start.utcoffset() is None:
        messages.error(request, _("Choose one of the free times."))
        return redirect(here)
    day = start.astimezone(booking.business.tz).date().isoformat()
    try:
        check_throttle(request)
        moved = bookings.booking_reschedule(
            booking_id=booking.pk, start=start, actor=request.user,  # type: ignore[arg-type]
            reason=_("Moved by the customer on the website"),
        )  # fmt: skip
    except SlotUnavailable:
        messages.error(request, _("This time was just taken. Here are the free times now."))
        return redirect(f"{here}?date={day}")
    except DomainError as error:
        messages.error(request, error_text(error))
        return redirect(_detail(booking))
    messages.success(
        request,
        _("Your booking is moved to %(date)s at %(time)s.")
        % {"date": _local(moved.start, moved), "time": _hhmm(moved.start, moved)},
    )
    return redirect(_detail(booking))


urlpatterns = [
    path("my/bookings/<int:booking_id>", booking_detail, name="booking"),
    path("my/bookings/<int:booking_id>/pay", booking_pay, name="booking_pay"),
    path("my/bookings/<int:booking_id>/paid", booking_paid, name="booking_paid"),
    path("my/bookings/<int:booking_id>/calendar.ics", booking_ics, name="booking_ics"),
    path("my/bookings/<int:booking_id>/cancel", booking_cancel, name="booking_cancel"),
    path("my/bookings/<int:booking_id>/reschedule", booking_reschedule, name="booking_reschedule"),
]
