"""The waitlist's claim page (`/waitlist/claim/<token>`), where the message's link leads: the time held for the
signed-in customer until the claim window ends, and two buttons, take it or let it go. Taking it confirms the
booking, or leads to its payment page when the service is paid online; the services decide every rule
(`apps.waitlist.services`). Someone else's link is 404."""

from __future__ import annotations

from datetime import date, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.bookings.models import Booking
from apps.catalog.selectors import service_get_active
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.waitlist import selectors
from apps.waitlist import services as waitlist
from apps.waitlist.models import WaitlistOffer
from apps.web.views.common import error_text


@login_required
def waitlist_claim(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = selectors.offer_get_for_customer(token=token, customer_id=request.user.pk or 0)
    except NotFound as missing:
        raise Http404 from missing
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "decline":
                waitlist.waitlist_offer_decline(token=token, customer=request.user)  # type: ignore[arg-type]
                return redirect("web:waitlist_claim", token=token)
            _offer, hold = waitlist.waitlist_offer_claim(token=token, customer=request.user)  # type: ignore[arg-type]
        except DomainError as refused:
            error = error_text(refused)
        else:
            if hold.status == Booking.Status.PENDING_PAYMENT:
                return redirect("web:booking_pay", booking_id=hold.pk)
            return redirect("web:booking", booking_id=hold.pk)
        offer = selectors.offer_get_for_customer(token=token, customer_id=request.user.pk or 0)
    tz = offer.business.tz
    is_open = offer.status == WaitlistOffer.Status.OFFERED and timezone.now() < offer.expires_at
    context = {
        "offer": offer,
        "service": offer.entry.service,
        "start": offer.start.astimezone(tz),
        "expires": offer.expires_at.astimezone(tz),
        "is_open": is_open,
        "pays_online": offer.hold.online_amount > 0,
        "error": error,
    }
    return render(request, "web/waitlist_claim.html", context, status=200 if is_open or error else 410)


@require_POST
def waitlist_join(request: HttpRequest) -> HttpResponse:
    """The free-times page's "join the waitlist" form: the service, the staff member (empty: anyone), the dates
    and the daily window of start times; back to the page with a message either way (signed out: sign in first,
    then back to the page)."""
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:home")
    if not request.user.is_authenticated:
        return redirect_to_login(back, reverse("web:login"))
    form = request.POST
    try:
        service = service_get_active(_int(form.get("service")))
        waitlist.waitlist_join(
            customer=request.user,
            service=service,
            staff_id=_int(form.get("staff")) if form.get("staff") else None,
            date_from=_date(form.get("date_from")),
            date_to=_date(form.get("date_to") or form.get("date_from")),
            time_from=_time(form.get("time_from")),
            time_to=_time(form.get("time_to")),
        )
    except DomainError as refused:
        details = [str(text) for texts in (refused.fields or {}).values() for text in texts]
        messages.error(request, " ".join([error_text(refused), *details]))
    else:
        messages.success(request, _("You are on the waitlist. We will send you a link when a time frees."))
    return redirect(back)


def _int(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError as exc:
        raise NotFound() from exc


def _date(raw: str | None) -> date:
    try:
        return date.fromisoformat(raw or "")
    except ValueError as exc:
        raise ValidationFailed(fields={"date": [_("Not a valid date.")]}) from exc


def _time(raw: str | None) -> time:
    try:
        return time.fromisoformat(raw or "")
    except ValueError as exc:
        raise ValidationFailed(fields={"time": [_("Not a valid time.")]}) from exc


urlpatterns = [
    path("waitlist/join", waitlist_join, name="waitlist_join"),
    path("waitlist/claim/<str:token>", waitlist_claim, name="waitlist_claim"),
]
