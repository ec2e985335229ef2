"""The waitlist's claim page (`/waitlist/claim/<token>`), where the message's link leads: the time held for the
signed-in customer until the claim window ends, and two buttons, take it or let it go. Taking it confirms the
booking, or leads to its payment page when the service is paid online; the services decide every rule
(`apps.waitlist.services`). Someone else's link is 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.errors import DomainError, NotFound
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


urlpatterns = [
    path("waitlist/claim/<str:token>", waitlist_claim, name="waitlist_claim"),
]
